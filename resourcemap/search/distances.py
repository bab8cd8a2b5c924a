"""Walking distances for a search: exact geodesic metres only where they decide something.

Every match near a point gets a planar distance in the city's metric CRS first (one
vectorised pass over coordinates projected when the index was built). The projection's
scale error is below a margin, so a planar distance ``d`` bounds the geodesic one within
``[d / margin, d × margin]``: :data:`MARGIN` anywhere in a zone, or near a point
:func:`margin`, which follows the point's distance from the zone's central meridian (in a
city a few kilometres from it, 1.00001: a band of centimetres to settle, not of metres).
Geodesic metres (Karney's algorithm, the slow part) are then computed for the matches
whose bounds straddle the radius, and for those that may rank on the asked page: a match
whose smallest possible ranking metres exceed the page's largest possible ones cannot be
on it. Answers are those of computing every distance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from geo.distance import geodesic_m
from resourcemap.search import ranking

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
# The latitudes and longitudes of the matches a mask picks: read for those only (a search
# near a point needs a few of its tens of thousands of matches' coordinates).
Coords = Callable[[BoolArray], tuple[FloatArray, FloatArray]]
# Projection scale error is far below 0.5% near the city's central meridian.
MARGIN = 1.005
# The smallest radius of curvature of the WGS-84 (and CGCS2000) ellipsoid: the meridian's at
# the equator, a(1 - e²). A transverse Mercator's scale at easting E from its central
# meridian is k0 (1 + E²/(2ρν) + E⁴/(24ρ²ν²) + ...), below k0 (1 + E²/R_MIN²).
R_MIN = 6_335_439.0
# For what the series leaves out: a planar segment's bend against the geodesic's image
# (below 1e-7 of a 20 km distance) and rounding.
SLACK = 1e-5


def margin(easting_and_scale: tuple[float, float], x: float, reach_m: float) -> float:
    """A factor bounding planar against geodesic metres between a point at easting ``x``
    and any point within ``reach_m`` of it, in a transverse Mercator CRS with this false
    easting and central scale (:func:`geo.crs.easting_and_scale`). Along a segment the
    scale lies between its ends' (it grows with the distance from the meridian), so the
    farthest easting bounds it.

    >>> round(margin((500000.0, 1.0), 510000.0, 3000.0), 7), margin((5e5, 1.0), 9e5, 3e3) > 1.004
    (1.0000142, True)
    """
    false_easting, scale = easting_and_scale
    far = abs(x - false_easting) + reach_m
    high = scale * (1.0 + (far / R_MIN) ** 2)
    return max(high, 1.0 / scale) * (1.0 + SLACK)


def within_radius(
    planar: FloatArray,
    radius_m: float,
    coords: Coords,
    point: tuple[float, float],
    bound: float = MARGIN,
) -> tuple[FloatArray, BoolArray]:
    """Distances (planar, exact where the radius needed it) and which are exact; ``bound``
    is the margin near the point.

    ``planar`` is NaN where a match has no point (it passes the radius, as before)."""
    distance = planar.copy()
    band = (planar > radius_m / bound) & (planar <= radius_m * bound)
    exact = np.isnan(planar) | band
    distance[band] = geodesic_m(point[0], point[1], *coords(band))
    return distance, exact


def settle_for_page(
    sort: ranking.Sort,
    distance: FloatArray,
    exact: BoolArray,
    first: int,
    boost: FloatArray,
    not_a_walk: BoolArray,
    coords: Coords,
    point: tuple[float, float],
    bound: float = MARGIN,
) -> FloatArray:
    """Exact metres for every match that may be among the ``first`` in ``sort`` order
    (``best`` or ``nearest``); the others get infinity, which ranks them after the page as
    their true distance would. ``bound`` is the margin for every match's distance."""
    approx = ~exact
    if not approx.any():
        return distance
    shown_boost = boost if sort == "best" else np.zeros_like(boost)
    lo = ranking.rank_metres(np.where(approx, distance / bound, distance), not_a_walk, shown_boost)
    need = approx
    if first < distance.size:
        hi = ranking.rank_metres(
            np.where(approx, distance * bound, distance), not_a_walk, shown_boost
        )
        cut = ranking.smallest(hi, first) if first > 0 else -np.inf
        need = approx & (lo <= cut)
    settled = distance.copy()
    settled[approx & ~need] = np.inf
    settled[need] = geodesic_m(point[0], point[1], *coords(need))
    return settled


def may_lead(
    distance: FloatArray, not_a_walk: BoolArray, first: int, bound: float
) -> npt.NDArray[np.intp] | None:
    """Where the matches are that may be among the ``first`` in ``best`` or ``nearest``
    order, whatever their geodesic metres and boosts (None: any of them may).

    Ranking metres are walking metres (phone lines and teams: :data:`ranking.NOT_A_WALK_M`)
    shrunk by boosts of at most 1/``MIN_FACTOR``. So ``first`` matches rank at or below the
    ``first``-th smallest of their unboosted metres' upper bound, and a match whose smallest
    possible ranking metres exceed that can never be among them: in a dense district a page
    of 20 is settled and ordered among a few hundred of 30,000 matches, not all of them."""
    if first <= 0 or first >= distance.size:
        return None
    high = np.where(not_a_walk, ranking.NOT_A_WALK_M, distance * bound)
    cut = ranking.smallest(high, first)
    if not cut < np.inf:  # NaN or infinite: too few matches with a distance to bound any
        return None
    low = np.where(not_a_walk, ranking.NOT_A_WALK_M, distance / bound)
    # 1e-9 under the bound: rounding in the ranking's own division never crosses it.
    out = low * (ranking.MIN_FACTOR * (1.0 - 1e-9)) > cut  # NaN (no distance) stays in
    return None if not out.any() else np.flatnonzero(~out)
