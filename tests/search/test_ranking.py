"""The order of results (:mod:`resourcemap.search.ranking`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resourcemap.search import ranking

# Few distinct values: ties at the page's edge, key after key, as a word matching most of
# a province's listings gives (a handful of relevances and boosts).
RELEVANCE = st.sampled_from([0.0, 0.5, 1.0, 2.5])
BOOST = st.sampled_from([0.0, 0.15, 0.25, 0.55])
DISTANCE = st.sampled_from([np.nan, 0.0, 300.0, 2000.0, 2500.0])


def _matches(n: int) -> st.SearchStrategy[tuple[list[float], list[float], list[float], list[bool]]]:
    def of(values: st.SearchStrategy[float] | st.SearchStrategy[bool]) -> st.SearchStrategy:
        return st.lists(values, min_size=n, max_size=n)

    return st.tuples(of(RELEVANCE), of(BOOST), of(DISTANCE), of(st.booleans()))


@pytest.mark.parametrize("sort", ["best", "nearest", "relevance"])
@pytest.mark.parametrize("with_point", [True, False])
@given(case=st.integers(1, 60).flatmap(lambda n: st.tuples(_matches(n), st.integers(0, n + 2))))
def test_a_page_is_the_full_orders_first(
    sort: ranking.Sort, with_point: bool, case: tuple[tuple[list[float], ...], int]
) -> None:
    """Only the page and those before it are ordered, and they are what ordering every
    match gives, ties and all (pages are stable)."""
    (relevance, boost, distance, not_a_walk), first = case
    if sort == "nearest" and not with_point:
        return  # nearest needs a point
    ids = np.random.default_rng(len(relevance)).permutation(len(relevance))

    def ordered(first: int | None) -> list[int]:
        positions = ranking.order(
            sort,
            ids=ids,
            relevance=np.array(relevance),
            boost=np.array(boost),
            distance_m=np.array(distance) if with_point else None,
            not_a_walk=np.array(not_a_walk),
            first=first,
        )
        return [int(p) for p in positions]

    assert ordered(first) == ordered(None)[:first]


@given(
    n=st.integers(1, 20_000),
    k=st.integers(1, 200),
    distinct=st.integers(1, 50_000),
    nan_share=st.sampled_from([0.0, 0.01, 0.5, 0.99]),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_kth_smallest_of_many_matches(
    n: int, k: int, distinct: int, nan_share: float, seed: int
) -> None:
    """What the page's edge is found from (sampled when the matches are many): the value a
    full partition gives, with ties and NaN (never on the page before a number)."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, distinct, n).astype(float) * 0.5
    values[rng.random(n) < nan_share] = np.nan
    k = min(k, n)
    expected = np.partition(values, k - 1)[k - 1]
    found = ranking.smallest(values, k)
    assert found == expected or (np.isnan(found) and np.isnan(expected))
