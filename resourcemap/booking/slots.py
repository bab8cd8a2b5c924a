"""Bookable slots of a resource, computed from its hours and booking rules.

A day's hours follow the same rules as open-now (``resourcemap.opening``): weekly hours,
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from resourcemap.models import (
    BookingPolicy,
    Closure,
    HoursException,
    OpeningHours,
    Resource,
    Slot,
    TimeBlock,
)
from resourcemap.opening import ClosureSpan, DatedHours, calendar_weekday
from resourcemap.vocab import Status

IntArray = npt.NDArray[np.int64]
DAY = dt.timedelta(days=1)


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


@dataclass(frozen=True)
class Taken:
    """A booked slot row: its seats and how many are held."""

    starts_at: int
    ends_at: int
    capacity: int
    taken: int


@dataclass(frozen=True)
class Schedule:
    """Everything that decides one resource's slots, as plain data."""

    resource_id: int
    rules: Rules
    always_open: bool = False
    weekly: Sequence[tuple[int, int, int]] = ()  # (weekday 0=Mon, opens, closes) minutes
    exceptions: Sequence[DatedHours] = ()
    closures: Sequence[ClosureSpan] = ()  # already narrowed to this resource
    blocks: Sequence[tuple[int, int]] = ()  # (start, end) epoch seconds
    taken: Sequence[Taken] = field(default=())

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
        weekday = calendar_weekday(day)
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


def generate(
    schedule: Schedule, first_day: dt.date, days: int, tz: ZoneInfo, *, now: dt.datetime
) -> SlotList:
    """Slots starting on ``first_day`` … ``first_day + days - 1`` (local dates), bookable now.

    Slots earlier than ``now`` plus the minimum notice, or on a day beyond the booking
    horizon (counted from today's local date), are left out.
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
    day = max(first_day, today)
    while day <= last_day:
        for opens, closes in schedule.day_hours(day):
            start = _instant(day, opens, tz, fold=0)
            end = _instant(day, closes, tz, fold=1)
            if end - start >= length:
                chunks.append(np.arange(start, end - length + 1, step, dtype=np.int64))
        day += DAY
    starts = np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)
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
            # Seats follow the current rules; the row's own capacity catches up on the next
            # booking (see desk._take_seat).
            taken[i] = row.taken
        elif row.taken > 0:
            keep &= ~((starts < row.ends_at) & (ends > row.starts_at))
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
        {
            "starts_at": to_local(s, tz).isoformat(),
            "ends_at": to_local(e, tz).isoformat(),
            "capacity": c,
            "remaining": r,
        }
        for s, e, c, r in zip(
            slots.starts.tolist(),
            slots.ends.tolist(),
            slots.capacity.tolist(),
            slots.remaining.tolist(),
            strict=True,
        )
    ]


async def load_schedules(
    resource_ids: Sequence[int], *, start: dt.datetime, end: dt.datetime
) -> dict[int, Schedule]:
    """Schedules of the bookable (active, enabled-policy) resources among ``resource_ids``,
    with blocks and booked slots overlapping ``start``…``end``."""
    ids = list(dict.fromkeys(resource_ids))
    policies = {
        p.resource_id: p  # type: ignore[attr-defined]
        for p in await BookingPolicy.filter(
            resource_id__in=ids, enabled=True, resource__status=Status.ACTIVE
        )
    }
    if not policies:
        return {}
    ids = list(policies)
    resources = {
        rid: (always, codes)
        for rid, always, *codes in await Resource.filter(id__in=ids).values_list(
            "id", "always_open", "city_code", "district_code", "street_code", "community_code"
        )
    }
    weekly: dict[int, list[tuple[int, int, int]]] = {rid: [] for rid in ids}
    for rid, weekday, opens, closes in await OpeningHours.filter(resource_id__in=ids).values_list(
        "resource_id", "weekday", "opens", "closes"
    ):
        weekly[rid].append((weekday, opens, closes))
    exceptions: dict[int, list[DatedHours]] = {rid: [] for rid in ids}
    for rid, *rest in await HoursException.filter(resource_id__in=ids).values_list(
        "resource_id", "start_date", "end_date", "closed", "opens", "closes"
    ):
        exceptions[rid].append(DatedHours(*rest))
    closures = [
        ClosureSpan(*row)
        for row in await Closure.all().values_list(
            "start_date", "end_date", "area_code", "resource_id"
        )
    ]
    blocks: dict[int, list[tuple[int, int]]] = {rid: [] for rid in ids}
    for rid, b_start, b_end in await TimeBlock.filter(
        resource_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).values_list("resource_id", "starts_at", "ends_at"):
        blocks[rid].append((epoch(b_start), epoch(b_end)))
    taken: dict[int, list[Taken]] = {rid: [] for rid in ids}
    # A slot that started before `start` may still overlap it: look back one maximal slot.
    for rid, s_start, s_end, capacity, n in await Slot.filter(
        resource_id__in=ids, starts_at__lt=end, starts_at__gte=start - dt.timedelta(hours=12)
    ).values_list("resource_id", "starts_at", "ends_at", "capacity", "taken"):
        taken[rid].append(Taken(epoch(s_start), epoch(s_end), capacity, n))
    schedules: dict[int, Schedule] = {}
    for rid in ids:
        always, codes = resources[rid]
        area_codes = {c for c in codes if c}
        schedules[rid] = Schedule(
            resource_id=rid,
            rules=Rules.of(policies[rid]),
            always_open=bool(always),
            weekly=weekly[rid],
            exceptions=exceptions[rid],
            closures=[
                c
                for c in closures
                if c.resource_id == rid or (c.area_code is not None and c.area_code in area_codes)
            ],
            blocks=blocks[rid],
            taken=sorted(taken[rid], key=lambda t: t.starts_at),
        )
    return schedules


def window(first_day: dt.date, days: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants bounding local days ``first_day`` … ``first_day + days - 1``."""
    return (
        as_utc(local_midnight(first_day, tz)),
        as_utc(local_midnight(first_day + dt.timedelta(days=days), tz)),
    )
