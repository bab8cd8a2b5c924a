# Over 400 lines: the timetable, its rules and the batched reads that build it change together.
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

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from resourcemap import db
from resourcemap.listings.holidays import calendar_weekday
from resourcemap.models import Closure, HoursException, OpeningHours, Resource
from resourcemap.search.substrings import ranges
from resourcemap.vocab import Status

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
Int16Array = npt.NDArray[np.int16]
AnyInts = npt.NDArray[np.signedinteger[Any]]  # 32- or 64-bit: rows read are 32-bit
BoolArray = npt.NDArray[np.bool_]
G = TypeVar("G", bound=np.integer[Any])


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


def _ints(values: Sequence[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _table(rows: Sequence[Sequence[int]], width: int) -> IntArray:
    return np.asarray(rows, dtype=np.int64).reshape(-1, width)


@dataclass(frozen=True)
class AreaPlaces:
    """Resources' four area codes as positions in one sorted list of the codes, numbered
    as they are met (a batch at a time) and put in order at the end: an array of every
    resource's codes as strings, sorted by ``np.unique``, held ~0.13 GB for a moment in
    every process reading a province's hours.

    >>> places = AreaPlaces()
    >>> at = places.positions([("44", "4403", "", ""), ("44", "4401", "x", None)])
    >>> codes, where = places.in_order(at)
    >>> codes.tolist(), where.tolist()
    (['', '44', '4401', '4403', 'x'], [[1, 3, 0, 0], [1, 2, 4, 0]])
    """

    place: dict[str, int] = field(default_factory=dict)

    def positions(self, rows: Iterable[Sequence[str | None]]) -> Int32Array:
        """Each row's city, district, street and community codes ("" where unknown)."""
        found = [self.place.setdefault(code or "", len(self.place)) for r in rows for code in r]
        return np.array(found, dtype=np.int32).reshape(-1, 4)

    def in_order(self, positions: Int32Array) -> tuple[npt.NDArray[np.str_], Int32Array]:
        """The sorted codes, and ``positions`` into them."""
        codes = sorted(self.place)
        renumber = np.empty(len(codes), dtype=np.int32)
        renumber[[self.place[code] for code in codes]] = np.arange(len(codes), dtype=np.int32)
        return np.array(codes, dtype=np.str_), renumber[positions]


@dataclass(frozen=True, eq=False)
class Timetable:
    """Opening hours of many resources as arrays, built once and queried per instant.

    Weekly hours are kept per weekday as three parallel arrays (resource row, opens,
    closes) sorted by row, so a query touches only that weekday's intervals and a few
    resources' hours are sliced out without a pass over all (:meth:`only`). Exceptions and
    closures are few and are kept as flat arrays filtered by date at query time. Rows follow
    ``ids`` in no particular order: an edit's resources are replaced at the end
    (:meth:`replaced`).
    """

    ids: IntArray
    always_open: BoolArray
    # Each resource's city, district, street and community as positions in ``areas``
    # (sorted codes, "" where unknown): a province's 200,000 × 4 codes as strings took
    # 38 MB in every process, as positions 3 MB.
    areas: npt.NDArray[np.str_]
    area_at: Int32Array  # (n, 4)
    # 7 × (row, opens, closes): narrow integers, ~2 million intervals in a province.
    weekly: tuple[tuple[Int32Array, Int16Array, Int16Array], ...]
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
        places = AreaPlaces()
        at = places.positions((*r.area_codes, "", "", "", "")[:4] for r in resources)
        return cls.of_rows(
            _ints([r.id for r in resources]),
            np.array([r.always_open for r in resources], dtype=np.bool_),
            places.in_order(at),
            _table([(r.id, *i) for r in resources for i in r.intervals], 4),
            _table([_exception(r.id, e) for r in resources for e in r.exceptions], 6),
            closures,
        )

    @classmethod
    def of_rows(
        cls,
        ids: IntArray,
        always_open: BoolArray,
        areas: tuple[npt.NDArray[np.str_], Int32Array],
        hours: AnyInts,
        exceptions: IntArray,
        closures: Sequence[ClosureSpan] = (),
    ) -> Timetable:
        """From per-resource arrays (``areas``: the sorted codes and each resource's four
        positions among them, :class:`AreaPlaces`) and tables keyed by resource id:
        ``hours`` (k, 4) as (resource, weekday, opens, closes), ``exceptions`` (k, 6) as
        (resource, first and last date as ordinals, closed, opens, closes). Rows of
        resources not in ``ids`` (no longer active) are left out."""
        hour_rows, known = rows_of(ids, hours[:, 0])
        if not known.all():  # a copy of a province's ~2 million intervals only if need be
            hours, hour_rows = hours[known], hour_rows[known]
        exc_rows, known = rows_of(ids, exceptions[:, 0])
        exceptions, exc_rows = exceptions[known], exc_rows[known]
        if (hour_rows[1:] < hour_rows[:-1]).any():  # by row, as `only` slices them
            order = np.argsort(hour_rows, kind="stable")
            hours, hour_rows = hours[order], hour_rows[order]
        weekday = hours[:, 1]
        codes, area_at = areas
        return cls(
            ids=ids,
            always_open=always_open,
            areas=codes,
            area_at=area_at.reshape(ids.size, 4),
            weekly=tuple(
                (
                    hour_rows[on].astype(np.int32),
                    hours[on, 2].astype(np.int16),
                    hours[on, 3].astype(np.int16),
                )
                for on in (weekday == d for d in range(7))
            ),
            exc_row=exc_rows,
            exc_span=exceptions[:, 1:3],
            exc_closed=exceptions[:, 3].astype(np.bool_),
            exc_minutes=exceptions[:, 4:6],
            closures=tuple(closures),
        )

    def replaced(self, ids: Collection[int], fresh: Timetable) -> Timetable:
        """This timetable with the resources ``ids`` (edited or deleted) taken out and
        ``fresh``'s (what they are now, if still active) put in, and ``fresh``'s closures:
        an edit costs array copies, not a reload of every resource's hours."""
        keep = ~np.isin(self.ids, _ints(sorted(ids)))
        renumber = np.cumsum(keep) - 1  # old row -> row among the kept ones
        kept = int(keep.sum())

        def rows(old: npt.NDArray[G], new: npt.NDArray[G]) -> tuple[BoolArray, npt.NDArray[G]]:
            stays = keep[old]
            return stays, np.concatenate([renumber[old[stays]], new + kept]).astype(old.dtype)

        # Both timetables' area positions, into the codes of either.
        areas = np.union1d(self.areas, fresh.areas)
        ours = np.searchsorted(areas, self.areas).astype(np.int32)
        theirs = np.searchsorted(areas, fresh.areas).astype(np.int32)

        weekly = []
        for (row, opens, closes), (f_row, f_opens, f_closes) in zip(
            self.weekly, fresh.weekly, strict=True
        ):
            stays, joined = rows(row, f_row)
            weekly.append(
                (
                    joined,
                    np.concatenate([opens[stays], f_opens]),
                    np.concatenate([closes[stays], f_closes]),
                )
            )
        stays, exc_row = rows(self.exc_row, fresh.exc_row)
        return replace(
            fresh,
            ids=np.concatenate([self.ids[keep], fresh.ids]),
            always_open=np.concatenate([self.always_open[keep], fresh.always_open]),
            areas=areas,
            area_at=np.concatenate([ours[self.area_at[keep]], theirs[fresh.area_at]]),
            weekly=tuple(weekly),
            exc_row=exc_row,
            exc_span=np.concatenate([self.exc_span[stays], fresh.exc_span]),
            exc_closed=np.concatenate([self.exc_closed[stays], fresh.exc_closed]),
            exc_minutes=np.concatenate([self.exc_minutes[stays], fresh.exc_minutes]),
        )

    @functools.cached_property
    def _id_order(self) -> IntArray:
        """``ids``' sorting order, worked out once per timetable (an edit makes a new one)."""
        return np.argsort(self.ids, kind="stable")

    @functools.cached_property
    def _exc_order(self) -> IntArray:
        return np.argsort(self.exc_row, kind="stable")

    def only(self, ids: Collection[int]) -> Timetable:
        """The hours of the resources ``ids`` alone (those it holds): what a page of results
        asks about, sliced from the sorted weekly arrays, not filtered over all of them."""
        found, known = rows_of(self.ids, _ints(sorted(ids)), self._id_order)
        rows = np.sort(found[known]).astype(np.int32)
        new_row = np.arange(rows.size, dtype=np.int32)

        def sliced(row: AnyInts, order: IntArray | None = None) -> IntArray:
            # Keys of the arrays' own type: int64 keys made numpy copy the whole array.
            starts = np.searchsorted(row, rows, "left", sorter=order)
            found = ranges(starts, np.searchsorted(row, rows, "right", sorter=order) - starts)
            return found if order is None else order[found]

        weekly = []
        for row, opens, closes in self.weekly:
            mine = sliced(row)
            weekly.append((new_row[np.searchsorted(rows, row[mine])], opens[mine], closes[mine]))
        exc = np.sort(sliced(self.exc_row, self._exc_order))
        return replace(
            self,
            ids=self.ids[rows],
            always_open=self.always_open[rows],
            area_at=self.area_at[rows],
            weekly=tuple(weekly),
            exc_row=np.searchsorted(rows, self.exc_row[exc]).astype(np.int64),
            exc_span=self.exc_span[exc],
            exc_closed=self.exc_closed[exc],
            exc_minutes=self.exc_minutes[exc],
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
                code = int(np.searchsorted(self.areas, c.area_code))
                if code < self.areas.size and self.areas[code] == c.area_code:
                    mask[(self.area_at == code).any(axis=1)] = False
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


def next_openings(
    timetable: Timetable, ids: Collection[int], at: datetime, tz: ZoneInfo, days: int = 7
) -> dict[int, datetime]:
    """When each of ``ids`` (closed at ``at``) opens next, for those that do within ``days``
    days: the first instant after ``at`` at which it is open, as local time in ``tz``.

    Whether a resource is open changes only at an interval's or an exception's opening
    minute, or at midnight (holidays, exceptions and closures go by date), so the rules of
    :meth:`Timetable.open_mask` are asked at those instants in turn: the answer follows the
    same holidays, exceptions and closures as "open now", never a rule of its own.
    """
    table = timetable.only(ids)
    local = at.astimezone(tz)
    found: dict[int, datetime] = {}
    for offset in range(days + 1):
        day = local.date() + timedelta(days=offset)
        _, opens, _ = table.weekly[calendar_weekday(day)]
        ordinal = day.toordinal()
        dated = (table.exc_span[:, 0] <= ordinal) & (ordinal <= table.exc_span[:, 1])
        minutes = {0, *opens.tolist(), *table.exc_minutes[dated & ~table.exc_closed, 0].tolist()}
        for minute in sorted(minutes):
            instant = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            if instant <= local:
                continue
            for i in table.ids[table.open_mask(instant, tz)].tolist():
                found.setdefault(int(i), instant)
            if len(found) == table.ids.size:
                return found
    return found


def is_open(timetable: Timetable, resource_id: int, at: datetime, tz: ZoneInfo) -> bool:
    """Whether one resource is open at ``at``; ``False`` for ids not in the timetable."""
    return resource_id in open_ids(timetable, at, tz)


def rows_of(
    ids: IntArray, wanted: AnyInts, order: IntArray | None = None
) -> tuple[IntArray, BoolArray]:
    """Where each of ``wanted`` is in ``ids`` (any order; ``order`` sorts it, if known), and
    which of them are there."""
    if ids.size == 0:
        return np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=np.bool_)
    if order is None:
        order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids, wanted, sorter=order), ids.size - 1)
    rows = order[at]
    return rows, ids[rows] == wanted


async def weekly_intervals(ids: Collection[int] | None = None) -> Int32Array:
    """Every weekly opening interval of the resources ``ids`` (or of all), any status, as
    rows of (resource, weekday, opens, closes)."""
    # Each batch into an array at once: its tuples are garbage before the next is read.
    # 32-bit: half the size of a province's ~2 million intervals while they are read.
    hours = [
        np.array(batch, dtype=np.int32).reshape(-1, 5)[:, 1:]
        async for batch in db.rows_in_batches(
            OpeningHours, ids, "resource_id", "weekday", "opens", "closes", raw=True
        )
    ]
    return np.concatenate(hours) if hours else np.empty((0, 4), dtype=np.int32)


async def load_timetable(ids: Collection[int] | None = None) -> Timetable:
    """Read active resources (all, or those of ``ids``: see :meth:`Timetable.replaced`),
    their hours and exceptions, and all closures."""
    codes = ("city_code", "district_code", "street_code", "community_code")
    places = AreaPlaces()
    found: list[tuple[IntArray, BoolArray, Int32Array]] = []
    async for batch in db.rows_in_batches(
        Resource, ids, "always_open", *codes, key="id", status=Status.ACTIVE
    ):  # each batch into arrays at once: a province's rows as tuples held ~75 MB
        found.append(
            (
                _ints([int(r[0]) for r in batch]),
                np.array([bool(r[1]) for r in batch], dtype=np.bool_),
                places.positions(r[2:] for r in batch),
            )
        )
    hours = await weekly_intervals(ids)
    exceptions = [
        _exception(int(rid), DatedHours(*rest))
        async for batch in db.rows_in_batches(
            HoursException,
            ids,
            "resource_id",
            "start_date",
            "end_date",
            "closed",
            "opens",
            "closes",
        )
        for _, rid, *rest in batch
    ]
    closures = [
        ClosureSpan(*row)
        for row in await Closure.all().values_list(
            "start_date", "end_date", "area_code", "resource_id"
        )
    ]
    return Timetable.of_rows(
        np.concatenate([f[0] for f in found]) if found else _ints([]),
        np.concatenate([f[1] for f in found]) if found else np.zeros(0, dtype=np.bool_),
        places.in_order(
            np.concatenate([f[2] for f in found]) if found else np.zeros((0, 4), np.int32)
        ),
        hours,
        _table(exceptions, 6),
        closures,
    )


def _exception(resource_id: int, e: DatedHours) -> tuple[int, int, int, int, int, int]:
    """An exception as a row of :meth:`Timetable.of_rows`' table."""
    closed = e.closed or e.opens is None or e.closes is None
    opens, closes = (0, 0) if closed else (e.opens or 0, e.closes or 0)
    return (resource_id, e.start.toordinal(), e.end.toordinal(), closed, opens, closes)
