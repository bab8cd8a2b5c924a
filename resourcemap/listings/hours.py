"""Weekly opening hours: validation and the short summaries people read.

Times are minutes after local midnight (``540`` is 09:00, ``1440`` the end of the day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from resourcemap.errors import InvalidInput
from resourcemap.said import N_, pN_
from resourcemap.translations import locale_of, read

# Weekday abbreviations, read in the reader's language (summaries, hours errors, forms).
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
# The English ones, as import files spell them.
WEEKDAYS_EN = tuple(str(day) for day in WEEKDAYS)
# A run of days with the same hours: "Mon-Fri", 周一至周五.
DAYS_THROUGH = pN_("hours summary", "%(first)s-%(last)s")
DAY_MINUTES = 24 * 60


def hhmm(minutes: int) -> str:
    """``540`` → ``"09:00"``; the end of the day is ``"24:00"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes(text: str) -> int:
    """``"09:30"`` → ``570``; refuses anything that is not a time of day."""
    try:
        hh, mm = text.split(":")
        value = int(hh) * 60 + int(mm)
        valid = len(mm) == 2 and 0 <= int(mm) < 60
    except ValueError:
        valid = False
    if not valid or not 0 <= value <= DAY_MINUTES:
        raise InvalidInput(N_("%(text)r is not a time of day (HH:MM)", text=text), field="hours")
    return value


@dataclass(frozen=True, order=True)
class Interval:
    weekday: int
    opens: int
    closes: int


def validate(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort intervals and refuse impossible ones: bad weekday, empty, or overlapping."""
    ordered = sorted(intervals)
    for i, iv in enumerate(ordered):
        if not 0 <= iv.weekday <= 6:
            raise InvalidInput(
                N_("weekday must be 0 (Monday) to 6, got %(day)s", day=iv.weekday), field="hours"
            )
        day = WEEKDAYS[iv.weekday]
        if not 0 <= iv.opens < iv.closes <= DAY_MINUTES:
            raise InvalidInput(
                N_(
                    "%(day)s: opening %(opens)s is not before closing %(closes)s",
                    day=day,
                    opens=hhmm(iv.opens),
                    closes=hhmm(iv.closes),
                ),
                field="hours",
            )
        if i and ordered[i - 1].weekday == iv.weekday and ordered[i - 1].closes > iv.opens:
            raise InvalidInput(N_("%(day)s: intervals overlap", day=day), field="hours")
    return ordered


def summarise(intervals: Sequence[Interval], *, lang: str = "zh") -> list[str]:
    """Group weekdays with identical hours into lines like ``周一至周五 09:00-12:00, 14:00-17:30``.

    >>> summarise([Interval(d, 540, 1020) for d in range(5)], lang="en")
    ['Mon-Fri 09:00-17:00']
    """
    locale = locale_of(lang)
    names = [read(day, locale) for day in WEEKDAYS]
    through = read(DAYS_THROUGH, locale)
    by_day: dict[int, tuple[str, ...]] = {}
    for iv in sorted(intervals):
        by_day[iv.weekday] = (*by_day.get(iv.weekday, ()), f"{hhmm(iv.opens)}-{hhmm(iv.closes)}")

    lines: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        end = day
        while end + 1 in by_day and by_day[end + 1] == by_day[day]:
            end += 1
        days = names[day] if end == day else through % {"first": names[day], "last": names[end]}
        lines.append(f"{days} {', '.join(by_day[day])}")
        day = end + 1
    return lines
