"""Slot generation on daylight-saving switch days and in a zone without them (no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from resourcemap.booking import slots
from resourcemap.booking.slots import Rules, Schedule

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
