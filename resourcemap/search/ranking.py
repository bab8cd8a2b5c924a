"""The order of results: one scoring, computed the same way whichever engine matched.

``sort=best`` (the default)
    With a point: nearer first, by *ranking metres* — the walking distance divided by
    ``1 + 0.25·open now + 0.15·books online + 0.15·free`` (so a free, open room that books
    online at 1.55 km ranks with a plain one at 1 km: gentle, never a jump across town).
    Text relevance only breaks ties. Without a point: text relevance first, the same
    three boosts break ties.
``sort=nearest``
    Walking distance only, no boosts.
``sort=relevance``
    Text relevance only (ties: nearer first), as before #17.

Services that are not a walk — hotlines ("phone service for your area") and teams serving
the resident's area ("serves your community") — rank as if :data:`NOT_A_WALK_M` away (then
boosted like any other under ``best``): they show up when nothing is near, and never lead
a list because their "distance" is zero. 2 km: places within a short ride come first, the
lines right after, before places across town; the crisis lines are on every page anyway,
and in a crisis (see :mod:`.intent`) the search service puts the 24/7 lines first, whatever
the sort.

The engines call :func:`order` on arrays (the embedded engine on every match, the
Meilisearch adapter on the candidates it fetched nearest-first, enough of them that no
later one can rank higher: see :data:`MIN_FACTOR`).

>>> import numpy as np
>>> rank_metres(np.array([1000.0, 1550.0, np.nan]), np.array([False, False, True]),
...             np.array([0.0, 0.55, 0.0]))
array([1000., 1000., 2000.])
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Sort = Literal["best", "nearest", "relevance"]

OPEN_NOW_BOOST = 0.25
BOOKABLE_BOOST = 0.15
FREE_BOOST = 0.15
# The smallest factor boosts can apply: a match at d metres never ranks before one at
# d × MIN_FACTOR, which bounds how far down a nearest-first list a reranking must look.
MIN_FACTOR = 1.0 / (1.0 + OPEN_NOW_BOOST + BOOKABLE_BOOST + FREE_BOOST)
# Where phone lines and area-served teams rank among places one walks to.
NOT_A_WALK_M = 2000.0


def boosts(open_now: BoolArray, bookable: BoolArray, free: BoolArray) -> FloatArray:
    """How much each match is boosted (0 to 0.55)."""
    total: FloatArray = (
        OPEN_NOW_BOOST * open_now.astype(np.float64)
        + BOOKABLE_BOOST * bookable.astype(np.float64)
        + FREE_BOOST * free.astype(np.float64)
    )
    return total


def rank_metres(distance_m: FloatArray, not_a_walk: BoolArray, boost: FloatArray) -> FloatArray:
    """Ranking metres: the walking distance, or :data:`NOT_A_WALK_M` for what is not a
    walk, shrunk by the boosts (a 24/7 free line is open now and free too)."""
    metres = np.where(not_a_walk, NOT_A_WALK_M, np.nan_to_num(distance_m, nan=np.inf))
    ranked: FloatArray = metres / (1.0 + boost)
    return ranked


def order(
    sort: Sort,
    *,
    ids: IntArray,
    relevance: FloatArray,
    boost: FloatArray,
    distance_m: FloatArray | None,
    not_a_walk: BoolArray,
    first: int | None = None,
) -> npt.NDArray[np.intp]:
    """Positions of the matches in result order (ties end by id, so pages are stable);
    only the ``first`` ones when given (the page and those before it).

    ``distance_m`` is ``None`` without a point (then ``best`` and ``relevance`` agree up to
    the boosts, and ``nearest`` cannot be asked for).
    """
    if distance_m is None:
        if sort == "relevance":
            return _leading((ids, -relevance), first)
        return _leading((ids, -boost, -relevance), first)
    if sort == "relevance":
        tie = np.where(not_a_walk, NOT_A_WALK_M, np.nan_to_num(distance_m, nan=np.inf))
        return _leading((ids, tie, -relevance), first)
    shown_boost = boost if sort == "best" else np.zeros_like(boost)
    ranked = rank_metres(distance_m, not_a_walk, shown_boost)
    return _leading((ids, -relevance, ranked), first)


def _leading(keys: tuple[npt.NDArray[np.generic], ...], first: int | None) -> npt.NDArray[np.intp]:
    """``np.lexsort(keys)[:first]`` without sorting every match: only those whose primary
    key (the last) is at most the ``first``-th smallest are sorted — ties included, so the
    order is the full sort's.

    >>> keys = (np.array([4, 3, 2, 1]), np.array([2.0, 1.0, 1.0, 0.5]))
    >>> _leading(keys, 2).tolist(), np.lexsort(keys)[:2].tolist()
    ([3, 2], [3, 2])
    """
    primary = keys[-1]
    if first is None or first >= primary.size:
        return np.lexsort(keys)
    if first <= 0:
        return np.empty(0, dtype=np.intp)
    cut = np.partition(primary, first - 1)[first - 1]
    chosen = np.flatnonzero(primary <= cut)
    return chosen[np.lexsort(tuple(k[chosen] for k in keys))][:first]
