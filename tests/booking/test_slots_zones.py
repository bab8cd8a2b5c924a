"""Slot generation in many zones around their switch days, against the exact calculation.

``slots.generate`` takes a fast path on plain days (a cached pattern per weekday added to
each midnight). Whatever path a day takes, its slots must be those of the exact calculation:
each opening interval of the local day turned into real instants (``slots._instant``), cut
every ``slot + buffer`` minutes of elapsed time. Zones include a 30-minute switch
(Lord Howe), switches at midnight (Havana, Santiago) and both hemispheres.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from resourcemap.booking import slots
from resourcemap.listings.opening import DatedHours

ZONES = [
    "Europe/Berlin",
    "Asia/Shanghai",
    "America/New_York",
    "America/Havana",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Beirut",
]


def _switch_days(tz: ZoneInfo, year: int) -> list[dt.date]:
    day, found = dt.date(year, 1, 1), []
    while day.year == year:
        today = dt.datetime.combine(day, dt.time(0), tz).utcoffset()
        tomorrow = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).utcoffset()
        if today != tomorrow:
            found.append(day)
        day += dt.timedelta(days=1)
    return found or [dt.date(year, 3, 29)]


spans = st.tuples(st.integers(0, 47), st.integers(1, 48)).map(
    lambda t: (min(t) * 30, max(max(t), min(t) + 1) * 30)
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[slots.Schedule, dt.date, int, ZoneInfo]:
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    year = draw(st.sampled_from([2026, 2027]))
    # A switch day, or the turn of the year (cached per year: the window spans two).
    switch = draw(st.sampled_from([*_switch_days(tz, year), dt.date(year, 12, 31)]))
    first = switch + dt.timedelta(days=draw(st.integers(-3, 1)))
    days = draw(st.integers(1, 5))
    weekly = [
        (weekday, opens, closes)
        for weekday in range(7)
        for opens, closes in draw(st.lists(spans, max_size=2))
    ]
    exceptions = [
        DatedHours(day, day, closed, None if closed else o, None if closed else c)
        for day, closed, (o, c) in draw(
            st.lists(
                st.tuples(
                    st.sampled_from([first + dt.timedelta(days=n) for n in range(days)]),
                    st.booleans(),
                    spans,
                ),
                max_size=2,
            )
        )
    ]
    rules = slots.Rules(
        slot_minutes=draw(st.sampled_from([15, 30, 45, 50, 60, 90, 120])),
        buffer_minutes=draw(st.sampled_from([0, 5, 10, 30])),
        seats=1,
        min_notice_minutes=0,
        horizon_days=800,
    )
    schedule = slots.Schedule(
        resource_id=1,
        rules=rules,
        always_open=draw(st.booleans()),
        weekly=weekly,
        exceptions=exceptions,
    )
    return schedule, first, days, tz


def _exact(schedule: slots.Schedule, first: dt.date, days: int, tz: ZoneInfo) -> list[int]:
    length = schedule.rules.slot_minutes * 60
    step = length + schedule.rules.buffer_minutes * 60
    found: set[int] = set()
    for n in range(days):
        day = first + dt.timedelta(days=n)
        for opens, closes in schedule.day_hours(day):
            start = slots._instant(day, opens, tz, fold=0)
            end = slots._instant(day, closes, tz, fold=1)
            found.update(range(start, end - length + 1, step))
    return sorted(found)


@settings(max_examples=1000, deadline=None, database=None)
@given(case=cases())
def test_every_day_has_the_slots_of_the_exact_calculation(
    case: tuple[slots.Schedule, dt.date, int, ZoneInfo],
) -> None:
    schedule, first, days, tz = case
    now = dt.datetime.combine(first - dt.timedelta(days=10), dt.time(0), tz)
    listed = slots.generate(schedule, first, days, tz, now=now)
    assert listed.starts.tolist() == _exact(schedule, first, days, tz)
    length = schedule.rules.slot_minutes * 60
    assert bool(np.all(listed.ends - listed.starts == length))
    for a, b in itertools.pairwise(listed.starts.tolist()):
        assert a < b
    for start in listed.starts.tolist():
        # Every slot starts on a wall time that exists: shown and read back, it is the same.
        shown = slots.to_local(start, tz).isoformat()
        assert slots.epoch(dt.datetime.fromisoformat(shown)) == start
