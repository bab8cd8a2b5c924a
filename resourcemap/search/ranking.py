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

from typing import Any, Literal

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
# A sample for :func:`smallest`: this many values per place asked for, at least.
SAMPLE_PER_PLACE = 16


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
    metres = np.where(not_a_walk, NOT_A_WALK_M, distance_m)
    np.copyto(metres, np.inf, where=np.isnan(metres))  # not np.nan_to_num: 3 passes more
    ranked: FloatArray = metres / (1.0 + boost)
    return ranked


def smallest(values: npt.NDArray[Any], k: int) -> float:
    """The ``k``-th smallest of ``values`` (1-based), NaN last, as
    ``np.partition(values, k - 1)[k - 1]``.

    A page is a few dozen of tens of thousands of matches: a strided sample's low quantile
    bounds the answer from above, and only the values below that bound are partitioned
    (a whole partition cost 0.4 ms for the 38,000 matches of a 3 km circle in a dense
    district, twice a search). When the bound holds too few, the whole array is.

    >>> values = np.random.default_rng(1).permutation(50_000).astype(float)
    >>> smallest(values, 20), smallest(values, 50_000), smallest(np.array([np.nan, 2.0]), 2)
    (19.0, 49999.0, nan)
    """
    n = values.size
    stride = n // (k * SAMPLE_PER_PLACE)
    if stride > 1:
        sample = values[::stride]
        # Four times the places the page takes in the sample: rarely too few.
        place = min(4 * k, sample.size - 1)
        bound = np.partition(sample, place)[place]
        below = values[values <= bound]
        if below.size >= k:
            return float(np.partition(below, k - 1)[k - 1])
    return float(np.partition(values, k - 1)[k - 1])


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
    """``np.lexsort(keys)[:first]`` without sorting every match: those whose primary key
    (the last) is below the ``first``-th smallest are in; of those tied with it, only the
    places left are taken, by the next keys in turn. Only the ``first`` chosen are sorted.

    Ties are the rule, not the exception: a word matches most of a province's listings
    with a handful of distinct relevances, so sorting every match tied at the page's edge
    (up to 50,000 for "xinli") cost a text search without a point ~1.5 ms.

    >>> keys = (np.array([4, 3, 2, 1]), np.array([2.0, 1.0, 1.0, 0.5]))
    >>> _leading(keys, 2).tolist(), np.lexsort(keys)[:2].tolist()
    ([3, 2], [3, 2])
    """
    primary: npt.NDArray[Any] = keys[-1]
    if first is None or first >= primary.size:
        return np.lexsort(keys)
    if first <= 0:
        return np.empty(0, dtype=np.intp)
    lowest = primary.min()
    at_lowest = primary == lowest
    if np.count_nonzero(at_lowest) >= first:  # the usual case: the best value fills the page
        below, tied = np.empty(0, dtype=np.intp), np.flatnonzero(at_lowest)
    else:
        cut = smallest(primary, first)
        if cut != cut:  # NaN: fewer than ``first`` numbers, and lexsort puts NaN last
            return np.lexsort(keys)[:first]
        below = np.flatnonzero(primary < cut)
        tied = np.flatnonzero(primary == cut)
    if len(keys) > 1 and below.size + tied.size > first:
        # The tied fill the places left (at least one), in the order of the other keys.
        tied = tied[_leading(tuple(k[tied] for k in keys[:-1]), first - below.size)]
    chosen = np.concatenate((below, tied))
    return chosen[np.lexsort(tuple(k[chosen] for k in keys))][:first]
