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


@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.sampled_from(["best", "nearest"]))
def test_what_may_lead_holds_every_page_whatever_the_true_metres(
    seed: int, first: int, sort: str
) -> None:
    """The matches left out before settling can never reach the page: with any geodesic
    metres within the margin of the planar ones and any boosts, the ``first`` places are
    among those kept (and some are left out when the page is small)."""
    from resourcemap.search.distances import may_lead

    rng = np.random.default_rng(seed)
    n = int(rng.integers(first + 1, 3000))
    bound = 1.0 + float(rng.choice([1e-5, 1e-3, 5e-3]))
    planar = rng.uniform(0.0, 5000.0, n).round(int(rng.integers(0, 3)))  # ties included
    planar[rng.random(n) < 0.02] = np.nan  # no point: an area team
    not_a_walk = rng.random(n) < 0.1
    true = planar * rng.uniform(1 / bound, bound, n)
    boost = rng.choice([0.0, 0.15, 0.25, 0.4, 0.55], n) if sort == "best" else np.zeros(n)
    ids = rng.permutation(n).astype(np.int64)
    relevance = rng.choice([1.0, 2.0, 4.0], n)
    page = ranking.order(
        "best" if sort == "best" else "nearest",
        ids=ids,
        relevance=relevance,
        boost=boost,
        distance_m=true,
        not_a_walk=not_a_walk,
        first=first,
    )
    kept = may_lead(planar, not_a_walk, first, bound)
    if kept is None:
        return
    assert set(page.tolist()) <= set(kept.tolist())
    if first <= 20 and n >= 2000 and bound < 1.001:
        assert kept.size < n  # a page of 20 among thousands leaves most out
