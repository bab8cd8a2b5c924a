"""Waiting: how many days until a resident could book a free time, per area.

For every bookable service (active, with an enabled booking policy) the next free slot is
found exactly as the booking pages list slots (:func:`resourcemap.booking.slots.generate`:
weekly hours, holidays and make-up days, exceptions, closures, blocked time, minimum
notice, seats already taken), from an explicit ``now``. Only seat counts are read from the
booking tables, never a booking or a resident.

Per area the figure is the median over the services located there of the days from ``now``
to their next free slot. A service with no free slot within its booking horizon counts as
waiting longer than any that has one; when they are half or more, the median is "more than
the horizon" (``median_days`` is ``None`` and ``beyond`` says so).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from resourcemap.booking.schedules import load_schedules
from resourcemap.booking.slots import generate
from resourcemap.models import BookingPolicy, Resource
from resourcemap.vocab import ResourceKind, Status

DAY_S = 86_400.0


@dataclass(frozen=True)
class ServiceWait:
    resource_id: int
    area_code: str
    days: float | None  # ``None``: no free slot within the horizon
    horizon_days: int


@dataclass(frozen=True)
class AreaWait:
    """One area's waiting: the median and the counts behind it."""

    code: str
    services: int  # bookable services located in the area
    with_free_slot: int
    median_days: float | None
    beyond_horizon: bool  # the median service has no free slot within its horizon
    horizon_days: int

    @property
    def without_free_slot(self) -> int:
        return self.services - self.with_free_slot


def median_wait(days: Sequence[float | None]) -> tuple[float | None, bool]:
    """The median of waits where ``None`` (nothing free within the horizon) is the longest.

    >>> median_wait([1.0, 3.0, None])
    (3.0, False)
    >>> median_wait([1.0, None, None])
    (None, True)
    >>> median_wait([2.0, 4.0])
    (3.0, False)
    >>> median_wait([])
    (None, False)
    """
    if not days:
        return None, False
    ordered = sorted(math.inf if d is None else d for d in days)
    n = len(ordered)
    mid = ordered[(n - 1) // 2 : n // 2 + 1]
    value = sum(mid) / len(mid)
    if math.isinf(value):
        return None, True
    return value, False


async def next_free(
    resources: Iterable[tuple[int, str]], *, now: dt.datetime, tz: ZoneInfo
) -> list[ServiceWait]:
    """Days from ``now`` to the next free slot of each ``(resource id, area code)``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    where = dict(resources)
    if not where:
        return []
    horizons = dict(
        await BookingPolicy.filter(resource_id__in=list(where), enabled=True).values_list(
            "resource_id", "horizon_days"
        )
    )
    if not horizons:
        return []
    longest = max(int(h) for h in horizons.values())
    today = now.astimezone(tz).date()
    start = now
    end = dt.datetime.combine(today + dt.timedelta(days=longest + 2), dt.time(), tz)
    schedules = await load_schedules(list(horizons), start=start, end=end, now=now)
    found = []
    for rid, schedule in schedules.items():
        horizon = schedule.rules.horizon_days
        slots = generate(schedule, today, horizon + 1, tz, now=now)
        free = slots.starts[slots.remaining > 0]
        days = None if free.size == 0 else (int(free[0]) - now.timestamp()) / DAY_S
        found.append(ServiceWait(rid, where[rid], days, horizon))
    return found


def by_area(waits: Sequence[ServiceWait], codes: Iterable[str]) -> dict[str, AreaWait]:
    """An :class:`AreaWait` for each of ``codes`` (areas with no bookable service too)."""
    grouped: dict[str, list[ServiceWait]] = {c: [] for c in codes}
    for w in waits:
        if w.area_code in grouped:
            grouped[w.area_code].append(w)
    result = {}
    for code, items in grouped.items():
        median, beyond = median_wait([w.days for w in items])
        result[code] = AreaWait(
            code=code,
            services=len(items),
            with_free_slot=sum(1 for w in items if w.days is not None),
            median_days=median,
            beyond_horizon=beyond,
            horizon_days=max((w.horizon_days for w in items), default=0),
        )
    return result


async def bookable_resources(kinds: Sequence[ResourceKind], level: str) -> list[tuple[int, str]]:
    """Active resources of ``kinds`` with an enabled booking policy, with their area code at
    ``level`` (where they are located)."""
    ids = await BookingPolicy.filter(enabled=True).values_list("resource_id", flat=True)
    rows = await Resource.filter(
        id__in=list(ids), kind__in=list(kinds), status=Status.ACTIVE
    ).values_list("id", f"{level}_code")
    return [(int(rid), str(code or "")) for rid, code in rows]
