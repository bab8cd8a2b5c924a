"""Slots on daylight-saving switch days, in the zone the settings name.

Europe/Berlin springs forward on 2026-03-29 (02:00 → 03:00, the hour 02:xx does not exist)
and falls back on 2026-10-25 (03:00 → 02:00, the hour 02:xx occurs twice); Asia/Shanghai
has no daylight saving. Slots are cut in real elapsed time: each lasts its policy's minutes
as a stopwatch measures them, none starts in the hour that does not exist, the repeated
hour gives two distinct slots, bookings are stored in UTC and shown with the offset in
force at that instant.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from resourcemap import db
from resourcemap.booking import slots
from resourcemap.booking.desk import Desk
from resourcemap.booking.requests import BookingIn
from resourcemap.clock import FixedClock
from resourcemap.errors import Conflict
from resourcemap.models import Booking, BookingPolicy, HoursException, Resource, Slot
from tests.booking_helpers import settings
from tests.factories import run_in_db, small_city

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SPRING = dt.date(2026, 3, 29)
FALL = dt.date(2026, 10, 25)
UTC = dt.UTC


def utc(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


async def _room(*, always_open: bool = False, **policy: Any) -> int:
    ids = await small_city()
    await Resource.filter(id=ids["room"]).update(always_open=always_open)
    rules = {
        "slot_minutes": 50,
        "buffer_minutes": 10,
        "seats": 2,
        "min_notice_minutes": 0,
        "horizon_days": 365,
        "change_notice_minutes": 0,
        **policy,
    }
    await BookingPolicy.create(resource_id=ids["room"], **rules)
    return ids["room"]


async def _hours(room: int, day: dt.date, opens: int, closes: int) -> None:
    await HoursException.create(
        resource_id=room, start_date=day, end_date=day, closed=False, opens=opens, closes=closes
    )


def _desk(database_url: str, zone: str) -> Desk:
    return Desk(settings(database_url, timezone=zone))


def _now_before(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """A week before ``day``: every slot of it is listed, none is too soon."""
    return dt.datetime.combine(day - dt.timedelta(days=7), dt.time(8), tz)


async def _listed(d: Desk, room: int, day: dt.date) -> list[dict[str, Any]]:
    listed = await d.slot_list(room, day, 1, now=_now_before(day, d.tz))
    for start, end in zip(listed.starts.tolist(), listed.ends.tolist(), strict=True):
        assert end - start == 50 * 60, "a slot lasts 50 real minutes"
    return slots.serialise(listed, d.tz)


def _clock(rows: list[dict[str, Any]]) -> list[str]:
    """Local start times with their offsets, as the API shows them."""
    return [r["starts_at"][11:] for r in rows]


def _elapsed(rows: list[dict[str, Any]]) -> set[float]:
    return {
        (dt.datetime.fromisoformat(r["ends_at"]) - dt.datetime.fromisoformat(r["starts_at"]))
        / dt.timedelta(minutes=1)
        for r in rows
    }


@pytest.mark.anyio
async def test_spring_forward_skips_the_missing_hour(database_url: str) -> None:
    async with db.database(database_url):
        room = await _room(always_open=True)
        rows = await _listed(_desk(database_url, "Europe/Berlin"), room, SPRING)
        hours = [*range(2), *range(3, 24)]
        assert _clock(rows) == [
            f"{h:02d}:00:00+0{1 if h < 2 else 2}:00" for h in hours
        ]  # 23 slots: no 02:00, no duplicate 03:00
        starts = [dt.datetime.fromisoformat(r["starts_at"]) for r in rows]
        assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(starts))
        assert _elapsed(rows) == {50.0}


@pytest.mark.anyio
async def test_fall_back_lists_the_repeated_hour_twice(database_url: str) -> None:
    async with db.database(database_url):
        room = await _room(always_open=True)
        rows = await _listed(_desk(database_url, "Europe/Berlin"), room, FALL)
        expected = [f"{h:02d}:00:00+02:00" for h in range(3)]
        expected += [f"{h:02d}:00:00+01:00" for h in range(2, 24)]
        assert _clock(rows) == expected  # 25 slots, 02:00 twice with different offsets
        starts = [dt.datetime.fromisoformat(r["starts_at"]) for r in rows]
        assert len(set(starts)) == 25
        assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(starts))
        assert _elapsed(rows) == {50.0}


@pytest.mark.parametrize("day", [SPRING, FALL])
@pytest.mark.anyio
async def test_shanghai_has_no_switch_on_those_days(database_url: str, day: dt.date) -> None:
    async with db.database(database_url):
        room = await _room(always_open=True)
        rows = await _listed(_desk(database_url, "Asia/Shanghai"), room, day)
        assert _clock(rows) == [f"{h:02d}:00:00+08:00" for h in range(24)]


@pytest.mark.anyio
async def test_hours_across_the_gap_are_cut_in_elapsed_time(database_url: str) -> None:
    """Open 01:30-04:00 on the spring day: 1 h 30 min of real time, one 60-minute slot
    from 01:30 (+01:00) to 03:30 (+02:00)."""

    async with db.database(database_url):
        room = await _room(slot_minutes=60, buffer_minutes=0)
        await _hours(room, SPRING, 90, 240)
        d = _desk(database_url, "Europe/Berlin")
        listed = await d.slot_list(room, SPRING, 1, now=_now_before(SPRING, BERLIN))
        assert slots.serialise(listed, BERLIN) == [
            {
                "starts_at": "2026-03-29T01:30:00+01:00",
                "ends_at": "2026-03-29T03:30:00+02:00",
                "capacity": 2,
                "remaining": 2,
            }
        ]


@pytest.mark.anyio
async def test_closing_time_inside_the_gap_is_after_it(database_url: str) -> None:
    """Open 01:00 until 02:30, a wall time that does not exist on the spring day: the
    service is open until the clocks jump (1 h of real time), so the 01:00 slot of 50
    minutes fits, and nothing after it."""

    async with db.database(database_url):
        room = await _room()
        await _hours(room, SPRING, 60, 150)
        rows = await _listed(_desk(database_url, "Europe/Berlin"), room, SPRING)
        assert _clock(rows) == ["01:00:00+01:00"]


@pytest.mark.anyio
async def test_bookings_in_the_repeated_hour_are_two_slots_stored_in_utc(database_url: str) -> None:
    async with db.database(database_url):
        room = await _room(seats=1)
        await _hours(room, FALL, 60, 240)  # 01:00 (+02:00) to 04:00 (+01:00): 4 real hours
        d = _desk(database_url, "Europe/Berlin")
        rows = await _listed(d, room, FALL)
        assert _clock(rows) == [
            "01:00:00+02:00", "02:00:00+02:00", "02:00:00+01:00", "03:00:00+01:00"
        ]  # fmt: skip
        now = _now_before(FALL, BERLIN)
        first = dt.datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN)  # fold=0: +02:00
        second = first.replace(fold=1)  # the same wall time an hour later: +01:00
        made, made_with = [], []
        for start in (first, second):
            issued = await d.book(BookingIn(resource_id=room, starts_at=start), now=now)
            made.append(await d.get(issued.code, issued.token))
            made_with.append((made[-1], issued))
        assert [(b.starts_at, b.ends_at) for b in made] == [
            (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 50)),
            (utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 50)),
        ]
        views = [(await d.booking(b.code, i.token)).model_dump(mode="json") for b, i in made_with]
        assert [(v["starts_at"], v["ends_at"]) for v in views] == [
            ("2026-10-25T02:00:00+02:00", "2026-10-25T02:50:00+02:00"),
            ("2026-10-25T02:00:00+01:00", "2026-10-25T02:50:00+01:00"),
        ]
        assert await Slot.filter(resource_id=room).count() == 2
        # Both seats are taken: each slot is full on its own.
        left = {r["starts_at"]: r["remaining"] for r in await _listed(d, room, FALL)}
        assert left["2026-10-25T02:00:00+02:00"] == 0
        assert left["2026-10-25T02:00:00+01:00"] == 0
        assert left["2026-10-25T01:00:00+02:00"] == 1


@pytest.mark.anyio
async def test_booking_after_the_gap_is_stored_in_utc(database_url: str) -> None:
    async with db.database(database_url):
        room = await _room(always_open=True)
        d = _desk(database_url, "Europe/Berlin")
        now = _now_before(SPRING, BERLIN)
        three = dt.datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)
        issued = await d.book(BookingIn(resource_id=room, starts_at=three), now=now)
        stored = await Booking.get(code=issued.code)
        assert (stored.starts_at, stored.ends_at) == (
            utc(2026, 3, 29, 1, 0),
            utc(2026, 3, 29, 1, 50),
        )
        shown = (await d.booking(issued.code, issued.token)).model_dump(mode="json")
        assert (shown["starts_at"], shown["ends_at"]) == (
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:50:00+02:00",
        )
        # 02:30 does not exist that day: there is no slot to book there.
        with pytest.raises(Conflict, match=r"closed|not the start"):
            await d.book(
                BookingIn(resource_id=room, starts_at=dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
                now=now,
            )


# --------------------------------------------------------------------------- over the API


def _next_switches(tz: ZoneInfo, today: dt.date) -> list[dt.date]:
    """Days within the coming year on which ``tz`` changes its offset."""
    found = []
    for n in range(2, 366):
        day = today + dt.timedelta(days=n)
        before = dt.datetime.combine(day, dt.time(0), tz).utcoffset()
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).utcoffset()
        if before != after:
            found.append(day)
    return found


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Shanghai"])
def test_api_lists_switch_days_in_the_configured_zone(
    database_url: str,
    make_client: Callable[..., Any],
    zone: str,
    monkeypatch: pytest.MonkeyPatch,
    clock: FixedClock,
) -> None:
    """The API, on the app's clock, with the zone from ``RESOURCEMAP_TIMEZONE``: the zone's
    next switch days (none in Shanghai) list one slot per real hour, with the offsets in
    force; a booking reads back the same."""
    tz = ZoneInfo(zone)
    room = run_in_db(database_url, lambda: _room(always_open=True))
    monkeypatch.setenv("RESOURCEMAP_TIMEZONE", zone)
    with make_client(database_url, run_worker=False) as client:
        today = clock.now().astimezone(tz).date()
        switches = _next_switches(tz, today)
        assert len(switches) == (2 if zone == "Europe/Berlin" else 0)
        days = switches or [today + dt.timedelta(days=10)]
        for day in days:
            answer = client.get(f"/api/v1/resources/{room}/slots?from={day}&days=1")
            assert answer.status_code == 200, answer.text
            assert answer.json()["timezone"] == zone
            rows = answer.json()["slots"]
            midnight = dt.datetime.combine(day, dt.time(0), tz)
            next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
            hours = int(next_midnight.timestamp() - midnight.timestamp()) // 3600
            assert hours == (24 if zone == "Asia/Shanghai" else 23 if day.month < 7 else 25)
            assert len(rows) == hours
            for r in rows:
                start = dt.datetime.fromisoformat(r["starts_at"])
                assert start.utcoffset() == start.astimezone(tz).utcoffset()
                assert _elapsed([r]) == {50.0}
            starts = [dt.datetime.fromisoformat(r["starts_at"]).timestamp() for r in rows]
            assert starts == [midnight.timestamp() + 3600 * i for i in range(hours)]
            booked = client.post(
                "/api/v1/bookings",
                json={"resource_id": room, "starts_at": rows[3]["starts_at"]},
            )
            assert booked.status_code == 201, booked.text
            assert booked.json()["booking"]["starts_at"] == rows[3]["starts_at"]
