"""Who lives within reach of a service: coverage of weighted demand, per area.

Coverage is decided by distance, never by buffer-and-within (a buffer is a polygon of
chords and misses people at the rim, see shared/FINDINGS.md):

1. Demand and services are projected to the city's metric CRS (:func:`geo.crs.metric_crs_for`)
   and a scipy ``cKDTree`` finds each point's nearest service.
2. Points clearly inside or outside the radius are decided there. Points in a thin rim band,
   as wide as the projection's scale error can move a distance, are decided by the true
   geodesic distance on the WGS-84 ellipsoid — the distance search and PostGIS
   ``ST_DWithin`` on geography use — so the answer does not depend on the projection.
3. A point at exactly the radius is covered. Distances are compared with a tolerance of
   ``TOLERANCE_M`` (1 mm): float rounding of projection and geodesic arithmetic is far
   below it, and stored coordinates (6 decimals, about 0.1 m) are far coarser, so the
   tolerance never changes an answer the data can express.

Area-served resources (volunteer teams) cover every demand point in the areas they serve,
at any level. Results are summed per lowest-level area code, then rolled up per level.

>>> from geo.demand import Demand
>>> from geo.areatree import AreaNode, AreaTree
>>> tree = AreaTree.build([AreaNode("c1", "community", None), AreaNode("c2", "community", None)])
>>> d = Demand.of([113.93, 113.95], [22.75, 22.75], [100, 50], method="points", source="t",
...               area=["c1", "c2"])
>>> r = coverage(d, Supply.of([113.931], [22.75]), tree)
>>> [(row.code, row.population, row.covered, row.share) for row in r.table(tree, "community")]
[('c1', 100.0, 100.0, 1.0), ('c2', 50.0, 0.0, 0.0)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyproj
from scipy.spatial import cKDTree

from geo.areatree import AreaTree
from geo.codes import AreaIndex
from geo.crs import central_meridian, metric_crs_for, to_metric
from geo.demand import Demand

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]

DEFAULT_RADIUS_M = 500.0
TOLERANCE_M = 1e-3
MAX_RADIUS_M = 50_000.0
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True)
class Supply:
    """Service points (WGS-84) and the area codes that area-served resources serve."""

    lon: FloatArray
    lat: FloatArray
    served_areas: tuple[str, ...] = ()

    @classmethod
    def of(cls, lon: npt.ArrayLike, lat: npt.ArrayLike, served_areas: Iterable[str] = ()) -> Supply:
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        if x.size != y.size:
            raise ValueError("service lon and lat differ in length")
        return cls(x, y, tuple(sorted(set(served_areas))))

    @property
    def size(self) -> int:
        return int(self.lon.size)


def check_radius(radius_m: float) -> float:
    """The radius as a float, or ``ValueError`` saying what is allowed."""
    r = float(radius_m)
    if not math.isfinite(r) or r <= 0 or r > MAX_RADIUS_M:
        raise ValueError(f"radius must be more than 0 and at most {MAX_RADIUS_M:,.0f} m")
    return r


def metric_crs_of(lon: FloatArray) -> pyproj.CRS:
    """The metric CRS for data at these longitudes (the zone of their median)."""
    if lon.size == 0:
        raise ValueError("no points to choose a coordinate system from")
    return metric_crs_for(float(np.median(lon)))


def rim_slack(lon: FloatArray, crs: pyproj.CRS) -> float:
    """Relative scale error bound of ``crs`` (transverse Mercator) over these longitudes.

    The scale factor grows as ½(Δλ cos φ)² away from the central meridian; twice that bound
    plus a floor keeps every point the projection could misjudge in the rim band.
    """
    if lon.size == 0:
        return 1e-5
    dl = math.radians(float(np.max(np.abs(lon - central_meridian(crs)))))
    return 2.0 * (0.5 * dl * dl * 1.01) + 1e-5


def within_radius(
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    supply_lon: npt.ArrayLike,
    supply_lat: npt.ArrayLike,
    radius_m: float = DEFAULT_RADIUS_M,
    *,
    crs: pyproj.CRS | None = None,
    slack: float | None = None,
) -> BoolArray:
    """Whether each demand point has a service point within ``radius_m`` geodesic metres.

    ``crs`` defaults to the zone of the services, ``slack`` (relative width of the rim band)
    to :func:`rim_slack` of all the points; partitioned runs pass both so that every
    partition decides exactly as one run over all points would.

    >>> import pyproj
    >>> lon, lat, _ = pyproj.Geod(ellps="WGS84").fwd([113.93] * 2, [22.75] * 2, [0, 90],
    ...                                               [500.0, 500.01])
    >>> within_radius(lon, lat, [113.93], [22.75], 500).tolist()
    [True, False]
    """
    dlon = np.asarray(demand_lon, dtype=np.float64)
    dlat = np.asarray(demand_lat, dtype=np.float64)
    slon = np.asarray(supply_lon, dtype=np.float64)
    slat = np.asarray(supply_lat, dtype=np.float64)
    radius = check_radius(radius_m)
    covered = np.zeros(dlon.size, dtype=bool)
    if dlon.size == 0 or slon.size == 0:
        return covered
    crs = crs or metric_crs_of(slon)
    if slack is None:
        slack = rim_slack(np.concatenate([dlon, slon]), crs)
    band = radius * slack + TOLERANCE_M
    dx, dy = to_metric(dlon, dlat, crs)
    sx, sy = to_metric(slon, slat, crs)
    tree = cKDTree(np.column_stack([sx, sy]))
    points = np.column_stack([dx, dy])
    nearest, _ = tree.query(points, k=1, distance_upper_bound=radius + band, workers=-1)
    covered[:] = nearest <= radius - band
    rim = np.flatnonzero((nearest > radius - band) & np.isfinite(nearest))
    if rim.size:
        covered[rim] = _geodesic_within(rim, points, tree, radius, band, dlon, dlat, slon, slat)
    return covered


def _geodesic_within(
    rim: IntArray,
    points: FloatArray,
    tree: cKDTree,
    radius: float,
    band: float,
    dlon: FloatArray,
    dlat: FloatArray,
    slon: FloatArray,
    slat: FloatArray,
) -> BoolArray:
    """The exact decision for rim points: any service within ``radius`` on the ellipsoid."""
    lists = tree.query_ball_point(points[rim], radius + band, workers=-1)
    counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=rim.size)
    services = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(counts.sum()))
    owner = np.repeat(rim, counts)
    _, _, dist = _GEOD.inv(dlon[owner], dlat[owner], slon[services], slat[services])
    ok = np.asarray(dist) <= radius + TOLERANCE_M
    hit = np.zeros(rim.size, dtype=bool)
    np.logical_or.at(hit, np.repeat(np.arange(rim.size), counts), ok)
    return hit


def served_by_area(index: AreaIndex, served_areas: Sequence[str], tree: AreaTree) -> BoolArray:
    """Points whose area is one of ``served_areas`` or lies below one of them."""
    covered_codes: set[str] = set()
    for code in served_areas:
        if code in tree:
            covered_codes |= tree.descendants(code)
    return index.within(covered_codes)


@dataclass(frozen=True)
class AreaSums:
    """Population, covered population and point count per lowest-level area code."""

    codes: StrArray
    population: FloatArray
    covered: FloatArray
    points: IntArray

    @classmethod
    def of(cls, area: StrArray, weight: FloatArray, covered: BoolArray) -> AreaSums:
        return cls.indexed(AreaIndex.of(area), weight, covered)

    @classmethod
    def indexed(cls, index: AreaIndex, weight: FloatArray, covered: BoolArray) -> AreaSums:
        """The sums of points whose areas ``index`` holds."""
        # bincount adds in point order: the same points in the same order give the same
        # float sums, which is what lets a partitioned run reproduce these exactly.
        codes, inverse = index.codes, index.inverse
        n = codes.size
        return cls(
            codes,
            np.bincount(inverse, weights=weight, minlength=n).astype(np.float64),
            np.bincount(inverse, weights=np.where(covered, weight, 0.0), minlength=n).astype(
                np.float64
            ),
            np.bincount(inverse, minlength=n).astype(np.int64),
        )

    def only(self, codes: Iterable[str]) -> AreaSums:
        """The sums of the areas ``codes`` only."""
        keep = np.isin(self.codes, np.array(sorted(codes), dtype=self.codes.dtype))
        return AreaSums(self.codes[keep], self.population[keep], self.covered[keep],
                        self.points[keep])  # fmt: skip

    @classmethod
    def concat(cls, parts: Sequence[AreaSums]) -> AreaSums:
        """Join sums of partitions holding disjoint area codes."""
        if not parts:
            return cls(np.array([], dtype="<U12"), np.zeros(0), np.zeros(0), np.zeros(0, int))
        codes = np.concatenate([p.codes for p in parts])
        if np.unique(codes).size != codes.size:
            raise ValueError("partitions must hold disjoint areas")
        order = np.argsort(codes, kind="stable")
        return cls(
            codes[order],
            np.concatenate([p.population for p in parts])[order],
            np.concatenate([p.covered for p in parts])[order],
            np.concatenate([p.points for p in parts])[order],
        )


@dataclass(frozen=True)
class AreaCoverage:
    """One area's row: ``share`` is ``None`` where nobody lives (0/0 is not 0 %)."""

    code: str
    name: str
    level: str
    parent: str | None
    population: float
    covered: float
    points: int

    @property
    def uncovered(self) -> float:
        return self.population - self.covered

    @property
    def share(self) -> float | None:
        return None if self.population <= 0 else self.covered / self.population


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of one demand set by one supply set; ``covered`` is per demand point
    (``None`` for partitioned runs that return only sums)."""

    radius_m: float
    mode: str  # "straight" or "walking"
    demand_method: str
    demand_source: str
    sums: AreaSums
    covered: BoolArray | None = field(default=None, repr=False)

    @classmethod
    def per_point(
        cls,
        located: Demand,
        covered: BoolArray,
        radius_m: float,
        mode: str,
        index: AreaIndex | None = None,
    ) -> CoverageResult:
        """The result of a run that decided each point of ``located`` (the demand, every point
        in its area): covered or not. ``index``: of ``located.area``, if the run made one."""
        return cls(
            radius_m=check_radius(radius_m),
            mode=mode,
            demand_method=located.method,
            demand_source=located.source,
            sums=AreaSums.indexed(index or AreaIndex.of(located.area), located.weight, covered),
            covered=covered,
        )

    @property
    def population(self) -> float:
        return float(self.sums.population.sum())

    @property
    def covered_population(self) -> float:
        return float(self.sums.covered.sum())

    @property
    def share(self) -> float | None:
        return None if self.population <= 0 else self.covered_population / self.population

    def table(self, tree: AreaTree, level: str) -> list[AreaCoverage]:
        """One row per area of ``level`` (see :func:`area_table`)."""
        return area_table(self.sums, tree, level)


def area_table(sums: AreaSums, tree: AreaTree, level: str) -> list[AreaCoverage]:
    """One row per area of ``level`` (every area of the tree, populated or not), plus a row
    with code "" for demand outside every area of that level, when there is any."""
    parents = tree.ancestor_at(sums.codes, level)
    keys = sorted(set(tree.codes_at(level)) | set(parents.tolist()))
    index = {k: i for i, k in enumerate(keys)}
    idx = np.array([index[p] for p in parents.tolist()], dtype=np.int64)
    n = len(keys)
    pop = np.bincount(idx, weights=sums.population, minlength=n)
    cov = np.bincount(idx, weights=sums.covered, minlength=n)
    pts = np.bincount(idx, weights=sums.points, minlength=n)
    rows = []
    for i, code in enumerate(keys):
        node = tree.node(code) if code in tree else None
        if code == "" and pts[i] == 0:
            continue
        rows.append(
            AreaCoverage(
                code=code,
                name=node.name if node else "(outside every area)",
                level=level,
                parent=node.parent if node else None,
                population=float(pop[i]),
                covered=float(cov[i]),
                points=int(pts[i]),
            )
        )
    return rows


def covered_mask(
    demand: Demand,
    supply: Supply,
    tree: AreaTree,
    radius_m: float = DEFAULT_RADIUS_M,
    index: AreaIndex | None = None,
) -> BoolArray:
    """Straight-line coverage per demand point, area-served resources included (``index``:
    of ``demand.area``, if the caller has one)."""
    mask = within_radius(demand.lon, demand.lat, supply.lon, supply.lat, radius_m)
    if supply.served_areas:
        mask |= served_by_area(index or AreaIndex.of(demand.area), supply.served_areas, tree)
    return mask


def coverage(
    demand: Demand,
    supply: Supply,
    tree: AreaTree,
    radius_m: float = DEFAULT_RADIUS_M,
) -> CoverageResult:
    """Straight-line coverage of ``demand`` (areas located from boundaries where missing).

    For walking distance see :func:`geo.network.walking_coverage`.
    """
    located = demand.located(tree)
    index = AreaIndex.of(located.area)  # for the area-served resources and for the sums
    mask = covered_mask(located, supply, tree, radius_m, index)
    return CoverageResult.per_point(located, mask, radius_m, "straight", index)
