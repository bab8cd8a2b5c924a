"""Slot generation on daylight-saving switch days and in a zone without them (no database)."""

from __future__ import annotations

import datetime as dt
import zlib
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from resourcemap import db
from resourcemap.booking import schedules, slots
from resourcemap.booking.slots import Rules, Schedule
from resourcemap.listings.opening import ClosureSpan, DatedHours
from resourcemap.models import (
    Booking,
    BookingPolicy,
    Closure,
    HoursException,
    OpeningHours,
    Resource,
    Slot,
    TimeBlock,
)
from resourcemap.vocab import BookingStatus, Channel, Status
from tests.booking_helpers import bookable_city, local

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # springs forward by half an hour
SPRING = dt.date(2026, 3, 29)  # Sunday: Berlin jumps 02:00 CET -> 03:00 CEST at 01:00Z
AUTUMN = dt.date(2026, 10, 25)  # Sunday: Berlin falls back 03:00 CEST -> 02:00 CET at 01:00Z
SUNDAY = 6


def hm(hours: int, minutes: int = 0) -> int:
    return hours * 60 + minutes


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


def listed(
    day: dt.date,
    opens: int,
    closes: int,
    tz: ZoneInfo,
    *,
    slot_minutes: int = 50,
    buffer_minutes: int = 10,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Local (start, end) of the slots of ``day`` for hours ``opens``-``closes`` that day."""
    schedule = Schedule(
        resource_id=1,
        rules=Rules(slot_minutes=slot_minutes, buffer_minutes=buffer_minutes, seats=1),
        weekly=[(day.weekday(), opens, closes)],
    )
    now = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), tzinfo=tz)
    got = slots.generate(schedule, day, 1, tz, now=now)
    return [
        (slots.to_local(s, tz), slots.to_local(e, tz))
        for s, e in zip(got.starts.tolist(), got.ends.tolist(), strict=True)
    ]


def walls(pairs: list[tuple[dt.datetime, dt.datetime]]) -> list[str]:
    return [f"{s:%H:%M%z}-{e:%H:%M%z}" for s, e in pairs]


def test_a_closing_time_in_the_spring_forward_gap_closes_at_the_jump() -> None:
    # 02:30 never shows on the clock: the room closes when the clock jumps to 03:00.
    assert slots._instant(SPRING, hm(2, 30), BERLIN, fold=1) == utc(2026, 3, 29, 1)
    assert slots._instant(SPRING, hm(2, 30), BERLIN, fold=0) == utc(2026, 3, 29, 1)
    got = listed(SPRING, hm(0), hm(2, 30), BERLIN, slot_minutes=30, buffer_minutes=0)
    assert walls(got) == [
        "00:00+0100-00:30+0100",
        "00:30+0100-01:00+0100",
        "01:00+0100-01:30+0100",
        "01:30+0100-03:00+0200",  # thirty minutes of elapsed time across the jump
    ]
    # Before the fix the day ended an hour early, at 01:30 CET: one 50-minute slot, not two.
    assert walls(listed(SPRING, hm(0), hm(2, 30), BERLIN)) == [
        "00:00+0100-00:50+0100",
        "01:00+0100-01:50+0100",
    ]


def test_an_opening_time_in_the_spring_forward_gap_opens_at_the_jump() -> None:
    assert walls(listed(SPRING, hm(2, 30), hm(5), BERLIN)) == [
        "03:00+0200-03:50+0200",
        "04:00+0200-04:50+0200",
    ]


def test_hours_across_the_spring_forward_gap_count_elapsed_time() -> None:
    got = listed(SPRING, hm(1), hm(5), BERLIN)
    # 01:00 CET to 05:00 CEST is three hours: three slots, none on the missing hour's clock.
    assert walls(got) == [
        "01:00+0100-01:50+0100",
        "03:00+0200-03:50+0200",
        "04:00+0200-04:50+0200",
    ]
    assert all(e - s == dt.timedelta(minutes=50) for s, e in got)
    assert not any(s.hour == 2 or e.hour == 2 for s, e in got)


def test_a_half_hour_gap_is_found_too() -> None:
    # Lord Howe Island: 2026-10-04 02:00 +1030 jumps to 02:30 +1100 (15:30Z the day before).
    day = dt.date(2026, 10, 4)
    assert slots._instant(day, hm(2, 15), LORD_HOWE, fold=1) == utc(2026, 10, 3, 15, 30)
    assert walls(listed(day, hm(1), hm(2, 15), LORD_HOWE, slot_minutes=30, buffer_minutes=0)) == [
        "01:00+1030-01:30+1030",
        "01:30+1030-02:30+1100",
    ]


def test_the_repeated_hour_of_fall_back_gives_two_slots() -> None:
    got = listed(AUTUMN, hm(1), hm(3), BERLIN)
    assert walls(got) == [
        "01:00+0200-01:50+0200",
        "02:00+0200-02:50+0200",
        "02:00+0100-02:50+0100",
    ]
    assert all(e - s == dt.timedelta(minutes=50) for s, e in got)
    # A time that occurs twice opens at its first and closes at its second occurrence.
    assert slots._instant(AUTUMN, hm(2, 30), BERLIN, fold=0) == utc(2026, 10, 25, 0, 30)
    assert slots._instant(AUTUMN, hm(2, 30), BERLIN, fold=1) == utc(2026, 10, 25, 1, 30)


@pytest.mark.parametrize("day", [SPRING, AUTUMN, dt.date(2026, 12, 1)])
def test_shanghai_has_no_switch_days(day: dt.date) -> None:
    got = listed(day, hm(9), hm(12), SHANGHAI)
    assert walls(got) == [
        "09:00+0800-09:50+0800",
        "10:00+0800-10:50+0800",
        "11:00+0800-11:50+0800",
    ]
    assert slots._instant(day, hm(24), SHANGHAI, fold=1) == int(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI).timestamp()
    )


@pytest.mark.parametrize("tz", [BERLIN, SHANGHAI, LORD_HOWE])
def test_every_existing_wall_time_round_trips(tz: ZoneInfo) -> None:
    for day in (SPRING, AUTUMN, dt.date(2026, 10, 4)):
        for minute in range(0, 1440, 15):
            for fold in (0, 1):
                at = slots.to_local(slots._instant(day, minute, tz, fold=fold), tz)
                if at.date() == day and at.hour * 60 + at.minute == minute:
                    continue
                # Only a wall time that does not exist moves, and only to the jump after it.
                assert at.replace(tzinfo=None) > dt.datetime.combine(day, dt.time()) + (
                    dt.timedelta(minutes=minute)
                )
                just_before = slots.to_local(
                    slots._instant(day, minute, tz, fold=fold) - 1, tz
                ).replace(tzinfo=None)
                assert just_before < dt.datetime.combine(day, dt.time()) + dt.timedelta(
                    minutes=minute
                )


# --- the array path equals a day-by-day reading of the rules ----------------------------


def reference_generate(
    schedule: Schedule, first_day: dt.date, days: int, tz: ZoneInfo, *, now: dt.datetime
) -> slots.SlotList:
    """``generate`` as it was before plain days were cut as arrays: day by day."""
    rules = schedule.rules
    length = rules.slot_minutes * 60
    step = (rules.slot_minutes + rules.buffer_minutes) * 60
    today = now.astimezone(tz).date()
    last_day = min(
        first_day + dt.timedelta(days=days - 1), today + dt.timedelta(rules.horizon_days)
    )
    earliest = int(now.timestamp()) + rules.min_notice_minutes * 60
    chunks = [np.zeros(0, dtype=np.int64)]
    day = max(first_day, today)
    while day <= last_day:
        for opens, closes in schedule.day_hours(day):
            start = slots._instant(day, opens, tz, fold=0)
            end = slots._instant(day, closes, tz, fold=1)
            if end - start >= length:
                chunks.append(np.arange(start, end - length + 1, step, dtype=np.int64))
        day += dt.timedelta(days=1)
    starts = np.unique(np.concatenate(chunks))
    starts = starts[starts >= earliest]
    ends = starts + length
    keep = np.ones(starts.size, dtype=np.bool_)
    for b_start, b_end in schedule.blocks:
        keep &= ~((starts < b_end) & (ends > b_start))
    capacity = np.full(starts.size, rules.seats, dtype=np.int64)
    taken = np.zeros(starts.size, dtype=np.int64)
    for row in schedule.taken:
        i = int(np.searchsorted(starts, row.starts_at))
        if i < starts.size and starts[i] == row.starts_at and ends[i] == row.ends_at:
            taken[i] = row.taken
        elif row.taken > 0:
            keep &= ~((starts < row.ends_at) & (ends > row.starts_at))
    return slots.SlotList(
        starts=starts[keep],
        ends=ends[keep],
        capacity=capacity[keep],
        remaining=np.maximum(capacity - taken, 0)[keep],
    )


ZONES = [
    SHANGHAI,
    BERLIN,
    LORD_HOWE,
    ZoneInfo("America/Santiago"),  # switches at midnight
    ZoneInfo("America/Havana"),  # switches at midnight too
    ZoneInfo("America/New_York"),
]
FIRST_DAYS = [
    dt.date(2026, 3, 1),
    SPRING - dt.timedelta(days=3),
    dt.date(2026, 4, 1),
    dt.date(2026, 9, 1),
    dt.date(2026, 9, 28),  # National Day and its make-up days; Lord Howe springs forward
    AUTUMN - dt.timedelta(days=2),
    dt.date(2026, 10, 31),
    dt.date(2026, 12, 20),  # into a year chinese-calendar does not know
]


def random_schedule(rng: np.random.Generator, tz: ZoneInfo, first_day: dt.date) -> Schedule:
    def minute() -> int:
        return int(rng.integers(0, 97)) * 15

    def day(spread: int = 40) -> dt.date:
        return first_day + dt.timedelta(days=int(rng.integers(-3, spread)))

    def instant() -> int:
        return slots._instant(day(), minute(), tz, fold=0)

    slot_minutes = int(rng.choice([15, 20, 30, 50, 90]))
    rules = Rules(
        slot_minutes=slot_minutes,
        buffer_minutes=int(rng.choice([0, 5, 10, 30])),
        seats=int(rng.integers(1, 4)),
        min_notice_minutes=int(rng.choice([0, 60, 720])),
        horizon_days=int(rng.choice([7, 30, 90])),
    )
    weekly = []
    for _ in range(int(rng.integers(0, 12))):
        opens, closes = sorted((minute(), minute()))
        weekly.append((int(rng.integers(0, 7)), opens, closes))
    exceptions = []
    for _ in range(int(rng.integers(0, 4))):
        start = day()
        end = start + dt.timedelta(days=int(rng.integers(0, 3)))
        if rng.random() < 0.5:
            exceptions.append(DatedHours(start, end))
        else:
            opens, closes = sorted((minute(), minute()))
            exceptions.append(DatedHours(start, end, False, opens, closes))
    closures = []
    for _ in range(int(rng.integers(0, 3))):
        start = day()
        end = start + dt.timedelta(days=int(rng.integers(0, 4)))
        own = rng.random() < 0.5
        closures.append(ClosureSpan(start, end, None if own else "4499", 1 if own else None))
    blocks = []
    for _ in range(int(rng.integers(0, 3))):
        at = instant()
        blocks.append((at, at + int(rng.integers(1, 600)) * 60))
    return Schedule(
        resource_id=1,
        rules=rules,
        always_open=bool(rng.random() < 0.1),
        weekly=weekly,
        exceptions=exceptions,
        closures=closures,
        blocks=blocks,
    )


def with_bookings(schedule: Schedule, rng: np.random.Generator, listed: slots.SlotList) -> Schedule:
    """Booked rows on some listed slots, and a few of another slot length."""
    taken = []
    length = schedule.rules.slot_minutes * 60
    for i in np.flatnonzero(rng.random(len(listed)) < 0.2).tolist():
        s = int(listed.starts[i])
        if rng.random() < 0.15:  # booked under an earlier slot length
            taken.append(slots.Taken(s + 600, s + 600 + length, 1, int(rng.integers(0, 2))))
        else:
            seats = schedule.rules.seats
            taken.append(slots.Taken(s, s + length, seats, int(rng.integers(0, seats + 2))))
    taken.sort(key=lambda t: t.starts_at)
    return Schedule(**{**schedule.__dict__, "taken": taken})


@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
def test_generate_equals_a_day_by_day_reading(tz: ZoneInfo) -> None:
    rng = np.random.default_rng(zlib.crc32(tz.key.encode()))
    for first_day in FIRST_DAYS:
        for _ in range(12):
            schedule = random_schedule(rng, tz, first_day)
            hour = int(rng.integers(0, 24))
            now = dt.datetime.combine(first_day, dt.time(hour), tzinfo=tz)
            days = int(rng.choice([1, 7, 45, 92]))
            got = slots.generate(schedule, first_day, days, tz, now=now)
            schedule = with_bookings(schedule, rng, got)
            got = slots.generate(schedule, first_day, days, tz, now=now)
            want = reference_generate(schedule, first_day, days, tz, now=now)
            for name in ("starts", "ends", "capacity", "remaining"):
                assert getattr(got, name).tolist() == getattr(want, name).tolist(), (
                    tz.key,
                    first_day,
                    schedule,
                    name,
                )


# --- one statement reads what the models hold --------------------------------------------


async def reference_schedules(
    ids: list[int], *, start: dt.datetime, end: dt.datetime
) -> dict[int, Schedule]:
    """``load_schedules`` as it was, through the ORM, one query per table."""
    policies = {
        p.resource_id: p
        for p in await BookingPolicy.filter(
            resource_id__in=ids, enabled=True, resource__status=Status.ACTIVE
        )
    }
    found = {}
    for rid, policy in policies.items():
        resource = await Resource.get(id=rid)
        codes = {
            c
            for c in (
                resource.city_code,
                resource.district_code,
                resource.street_code,
                resource.community_code,
            )
            if c
        }
        closures = [
            ClosureSpan(c.start_date, c.end_date, c.area_code, c.resource_id)
            for c in await Closure.all()
            if c.resource_id == rid or (c.area_code is not None and c.area_code in codes)
        ]
        found[rid] = Schedule(
            resource_id=rid,
            rules=Rules.of(policy),
            always_open=resource.always_open,
            weekly=[
                (h.weekday, h.opens, h.closes) for h in await OpeningHours.filter(resource_id=rid)
            ],
            exceptions=[
                DatedHours(e.start_date, e.end_date, e.closed, e.opens, e.closes)
                for e in await HoursException.filter(resource_id=rid)
            ],
            closures=closures,
            blocks=[
                (slots.epoch(b.starts_at), slots.epoch(b.ends_at))
                for b in await TimeBlock.filter(
                    resource_id=rid, starts_at__lt=end, ends_at__gt=start
                )
            ],
            taken=sorted(
                (
                    slots.Taken(
                        slots.epoch(s.starts_at), slots.epoch(s.ends_at), s.capacity, s.taken
                    )
                    for s in await Slot.filter(
                        resource_id=rid,
                        starts_at__lt=end,
                        starts_at__gte=start - dt.timedelta(hours=12),
                    )
                ),
                key=lambda t: t.starts_at,
            ),
        )
    return found


def same(a: Schedule, b: Schedule) -> None:
    assert (a.resource_id, a.rules, a.always_open) == (b.resource_id, b.rules, b.always_open)
    assert sorted(a.weekly) == sorted(b.weekly)
    assert sorted(a.exceptions, key=repr) == sorted(b.exceptions, key=repr)
    assert sorted(a.closures, key=repr) == sorted(b.closures, key=repr)
    assert sorted(a.blocks) == sorted(b.blocks)
    assert list(a.taken) == list(b.taken)


@pytest.mark.anyio
async def test_load_schedules_reads_what_the_models_hold(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=2)
        room, clinic, hotline = ids["room"], ids["clinic"], ids["hotline"]
        await BookingPolicy.create(resource_id=clinic, slot_minutes=20, buffer_minutes=0)
        await BookingPolicy.create(resource_id=hotline, enabled=False)
        await Resource.filter(id=hotline).update(always_open=True)
        room_row = await Resource.get(id=room)
        await HoursException.create(
            resource_id=room,
            start_date=dt.date(2026, 12, 8),
            end_date=dt.date(2026, 12, 9),
            closed=False,
            opens=600,
            closes=720,
        )
        await Closure.create(
            start_date=dt.date(2026, 12, 10), end_date=dt.date(2026, 12, 11),
            area_code=room_row.street_code,
        )  # fmt: skip
        await Closure.create(
            start_date=dt.date(2026, 12, 14), end_date=dt.date(2026, 12, 14), resource_id=clinic
        )
        await Closure.create(
            start_date=dt.date(2026, 12, 15), end_date=dt.date(2026, 12, 15), area_code="000000"
        )
        await TimeBlock.create(
            resource_id=room, starts_at=local(2, 14), ends_at=local(2, 16), reason="meeting"
        )
        await TimeBlock.create(
            resource_id=room, starts_at=local(1, 14, month=11), ends_at=local(1, 15, month=11)
        )
        for day, hour, taken in ((2, 9, 1), (3, 10, 2), (1, 9, 0)):
            at = local(day, hour)
            await Slot.create(
                resource_id=room, starts_at=at, ends_at=at + dt.timedelta(minutes=50),
                capacity=2, taken=taken,
            )  # fmt: skip
        await Slot.create(  # before the window's 12-hour look-back: not read
            resource_id=room, starts_at=local(29, 9, month=11),
            ends_at=local(29, 10, month=11), capacity=2, taken=1,
        )  # fmt: skip
        start, end = slots.window(dt.date(2026, 12, 1), 30, SHANGHAI)
        asked = [room, clinic, hotline, ids["hotline"], 999_999]
        got = await schedules.load_schedules(asked, start=start, end=end)
        want = await reference_schedules(asked, start=start, end=end)
        assert set(got) == set(want) == {room, clinic}
        for rid in want:
            same(got[rid], want[rid])
        assert len(got[room].taken) == 3 and len(got[room].blocks) == 1
        assert len(got[room].closures) == 1 and len(got[clinic].closures) >= 1
        # One resource alone reads the same (PostgreSQL takes another statement for it).
        alone = await schedules.load_schedules([clinic], start=start, end=end)
        same(alone[clinic], want[clinic])
        assert await schedules.load_schedules([], start=start, end=end) == {}
        # With `now`: the waitlist offers whose time ran out, as expire_offers finds them.
        slot = await Slot.get(resource_id=room, starts_at=local(2, 9))
        for code, expires in (("00000001", local(1, 9)), ("00000002", local(1, 11))):
            await Booking.create(
                code=code, token_enc="x", resource_id=room, slot_id=slot.id,
                starts_at=slot.starts_at, ends_at=slot.ends_at, status=BookingStatus.OFFERED,
                channel=Channel.WEB, offer_expires_at=expires,
            )  # fmt: skip
        for now, due in ((local(1, 8), 0), (local(1, 10), 1), (local(1, 12), 2)):
            got = await schedules.load_schedules([room, clinic], start=start, end=end, now=now)
            assert (got[room].offers_due, got[clinic].offers_due) == (due, 0)
            alone = await schedules.load_schedules([room], start=start, end=end, now=now)
            assert alone[room].offers_due == due
            same(alone[room], want[room])
        assert (await schedules.load_schedules([room], start=start, end=end))[room].offers_due == 0
