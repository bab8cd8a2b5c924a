"""Which resources are open at an instant: weekly hours, dated exceptions, closures, holidays.

One query evaluates every resource at once with numpy: the instant is converted to local time
in the configured zone, its weekday and minute are computed once, and each weekday's
opening intervals are compared against that minute as whole arrays.

Rules, in order of precedence (later rules win):

1. **Weekly hours.** ``OpeningHours`` intervals; ``opens`` is inclusive, ``closes`` exclusive
   (``closes=1440`` means open until midnight).
2. **Chinese public holidays and make-up working days (调休),** from ``chinese-calendar``:
   a statutory holiday on Monday–Friday follows the resource's *Sunday* hours (a hospital
   open on Sundays is open, a community room closed on Sundays is closed); a Saturday or
   Sunday that is a make-up working day follows its *Monday* hours; a holiday falling on a
   weekend changes nothing. For years ``chinese-calendar`` does not know, dates fall back
   to plain weekdays (a warning is logged once per year) — never an error.
3. **Dated exceptions** (``HoursException``) replace the day's hours on their dates: closed,
   or open at their own ``opens``/``closes``. Several rows on one date open at the union of
   their times, and any closed row closes the day. A row that is not closed but gives no
   times counts as closed: we never claim a place is open at hours nobody entered.
4. **Closures** close every resource located in their area (any admin level) or the one
   resource they name, regardless of hours and exceptions.
5. **Always-open resources** (24/7 hotlines) ignore rules 1–4 — crisis help does not close
   for a typhoon day — except a closure that names that resource itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt

from resourcemap.models import Closure, HoursException, OpeningHours, Resource
from resourcemap.vocab import Status

log = logging.getLogger(__name__)

SUNDAY, MONDAY = 6, 0
_warned_years: set[int] = set()

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class DatedHours(NamedTuple):
    """An ``HoursException`` as plain data: dates inclusive, minutes after local midnight."""

    start: date
    end: date
    closed: bool = True
    opens: int | None = None
    closes: int | None = None


class ClosureSpan(NamedTuple):
    """A ``Closure`` as plain data: an area code (any level) or one resource id."""

    start: date
    end: date
    area_code: str | None = None
    resource_id: int | None = None


@dataclass(frozen=True)
class ResourceHours:
    """What decides when one resource is open, as plain data."""

    id: int
    always_open: bool = False
    intervals: Sequence[tuple[int, int, int]] = ()  # (weekday 0=Mon, opens, closes)
    exceptions: Sequence[DatedHours] = ()
    area_codes: Sequence[str] = ()  # city, district, street, community codes


def calendar_weekday(day: date) -> int:
    """The weekday whose weekly hours apply on ``day`` (0 = Monday), holidays and 调休 applied.

    >>> calendar_weekday(date(2026, 10, 1))  # National Day, a Thursday: Sunday hours
    6
    >>> calendar_weekday(date(2026, 10, 10))  # a Saturday worked instead: Monday hours
    0
    """
    weekday = day.weekday()
    try:
        workday = bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("no public-holiday data for %d; using plain weekends", day.year)
        return weekday
    if weekday < 5 and not workday:
        return SUNDAY
    if weekday >= 5 and workday:
        return MONDAY
    return weekday


def _ints(values: Sequence[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


@dataclass(frozen=True, eq=False)
class Timetable:
    """Opening hours of many resources as arrays, built once and queried per instant.

    Weekly hours are kept per weekday as three parallel arrays (resource row, opens,
    closes), so a query touches only that weekday's intervals. Exceptions and closures are
    few and are kept as flat arrays filtered by date at query time.
    """

    ids: IntArray
    always_open: BoolArray
    area_codes: npt.NDArray[np.str_]  # (n, 4); "" where unknown
    weekly: tuple[tuple[IntArray, IntArray, IntArray], ...]  # 7 × (row, opens, closes)
    exc_row: IntArray
    exc_span: IntArray  # (k, 2) first and last date as ordinals
    exc_closed: BoolArray
    exc_minutes: IntArray  # (k, 2) opens, closes; (0, 0) when closed
    closures: tuple[ClosureSpan, ...] = field(default=())

    @classmethod
    def build(
        cls, resources: Sequence[ResourceHours], closures: Sequence[ClosureSpan] = ()
    ) -> Timetable:
        """Arrange plain per-resource data into arrays."""
        weekly: list[tuple[list[int], list[int], list[int]]] = [([], [], []) for _ in range(7)]
        exc: list[tuple[int, int, int, bool, int, int]] = []
        for row, r in enumerate(resources):
            for weekday, opens, closes in r.intervals:
                rows, o, c = weekly[weekday]
                rows.append(row)
                o.append(opens)
                c.append(closes)
            for e in r.exceptions:
                closed = e.closed or e.opens is None or e.closes is None
                o_, c_ = (0, 0) if closed else (e.opens or 0, e.closes or 0)
                exc.append((row, e.start.toordinal(), e.end.toordinal(), closed, o_, c_))
        codes = [(*r.area_codes, "", "", "", "")[:4] for r in resources]
        table = np.array(exc, dtype=np.int64).reshape(-1, 6)
        return cls(
            ids=_ints([r.id for r in resources]),
            always_open=np.array([r.always_open for r in resources], dtype=np.bool_),
            area_codes=np.array(codes, dtype=np.str_).reshape(len(resources), 4),
            weekly=tuple((_ints(rw), _ints(o), _ints(c)) for rw, o, c in weekly),
            exc_row=table[:, 0],
            exc_span=table[:, 1:3],
            exc_closed=table[:, 3].astype(np.bool_),
            exc_minutes=table[:, 4:6],
            closures=tuple(closures),
        )

    def with_closures(self, closures: Sequence[ClosureSpan]) -> Timetable:
        """The same hours with another set of closures (arrays are shared, not copied)."""
        return replace(self, closures=tuple(closures))

    def open_mask(self, at: datetime, tz: ZoneInfo) -> BoolArray:
        """Boolean array aligned with ``ids``: which resources are open at ``at``."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("`at` must be a timezone-aware datetime")
        local = at.astimezone(tz)
        day, minute = local.date(), local.hour * 60 + local.minute

        mask = np.zeros(len(self.ids), dtype=np.bool_)
        rows, opens, closes = self.weekly[calendar_weekday(day)]
        mask[rows[(opens <= minute) & (minute < closes)]] = True

        ordinal = day.toordinal()
        today = (self.exc_span[:, 0] <= ordinal) & (ordinal <= self.exc_span[:, 1])
        if today.any():
            within = (self.exc_minutes[:, 0] <= minute) & (minute < self.exc_minutes[:, 1])
            mask[self.exc_row[today]] = False
            mask[self.exc_row[today & within & ~self.exc_closed]] = True
            mask[self.exc_row[today & self.exc_closed]] = False

        own: list[int] = []
        for c in self.closures:
            if not c.start <= day <= c.end:
                continue
            if c.area_code:
                mask[(self.area_codes == c.area_code).any(axis=1)] = False
            if c.resource_id is not None:
                own.append(c.resource_id)
        mask |= self.always_open
        if own:
            mask[np.isin(self.ids, own)] = False
        return mask


def open_ids(timetable: Timetable, at: datetime, tz: ZoneInfo) -> frozenset[int]:
    """Ids of the resources open at the aware instant ``at``, read as local time in ``tz``.

    Parameters
    ----------
    timetable
        Hours, exceptions and closures of the resources, from :func:`load_timetable` or
        :meth:`Timetable.build`.
    at
        A timezone-aware instant; naive datetimes are refused (``ValueError``).
    tz
        The configured time zone (``Settings.tz``) whose wall clock the hours use.

    Returns
    -------
    frozenset[int]
        Resource ids open at that instant.

    Examples
    --------
    >>> from datetime import timezone
    >>> room = ResourceHours(1, intervals=[(d, 540, 720) for d in range(5)])
    >>> hotline = ResourceHours(2, always_open=True)
    >>> tt = Timetable.build([room, hotline])
    >>> sorted(open_ids(tt, datetime(2026, 9, 21, 1, 30, tzinfo=timezone.utc),
    ...                 ZoneInfo("Asia/Shanghai")))  # Monday 09:30 local
    [1, 2]
    >>> sorted(open_ids(tt, datetime(2026, 10, 1, 1, 30, tzinfo=timezone.utc),
    ...                 ZoneInfo("Asia/Shanghai")))  # National Day: Sunday hours
    [2]
    """
    mask = timetable.open_mask(at, tz)
    return frozenset(int(i) for i in timetable.ids[mask])


def is_open(timetable: Timetable, resource_id: int, at: datetime, tz: ZoneInfo) -> bool:
    """Whether one resource is open at ``at``; ``False`` for ids not in the timetable."""
    return resource_id in open_ids(timetable, at, tz)


async def load_timetable() -> Timetable:
    """Read active resources, their hours and exceptions, and all closures (four queries)."""
    resources = await Resource.filter(status=Status.ACTIVE).values_list(
        "id", "always_open", "city_code", "district_code", "street_code", "community_code"
    )
    active = {int(r[0]) for r in resources}
    intervals: defaultdict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for rid, weekday, opens, closes in await OpeningHours.all().values_list(
        "resource_id", "weekday", "opens", "closes"
    ):
        if rid in active:
            intervals[rid].append((weekday, opens, closes))
    exceptions: defaultdict[int, list[DatedHours]] = defaultdict(list)
    for rid, *rest in await HoursException.all().values_list(
        "resource_id", "start_date", "end_date", "closed", "opens", "closes"
    ):
        if rid in active:
            exceptions[rid].append(DatedHours(*rest))
    closures = [
        ClosureSpan(*row)
        for row in await Closure.all().values_list(
            "start_date", "end_date", "area_code", "resource_id"
        )
    ]
    return Timetable.build(
        [
            ResourceHours(
                id=int(rid),
                always_open=bool(always),
                intervals=intervals[rid],
                exceptions=exceptions[rid],
                area_codes=tuple(c or "" for c in codes),
            )
            for rid, always, *codes in resources
        ],
        closures,
    )
