"""China's public holidays and the weekend days worked instead (调休): which weekly hours
apply on a day.

The State Council publishes each year's schedule in the autumn before it. chinese-calendar
carries the years its release knows; until a release carries the next one, an
administrator gives it as a file (``RESOURCEMAP_HOLIDAYS_FILE``), read as each process
starts, one day a line::

    date,day
    2027-01-01,holiday
    2027-02-20,workday

(``day`` may also be 休/放假 or 班/上班). The days it lists override the library's;
the others of a year the library knows stay the library's (a year's schedule may name a
day of the year before: 2011-12-31 was worked for 2012's New Year), and those of a year only
the file names are plain weekdays and weekends. A year neither knows keeps plain weekends,
and :func:`unknown_years` lets pages say so: on New Year's Day of such a year a room would
otherwise take bookings, as an ordinary Friday, while it is closed.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped]

from resourcemap.errors import InvalidInput
from resourcemap.said import N_

log = logging.getLogger(__name__)

SUNDAY, MONDAY = 6, 0
HOLIDAY_WORDS = frozenset({"holiday", "休", "放假"})
WORKDAY_WORDS = frozenset({"workday", "班", "上班"})


@dataclass(frozen=True)
class PublicDays:
    """The days a file gives: holidays, and weekend days worked instead."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: frozenset[int] = field(default=frozenset())


def read(path: Path) -> PublicDays:
    """The file's days; a line that is not a date and a day is refused, naming it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            N_("the holidays file %(path)s cannot be read: %(error)s", path=str(path), error=exc),
            field="holidays_file",
        ) from None
    return parse(text, path.name)


def parse(text: str, name: str = "holidays") -> PublicDays:
    holidays: set[date] = set()
    workdays: set[date] = set()
    lines: dict[date, int] = {}  # each day's first line, to name a day given both ways
    rows = csv.reader(io.StringIO(text))
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].lower() == "date" or cells[0].startswith("#"):
            continue
        if len(cells) < 2:
            raise _refused(name, line, "day", N_("each line is a date and a day"))
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            raise _refused(
                name, line, "date", N_("%(value)r is not a date such as 2027-01-01", value=cells[0])
            ) from None
        kind = cells[1].lower()
        if kind in HOLIDAY_WORDS:
            holidays.add(day)
        elif kind in WORKDAY_WORDS:
            workdays.add(day)
        else:
            raise _refused(
                name, line, "day", N_("%(value)r is neither holiday nor workday", value=cells[1])
            )
        if day in holidays and day in workdays:
            said = N_("%(day)s is both a holiday and a workday (line %(first)s)", day=day,
                      first=lines[day])  # fmt: skip
            raise _refused(name, line, "day", said)
        lines.setdefault(day, line)
    return PublicDays(
        frozenset(holidays), frozenset(workdays), frozenset(d.year for d in holidays | workdays)
    )


def _refused(name: str, line: int, column: str, reason: object) -> InvalidInput:
    where = N_("%(file)s line %(line)s, column %(column)s", file=name, line=line, column=column)
    return InvalidInput(
        N_("%(where)s: %(reason)s", where=where, reason=reason), field="holidays_file"
    )


_given = PublicDays()
_forget: list[Callable[[], None]] = []


def use(days: PublicDays) -> None:
    """Take ``days`` from now on (a process's start; tests), forgetting what was worked out."""
    global _given
    _given = days
    calendar_weekday.cache_clear()
    _library_knows.cache_clear()
    for forget in _forget:
        forget()


def forget_with(clear: Callable[[], None]) -> None:
    """Call ``clear`` whenever the days change (a cache of what they decided)."""
    _forget.append(clear)


def is_public_holiday(day: date) -> bool:
    """Whether ``day`` is one of the public holidays (a weekend day of Golden Week too, not
    a plain weekend)."""
    if day in _given.holidays:
        return True
    if day in _given.workdays or not _library_knows(day.year):
        return False
    # A make-up working day carries its holiday's name too: off, and named, is a holiday.
    off, name = chinese_calendar.get_holiday_detail(day)
    return bool(off) and name is not None


def is_workday(day: date) -> bool | None:
    """Whether ``day`` is worked; ``None`` for a year neither the file nor the library knows."""
    if day in _given.holidays:
        return False
    if day in _given.workdays:
        return True
    if _library_knows(day.year):
        return bool(chinese_calendar.is_workday(day))
    if day.year in _given.years:
        return day.weekday() < 5
    return None


@functools.lru_cache(maxsize=64)
def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def known(year: int) -> bool:
    """Whether ``year``'s holidays are known (from the file or the library)."""
    return year in _given.years or _library_knows(year)


def unknown_years(first: date, last: date) -> list[int]:
    """The years from ``first`` to ``last`` whose holidays nobody has given."""
    return [y for y in range(first.year, last.year + 1) if not known(y)]


def unknown_ahead(today: date, days: int) -> list[int]:
    """The years of the next ``days`` days whose holidays nobody has given."""
    return unknown_years(today, today + timedelta(days=days))


_warned_years: set[int] = set()


@functools.lru_cache(maxsize=4096)
def calendar_weekday(day: date) -> int:
    """The weekday whose weekly hours apply on ``day`` (0 = Monday), holidays and 调休 applied.

    >>> calendar_weekday(date(2026, 10, 1))  # National Day, a Thursday: Sunday hours
    6
    >>> calendar_weekday(date(2026, 10, 10))  # a Saturday worked instead: Monday hours
    0
    >>> calendar_weekday(date(2026, 10, 3))  # a Saturday of Golden Week: Sunday hours
    6
    """
    weekday = day.weekday()
    workday = is_workday(day)
    if workday is None:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("no public-holiday data for %d; using plain weekends", day.year)
        return weekday
    # Every public holiday keeps Sunday's hours, as listing pages promise: a Saturday of
    # Golden Week kept Saturday's, and a room open on Saturday mornings took bookings then.
    if (weekday < 5 and not workday) or is_public_holiday(day):
        return SUNDAY
    if weekday >= 5 and workday:
        return MONDAY
    return weekday
