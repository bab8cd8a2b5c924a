"""Capacity-weighted accessibility: the enhanced two-step floating catchment area (E2SFCA).

The 500 m circle says whether a service is near; it says nothing about a room with one
counsellor serving 50,000 people. E2SFCA (Luo & Qi 2009) shares each service's supply
among the people who can reach it, discounting the farther ones:

1. for every service *j*: ``R_j = S_j / Σ_i W(d_ij) · P_i`` over demand points *i* within
   the catchment — the supply per (distance-weighted) resident who could use it;
2. for every demand point *i*: ``A_i = Σ_j W(d_ij) · R_j`` over services within the
   catchment — the supply each resident there can count on.

``W`` is a step function of distance (:class:`DistanceDecay`): Luo & Qi's weights 1, 0.68
and 0.22 for the near, middle and far thirds of the catchment. A band's upper edge belongs
to it (``d ≤ edge``), as in PySAL ``access.weights.step_fn``, so the numbers equal
``access.Access.enhanced_two_stage_fca`` given the same distances. A service with nobody in
reach (``Σ W·P = 0``) shares nothing: ``R_j = 0``. Because both steps use the same weights,
``Σ_i P_i · A_i`` equals the total supply of services that have anyone in reach: supply is
shared out, never created.

Distances are straight lines in the city's metric CRS (:func:`geo.crs.metric_crs_for`),
whose scale error within the zone (< 0.03 %) moves a 1 km distance by less than 0.3 m.

Speed and memory: demand is processed in chunks of ``CHUNK`` points on a thread pool
(scipy's KD-tree releases the GIL); each chunk's pairs within the catchment come from one
``cKDTree.sparse_distance_matrix`` against the services' tree and are kept as 9 bytes each
(int32 demand index, int32 service index, uint8 band) between the two steps, about 300 MB
for 1M points × 10k services at 1 km (34M pairs) instead of ~6 GB as a pair table.

>>> import numpy as np
>>> decay = DistanceDecay.luo_qi(900)
>>> r = e2sfca_metric(np.array([0.0, 500.0, 2000.0]), np.zeros(3), np.array([100.0, 50.0, 10.0]),
...                   np.array([0.0]), np.array([0.0]), np.array([12.0]), decay)
>>> r.catchment_demand.tolist(), [round(x, 5) for x in r.ratio.tolist()]  # 100 + 50·0.68
([134.0], [0.08955])
>>> [round(a, 4) for a in r.access.tolist()]       # the far point is out of reach
[0.0896, 0.0609, 0.0]
>>> round(float((r.access * [100, 50, 10]).sum()), 9)   # the 12 units, shared out
12.0
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyproj
from scipy.spatial import cKDTree

from geo.crs import metric_crs_for, to_metric

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CHUNK = 65_536
LUO_QI_WEIGHTS = (1.0, 0.68, 0.22)
DEFAULT_CATCHMENT_M = 1_000.0
MAX_CATCHMENT_M = 20_000.0


@dataclass(frozen=True)
class DistanceDecay:
    """Step weights: ``weights[k]`` for distances up to ``edges_m[k]`` (and above the edge
    before it); nothing beyond the last edge, which is the catchment.

    >>> DistanceDecay.luo_qi(900).weight(np.array([0, 300, 300.5, 899, 900, 901.0])).tolist()
    [1.0, 1.0, 0.68, 0.22, 0.22, 0.0]
    """

    edges_m: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.edges_m or len(self.edges_m) != len(self.weights):
            raise ValueError("give one weight per distance band")
        if len(self.edges_m) > 255:
            raise ValueError("at most 255 distance bands")
        edges = np.asarray(self.edges_m, dtype=np.float64)
        if not (np.isfinite(edges).all() and edges[0] > 0 and (np.diff(edges) > 0).all()):
            raise ValueError("band edges must be positive and increasing")
        if edges[-1] > MAX_CATCHMENT_M:
            raise ValueError(f"the catchment must be at most {MAX_CATCHMENT_M:,.0f} m")
        if not all(math.isfinite(w) and w >= 0 for w in self.weights):
            raise ValueError("weights must be non-negative numbers")

    @classmethod
    def luo_qi(cls, catchment_m: float = DEFAULT_CATCHMENT_M) -> DistanceDecay:
        """Luo & Qi's weights 1, 0.68, 0.22 on the thirds of ``catchment_m``."""
        c = float(catchment_m)
        if not (math.isfinite(c) and 0 < c <= MAX_CATCHMENT_M):
            raise ValueError(f"the catchment must be more than 0 and at most {MAX_CATCHMENT_M:g} m")
        return cls((c / 3, 2 * c / 3, c), LUO_QI_WEIGHTS)

    @property
    def catchment_m(self) -> float:
        return self.edges_m[-1]

    def band(self, distance: FloatArray) -> npt.NDArray[np.uint8]:
        """Band index of each distance (``len(edges)`` beyond the catchment)."""
        return np.searchsorted(np.asarray(self.edges_m), distance, side="left").astype(np.uint8)

    def weight(self, distance: FloatArray) -> FloatArray:
        table = np.asarray([*self.weights, 0.0], dtype=np.float64)
        return table[self.band(np.asarray(distance, dtype=np.float64))]


@dataclass(frozen=True)
class AccessResult:
    """E2SFCA per demand point (``access``, supply per resident) and per service."""

    access: FloatArray  # A_i
    ratio: FloatArray  # R_j
    catchment_demand: FloatArray  # Σ_i W(d_ij) P_i per service
    pairs: int  # demand–service pairs within the catchment
    decay: DistanceDecay = field(repr=False)

    def mean(self, weight: FloatArray) -> float | None:
        """The population-weighted mean access (``None`` where nobody lives)."""
        total = float(weight.sum())
        return None if total <= 0 else float((weight * self.access).sum() / total)


@dataclass
class _Pairs:
    """One chunk's pairs within the catchment, 9 bytes each."""

    start: int
    size: int
    i: npt.NDArray[np.int32]  # demand index within the chunk
    j: npt.NDArray[np.int32]
    band: npt.NDArray[np.uint8]


def e2sfca_metric(
    dx: npt.ArrayLike,
    dy: npt.ArrayLike,
    demand: npt.ArrayLike,
    sx: npt.ArrayLike,
    sy: npt.ArrayLike,
    supply: npt.ArrayLike,
    decay: DistanceDecay,
    *,
    workers: int = -1,
    chunk: int = CHUNK,
) -> AccessResult:
    """E2SFCA on points already in metric coordinates (metres).

    ``demand`` is each demand point's population, ``supply`` each service's supply (any
    unit: weekly hours, seats, staff); ``access`` comes out in supply units per resident.
    ``workers`` threads (``-1``: one per CPU) work on chunks of ``chunk`` demand points.
    """
    x, y, p = (np.asarray(a, dtype=np.float64).ravel() for a in (dx, dy, demand))
    u, v, s = (np.asarray(a, dtype=np.float64).ravel() for a in (sx, sy, supply))
    n, m = x.size, u.size
    if not (y.size == p.size == n and v.size == s.size == m):
        raise ValueError("coordinates and values differ in length")
    if not (np.isfinite(p).all() and (p >= 0).all() and np.isfinite(s).all() and (s >= 0).all()):
        raise ValueError("population and supply must be non-negative numbers")
    if n >= 2**31 or m >= 2**31:
        raise ValueError("too many points for one run")
    weights = np.asarray([*decay.weights, 0.0], dtype=np.float64)
    if n == 0 or m == 0:
        return AccessResult(np.zeros(n), np.zeros(m), np.zeros(m), 0, decay)
    services = cKDTree(np.column_stack([u, v]))
    edges = [float(e) for e in decay.edges_m]

    def collect(start: int) -> tuple[_Pairs, FloatArray]:
        stop = min(start + chunk, n)
        tree = cKDTree(np.column_stack([x[start:stop], y[start:stop]]))
        # Pairs with d <= catchment; the band of each is how many inner edges d exceeds,
        # so a distance equal to an edge stays in the nearer band (step_fn's rule).
        found = tree.sparse_distance_matrix(services, edges[-1], output_type="ndarray")
        dist = found["v"]
        band = np.zeros(dist.size, dtype=np.uint8)
        if len(edges) > 1:  # a bool array is already 0/1 bytes: the first band test is free
            band = (dist > edges[0]).view(np.uint8)
        for edge in edges[1:-1]:
            band += dist > edge
        i = found["i"].astype(np.int32)
        j = found["j"].astype(np.int32)
        del found, dist
        local = p[start:stop]  # a small slice: the gather below stays in cache
        step1 = np.bincount(j, weights=weights[band] * local[i], minlength=m).astype(np.float64)
        return _Pairs(start, stop - start, i, j, band), step1

    threads = (os.cpu_count() or 1) if workers < 0 else max(1, workers)
    with ThreadPoolExecutor(threads) as pool:
        collected = list(pool.map(collect, range(0, n, chunk)))
        parts = [c for c, _ in collected]
        catchment = np.sum([s1 for _, s1 in collected], axis=0)
        del collected
        ratio = np.divide(s, catchment, out=np.zeros(m), where=catchment > 0)
        # W(band) · R_j for every (service, band), read with one gather per pair.
        table = np.outer(ratio, weights).ravel()
        width = np.int32(weights.size)

        def share(part: _Pairs) -> FloatArray:
            w = table[part.j * width + part.band]
            return np.bincount(part.i, weights=w, minlength=part.size).astype(np.float64)

        access = np.concatenate(list(pool.map(share, parts)))
    pairs = int(sum(part.i.size for part in parts))
    return AccessResult(access, ratio, catchment, pairs, decay)


def e2sfca(
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    demand: npt.ArrayLike,
    supply_lon: npt.ArrayLike,
    supply_lat: npt.ArrayLike,
    supply: npt.ArrayLike,
    decay: DistanceDecay,
    *,
    crs: pyproj.CRS | None = None,
    workers: int = -1,
) -> AccessResult:
    """E2SFCA on WGS-84 points, measured in ``crs`` (default: the zone of the services)."""
    dlon = np.asarray(demand_lon, dtype=np.float64).ravel()
    dlat = np.asarray(demand_lat, dtype=np.float64).ravel()
    slon = np.asarray(supply_lon, dtype=np.float64).ravel()
    slat = np.asarray(supply_lat, dtype=np.float64).ravel()
    if crs is None:
        anchor = slon if slon.size else dlon
        crs = metric_crs_for(float(np.median(anchor))) if anchor.size else None
    if crs is None:  # no points at all
        return e2sfca_metric(dlon, dlat, demand, slon, slat, supply, decay, workers=workers)
    dx, dy = to_metric(dlon, dlat, crs)
    sx, sy = to_metric(slon, slat, crs)
    return e2sfca_metric(dx, dy, demand, sx, sy, supply, decay, workers=workers)


def area_means(
    area: Sequence[str] | npt.NDArray[np.str_], weight: FloatArray, access: FloatArray
) -> dict[str, tuple[float, float | None]]:
    """Per area code: population and population-weighted mean access (``None`` if nobody).

    >>> area_means(np.array(["a", "a", "b"]), np.array([1.0, 3.0, 0.0]), np.array([4.0, 0.0, 9.0]))
    {'a': (4.0, 1.0), 'b': (0.0, None)}
    """
    codes, inverse = np.unique(np.asarray(area), return_inverse=True)
    pop = np.bincount(inverse, weights=weight, minlength=codes.size)
    tot = np.bincount(inverse, weights=weight * access, minlength=codes.size)
    return {
        str(c): (float(pp), None if pp <= 0 else float(t / pp))
        for c, pp, t in zip(codes.tolist(), pop.tolist(), tot.tolist(), strict=True)
    }
