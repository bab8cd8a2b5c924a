"""Maximal covering location: greedy with marginal gains and the exact check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from geo.coverage import Supply, coverage
from geo.demand import Demand
from geo.siting import exact, greedy, grid_candidates, plan_sites
from tests.geo_cases import CRS, lonlat, rect, two_communities


def test_greedy_can_miss_the_optimum_and_the_exact_check_finds_it() -> None:
    # People a..e weigh 1, 2, 2, 1, 0.5; site 0 covers {b, c, e}, 1 covers {a, b}, 2 {c, d}.
    weight = np.array([1, 2, 2, 1, 0.5])
    cover = csr_matrix(
        np.array([[0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1], [1, 0, 0]], dtype=float)
    )
    order, adds = greedy(cover, weight, 2)
    assert order.tolist() == [0, 1] and adds.tolist() == [4.5, 1.0]
    chosen, value, _ = exact(cover, weight, 2)
    assert sorted(chosen.tolist()) == [1, 2] and value == 6.0


def _clusters() -> tuple[Demand, np.ndarray, np.ndarray]:
    # 100 people at x = 0, 60 at x = 3 km, 30 at x = 6 km; candidates at each cluster and
    # one between the first two that reaches neither.
    xs = np.repeat([0.0, 3000.0, 6000.0], [10, 6, 3]) + np.tile(np.arange(10) * 5.0, 2)[:19]
    lon, lat = lonlat(xs, np.zeros(19))
    demand = Demand.of(lon, lat, np.full(19, 10.0), method="points", source="hand")
    c_lon, c_lat = lonlat([1500, 3000, 0, 6000], [0, 0, 0, 0])
    return demand, c_lon, c_lat


def test_sites_picked_by_what_each_adds() -> None:
    demand, c_lon, c_lat = _clusters()
    plan = plan_sites(demand.lon, demand.lat, demand.weight, c_lon, c_lat, 2, 500, CRS)
    assert [(p.candidate, p.adds) for p in plan.picks] == [(2, 100.0), (1, 60.0)]
    assert plan.uncovered_before == 190 and plan.total == 160
    assert plan.exact_total == 160 and plan.greedy_gap == 0 and plan.method == "greedy"
    # Opening the recommended sites covers exactly what the plan promised.
    tree = two_communities()
    supply = Supply.of([p.lon for p in plan.picks], [p.lat for p in plan.picks])
    assert coverage(demand, supply, tree, 500).covered_population == plan.total


def test_each_pick_is_told_as_it_is_made() -> None:
    # A job's progress (#22): one step per site picked; greedy stops where nothing is left.
    demand, c_lon, c_lat = _clusters()
    told: list[int] = []
    plan = plan_sites(demand.lon, demand.lat, demand.weight, c_lon, c_lat, 5, 500, CRS,
                      exact_check=False, picked=told.append)  # fmt: skip
    assert told == [1, 2, 3] and len(plan.picks) == 3


def test_covered_people_are_not_counted_again() -> None:
    demand, c_lon, c_lat = _clusters()
    uncovered = np.where(np.arange(19) < 10, 0.0, demand.weight)  # the 100 are covered
    plan = plan_sites(demand.lon, demand.lat, uncovered, c_lon, c_lat, 3, 500, CRS)
    assert [p.adds for p in plan.picks] == [60.0, 30.0]  # stops when nothing is left


def test_grid_candidates_lie_inside_the_boundary() -> None:
    from shapely.geometry import shape

    boundary = shape(rect(0, 0, 1000, 1000))
    lon, _lat = grid_candidates(boundary, 250, CRS)
    assert lon.size == 16
    with pytest.raises(ValueError, match="at least 50 m"):
        grid_candidates(boundary, 10, CRS)


def test_site_count_is_checked() -> None:
    demand, c_lon, c_lat = _clusters()
    with pytest.raises(ValueError, match="number of sites"):
        plan_sites(demand.lon, demand.lat, demand.weight, c_lon, c_lat, 0, 500, CRS)


def test_access_siting_lifts_exactly_the_residents_e2sfca_says() -> None:
    """Adding the picked sites as services and recomputing E2SFCA from scratch reaches
    adequate access for exactly the residents the plan counted."""
    from geo.access import DistanceDecay, e2sfca
    from geo.siting import plan_sites_access

    rng = np.random.default_rng(3)
    lon, lat = lonlat(rng.uniform(0, 5_000, 800), rng.uniform(0, 5_000, 800))
    weight = rng.integers(1, 60, 800).astype(float)
    s_lon, s_lat = lonlat(rng.uniform(0, 5_000, 6), rng.uniform(0, 5_000, 6))
    supply = rng.uniform(10, 40, 6)
    c_lon, c_lat = lonlat(rng.uniform(0, 5_000, 40), rng.uniform(0, 5_000, 40))
    decay = DistanceDecay.luo_qi(900)
    now = e2sfca(lon, lat, weight, s_lon, s_lat, supply, decay, crs=CRS).access
    adequate = float((weight * now).sum() / weight.sum())
    plan = plan_sites_access(lon, lat, weight, now, c_lon, c_lat, 4, decay, 20.0, adequate, CRS)
    assert len(plan.picks) == 4 and all(p.adds >= 0 for p in plan.picks)
    assert plan.picks[0].adds > 0
    picked = [p.candidate for p in plan.picks]
    after = e2sfca(
        lon, lat, weight, np.r_[s_lon, c_lon[picked]], np.r_[s_lat, c_lat[picked]],
        np.r_[supply, np.full(4, 20.0)], decay, crs=CRS,
    ).access  # fmt: skip
    below_after = weight[after < adequate - 1e-12].sum()
    assert plan.below_before - plan.total == pytest.approx(below_after)
    with pytest.raises(ValueError, match="supply"):
        plan_sites_access(lon, lat, weight, now, c_lon, c_lat, 1, decay, 0.0, adequate, CRS)
