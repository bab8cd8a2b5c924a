"""Where to open new service points: the maximal covering location problem.

Given people not yet covered (weighted points) and candidate sites, choose ``k`` sites that
cover the most people within the radius. The cover relation is one sparse matrix built by
a KD-tree (``sparse_distance_matrix``); the greedy pick then needs only sparse products:
after each pick, the gains of the other sites drop by the people the pick just covered.
Greedy is within 1 − 1/e of the best possible; when the problem is small enough it is
also solved exactly as an integer programme with ``scipy.optimize.milp`` (HiGHS), and the
answer says how far greedy was from the optimum.

Distances here are metric-CRS distances (+ ``TOLERANCE_M``): candidate sites are proposals,
and the rim-exact check of :mod:`geo.coverage` applies when a site becomes a listing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity
from scipy.spatial import cKDTree

from geo.access import DistanceDecay
from geo.coverage import TOLERANCE_M, check_radius
from geo.crs import to_metric, to_wgs84
from geo.shapes import geoms_to_metric

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Picked = Callable[[int], None]  # told how many sites are picked so far, after each pick

MAX_SITES = 200
# Exact check only below these sizes: HiGHS solves such models in well under a second.
EXACT_MAX_CANDIDATES = 3_000
EXACT_MAX_NONZEROS = 300_000
EXACT_TIME_LIMIT_S = 20.0
MIN_GRID_SPACING_M = 50.0
MAX_GRID_CANDIDATES = 20_000


@dataclass(frozen=True)
class Pick:
    candidate: int  # index into the candidate arrays
    lon: float
    lat: float
    adds: float  # people this site covers that earlier picks did not


@dataclass(frozen=True)
class SitingPlan:
    picks: tuple[Pick, ...]
    radius_m: float
    uncovered_before: float
    method: str  # "greedy" or "exact"
    greedy_total: float
    exact_total: float | None  # ``None`` when the exact check was not run
    exact_status: str

    @property
    def total(self) -> float:
        return float(sum(p.adds for p in self.picks))

    @property
    def greedy_gap(self) -> float | None:
        """Share of the optimum that greedy missed (0 when greedy was optimal)."""
        if self.exact_total is None or self.exact_total <= 0:
            return None
        return max(0.0, 1.0 - self.greedy_total / self.exact_total)


def cover_matrix(
    dx: FloatArray, dy: FloatArray, cx: FloatArray, cy: FloatArray, radius: float
) -> csr_matrix:
    """Demand × candidate 0/1 matrix: candidate within ``radius`` metres of the point."""
    n, m = dx.size, cx.size
    if n == 0 or m == 0:
        return csr_matrix((n, m))
    pairs = cKDTree(np.column_stack([dx, dy])).sparse_distance_matrix(
        cKDTree(np.column_stack([cx, cy])), radius + TOLERANCE_M, output_type="ndarray"
    )
    ones = np.ones(pairs.size)
    return csr_matrix((ones, (pairs["i"], pairs["j"])), shape=(n, m))


def greedy(
    cover: csr_matrix, weight: FloatArray, k: int, picked: Picked | None = None
) -> tuple[IntArray, FloatArray]:
    """Up to ``k`` candidate indices in pick order and what each adds (stops at zero gain).

    >>> A = csr_matrix(np.array([[1, 0], [1, 1], [0, 1]], dtype=float))
    >>> order, adds = greedy(A, np.array([5.0, 1.0, 3.0]), 2)
    >>> order.tolist(), adds.tolist()
    ([0, 1], [6.0, 3.0])
    """
    w = weight.astype(np.float64).copy()
    cover_csc = cover.tocsc()
    gains = np.asarray(cover.T @ w).ravel()
    picks, adds = [], []
    for _ in range(min(k, cover.shape[1])):
        j = int(np.argmax(gains))  # ties go to the lowest index: reproducible
        if gains[j] <= 0:
            break
        rows = cover_csc.indices[cover_csc.indptr[j] : cover_csc.indptr[j + 1]]
        newly = rows[w[rows] > 0]
        picks.append(j)
        adds.append(float(w[newly].sum()))
        if picked is not None:
            picked(len(picks))
        gains -= np.asarray(cover[newly].T @ w[newly]).ravel()
        w[newly] = 0.0
        gains[j] = 0.0
    return np.array(picks, dtype=np.int64), np.array(adds, dtype=np.float64)


def exact(
    cover: csr_matrix, weight: FloatArray, k: int, time_limit: float = EXACT_TIME_LIMIT_S
) -> tuple[IntArray, float, str]:
    """Best ``k`` sites by integer programming: max Σ wᵢyᵢ, yᵢ ≤ Σⱼ aᵢⱼxⱼ, Σ xⱼ ≤ k.

    Returns the chosen candidates, the covered weight and HiGHS's status message.
    """
    reach = np.asarray(cover.sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(reach & (weight > 0))
    a = csr_matrix(cover[rows])
    n, m = rows.size, cover.shape[1]
    if n == 0 or m == 0:
        return np.array([], dtype=np.int64), 0.0, "nothing to cover"
    # Variables: x (m sites, binary) then y (n people groups, continuous in [0, 1]).
    c = np.concatenate([np.zeros(m), -weight[rows]])
    link = hstack([-a, identity(n, format="csr")]).tocsr()  # y - A x <= 0
    budget = csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
    constraints = [
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(budget, 0.0, float(k)),
    ]
    integrality = np.concatenate([np.ones(m), np.zeros(n)])
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": time_limit, "disp": False},
    )
    if res.x is None:
        return np.array([], dtype=np.int64), 0.0, str(res.message)
    chosen = np.flatnonzero(res.x[:m] > 0.5).astype(np.int64)
    covered_rows = np.asarray(csc_matrix(a)[:, chosen].sum(axis=1)).ravel() > 0
    return chosen, float(weight[rows][covered_rows].sum()), str(res.message)


def plan_sites(
    demand_lon: FloatArray,
    demand_lat: FloatArray,
    uncovered_weight: FloatArray,
    cand_lon: FloatArray,
    cand_lat: FloatArray,
    k: int,
    radius_m: float,
    crs: pyproj.CRS,
    *,
    exact_check: bool = True,
    picked: Picked | None = None,
) -> SitingPlan:
    """Recommend up to ``k`` of the candidate sites for the people not yet covered.

    ``uncovered_weight`` is each demand point's weight if it is not covered yet, else 0.
    With the exact check, the sites shown are the optimal ones (in the order of what each
    adds), and ``greedy_total`` says what greedy alone would have reached.
    """
    radius = check_radius(radius_m)
    if not 1 <= k <= MAX_SITES:
        raise ValueError(f"number of sites must be 1 to {MAX_SITES}")
    keep = np.flatnonzero(uncovered_weight > 0)
    dx, dy = to_metric(demand_lon[keep], demand_lat[keep], crs)
    cx, cy = to_metric(cand_lon, cand_lat, crs)
    weight = uncovered_weight[keep].astype(np.float64)
    cover = cover_matrix(dx, dy, cx, cy, radius)
    order, adds = greedy(cover, weight, k, picked)
    greedy_total = float(adds.sum())
    method, exact_total, status = "greedy", None, "not run: problem too large"
    if not exact_check:
        status = "not run"
    elif cover.shape[1] <= EXACT_MAX_CANDIDATES and cover.nnz <= EXACT_MAX_NONZEROS:
        chosen, value, status = exact(cover, weight, k)
        if chosen.size:
            exact_total = value
            if value > greedy_total + 1e-9:
                # Show the optimal sites, ordered by what each adds in turn.
                sub_order, adds = greedy(cover[:, chosen], weight, chosen.size)
                order, method = chosen[sub_order], "exact"
    picks = tuple(
        Pick(int(j), float(cand_lon[j]), float(cand_lat[j]), float(a))
        for j, a in zip(order.tolist(), adds.tolist(), strict=True)
    )
    return SitingPlan(
        picks=picks,
        radius_m=radius,
        uncovered_before=float(weight.sum()),
        method=method,
        greedy_total=greedy_total,
        exact_total=exact_total,
        exact_status=status,
    )


def grid_candidates(
    boundary: object, spacing_m: float, crs: pyproj.CRS
) -> tuple[FloatArray, FloatArray]:
    """Candidate sites on a square grid of ``spacing_m`` inside a WGS-84 boundary."""
    if not spacing_m >= MIN_GRID_SPACING_M:
        raise ValueError(f"grid spacing must be at least {MIN_GRID_SPACING_M:.0f} m")
    poly_m = geoms_to_metric(boundary, crs)
    xmin, ymin, xmax, ymax = shapely.bounds(poly_m)
    count = ((xmax - xmin) / spacing_m + 1) * ((ymax - ymin) / spacing_m + 1)
    if count > MAX_GRID_CANDIDATES * 4:
        raise ValueError(
            f"a {spacing_m:.0f} m grid gives too many candidate sites; use a wider spacing"
        )
    gx = np.arange(xmin + spacing_m / 2, xmax, spacing_m)
    gy = np.arange(ymin + spacing_m / 2, ymax, spacing_m)
    xx, yy = np.meshgrid(gx, gy)
    x, y = xx.ravel(), yy.ravel()
    inside = shapely.contains_xy(poly_m, x, y)
    if int(inside.sum()) > MAX_GRID_CANDIDATES:
        raise ValueError(
            f"a {spacing_m:.0f} m grid gives more than {MAX_GRID_CANDIDATES:,} candidate "
            "sites; use a wider spacing"
        )
    return to_wgs84(x[inside], y[inside], crs)


# --- capacity-aware: residents with adequate access (E2SFCA) --------------------------------


@dataclass(frozen=True)
class AccessPlan:
    """Sites picked to raise the most residents to ``adequate`` access (supply per resident)."""

    picks: tuple[Pick, ...]  # ``adds``: residents each pick lifts to adequate access
    adequate: float
    new_supply: float
    below_before: float  # residents below ``adequate`` before any new site

    @property
    def total(self) -> float:
        return float(sum(p.adds for p in self.picks))


def plan_sites_access(
    demand_lon: FloatArray,
    demand_lat: FloatArray,
    weight: FloatArray,
    access: FloatArray,
    cand_lon: FloatArray,
    cand_lat: FloatArray,
    k: int,
    decay: DistanceDecay,
    new_supply: float,
    adequate: float,
    crs: pyproj.CRS,
    *,
    picked: Picked | None = None,
) -> AccessPlan:
    """Up to ``k`` candidate sites, each offering ``new_supply``, that lift the most
    residents to at least ``adequate`` E2SFCA access (``access`` is each point's now).

    In E2SFCA a new site's ratio ``R_c = S / Σ_i W(d_ic) P_i`` depends only on the people
    around it, and existing services' ratios do not change: each site adds
    ``W(d_ic) · R_c`` to the access of each point in its catchment, whatever else is picked.
    Greedy picks the site lifting the most people over the line; when none lifts anyone on
    its own, the one closing most of the shortfall (Σ P_i · min(gain, missing)).

    >>> d = DistanceDecay.luo_qi(900)
    >>> crs = pyproj.CRS.from_epsg(4547)
    >>> lon, lat = to_wgs84(np.array([500e3, 500e3, 520e3]), np.array([2.5e6] * 3), crs)
    >>> plan = plan_sites_access(lon, lat, np.array([10.0, 5.0, 8.0]), np.zeros(3),
    ...                          lon[[0, 2]], lat[[0, 2]], 1, d, 1.0, 0.05, crs)
    >>> [(p.candidate, round(p.adds)) for p in plan.picks]   # 10 + 5 people at the first site
    [(0, 15)]
    """
    if not 1 <= k <= MAX_SITES:
        raise ValueError(f"number of sites must be 1 to {MAX_SITES}")
    if not (np.isfinite(new_supply) and new_supply > 0):
        raise ValueError("the new sites' supply must be more than 0")
    dx, dy = to_metric(demand_lon, demand_lat, crs)
    cx, cy = to_metric(cand_lon, cand_lat, crs)
    w = np.asarray(weight, dtype=np.float64)
    now = np.asarray(access, dtype=np.float64).copy()
    below_before = float(w[now < adequate].sum())
    if dx.size == 0 or cx.size == 0:
        return AccessPlan((), adequate, new_supply, below_before)
    pairs = cKDTree(np.column_stack([dx, dy])).sparse_distance_matrix(
        cKDTree(np.column_stack([cx, cy])), decay.catchment_m, output_type="ndarray"
    )
    i, j = pairs["i"], pairs["j"]
    wij = decay.weight(pairs["v"])
    catchment = np.bincount(j, weights=wij * w[i], minlength=cx.size)
    ratio = np.divide(new_supply, catchment, out=np.zeros(cx.size), where=catchment > 0)
    delta = wij * ratio[j]
    picks: list[Pick] = []
    chosen = np.zeros(cx.size, dtype=bool)
    for _ in range(min(k, cx.size)):
        below = now[i] < adequate
        lifted = below & (now[i] + delta >= adequate)
        gains = np.bincount(j, weights=np.where(lifted, w[i], 0.0), minlength=cx.size)
        gains[chosen] = -1.0
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            missing = np.minimum(delta, np.maximum(adequate - now[i], 0.0))
            closing = np.bincount(j, weights=w[i] * missing, minlength=cx.size)
            closing[chosen] = -1.0
            best = int(np.argmax(closing))
            if closing[best] <= 0:
                break
        mine = j == best
        before = now[i[mine]] < adequate
        now[i[mine]] += delta[mine]
        adds = float(w[i[mine]][before & (now[i[mine]] >= adequate)].sum())
        chosen[best] = True
        picks.append(Pick(best, float(cand_lon[best]), float(cand_lat[best]), adds))
        if picked is not None:
            picked(len(picks))
    return AccessPlan(tuple(picks), adequate, new_supply, below_before)
