"""E2SFCA (geo.access) equals PySAL's ``access`` package on the same inputs, shares supply
out without creating any, and decides band edges as ``access.weights.step_fn`` does."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from geo.access import DistanceDecay, area_means, e2sfca, e2sfca_metric
from geo.crs import metric_crs_for, to_metric

access = pytest.importorskip("access")
# The access package (1.1.10) calls pandas APIs that pandas 3.x deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


def _city(seed: int, n: int, m: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    dx, dy = rng.uniform(0, 6_000, n), rng.uniform(0, 6_000, n)
    pop = rng.integers(0, 400, n).astype(float)
    sx, sy = rng.uniform(0, 6_000, m), rng.uniform(0, 6_000, m)
    supply = rng.uniform(0, 60, m)
    return dx, dy, pop, sx, sy, supply


def _pysal(dx, dy, pop, sx, sy, supply, decay: DistanceDecay) -> np.ndarray:  # type: ignore[no-untyped-def]
    """PySAL access's E2SFCA given every pair within the catchment, as its docs show."""
    pairs = cKDTree(np.column_stack([dx, dy])).sparse_distance_matrix(
        cKDTree(np.column_stack([sx, sy])), decay.catchment_m, output_type="ndarray"
    )
    cost = pd.DataFrame({"origin": pairs["i"], "dest": pairs["j"], "cost": pairs["v"]})
    model = access.Access(
        demand_df=pd.DataFrame({"id": np.arange(dx.size), "pop": pop}),
        demand_index="id",
        demand_value="pop",
        supply_df=pd.DataFrame({"id": np.arange(sx.size), "supply": supply}),
        supply_index="id",
        supply_value="supply",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    steps = dict(zip(decay.edges_m, decay.weights, strict=True))
    found = model.enhanced_two_stage_fca(
        weight_fn=access.weights.step_fn(steps), max_cost=decay.catchment_m
    )
    values: npt.NDArray[np.float64] = (
        found.iloc[:, 0].reindex(np.arange(dx.size)).fillna(0.0).to_numpy(dtype=np.float64)
    )
    return values


@pytest.mark.parametrize(("seed", "catchment"), [(1, 1_000.0), (2, 600.0), (3, 2_500.0)])
def test_e2sfca_equals_pysal_access_on_the_same_inputs(seed: int, catchment: float) -> None:
    dx, dy, pop, sx, sy, supply = _city(seed, 3_000, 80)
    decay = DistanceDecay.luo_qi(catchment)
    ours = e2sfca_metric(dx, dy, pop, sx, sy, supply, decay, chunk=700)
    theirs = _pysal(dx, dy, pop, sx, sy, supply, decay)
    assert ours.pairs > 1_000
    assert (ours.access > 0).sum() > 1_000
    np.testing.assert_allclose(ours.access, theirs, rtol=1e-12, atol=1e-15)


def test_supply_is_shared_out_never_created() -> None:
    dx, dy, pop, sx, sy, supply = _city(4, 2_000, 50)
    sx[0] = 50_000.0  # nobody within 800 m of this one: it shares nothing
    r = e2sfca_metric(dx, dy, pop, sx, sy, supply, DistanceDecay.luo_qi(800))
    reached = r.catchment_demand > 0
    assert (pop * r.access).sum() == pytest.approx(supply[reached].sum(), rel=1e-12)
    assert not reached[0] and reached[1:].all()
    assert (r.ratio[~reached] == 0).all()


def test_chunks_and_threads_do_not_change_the_numbers() -> None:
    dx, dy, pop, sx, sy, supply = _city(5, 5_000, 40)
    decay = DistanceDecay.luo_qi(1_200)
    one = e2sfca_metric(dx, dy, pop, sx, sy, supply, decay, workers=1, chunk=10_000)
    many = e2sfca_metric(dx, dy, pop, sx, sy, supply, decay, workers=2, chunk=333)
    assert one.pairs == many.pairs
    np.testing.assert_allclose(one.access, many.access, rtol=1e-12)


def test_a_point_on_a_band_edge_takes_that_band_and_the_catchment_edge_counts() -> None:
    decay = DistanceDecay((300.0, 600.0, 900.0), (1.0, 0.5, 0.25))
    dx = np.array([300.0, 600.0, 900.0, 900.001])
    r = e2sfca_metric(dx, np.zeros(4), np.ones(4), np.zeros(1), np.zeros(1), np.ones(1), decay)
    assert r.catchment_demand.tolist() == [1.75]
    assert r.access.tolist() == pytest.approx([1 / 1.75, 0.5 / 1.75, 0.25 / 1.75, 0.0])


def test_wgs84_points_are_measured_in_the_city_zone() -> None:
    crs = metric_crs_for(113.93)
    cx, cy = to_metric(113.93, 22.75, crs)
    dx, dy, pop, sx, sy, supply = _city(6, 500, 10)
    from geo.crs import to_wgs84

    dlon, dlat = to_wgs84(dx + cx, dy + cy, crs)
    slon, slat = to_wgs84(sx + cx, sy + cy, crs)
    decay = DistanceDecay.luo_qi(1_000)
    lonlat = e2sfca(dlon, dlat, pop, slon, slat, supply, decay)
    metric = e2sfca_metric(dx, dy, pop, sx, sy, supply, decay)
    np.testing.assert_allclose(lonlat.access, metric.access, rtol=1e-9)


def test_empty_inputs_and_bad_parameters() -> None:
    decay = DistanceDecay.luo_qi()
    empty = e2sfca_metric(np.zeros(3), np.zeros(3), np.ones(3), [], [], [], decay)
    assert empty.access.tolist() == [0.0, 0.0, 0.0] and empty.pairs == 0
    with pytest.raises(ValueError, match="increasing"):
        DistanceDecay((500.0, 400.0), (1.0, 0.5))
    with pytest.raises(ValueError, match="one weight per"):
        DistanceDecay((500.0,), (1.0, 0.5))
    with pytest.raises(ValueError, match="catchment"):
        DistanceDecay.luo_qi(0)
    with pytest.raises(ValueError, match="non-negative"):
        e2sfca_metric(np.zeros(1), np.zeros(1), [-1.0], [0.0], [0.0], [1.0], decay)


def test_area_means_are_population_weighted() -> None:
    means = area_means(
        np.array(["a", "b", "a"]), np.array([1.0, 2.0, 1.0]), np.array([2.0, 5.0, 4.0])
    )
    assert means == {"a": (2.0, 3.0), "b": (2.0, 5.0)}
