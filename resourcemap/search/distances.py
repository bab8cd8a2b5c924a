"""Walking distances for a search: exact geodesic metres only where they decide something.

Every match near a point gets a planar distance in the city's metric CRS first (one
vectorised pass over coordinates projected when the index was built). The projection's
scale error is below :data:`MARGIN`, so a planar distance ``d`` bounds the geodesic one
within ``[d / MARGIN, d × MARGIN]``. Geodesic metres (Karney's algorithm, the slow part) are
then computed for the matches whose bounds straddle the radius, and for those that may
rank on the asked page: a match whose smallest possible ranking metres exceed the page's
largest possible ones cannot be on it. Answers are those of computing every distance.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from geo.distance import geodesic_m
from resourcemap.search import ranking

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
# Projection scale error is far below 0.5% near the city's central meridian.
MARGIN = 1.005


def within_radius(
    planar: FloatArray,
    radius_m: float,
    lat: FloatArray,
    lon: FloatArray,
    point: tuple[float, float],
) -> tuple[FloatArray, BoolArray]:
    """Distances (planar, exact where the radius needed it) and which are exact.

    ``planar`` is NaN where a match has no point (it passes the radius, as before)."""
    distance = planar.copy()
    band = (planar > radius_m / MARGIN) & (planar <= radius_m * MARGIN)
    exact = np.isnan(planar) | band
    distance[band] = geodesic_m(point[0], point[1], lat[band], lon[band])
    return distance, exact


def settle_for_page(
    sort: ranking.Sort,
    distance: FloatArray,
    exact: BoolArray,
    first: int,
    boost: FloatArray,
    not_a_walk: BoolArray,
    lat: FloatArray,
    lon: FloatArray,
    point: tuple[float, float],
) -> FloatArray:
    """Exact metres for every match that may be among the ``first`` in ``sort`` order
    (``best`` or ``nearest``); the others get infinity, which ranks them after the page as
    their true distance would."""
    approx = ~exact
    if not approx.any():
        return distance
    shown_boost = boost if sort == "best" else np.zeros_like(boost)
    lo = ranking.rank_metres(np.where(approx, distance / MARGIN, distance), not_a_walk, shown_boost)
    need = approx
    if first < distance.size:
        hi = ranking.rank_metres(
            np.where(approx, distance * MARGIN, distance), not_a_walk, shown_boost
        )
        cut = ranking.smallest(hi, first) if first > 0 else -np.inf
        need = approx & (lo <= cut)
    settled = distance.copy()
    settled[approx & ~need] = np.inf
    settled[need] = geodesic_m(point[0], point[1], lat[need], lon[need])
    return settled
