"""HSDS schedules as weekly hours and dated exceptions, in local wall time of our zone.

Times are read as people and other directories write them: ``09:00``, ``9:00:00``, ``9am``,
``4:00 PM``, ``12pm`` (noon), with or without a UTC offset (``08:00Z``, ``08:00-07:00``,
``08:00+08:00``). HSDS 3.0 says times "should include timezone information" and gives each
schedule a numeric ``timezone`` (UTC offset in hours). A time with an offset (its own, else
the schedule's ``timezone``) is converted to ``RESOURCEMAP_TIMEZONE``, moving to the next or
previous weekday when it crosses midnight; a zone that changes its offset during the year
refuses such times (no single local time fits). A time without any offset is a local wall
time already. Whatever cannot be read is a problem naming the cell; what is understood but
has no place in our model (monthly rules, fortnightly hours, yearly holidays) is a note.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap.said import N_, Said, said_of
from resourcemap.transfer import hsds_terms as t

DAY = 1440
NOTE_LENGTH = 300
_CLOCK_24 = re.compile(
    r"^(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::\d{2}(?:\.\d+)?)?)?\s*"
    r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_CLOCK_12 = re.compile(
    r"^(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<half>a\.?m\.?|p\.?m\.?)"
    r"\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_WORDS = {"noon": 720, "midday": 720, "midnight": 0}


class TimeError(ValueError):
    """A time that cannot be read or placed in our zone; the message says why."""


@dataclass(frozen=True)
class Clock:
    minutes: int
    offset: int | None  # minutes east of UTC, None when the text gives none


def _offset(text: str | None) -> int | None:
    if not text:
        return None
    if text.upper() == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        raise TimeError(N_("%(text)r is not a UTC offset", text=text))
    return sign * (hours * 60 + minutes)


def read_time(value: Any) -> Clock:
    """``"9am"`` → 540, ``"16:00Z"`` → 960 at offset 0, ``"24:00"`` → 1440 (end of day).

    >>> read_time("4:00 PM"), read_time("08:00-07:00").offset
    (Clock(minutes=960, offset=None), -420)
    """
    text = (value if isinstance(value, str) else "").strip()
    if text.lower() in _WORDS:
        return Clock(_WORDS[text.lower()], None)
    match = _CLOCK_12.match(text)
    if match is not None:
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise TimeError(N_("%(text)r is not a time", text=text))
        pm = match["half"].lower().startswith("p")
        return Clock((hour % 12 + (12 if pm else 0)) * 60 + minute, _offset(match["offset"]))
    match = _CLOCK_24.match(text)
    if match is None or (match["m"] is None and match["offset"] is None and ":" not in text):
        raise TimeError(N_("%(text)r is not a time like 09:00, 9am or 4:00 PM", text=text))
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise TimeError(N_("%(text)r is not a time of day", text=text))
    return Clock(hour * 60 + minute, _offset(match["offset"]))


def zone_offsets(tz: ZoneInfo, now: dt.datetime) -> set[int]:
    """The UTC offsets (minutes) ``tz`` uses in the year around ``now``."""
    year = now.astimezone(tz).year
    instants = [dt.datetime(year, month, 15, 12, tzinfo=tz) for month in (1, 4, 7, 10)]
    return {int((i.utcoffset() or dt.timedelta()).total_seconds() // 60) for i in instants}


@dataclass(frozen=True)
class Zone:
    tz: ZoneInfo
    now: dt.datetime

    def shift(self, offset: int | None) -> int:
        """Minutes to add to a time given at ``offset`` to get our wall time."""
        if offset is None:
            return 0
        ours = zone_offsets(self.tz, self.now)
        if len(ours) > 1:
            raise TimeError(
                N_(
                    "a time with a UTC offset is not one local time in %(zone)s, which "
                    "changes its offset during the year: give local times without an offset",
                    zone=self.tz.key,
                )
            )
        return ours.pop() - offset


def local_intervals(
    days: Iterable[int], opens: int, closes: int, shift: int
) -> list[tuple[int, int, int]]:
    """Weekly intervals moved by ``shift`` minutes, split where they cross midnight."""
    start, end = opens + shift, closes + shift
    moved = start // DAY
    start, end = start - moved * DAY, end - moved * DAY
    result: list[tuple[int, int, int]] = []
    for day in days:
        d = (day + moved) % 7
        if end <= DAY:
            result.append((d, start, end))
        else:
            result += [(d, start, DAY), ((d + 1) % 7, 0, end - DAY)]
    return result


@dataclass
class Schedules:
    """What a list of schedules says, and what could not be read or kept."""

    hours: set[tuple[int, int, int]] = field(default_factory=set)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    always_open: bool = False
    problems: list[tuple[str, Said]] = field(default_factory=list)  # (cell, reason)
    notes: list[Said] = field(default_factory=list)
    offsets_given: bool = False
    times_read: bool = False

    @property
    def empty(self) -> bool:
        return not (self.hours or self.exceptions or self.always_open)

    def values(self) -> dict[str, Any]:
        def hhmm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        return {
            "hours": [
                {"weekday": d, "opens": hhmm(o), "closes": hhmm(c)}
                for d, o, c in sorted(self.hours)
            ],
            "exceptions": self.exceptions,
            "always_open": self.always_open,
        }


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _label(where: str, index: int, schedule: dict[str, Any]) -> str:
    """A schedule as a report names it: its CSV row, else its JSON path."""
    source = schedule.get("_source")
    return source if isinstance(source, str) else f"{where}[{index}]"


def _cell(where: str, index: int, schedule: dict[str, Any], name: str) -> str:
    label = _label(where, index, schedule)
    return f"{label}, {name}" if isinstance(schedule.get("_source"), str) else f"{label}.{name}"


def _days(byday: str) -> list[int] | None:
    """Weekdays of a WEEKLY ``byday``; None when a code is not MO…SU."""
    codes = [c.strip().upper() for c in byday.split(",") if c.strip()]
    if not all(c in t.WEEKDAY_CODES for c in codes):
        return None
    return sorted({t.WEEKDAY_CODES.index(c) for c in codes})


class _Reader:
    def __init__(self, zone: Zone, where: str) -> None:
        self.zone = zone
        self.where = where
        self.out = Schedules()

    def times(self, i: int, s: dict[str, Any]) -> tuple[int, int, int] | None:
        """(opens, closes, shift) of a schedule with both times, in minutes."""
        clocks: list[Clock] = []
        for name in ("opens_at", "closes_at"):
            try:
                clocks.append(read_time(s.get(name)))
            except TimeError as exc:
                self.out.problems.append((_cell(self.where, i, s, name), said_of(exc)))
        if len(clocks) < 2:
            return None
        opens, closes = clocks
        offset = opens.offset if opens.offset is not None else closes.offset
        if offset is None and isinstance(s.get("timezone"), int | float):
            offset = round(float(s["timezone"]) * 60)
        if None not in (opens.offset, closes.offset) and opens.offset != closes.offset:
            cell = _cell(self.where, i, s, "closes_at")
            self.out.problems.append(
                (cell, N_("opens_at and closes_at give different UTC offsets"))
            )
            return None
        try:
            shift = self.zone.shift(offset)
        except TimeError as exc:
            self.out.problems.append((_cell(self.where, i, s, "opens_at"), said_of(exc)))
            return None
        self.out.times_read = True
        self.out.offsets_given = self.out.offsets_given or offset is not None
        close = closes.minutes
        if close == 0 and opens.minutes != 0:
            close = DAY  # open until midnight
        return opens.minutes, close, shift

    def exception(self, i: int, s: dict[str, Any], state: str) -> None:
        valid_from, valid_to = _text(s.get("valid_from")), _text(s.get("valid_to"))
        closed = state == "closed" or (s.get("opens_at") is None and s.get("closes_at") is None)
        item: dict[str, Any] = {
            "start_date": valid_from or valid_to,
            "end_date": valid_to or valid_from,
            "closed": closed,
            "opens": None,
            "closes": None,
            "note": _text(s.get("description"))[:NOTE_LENGTH],
        }
        if not closed:
            found = self.times(i, s)
            if found is None:
                return
            opens, closes, shift = found
            moved = local_intervals([0], opens, closes, shift)
            if len(moved) != 1 or moved[0][0] != 0:
                cell = _cell(self.where, i, s, "opens_at")
                self.out.problems.append((cell, N_("in our time zone these hours cross midnight")))
                return
            item["opens"] = f"{moved[0][1] // 60:02d}:{moved[0][1] % 60:02d}"
            item["closes"] = f"{moved[0][2] // 60:02d}:{moved[0][2] % 60:02d}"
        self.out.exceptions.append(item)

    def weekly(self, i: int, s: dict[str, Any]) -> None:
        freq = _text(s.get("freq")).upper() or "WEEKLY"
        label = _label(self.where, i, s)
        if freq != "WEEKLY":
            self.out.notes.append(
                N_(
                    "%(where)s: a %(freq)s schedule is not kept (weekly hours only)",
                    where=label,
                    freq=freq,
                )
            )
            return
        interval = s.get("interval")
        if isinstance(interval, int | float) and interval > 1:
            self.out.notes.append(
                N_(
                    "%(where)s: hours every %(weeks)s weeks are not kept (weekly hours only)",
                    where=label,
                    weeks=f"{interval:g}",
                )
            )
            return
        has_times = s.get("opens_at") not in (None, "") or s.get("closes_at") not in (None, "")
        if not has_times:
            if _text(s.get("description")):
                self.out.notes.append(
                    N_(
                        "%(where)s: no opening times, only the text %(text)r; no hours kept",
                        where=label,
                        text=_text(s.get("description"))[:80],
                    )
                )
            return
        days = _days(_text(s.get("byday")))
        if not days:
            cell = _cell(self.where, i, s, "byday")
            self.out.problems.append(
                (
                    cell,
                    N_(
                        "%(byday)r names no weekday (MO,TU,WE,TH,FR,SA,SU)",
                        byday=_text(s.get("byday")),
                    ),
                )
            )
            return
        for name in ("bymonthday", "byweekno", "byyearday"):
            if _text(str(s.get(name) or "")):
                self.out.notes.append(
                    N_(
                        "%(where)s: %(name)s is ignored on a WEEKLY schedule",
                        where=label,
                        name=name,
                    )
                )
        found = self.times(i, s)
        if found is None:
            return
        opens, closes, shift = found
        if opens >= closes:
            cell = _cell(self.where, i, s, "closes_at")
            reason = N_(
                "closes %(closes)r is not after opens %(opens)r",
                closes=_text(s.get("closes_at")),
                opens=_text(s.get("opens_at")),
            )
            self.out.problems.append((cell, reason))
            return
        if days == list(range(7)) and (opens, closes, shift) == (0, DAY, 0):
            self.out.always_open = True
            return
        self.out.hours |= set(local_intervals(days, opens, closes, shift))
        valid_to = _text(s.get("valid_to"))
        if valid_to and valid_to < self.zone.now.astimezone(self.zone.tz).date().isoformat():
            self.out.notes.append(
                N_(
                    "%(where)s: valid until %(date)s, which is past; its weekly hours were "
                    "imported as current",
                    where=label,
                    date=valid_to,
                )
            )


def read_schedules(schedules: list[dict[str, Any]], zone: Zone, where: str) -> Schedules:
    """Weekly schedules → hours (or ``always_open``); our dated ones and holiday rows →
    exceptions. ``where`` names the list in reports (``schedules``, ``location.schedules``)."""
    reader = _Reader(zone, where)
    for i, s in enumerate(schedules):
        holiday = s.get("_holiday")
        state = t.field_value(t.read_attributes(s.get("attributes")), "hours_exception")
        if isinstance(holiday, str):
            state = holiday
        if state is not None:
            reader.exception(i, s, state)
        else:
            reader.weekly(i, s)
    return reader.out
