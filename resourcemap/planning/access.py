"""Access that counts capacity, hours and waiting, not only distance — per area.

Three figures beside the service circle, each defined where it is shown:

- **Capacity-weighted access** (E2SFCA, :mod:`geo.access`): the supply residents can count
  on, per 1,000 residents, with supply taken from the listings by one of three measures
  (:class:`SupplyMeasure`): weekly open hours (default), listed capacity (people served at
  once), or bookable seats a week (slots a week × seats, from the booking rules; services
  that take no bookings offer none). Straight-line distance, Luo & Qi's step weights on the
  thirds of the catchment (default 1 km). Point resources only: teams that serve an area
  and hotlines have no place to walk to.
- **Evening and weekend hours**: the share of residents within the circle (``radius_m``) of
  a service whose weekly hours reach past 18:00 on some day or open on Saturday or Sunday
  (or that is always open). Weekly hours only; holidays and dated exceptions are not
  counted.
- **Waiting** (:mod:`resourcemap.planning.waiting`): the median days to the next free slot of the
  bookable services located in the area, from an explicit ``now``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from pydantic import Field

from geo.access import AccessResult, DistanceDecay, e2sfca
from geo.areatree import AreaTree
from geo.coverage import AreaCoverage, AreaSums, area_table, within_radius
from geo.demand import Demand
from resourcemap import db
from resourcemap.listings.opening import AnyInts, rows_of, weekly_intervals
from resourcemap.models import BookingPolicy, Resource
from resourcemap.planning.coverage import CoverageQuery, CoverageService, counted_where
from resourcemap.planning.waiting import AreaWait, bookable_resources, by_area, next_free
from resourcemap.scope import AreaScope
from resourcemap.vocab import Placement, ResourceKind

FloatArray = npt.NDArray[np.float64]
EVENING_MINUTE = 18 * 60
WEEKEND = (5, 6)
PER = 1_000.0  # access is shown per 1,000 residents
CACHE_SIZE = 8


class SupplyMeasure(StrEnum):
    HOURS = "hours"
    CAPACITY = "capacity"
    SEATS = "seats"


UNITS = {
    SupplyMeasure.HOURS: "weekly open hours",
    SupplyMeasure.CAPACITY: "places (listed capacity)",
    SupplyMeasure.SEATS: "bookable seats a week",
}


class AccessQuery(CoverageQuery):
    """Coverage's choice of resources and circle, plus the E2SFCA catchment and supply."""

    catchment_m: float = Field(
        1_000.0, gt=0, le=20_000, description="E2SFCA catchment, metres (step weights on thirds)"
    )
    supply: SupplyMeasure = Field(SupplyMeasure.HOURS, description="what a service offers")


# --- what a listing offers ----------------------------------------------------------------

IntArray = npt.NDArray[np.int64]
DAY = 1440


@dataclass(frozen=True)
class WeeklyRuns:
    """Weekly opening hours of many resources merged, overlapping intervals on a day once:
    a run per stretch a resource is open (``row`` among the resources; always-open ones
    open every day from midnight to midnight).

    >>> runs = WeeklyRuns.of(
    ...     np.array([[0, 0, 540, 720], [0, 0, 660, 1020], [0, 5, 540, 720], [1, 2, 840, 1260]]),
    ...     ids=np.array([0, 1]), always_open=np.array([False, False]),
    ... )
    >>> runs.hours().tolist()  # 09:00-17:00 Monday once, 09:00-12:00 Saturday
    [11.0, 7.0]
    >>> runs.evening_or_weekend().tolist()  # past 18:00 on Wednesday
    [True, True]
    >>> runs.seats(np.array([50, 0]), np.array([10, 0]), np.array([2, 0])).tolist()
    [22.0, 0.0]
    """

    size: int  # resources
    row: IntArray
    weekday: IntArray
    start: IntArray
    end: IntArray

    @classmethod
    def of(
        cls, intervals: AnyInts, *, ids: IntArray, always_open: npt.NDArray[np.bool_]
    ) -> WeeklyRuns:
        """From rows of (resource id, weekday, opens, closes) and the resources' ``ids``;
        intervals of other resources and empty ones are left out."""
        n = ids.size
        at, known = rows_of(ids, intervals[:, 0])
        keep = known & (intervals[:, 3] > intervals[:, 2])
        keep[keep] = ~always_open[at[keep]]  # open all week anyway
        row, weekday = at[keep], intervals[keep, 1]
        opens, closes = intervals[keep, 2], intervals[keep, 3]
        order = np.lexsort((opens, weekday, row))
        day = (row * 7 + weekday)[order]
        opens, closes = opens[order], closes[order]
        # The latest close so far within each resource's day: days are sorted, and a day's
        # offset (day × 2 DAY) is larger than any earlier day's closes.
        reach = np.maximum.accumulate(day * 2 * DAY + closes) - day * 2 * DAY
        first = np.ones(day.size, dtype=bool)
        first[1:] = (day[1:] != day[:-1]) | (opens[1:] > reach[:-1])
        starts = np.flatnonzero(first)
        always = np.flatnonzero(always_open)
        return cls(
            size=n,
            row=np.concatenate([day[starts] // 7, np.repeat(always, 7)]),
            weekday=np.concatenate([day[starts] % 7, np.tile(np.arange(7), always.size)]),
            start=np.concatenate([opens[starts], np.zeros(7 * always.size, np.int64)]),
            end=np.concatenate(
                [
                    np.maximum.reduceat(closes, starts) if starts.size else starts,
                    np.full(7 * always.size, DAY, np.int64),
                ]
            ),
        )

    def hours(self) -> FloatArray:
        """Open hours in a week."""
        return np.bincount(self.row, weights=self.end - self.start, minlength=self.size) / 60.0

    def evening_or_weekend(self) -> npt.NDArray[np.bool_]:
        """Open past 18:00 on some day, or on Saturday or Sunday."""
        late = (self.end > EVENING_MINUTE) | np.isin(self.weekday, WEEKEND)
        return np.bincount(self.row[late], minlength=self.size) > 0

    def seats(self, slot: IntArray, buffer: IntArray, seats: IntArray) -> FloatArray:
        """Bookable seats in a plain week: slots every ``slot + buffer`` minutes while a
        whole slot fits in each run, times the seats of each slot (per resource; no
        seats where ``slot`` is 0: no booking rules)."""
        length, s = self.end - self.start, slot[self.row]
        fits = (s > 0) & (length >= s)
        step = np.maximum(s + buffer[self.row], 1)
        count = np.where(fits, (length - s) // step + 1, 0) * seats[self.row]
        return np.asarray(np.bincount(self.row, weights=count, minlength=self.size), np.float64)


@dataclass(frozen=True)
class Offers:
    """Point resources that count, as arrays: where they are and what each offers."""

    ids: npt.NDArray[np.int64]
    lon: FloatArray
    lat: FloatArray
    capacity: FloatArray
    hours: FloatArray
    seats: FloatArray
    evening: npt.NDArray[np.bool_]

    def supply(self, measure: SupplyMeasure) -> FloatArray:
        return {
            SupplyMeasure.HOURS: self.hours,
            SupplyMeasure.CAPACITY: self.capacity,
            SupplyMeasure.SEATS: self.seats,
        }[measure]


async def load_offers(query: CoverageQuery) -> Offers:
    """The point resources ``query`` counts, with their supply measures: those coverage
    counts (public ones unless ``eligibility`` is all), so the two pages count the same
    places (a school's own room is no supply for the residents around it)."""
    wanted = set(query.service or ())
    where = counted_where(query)
    kept = [
        r
        async for batch in db.rows_in_batches(
            Resource, None, *("kind", "lon", "lat", "capacity", "always_open", "services"), **where
        )
        for r in batch
        if ResourceKind(r[1]).info.placement is Placement.POINT
        and r[2] is not None
        and r[3] is not None
        and (not wanted or wanted & set(r[6] or ()))
    ]
    n = len(kept)
    ids = np.array([int(r[0]) for r in kept], dtype=np.int64).reshape(n)
    # Arrays, not a list per listing: a province's ~2 million intervals read and summed
    # one by one held the event loop (and every resident's search) for ~8 s.
    runs = WeeklyRuns.of(
        await weekly_intervals(ids.tolist()),
        ids=ids,
        always_open=np.array([bool(r[5]) for r in kept], dtype=bool).reshape(n),
    )
    rules = np.zeros((n, 3), dtype=np.int64)  # slot, buffer, seats
    policies = await BookingPolicy.filter(enabled=True).values_list(
        "resource_id", "slot_minutes", "buffer_minutes", "seats"
    )
    table = np.array(policies, dtype=np.int64).reshape(-1, 4)
    at, counted = rows_of(ids, table[:, 0])
    rules[at[counted]] = table[counted, 1:]
    return Offers(
        ids=ids,
        lon=np.array([r[2] for r in kept], dtype=np.float64).reshape(n),
        lat=np.array([r[3] for r in kept], dtype=np.float64).reshape(n),
        capacity=np.array([max(0, int(r[4] or 0)) for r in kept], dtype=np.float64).reshape(n),
        hours=runs.hours(),
        seats=runs.seats(rules[:, 0], rules[:, 1], rules[:, 2]),
        evening=runs.evening_or_weekend(),
    )


# --- the figures per area -----------------------------------------------------------------


@dataclass(frozen=True)
class AccessFigures:
    """One area's access figures (a planner job keeps these). Shares are ``None`` where
    nobody lives."""

    code: str
    name: str
    level: str
    population: float
    access: float | None  # supply per 1,000 residents (population-weighted mean)
    no_service: float  # residents with no counted service within the catchment
    evening_covered: float  # residents within the circle of an evening/weekend service

    @property
    def no_service_share(self) -> float | None:
        return None if self.population <= 0 else self.no_service / self.population

    @property
    def evening_share(self) -> float | None:
        return None if self.population <= 0 else self.evening_covered / self.population


@dataclass(frozen=True)
class AreaAccess(AccessFigures):
    """One area's row: its figures, and waiting as of the report's ``now``."""

    waiting: AreaWait


@dataclass(frozen=True)
class AccessReport:
    query: AccessQuery
    now: dt.datetime
    rows: tuple[AreaAccess, ...]
    population: float
    access: float | None  # the whole demand's mean, per 1,000 residents
    supply_total: float
    services: int  # point services counted
    evening_services: int
    unit: str
    demand_method: str
    demand_source: str
    cells: Demand  # the demand points (grid cells) …
    cell_access: FloatArray  # … and each one's access per 1,000 residents

    @property
    def evening_share(self) -> float | None:
        if self.population <= 0:
            return None
        return sum(r.evening_covered for r in self.rows) / self.population


@dataclass(frozen=True)
class AccessState:
    """One E2SFCA computation with what it was computed from."""

    tree: AreaTree
    demand: Demand
    offers: Offers
    result: AccessResult
    evening: npt.NDArray[np.bool_]


class AccessService:
    """E2SFCA and evening coverage cached while the data stay the same; waiting is read
    fresh for every ``now`` (bookings change by the minute)."""

    def __init__(self, coverage: CoverageService, cache_size: int = CACHE_SIZE) -> None:
        self._coverage = coverage
        self._cache: OrderedDict[tuple[str, str], AccessState] = OrderedDict()
        self._cache_size = cache_size

    async def computed(self, query: AccessQuery) -> AccessState:
        version = await self._coverage.version()
        key = (version, query.model_dump_json(exclude={"level"}))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        # Only what was given: a level left to its default stays so (``levels.level_for``).
        base = CoverageQuery.model_validate(
            query.model_dump(include=set(CoverageQuery.model_fields), exclude_unset=True)
        )
        analysis = await self._coverage.analyse(base)
        offers = await load_offers(base)
        demand = analysis.demand
        decay = DistanceDecay.luo_qi(query.catchment_m)

        def run() -> tuple[AccessResult, npt.NDArray[np.bool_]]:
            result = e2sfca(
                demand.lon, demand.lat, demand.weight,
                offers.lon, offers.lat, offers.supply(query.supply), decay,
            )  # fmt: skip
            evening = within_radius(
                demand.lon, demand.lat,
                offers.lon[offers.evening], offers.lat[offers.evening], query.radius_m,
            )  # fmt: skip
            return result, evening

        result, evening = await asyncio.to_thread(run)
        found = AccessState(analysis.tree, demand, offers, result, evening)
        self._cache[key] = found
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    async def report(
        self,
        query: AccessQuery,
        *,
        now: dt.datetime,
        tz: ZoneInfo,
        scope: AreaScope | None = None,
    ) -> AccessReport:
        """The figures per area of ``query.level``; with ``scope``, of an account's area
        only: its areas, residents and services, each figure as for the whole city."""
        query = await query.settled()  # a level left to its default: the deepest there is
        if scope is not None:
            scope.check_level(query.level)
        c = await self.computed(query)
        level = str(query.level)
        tree, d, access, reach = c.tree, c.demand, c.result.access, c.evening
        offers = np.ones(c.offers.ids.size, dtype=bool)
        if scope is not None:
            tree = tree.within(scope.code)
            here = d.rows_in(tree.index)
            d, access, reach = d.take(here), access[here], reach[here]
            if offers.size:
                offers = tree.locate(c.offers.lon, c.offers.lat) != ""
        per_person = access * PER
        everyone = np.ones(d.size, dtype=bool)

        def table(weight: FloatArray, mask: npt.NDArray[np.bool_]) -> dict[str, AreaCoverage]:
            sums = AreaSums.of(d.area, weight, mask)
            return {row.code: row for row in area_table(sums, tree, level)}

        evening = table(d.weight, reach)  # population, and those an evening service reaches
        weighted = table(d.weight * per_person, everyone)  # Σ population × access
        unserved = table(d.weight, access <= 0)  # those with no service in the catchment
        bookable = await bookable_resources(query.kinds, level)
        waits = by_area(await next_free(bookable, now=now, tz=tz), evening)
        rows = tuple(
            AreaAccess(
                code=code,
                name=row.name,
                level=level,
                population=row.population,
                access=None if row.population <= 0 else weighted[code].population / row.population,
                no_service=unserved[code].covered,
                evening_covered=row.covered,
                waiting=waits[code],
            )
            for code, row in evening.items()
        )
        total = float(d.weight.sum())
        return AccessReport(
            query=query,
            now=now,
            rows=rows,
            population=total,
            access=None if total <= 0 else float((d.weight * per_person).sum() / total),
            supply_total=float(c.offers.supply(query.supply)[offers].sum()),
            services=int(offers.sum()),
            evening_services=int(c.offers.evening[offers].sum()),
            unit=UNITS[query.supply],
            demand_method=d.method,
            demand_source=d.source,
            cells=d,
            cell_access=per_person,
        )
