"""Weekly hours: summaries people read and refusal of impossible hours."""

from __future__ import annotations

import pytest

from resourcemap.errors import InvalidInput
from resourcemap.listings.hours import Interval, hhmm, minutes, summarise, validate

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock


def test_summary_groups_days_with_identical_hours() -> None:
    week = [Interval(d, 540, 720) for d in range(5)] + [Interval(5, 540, 690)]
    week += [Interval(d, 840, 1050) for d in range(5)]
    assert summarise(week) == ["周一至周五 09:00-12:00, 14:00-17:30", "周六 09:00-11:30"]
    assert summarise(week, lang="en") == ["Mon-Fri 09:00-12:00, 14:00-17:30", "Sat 09:00-11:30"]


def test_summary_does_not_join_days_across_a_gap() -> None:
    days = [Interval(0, 540, 600), Interval(2, 540, 600), Interval(3, 540, 600)]
    assert summarise(days, lang="en") == ["Mon 09:00-10:00", "Wed-Thu 09:00-10:00"]


def test_minutes_round_trip_and_end_of_day() -> None:
    assert minutes("09:30") == 570
    assert hhmm(570) == "09:30"
    assert hhmm(minutes("24:00")) == "24:00"


@pytest.mark.parametrize("text", ["9", "25:00", "09:60", "09:5", "ab:cd", "24:01"])
def test_minutes_refuses_non_times(text: str) -> None:
    with pytest.raises(InvalidInput, match="time of day"):
        minutes(text)


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ([Interval(7, 540, 600)], "weekday"),
        ([Interval(0, 600, 540)], "not before"),
        ([Interval(0, 540, 720), Interval(0, 700, 800)], "overlap"),
    ],
)
def test_validate_refuses_impossible_hours(intervals: list[Interval], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate(intervals)


def test_validate_sorts_and_accepts_touching_intervals() -> None:
    ordered = validate([Interval(1, 720, 780), Interval(0, 540, 720), Interval(1, 540, 720)])
    assert ordered == [Interval(0, 540, 720), Interval(1, 540, 720), Interval(1, 720, 780)]
