# Over 400 lines: one pure pipeline from hours and rules to slots.
"""Bookable slots of a resource, computed from its hours and booking rules.

A day's hours follow the same rules as open-now (``resourcemap.listings.opening``): weekly hours,
public holidays and make-up days, dated exceptions, closures; always-open resources are open
all day. Each opening interval is turned into real instants in the configured zone, then cut
into slots of ``slot_minutes`` every ``slot_minutes + buffer_minutes`` of elapsed time, so a
slot is always as long as its policy says, also on a daylight-saving switch day (a wall-clock
time that does not exist that day is skipped, one that occurs twice gives two slots; hours
that open or close inside a spring-forward gap open or close at the jump).

Slots are not stored: rows in ``booking_slot`` exist only where someone booked, and carry
the seat counter. A slot is listed with ``remaining`` seats; slots that overlap blocked time
or a booked slot of a different grid (left over from an earlier policy) are not listed.

Instants are int64 seconds since the epoch (UTC) inside this module; the array work is
vectorised per opening interval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from resourcemap.listings import holidays
from resourcemap.listings.holidays import calendar_weekday
from resourcemap.listings.opening import ClosureSpan, DatedHours

if TYPE_CHECKING:  # the rules are read from a policy row; this module never touches the database
    from resourcemap.models import BookingPolicy

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DAY = dt.timedelta(days=1)
UNIX_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Rules:
    """A booking policy as plain data (minutes)."""

    slot_minutes: int = 50
    buffer_minutes: int = 10
    seats: int = 1
    min_notice_minutes: int = 120
    horizon_days: int = 30
    change_notice_minutes: int = 240

    @classmethod
    def of(cls, policy: BookingPolicy) -> Rules:
        return cls(
            slot_minutes=policy.slot_minutes,
            buffer_minutes=policy.buffer_minutes,
            seats=policy.seats,
            min_notice_minutes=policy.min_notice_minutes,
            horizon_days=policy.horizon_days,
            change_notice_minutes=policy.change_notice_minutes,
        )


class Taken(NamedTuple):
    """A booked slot row: its seats and how many are held."""

    starts_at: int
    ends_at: int
    capacity: int
    taken: int


@dataclass(frozen=True)
class Listing:
    """What booking needs of the resource's listing: whose it is, its name, its services."""

    organisation_id: int | None
    name_zh: str
    services: tuple[str, ...]
    name_en: str = ""  # for messages to residents who booked in English


@dataclass(frozen=True)
class Schedule:
    """Everything that decides one resource's slots, as plain data."""

    resource_id: int
    rules: Rules
    listing: Listing = Listing(None, "", ())
    # booking_policy.schedule_version when read: tells a cached schedule from a stale one.
    version: int = 0
    always_open: bool = False
    weekly: Sequence[tuple[int, int, int]] = ()  # (weekday 0=Mon, opens, closes) minutes
    exceptions: Sequence[DatedHours] = ()
    closures: Sequence[ClosureSpan] = ()  # already narrowed to this resource
    blocks: Sequence[tuple[int, int]] = ()  # (start, end) epoch seconds
    taken: Sequence[Taken] = field(default=())
    # Waitlist offers of this resource past their deadline at ``load_schedules(now=…)``:
    # the seats they hold are to be passed on (``Desk.expire_offers``) before listing.
    offers_due: int = 0

    def day_hours(self, day: dt.date) -> list[tuple[int, int]]:
        """Opening intervals (minutes after local midnight) on ``day``."""
        own_closure = any(
            c.start <= day <= c.end and c.resource_id == self.resource_id for c in self.closures
        )
        if own_closure:
            return []
        if self.always_open:
            return [(0, 1440)]
        if any(c.start <= day <= c.end for c in self.closures):
            return []
        todays = [e for e in self.exceptions if e.start <= day <= e.end]
        if todays:
            if any(e.closed or e.opens is None or e.closes is None for e in todays):
                return []
            return _union([(e.opens or 0, e.closes or 0) for e in todays])
        weekday = _calendar_weekday(day.toordinal())
        return _union([(o, c) for w, o, c in self.weekly if w == weekday])


@dataclass(frozen=True)
class SlotList:
    """Slots in time order as parallel arrays (epoch seconds)."""

    starts: IntArray
    ends: IntArray
    capacity: IntArray
    remaining: IntArray

    def __len__(self) -> int:
        return int(self.starts.size)

    def find(self, start: int) -> int | None:
        i = int(np.searchsorted(self.starts, start))
        return i if i < len(self) and int(self.starts[i]) == start else None

    def local_rows(self, tz: ZoneInfo) -> Iterator[tuple[dt.datetime, dt.datetime, int, int]]:
        """Each slot as (local start, local end, capacity, remaining), for display."""
        for s, e, c, r in zip(
            self.starts.tolist(),
            self.ends.tolist(),
            self.capacity.tolist(),
            self.remaining.tolist(),
            strict=True,
        ):
            yield to_local(s, tz), to_local(e, tz), int(c), int(r)


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for o, c in sorted(iv for iv in intervals if iv[0] < iv[1]):
        if merged and o <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], c))
        else:
            merged.append((o, c))
    return merged


def _instant(day: dt.date, minute: int, tz: ZoneInfo, *, fold: int) -> int:
    """Epoch seconds of ``minute`` after local midnight of ``day``; 1440 is the next midnight.

    ``fold`` picks the first (0) or second (1) of a wall time that occurs twice (fall back).
    A wall time that does not exist (spring forward) maps to the first instant after the
    gap, whatever ``fold`` says: the moment the clock jumps past it, as open-now reads hours
    (``opens <= wall time < closes``). An interval may thus start or end at the jump, never
    inside or beyond it: 00:00-02:30 on Berlin's spring-forward day ends at 03:00 CEST.
    """
    if minute >= 1440:
        day, minute = day + DAY, minute - 1440
    wall = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    local = wall.replace(tzinfo=tz, fold=fold)
    at = int(local.timestamp())
    if dt.datetime.fromtimestamp(at, tz).replace(tzinfo=None) == wall:
        return at
    return _after_gap(wall, tz)


def _after_gap(wall: dt.datetime, tz: ZoneInfo) -> int:
    """The first instant after the gap that holds the nonexistent wall time ``wall``.

    PEP 495 reads a wall time in a gap with the offset before the jump (fold=0: an instant
    after the gap) or after it (fold=1: an instant before the gap); the jump lies between
    the two, found by bisection on whole seconds (zone transitions fall on whole seconds).
    """
    before = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    after = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    lo, hi = min(before, after), max(before, after)
    offset = dt.datetime.fromtimestamp(hi, tz).utcoffset()
    while hi - lo > 1:  # invariant: lo is before the jump, hi at or after it
        mid = (lo + hi) // 2
        if dt.datetime.fromtimestamp(mid, tz).utcoffset() == offset:
            hi = mid
        else:
            lo = mid
    return hi


def local_midnight(day: dt.date, tz: ZoneInfo) -> int:
    return _instant(day, 0, tz, fold=0)


@lru_cache(maxsize=4096)
def _calendar_weekday(ordinal: int) -> int:
    """``holidays.calendar_weekday`` of a date ordinal, remembered: holidays move only when
    the holidays file is read (:func:`.holidays.use`)."""
    return calendar_weekday(dt.date.fromordinal(ordinal))


@lru_cache(maxsize=64)
def _year_days(tz: ZoneInfo, year: int) -> tuple[IntArray, BoolArray, IntArray]:
    """For each local day of ``year``: its midnight (epoch seconds), whether it is a plain
    day, and the weekday whose hours apply (holidays and make-up days applied).

    On a plain day the zone keeps one offset from three hours before midnight until 27 hours
    after it (past the next midnight and any repeat of it), checked every three hours (zones
    never switch twice within three hours); there every wall time
    of the day, and the next midnight, is midnight plus elapsed minutes. Other days, and
    days next to them, take the exact path (``_instant``). Computed once per zone and year.
    """
    first = dt.date(year, 1, 1).toordinal()
    n = dt.date(year + 1, 1, 1).toordinal() - first
    midnights = np.empty(n, dtype=np.int64)
    plain = np.empty(n, dtype=np.bool_)
    weekdays = np.empty(n, dtype=np.int64)
    for i in range(n):
        day = dt.date.fromordinal(first + i)
        m = _instant(day, 0, tz, fold=0)
        offsets = {dt.datetime.fromtimestamp(m + k * 10800, tz).utcoffset() for k in range(-1, 10)}
        midnights[i], plain[i], weekdays[i] = m, len(offsets) == 1, _calendar_weekday(first + i)
    return midnights, plain, weekdays


# Both remember what the holidays decided: forgotten when the holidays file is read.
holidays.forget_with(_calendar_weekday.cache_clear)
holidays.forget_with(_year_days.cache_clear)


def _days(tz: ZoneInfo, first: int, last: int) -> tuple[IntArray, BoolArray, IntArray]:
    """``_year_days`` for the date ordinals ``first`` … ``last``."""
    parts = []
    year = dt.date.fromordinal(first).year
    while dt.date(year, 1, 1).toordinal() <= last:
        base = dt.date(year, 1, 1).toordinal()
        m, p, w = _year_days(tz, year)
        lo, hi = max(first - base, 0), min(last - base + 1, m.size)
        parts.append((m[lo:hi], p[lo:hi], w[lo:hi]))
        year += 1
    if len(parts) == 1:
        return parts[0]
    return (
        np.concatenate([x[0] for x in parts]),
        np.concatenate([x[1] for x in parts]),
        np.concatenate([x[2] for x in parts]),
    )


def _spans(spans: Iterable[tuple[dt.date, dt.date]], ordinals: IntArray) -> BoolArray:
    """Which of ``ordinals`` fall in any of the inclusive date ``spans``."""
    hit = np.zeros(ordinals.size, dtype=np.bool_)
    for start, end in spans:
        hit |= (ordinals >= start.toordinal()) & (ordinals <= end.toordinal())
    return hit


@lru_cache(maxsize=1024)
def _day_pattern(
    weekly: tuple[tuple[int, int, int], ...], length: int, step: int
) -> tuple[IntArray, BoolArray]:
    """Slot starts of a plain day per weekday, in seconds after midnight: row ``w`` of the
    first array holds weekday ``w``'s, in order, where the second array is true."""
    per_day = []
    for weekday in range(7):
        starts = [
            np.arange(opens * 60, closes * 60 - length + 1, step, dtype=np.int64)
            for opens, closes in _union((o, c) for w, o, c in weekly if w == weekday)
        ]
        per_day.append(np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64))
    width = max(1, max(d.size for d in per_day))
    offsets = np.zeros((7, width), dtype=np.int64)
    valid = np.zeros((7, width), dtype=np.bool_)
    for weekday, day in enumerate(per_day):
        offsets[weekday, : day.size] = day
        valid[weekday, : day.size] = True
    return offsets, valid


def generate(
    schedule: Schedule, first_day: dt.date, days: int, tz: ZoneInfo, *, now: dt.datetime
) -> SlotList:
    """Slots starting on ``first_day`` … ``first_day + days - 1`` (local dates), bookable now.

    Slots earlier than ``now`` plus the minimum notice, or on a day beyond the booking
    horizon (counted from today's local date), are left out.

    Plain days (``_year_days``) that follow their weekly hours take their weekday's slots
    (``_day_pattern``) as one array; days with exceptions or a zone switch near them go
    through ``Schedule.day_hours`` and ``_instant`` one by one.
    """
    rules = schedule.rules
    length = rules.slot_minutes * 60
    step = (rules.slot_minutes + rules.buffer_minutes) * 60
    today = now.astimezone(tz).date()
    last_day = min(
        first_day + dt.timedelta(days=days - 1), today + dt.timedelta(rules.horizon_days)
    )
    earliest = int(now.timestamp()) + rules.min_notice_minutes * 60

    chunks: list[IntArray] = []
    first, last = max(first_day, today).toordinal(), last_day.toordinal()
    if first <= last:
        ordinals = np.arange(first, last + 1, dtype=np.int64)
        midnights, plain, weekdays = _days(tz, first, last)
        rid = schedule.resource_id
        own = _spans(
            ((c.start, c.end) for c in schedule.closures if c.resource_id == rid), ordinals
        )
        if schedule.always_open:
            weekly_hours: tuple[tuple[int, int, int], ...] = tuple((w, 0, 1440) for w in range(7))
            regular = ~own & plain
            slow = ~own & ~plain
        else:
            weekly_hours = tuple(schedule.weekly)
            closed = own | _spans(((c.start, c.end) for c in schedule.closures), ordinals)
            excepted = _spans(((e.start, e.end) for e in schedule.exceptions), ordinals)
            regular = ~closed & ~excepted & plain
            slow = ~closed & (excepted | ~plain)
        offsets, valid = _day_pattern(weekly_hours, length, step)
        days_w = weekdays[regular]
        # Plain days never reach into the next: their slots come out sorted, once each.
        chunks.append((midnights[regular][:, None] + offsets[days_w])[valid[days_w]])
        for ordinal in ordinals[slow].tolist():
            day = dt.date.fromordinal(ordinal)
            for opens, closes in schedule.day_hours(day):
                start = _instant(day, opens, tz, fold=0)
                end = _instant(day, closes, tz, fold=1)
                if end - start >= length:
                    chunks.append(np.arange(start, end - length + 1, step, dtype=np.int64))
    if len(chunks) == 1:
        starts = chunks[0]
    else:
        starts = np.sort(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)
        if starts.size > 1:  # the same instant twice (overlapping days): once
            starts = starts[np.concatenate(([True], starts[1:] != starts[:-1]))]
    starts = starts[starts >= earliest]
    ends = starts + length

    keep = np.ones(starts.size, dtype=np.bool_)
    for b_start, b_end in schedule.blocks:
        keep &= ~((starts < b_end) & (ends > b_start))
    capacity = np.full(starts.size, rules.seats, dtype=np.int64)
    taken = np.zeros(starts.size, dtype=np.int64)
    if schedule.taken:
        flat = chain.from_iterable(schedule.taken)
        n = len(schedule.taken)
        rows = np.fromiter(flat, dtype=np.int64, count=4 * n).reshape(n, 4)[:, [0, 1, 3]]
        at = np.searchsorted(starts, rows[:, 0])
        inside = at < starts.size
        found = np.zeros(at.size, dtype=np.bool_)
        found[inside] = (starts[at[inside]] == rows[inside, 0]) & (
            ends[at[inside]] == rows[inside, 1]
        )
        # Seats follow the current rules; the row's own capacity catches up on the next
        # booking (see desk._take_seat).
        taken[at[found]] = rows[found, 2]
        for r_start, r_end, _ in rows[~found & (rows[:, 2] > 0)].tolist():
            keep &= ~((starts < r_end) & (ends > r_start))
    return SlotList(
        starts=starts[keep],
        ends=ends[keep],
        capacity=capacity[keep],
        remaining=np.maximum(capacity - taken, 0)[keep],
    )


def to_local(epoch: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz)


def epoch(value: dt.datetime) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return int(value.timestamp())


def as_utc(epoch_seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC)


def serialise(slots: SlotList, tz: ZoneInfo) -> list[dict[str, object]]:
    return [
        {"starts_at": s.isoformat(), "ends_at": e.isoformat(), "capacity": c, "remaining": r}
        for s, e, c, r in slots.local_rows(tz)
    ]


# One statement reads everything that decides the slots of the resources {ids}: a row per
# policy (kind 0, with what booking needs of the listing: organisation, name, services),


def window(first_day: dt.date, days: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants bounding local days ``first_day`` … ``first_day + days - 1``."""
    return (
        as_utc(local_midnight(first_day, tz)),
        as_utc(local_midnight(first_day + dt.timedelta(days=days), tz)),
    )
