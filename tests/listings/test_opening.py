"""Open now: weekly hours, Chinese holidays and 调休, exceptions, closures, time zones."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resourcemap import db
from resourcemap.errors import InvalidInput
from resourcemap.listings import holidays
from resourcemap.listings.holidays import calendar_weekday
from resourcemap.listings.opening import (
    ClosureSpan,
    DatedHours,
    ResourceHours,
    Timetable,
    is_open,
    load_timetable,
    next_openings,
    open_ids,
)
from resourcemap.models import Closure, HoursException, OpeningHours, Resource
from tests.factories import AreaCodes, run_in_db

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
CITY, DISTRICT = "449900000000", "449901000000"
EAST, WEST = "449901001000", "449901002000"

ROOM, HOSPITAL, HOTLINE = 1, 2, 3
WEEKDAYS = range(5)


def hm(hours: int, minutes: int = 0) -> int:
    return hours * 60 + minutes


def local(day: dt.date, hours: int, minutes: int = 0, tz: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=tz)


def city(exceptions: Sequence[DatedHours] = (), closures: Sequence[ClosureSpan] = ()) -> Timetable:
    """A community room in the east street (Mon–Fri 09:00–12:00, 14:00–17:30, no Sunday
    hours), a hospital in the west street (Mon–Sat 08:00–17:00, Sun 08:00–12:00) and a
    24/7 hotline based in the east street."""
    room = ResourceHours(
        ROOM,
        intervals=[(d, hm(9), hm(12)) for d in WEEKDAYS]
        + [(d, hm(14), hm(17, 30)) for d in WEEKDAYS],
        exceptions=exceptions,
        area_codes=(CITY, DISTRICT, EAST, EAST + "001"),
    )
    hospital = ResourceHours(
        HOSPITAL,
        intervals=[(d, hm(8), hm(17)) for d in range(6)] + [(6, hm(8), hm(12))],
        area_codes=(CITY, DISTRICT, WEST, WEST + "001"),
    )
    hotline = ResourceHours(HOTLINE, always_open=True, area_codes=(CITY, DISTRICT, EAST, ""))
    return Timetable.build([room, hospital, hotline], closures)


MONDAY = dt.date(2026, 9, 21)
TUESDAY = dt.date(2026, 9, 22)
WEDNESDAY = dt.date(2026, 9, 23)


@pytest.mark.parametrize(
    ("hours", "minutes", "room_open"),
    [
        (8, 59, False),
        (9, 0, True),
        (11, 59, True),
        (12, 0, False),
        (13, 0, False),  # lunch gap
        (14, 0, True),
        (17, 29, True),
        (17, 30, False),
    ],
)
def test_open_ids_weekday_boundaries_open_inclusive_close_exclusive(
    hours: int, minutes: int, room_open: bool
) -> None:
    found = open_ids(city(), local(MONDAY, hours, minutes), SHANGHAI)
    assert (ROOM in found) is room_open
    assert HOTLINE in found


def test_open_ids_ordinary_weekend() -> None:
    saturday, sunday = dt.date(2026, 9, 12), dt.date(2026, 9, 13)
    assert open_ids(city(), local(saturday, 10), SHANGHAI) == {HOSPITAL, HOTLINE}
    assert open_ids(city(), local(sunday, 10), SHANGHAI) == {HOSPITAL, HOTLINE}
    assert open_ids(city(), local(sunday, 15), SHANGHAI) == {HOTLINE}


def test_open_ids_national_day_on_a_weekday_follows_sunday_hours() -> None:
    national_day = dt.date(2026, 10, 1)  # a Thursday
    assert open_ids(city(), local(national_day, 10), SHANGHAI) == {HOSPITAL, HOTLINE}
    # Sunday hours end at noon, although Thursday's would run to 17:00.
    assert open_ids(city(), local(national_day, 15), SHANGHAI) == {HOTLINE}


@pytest.mark.parametrize("day", [dt.date(2026, 9, 20), dt.date(2026, 10, 10)])
def test_open_ids_make_up_working_day_follows_monday_hours(day: dt.date) -> None:
    assert day.weekday() >= 5
    assert open_ids(city(), local(day, 9, 30), SHANGHAI) == {ROOM, HOSPITAL, HOTLINE}
    assert open_ids(city(), local(day, 16), SHANGHAI) == {ROOM, HOSPITAL, HOTLINE}
    assert open_ids(city(), local(day, 12, 30), SHANGHAI) == {HOSPITAL, HOTLINE}


def test_calendar_weekday_rule() -> None:
    assert calendar_weekday(MONDAY) == 0
    assert calendar_weekday(dt.date(2026, 10, 1)) == 6  # holiday on a Thursday
    assert calendar_weekday(dt.date(2026, 10, 3)) == 6  # a holiday on a Saturday: Sunday's hours
    assert calendar_weekday(dt.date(2026, 10, 17)) == 5  # a plain Saturday
    assert calendar_weekday(dt.date(2026, 9, 20)) == 0  # worked Sunday
    assert calendar_weekday(dt.date(2026, 2, 28)) == 0  # worked Saturday


def test_open_ids_exception_closed_for_the_day() -> None:
    training = dt.date(2026, 12, 4)
    tt = city(exceptions=[DatedHours(training, training, closed=True)])
    assert ROOM not in open_ids(tt, local(training, 10), SHANGHAI)
    assert ROOM in open_ids(tt, local(training + dt.timedelta(days=3), 10), SHANGHAI)


def test_open_ids_exception_with_special_hours_replaces_the_day() -> None:
    start, end = dt.date(2026, 12, 7), dt.date(2026, 12, 8)
    tt = city(exceptions=[DatedHours(start, end, closed=False, opens=hm(13), closes=hm(15))])
    for day in (start, end):
        assert ROOM not in open_ids(tt, local(day, 10), SHANGHAI)
        assert ROOM in open_ids(tt, local(day, 13), SHANGHAI)
        assert ROOM not in open_ids(tt, local(day, 15), SHANGHAI)
    assert ROOM in open_ids(tt, local(end + dt.timedelta(days=1), 10), SHANGHAI)


def test_open_ids_exception_overrides_holiday_rule() -> None:
    holiday = dt.date(2026, 10, 2)  # a Friday in the National Day week
    tt = city(exceptions=[DatedHours(holiday, holiday, False, hm(9), hm(11))])
    assert ROOM in open_ids(tt, local(holiday, 10), SHANGHAI)
    assert ROOM not in open_ids(tt, local(holiday, 11), SHANGHAI)


def test_open_ids_exception_without_times_counts_as_closed() -> None:
    tt = city(exceptions=[DatedHours(MONDAY, MONDAY, closed=False)])
    assert ROOM not in open_ids(tt, local(MONDAY, 10), SHANGHAI)


def test_open_ids_area_closure_spares_the_hotline() -> None:
    typhoon = ClosureSpan(TUESDAY, TUESDAY, area_code=EAST)
    tt = city(closures=[typhoon])
    assert open_ids(tt, local(TUESDAY, 10), SHANGHAI) == {HOSPITAL, HOTLINE}
    assert open_ids(tt, local(MONDAY, 10), SHANGHAI) == {ROOM, HOSPITAL, HOTLINE}
    district = city(closures=[ClosureSpan(TUESDAY, TUESDAY, area_code=DISTRICT)])
    assert open_ids(district, local(TUESDAY, 10), SHANGHAI) == {HOTLINE}


def test_open_ids_resource_closure_closes_even_a_hotline() -> None:
    tt = city(closures=[ClosureSpan(MONDAY, TUESDAY, resource_id=HOTLINE)])
    assert open_ids(tt, local(TUESDAY, 23, 59), SHANGHAI) == set()
    assert open_ids(tt, local(TUESDAY + dt.timedelta(days=1), 0), SHANGHAI) == {HOTLINE}
    tt = city(closures=[ClosureSpan(MONDAY, MONDAY, resource_id=ROOM)])
    assert open_ids(tt, local(MONDAY, 10), SHANGHAI) == {HOSPITAL, HOTLINE}


def test_with_closures_keeps_hours() -> None:
    tt = city().with_closures([ClosureSpan(MONDAY, MONDAY, area_code=CITY)])
    assert open_ids(tt, local(MONDAY, 10), SHANGHAI) == {HOTLINE}
    assert open_ids(tt.with_closures([]), local(MONDAY, 10), SHANGHAI) == {
        ROOM,
        HOSPITAL,
        HOTLINE,
    }


def test_open_ids_converts_utc_to_local_time() -> None:
    assert ROOM in open_ids(city(), dt.datetime(2026, 9, 21, 1, 30, tzinfo=UTC), SHANGHAI)
    assert ROOM not in open_ids(city(), dt.datetime(2026, 9, 21, 0, 59, tzinfo=UTC), SHANGHAI)
    # 16:30Z on Sunday is 00:30 on Monday in Shanghai: the local date decides the weekday.
    assert open_ids(city(), dt.datetime(2026, 9, 13, 16, 30, tzinfo=UTC), SHANGHAI) == {HOTLINE}


def test_open_ids_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        open_ids(city(), dt.datetime(2026, 9, 21, 10), SHANGHAI)


def test_open_ids_until_midnight() -> None:
    late = Timetable.build([ResourceHours(7, intervals=[(0, hm(20), 1440)])])
    assert open_ids(late, local(MONDAY, 23, 59), SHANGHAI) == {7}
    assert open_ids(late, local(TUESDAY, 0, 0), SHANGHAI) == set()


def test_open_ids_unknown_holiday_year_falls_back_to_weekends(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(holidays, "_warned_years", set())
    holidays.use(holidays.PublicDays())  # nothing remembered from other tests
    # A year no release of chinese-calendar will know for decades.
    friday, saturday, sunday = dt.date(2099, 1, 2), dt.date(2099, 1, 3), dt.date(2099, 1, 4)
    with caplog.at_level(logging.WARNING, logger="resourcemap.listings.holidays"):
        assert open_ids(city(), local(friday, 10), SHANGHAI) == {ROOM, HOSPITAL, HOTLINE}
        assert open_ids(city(), local(saturday, 10), SHANGHAI) == {HOSPITAL, HOTLINE}
        assert open_ids(city(), local(sunday, 15), SHANGHAI) == {HOTLINE}
    warnings = [r for r in caplog.records if r.name == "resourcemap.listings.holidays"]
    assert len(warnings) == 1
    assert "2099" in warnings[0].getMessage()
    assert holidays.unknown_years(dt.date(2099, 1, 1), dt.date(2099, 1, 4)) == [2099]


def test_a_holidays_file_gives_a_year_the_library_does_not_know(tmp_path: Path) -> None:
    """The State Council's schedule for a year, given by an administrator before a release
    of chinese-calendar carries it: New Year's Day 2027 (a Friday) keeps Sunday hours."""
    path = tmp_path / "holidays-2027.csv"
    path.write_text("date,day\n2027-01-01,休\n2027-02-20,workday\n", encoding="utf-8")
    holidays.use(holidays.read(path))
    try:
        friday, worked_saturday = dt.date(2027, 1, 1), dt.date(2027, 2, 20)
        assert open_ids(city(), local(friday, 10), SHANGHAI) == {HOSPITAL, HOTLINE}
        assert calendar_weekday(worked_saturday) == 0  # Monday's hours
        assert calendar_weekday(dt.date(2027, 1, 4)) == 0  # an unlisted day: its own
        assert calendar_weekday(dt.date(2026, 10, 1)) == 6  # the library's years stay
        assert holidays.unknown_years(dt.date(2026, 12, 5), dt.date(2027, 1, 4)) == []
    finally:
        holidays.use(holidays.PublicDays())


def test_a_holidays_file_naming_a_day_of_a_known_year_changes_only_that_day(
    tmp_path: Path,
) -> None:
    """A year's schedule may name a day of the year before (2011-12-31 was worked for
    2012's New Year): the rest of that year keeps the library's holidays."""
    path = tmp_path / "holidays.csv"
    path.write_text("2026-12-31,holiday\n", encoding="utf-8")
    holidays.use(holidays.read(path))
    try:
        assert calendar_weekday(dt.date(2026, 12, 31)) == 6  # the file's day
        assert calendar_weekday(dt.date(2026, 10, 1)) == 6  # National Day stays a holiday
        assert calendar_weekday(dt.date(2026, 10, 10)) == 0  # and its worked Saturday
    finally:
        holidays.use(holidays.PublicDays())


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("2027-01-01\n", "line 1, column day: each line is a date and a day"),
        ("date,day\n2027-13-01,holiday\n", "line 2, column date: '2027-13-01' is not a date"),
        ("2027-01-01,off\n", "line 1, column day: 'off' is neither holiday nor workday"),
        ("2027-01-01,休\n2027-01-01,班\n", "line 2, column day: 2027-01-01 is both a holiday"),
    ],
)
def test_a_bad_holidays_file_is_refused_naming_line_and_column(text: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        holidays.parse(text, "h.csv")
    assert said in refused.value.reason and refused.value.reason.startswith("h.csv")


def test_open_ids_berlin_on_dst_switch_day() -> None:
    # 2026-03-29 (a Sunday): Berlin moves from UTC+1 to UTC+2 at 01:00Z.
    tt = Timetable.build([ResourceHours(9, intervals=[(6, hm(1), hm(2)), (6, hm(9), hm(10))])])
    day = dt.date(2026, 3, 29)
    assert open_ids(tt, dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), BERLIN) == {9}  # 01:30
    assert open_ids(tt, dt.datetime(2026, 3, 29, 7, 30, tzinfo=UTC), BERLIN) == {9}  # 09:30
    assert open_ids(tt, dt.datetime(2026, 3, 29, 8, 30, tzinfo=UTC), BERLIN) == set()  # 10:30
    assert open_ids(tt, local(day, 9, 30, tz=BERLIN), BERLIN) == {9}


def test_is_open_one_resource() -> None:
    assert is_open(city(), ROOM, local(MONDAY, 10), SHANGHAI)
    assert not is_open(city(), ROOM, local(MONDAY, 12), SHANGHAI)
    assert not is_open(city(), 404, local(MONDAY, 10), SHANGHAI)


def test_empty_timetable() -> None:
    assert open_ids(Timetable.build([]), local(MONDAY, 10), SHANGHAI) == frozenset()


# --- property: the vectorised answer equals a per-resource reading of the rules -----------


def reference_weekday(day: dt.date) -> int:
    """The hours of a day as the listing page says: public holidays (named, a weekend day
    of Golden Week too) as Sunday, make-up working days as Monday."""
    try:
        off, holiday = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return day.weekday()
    if off and (day.weekday() < 5 or holiday is not None):
        return 6
    if day.weekday() >= 5 and not off:
        return 0
    return day.weekday()


def reference_open(
    resources: Sequence[ResourceHours],
    closures: Sequence[ClosureSpan],
    at: dt.datetime,
    tz: ZoneInfo,
) -> set[int]:
    now = at.astimezone(tz)
    day, minute = now.date(), now.hour * 60 + now.minute
    found = set()
    for r in resources:
        active = [c for c in closures if c.start <= day <= c.end]
        if any(c.resource_id == r.id for c in active):
            continue
        if r.always_open:
            found.add(r.id)
            continue
        if any(c.area_code and c.area_code in r.area_codes for c in active):
            continue
        todays = [e for e in r.exceptions if e.start <= day <= e.end]
        if todays:
            if any(e.closed or e.opens is None or e.closes is None for e in todays):
                continue
            hours = [(e.opens, e.closes) for e in todays]
        else:
            hours = [(o, c) for w, o, c in r.intervals if w == reference_weekday(day)]
        if any(o is not None and c is not None and o <= minute < c for o, c in hours):
            found.add(r.id)
    return found


HALF_HOURS = st.integers(0, 48).map(lambda n: n * 30)
DAYS = st.one_of(
    st.dates(dt.date(2026, 9, 15), dt.date(2026, 10, 15)),
    st.dates(dt.date(2026, 12, 28), dt.date(2027, 1, 6)),
)
CODES = st.sampled_from(["", CITY, DISTRICT, EAST, WEST])


@st.composite
def spans(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    start = draw(DAYS)
    return start, start + dt.timedelta(days=draw(st.integers(0, 2)))


@st.composite
def intervals(draw: st.DrawFn) -> tuple[int, int, int]:
    a, b = sorted(draw(st.lists(HALF_HOURS, min_size=2, max_size=2, unique=True)))
    return draw(st.integers(0, 6)), a, b


@st.composite
def dated_hours(draw: st.DrawFn) -> DatedHours:
    start, end = draw(spans())
    closed = draw(st.booleans())
    opens, closes = sorted(draw(st.lists(HALF_HOURS, min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        return DatedHours(start, end, closed)
    return DatedHours(start, end, closed, opens, closes)


@st.composite
def timetables(draw: st.DrawFn) -> tuple[list[ResourceHours], list[ClosureSpan]]:
    n = draw(st.integers(0, 6))
    resources = [
        ResourceHours(
            id=100 + i,
            always_open=draw(st.booleans()) and draw(st.booleans()),
            intervals=draw(st.lists(intervals(), max_size=6)),
            exceptions=draw(st.lists(dated_hours(), max_size=2)),
            area_codes=(CITY, draw(CODES), draw(CODES), ""),
        )
        for i in range(n)
    ]
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        start, end = draw(spans())
        if draw(st.booleans()):
            closures.append(ClosureSpan(start, end, area_code=draw(CODES)))
        else:
            closures.append(ClosureSpan(start, end, resource_id=100 + draw(st.integers(0, 6))))
    return resources, closures


MINUTES = st.one_of(
    st.integers(0, 1439),
    HALF_HOURS.filter(lambda m: m < 1440),
    st.integers(1, 48).map(lambda n: n * 30 - 1),
)


@settings(max_examples=300, deadline=None)
@given(
    data=timetables(),
    day=DAYS,
    minute=MINUTES,
    tz=st.sampled_from([SHANGHAI, BERLIN]),
)
def test_open_ids_matches_reference(
    data: tuple[list[ResourceHours], list[ClosureSpan]], day: dt.date, minute: int, tz: ZoneInfo
) -> None:
    resources, closures = data
    at = local(day, minute // 60, minute % 60, tz=tz).astimezone(UTC)
    got = open_ids(Timetable.build(resources, closures), at, tz)
    assert got == reference_open(resources, closures, at, tz)


@settings(max_examples=200, deadline=None)
@given(
    before=timetables(),
    after=timetables(),
    changed=st.sets(st.integers(100, 106)),
    some=st.sets(st.integers(99, 107)),
    day=DAYS,
    minute=MINUTES,
)
def test_an_edit_replaces_its_resources_as_a_full_reload_would(
    before: tuple[list[ResourceHours], list[ClosureSpan]],
    after: tuple[list[ResourceHours], list[ClosureSpan]],
    changed: set[int],
    some: set[int],
    day: dt.date,
    minute: int,
) -> None:
    """Edited resources (new hours, exceptions, areas; deleted or closed: absent from
    ``after``) are swapped into the timetable a follower holds; it then opens what a
    timetable read afresh opens. A few resources' hours sliced from it (``only``, as a
    page's next openings are) open exactly when the whole timetable opens them."""
    old, _ = before
    new, closures = after
    kept = [r for r in old if r.id not in changed]
    now = kept + [r for r in new if r.id in changed]
    edited = Timetable.build(old).replaced(
        changed, Timetable.build([r for r in new if r.id in changed], closures)
    )
    at = local(day, minute // 60, minute % 60).astimezone(UTC)
    assert open_ids(edited, at, SHANGHAI) == reference_open(now, closures, at, SHANGHAI)
    assert sorted(edited.ids.tolist()) == sorted(r.id for r in now)
    part = edited.only(some)
    assert sorted(part.ids.tolist()) == sorted(set(edited.ids.tolist()) & some)
    assert open_ids(part, at, SHANGHAI) == open_ids(edited, at, SHANGHAI) & some


# --- when a closed place opens next ------------------------------------------------------


def test_a_closed_room_opens_after_lunch_on_monday_after_the_weekend_and_the_holiday() -> None:
    tt = city()
    assert next_openings(tt, [ROOM], local(MONDAY, 12, 30), SHANGHAI) == {ROOM: local(MONDAY, 14)}
    assert next_openings(tt, [ROOM, HOSPITAL], local(MONDAY, 20), SHANGHAI) == {
        ROOM: local(TUESDAY, 9),
        HOSPITAL: local(TUESDAY, 8),
    }
    # Thursday evening before the Mid-Autumn Friday: closed until Monday the 28th.
    thursday_evening = local(dt.date(2026, 9, 24), 18)
    assert next_openings(tt, [ROOM], thursday_evening, SHANGHAI) == {
        ROOM: local(dt.date(2026, 9, 28), 9)
    }
    # Sunday the 20th is worked (调休) on Monday hours.
    saturday = local(dt.date(2026, 9, 19), 10)
    assert next_openings(tt, [ROOM], saturday, SHANGHAI) == {ROOM: local(dt.date(2026, 9, 20), 9)}
    # National Day week: the room keeps its (no) Sunday hours until the 8th (a Thursday),
    # while the hospital opens its Sunday morning on the 1st.
    eve = local(dt.date(2026, 9, 30), 20)
    assert next_openings(tt, [ROOM, HOSPITAL], eve, SHANGHAI, days=8) == {
        ROOM: local(dt.date(2026, 10, 8), 9),
        HOSPITAL: local(dt.date(2026, 10, 1), 8),
    }
    assert next_openings(tt, [ROOM], eve, SHANGHAI) == {}  # not within a week


def test_an_exception_or_a_closure_moves_the_next_opening() -> None:
    late = DatedHours(TUESDAY, TUESDAY, False, hm(15), hm(18))
    tt = city(exceptions=[late])
    assert next_openings(tt, [ROOM], local(MONDAY, 18), SHANGHAI) == {ROOM: local(TUESDAY, 15)}
    shut = [ClosureSpan(TUESDAY, WEDNESDAY, area_code=EAST)]
    tt = city(closures=shut)
    thursday = dt.date(2026, 9, 24)
    assert next_openings(tt, [ROOM], local(MONDAY, 18), SHANGHAI) == {ROOM: local(thursday, 9)}


def _reference_next(
    resources: Sequence[ResourceHours],
    closures: Sequence[ClosureSpan],
    at: dt.datetime,
    days: int,
) -> dict[int, dt.datetime]:
    """Every half hour after ``at`` to the end of the last day, asked of the reference
    rules (the generated hours open and close on half hours only)."""
    start = at.astimezone(SHANGHAI)
    step = local(start.date(), start.hour) + dt.timedelta(minutes=30 * (start.minute // 30 + 1))
    end = local(start.date() + dt.timedelta(days=days + 1), 0)
    found: dict[int, dt.datetime] = {}
    while step < end:
        for i in reference_open(resources, closures, step, SHANGHAI):
            found.setdefault(i, step)
        step += dt.timedelta(minutes=30)
    return found


@settings(max_examples=60, deadline=None)
@given(data=timetables(), day=DAYS, minute=MINUTES, days=st.integers(0, 8))
def test_next_openings_match_every_half_hour_asked_in_turn(
    data: tuple[list[ResourceHours], list[ClosureSpan]], day: dt.date, minute: int, days: int
) -> None:
    resources, closures = data
    at = local(day, minute // 60, minute % 60)
    closed = {r.id for r in resources} - reference_open(resources, closures, at, SHANGHAI)
    got = next_openings(Timetable.build(resources, closures), closed, at, SHANGHAI, days)
    expected = _reference_next(resources, closures, at, days)
    assert got == {i: when for i, when in expected.items() if i in closed}


# --- loading from the database ------------------------------------------------------------


async def _small_city_with_hours() -> dict[str, Any]:
    def located(street: str) -> AreaCodes:
        return {
            "city_code": CITY,
            "district_code": DISTRICT,
            "street_code": street,
            "community_code": street[:-3] + "001",
        }

    room = await Resource.create(
        kind="community_room", name_zh="东湖社区心理咨询室", **located(EAST)
    )
    hospital = await Resource.create(
        kind="psychiatric_hospital_clinic", name_zh="西山医院心理门诊", **located(WEST)
    )
    hotline = await Resource.create(
        kind="hotline", name_zh="心理援助热线", always_open=True, **located(EAST)
    )
    old = await Resource.create(
        kind="community_room", name_zh="旧址心理咨询室", status="closed", **located(EAST)
    )
    for d in WEEKDAYS:
        await OpeningHours.create(resource=room, weekday=d, opens=hm(9), closes=hm(12))
        await OpeningHours.create(resource=old, weekday=d, opens=hm(9), closes=hm(12))
    for d in range(7):
        await OpeningHours.create(resource=hospital, weekday=d, opens=hm(8), closes=hm(17))
    await HoursException.create(
        resource=room, start_date=dt.date(2026, 12, 4), end_date=dt.date(2026, 12, 4)
    )
    await HoursException.create(
        resource=hospital,
        start_date=dt.date(2026, 12, 4),
        end_date=dt.date(2026, 12, 4),
        closed=False,
        opens=hm(13),
        closes=hm(14),
    )
    await Closure.create(start_date=TUESDAY, end_date=TUESDAY, area_code=EAST, reason="台风")
    await Closure.create(start_date=MONDAY, end_date=MONDAY, resource=hospital, reason="停电")
    timetable = await load_timetable()
    return {"room": room.id, "hospital": hospital.id, "hotline": hotline.id, "tt": timetable}


def test_load_timetable_reads_hours_exceptions_and_closures(database_url: str) -> None:
    found = run_in_db(database_url, _small_city_with_hours)
    tt: Timetable = found["tt"]
    room, hospital, hotline = found["room"], found["hospital"], found["hotline"]
    assert sorted(tt.ids.tolist()) == sorted([room, hospital, hotline])  # not the closed one
    assert open_ids(tt, local(MONDAY, 10), SHANGHAI) == {room, hotline}  # hospital closure
    assert open_ids(tt, local(TUESDAY, 10), SHANGHAI) == {hospital, hotline}  # typhoon east
    assert open_ids(tt, local(dt.date(2026, 10, 1), 10), SHANGHAI) == {hospital, hotline}
    training = dt.date(2026, 12, 4)
    assert open_ids(tt, local(training, 10), SHANGHAI) == {hotline}
    assert open_ids(tt, local(training, 13, 30), SHANGHAI) == {hospital, hotline}


def test_load_timetable_in_batches_and_for_some_resources(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read a few rows at a time (as a province's two million intervals are), the whole
    timetable is the same; read for some resources, only theirs (what a follower swaps in
    after an edit: see test_an_edit_replaces_its_resources_as_a_full_reload_would)."""
    monkeypatch.setattr(db, "ROWS_AT_ONCE", 2)
    found = run_in_db(database_url, _small_city_with_hours)
    whole: Timetable = found["tt"]
    assert open_ids(whole, local(MONDAY, 10), SHANGHAI) == {found["room"], found["hotline"]}
    assert open_ids(whole, local(dt.date(2026, 12, 4), 13, 30), SHANGHAI) == {
        found["hospital"],
        found["hotline"],
    }

    async def hospital_only() -> Timetable:
        return await load_timetable({found["hospital"], 999_999})

    some: Timetable = run_in_db(database_url, hospital_only)
    assert some.ids.tolist() == [found["hospital"]]
    assert open_ids(some, local(WEDNESDAY, 16), SHANGHAI) == {found["hospital"]}
    assert open_ids(some, local(TUESDAY, 10), SHANGHAI) == {found["hospital"]}  # typhoon: east only
    assert open_ids(some, local(MONDAY, 10), SHANGHAI) == frozenset()  # its own closure
