"""Partitioned coverage gives exactly the single-process answer, in-process and on Dask."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pytest

from geo.areatree import AreaNode, AreaTree
from geo.coverage import CoverageResult, Supply, coverage
from geo.demand import Demand
from geo.partitioned import coverage_partitioned, demand_frame, partition_by_area
from geo.synthetic import SyntheticGeography, generate_geography

if TYPE_CHECKING:
    from distributed import Client

City = tuple[SyntheticGeography, AreaTree, Demand, Supply]


@pytest.fixture(scope="module")
def city() -> City:
    rng = np.random.default_rng(7)
    geo = generate_geography(rng, total_population=200_000)
    streets = [
        AreaNode(f"s{i}", "street", None, f"街道{i}", g.__geo_interface__)
        for i, g in enumerate(geo.streets)
    ]
    communities = [
        AreaNode(f"c{i:02d}", "community", f"s{s}", f"社区{i}", g.__geo_interface__)
        for i, (g, s) in enumerate(zip(geo.communities, geo.community_street, strict=True))
    ]
    tree = AreaTree.build(streets + communities)
    grid = geo.grid
    # Demand without area codes: both runs must locate it the same way.
    demand = Demand.of(grid.lon, grid.lat, grid.population, method="grid", source="synthetic")
    pick = rng.choice(grid.size, 60, replace=False)
    supply = Supply.of(grid.lon[pick] + 0.001, grid.lat[pick], served_areas=["s2", "c07"])
    return geo, tree, demand, supply


def _same(a: CoverageResult, b: CoverageResult) -> None:
    assert a.sums.codes.tolist() == b.sums.codes.tolist()
    # Exactly equal, bit for bit: no tolerance.
    assert np.array_equal(a.sums.population, b.sums.population)
    assert np.array_equal(a.sums.covered, b.sums.covered)
    assert np.array_equal(a.sums.points, b.sums.points)
    assert (a.demand_method, a.radius_m) == (b.demand_method, b.radius_m)


def test_partitions_hold_whole_areas_in_order() -> None:
    area = np.array(["b", "a", "c", "b", "a", "d", "d", "d"])
    parts = partition_by_area(area, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(8))
    for p in parts:
        assert (np.diff(p[area[p] == area[p][0]]) > 0).all()
    owners = {c: {i for i, p in enumerate(parts) if c in area[p]} for c in "abcd"}
    assert all(len(o) == 1 for o in owners.values())


@pytest.mark.parametrize("parts", [1, 5, 40])
def test_in_process_partitions_equal_one_run(parts: int, city: City) -> None:
    _, tree, demand, supply = city
    single = coverage(demand, supply, tree, 500)
    _same(coverage_partitioned(demand, supply, tree, 500, parts=parts), single)
    assert 0 < single.covered_population < single.population


def test_dask_demand_frame_partitions_hold_whole_areas_in_order() -> None:
    dask_geopandas = pytest.importorskip("dask_geopandas", reason="the dask extra is not installed")
    area = np.array(["b", "a", "c", "b", "a", "d", "d", "d", "", "c"])
    lon, lat = np.arange(10) / 1000 + 113.9, np.full(10, 22.7)
    demand = Demand.of(lon, lat, np.arange(10) + 0.5, method="points", source="t", area=area)
    frame = demand_frame(demand, 3)
    assert isinstance(frame, dask_geopandas.GeoDataFrame)
    assert frame.known_divisions
    groups = partition_by_area(area, 3)
    assert frame.npartitions == len(groups)
    seen: list[str] = []
    for i, group in enumerate(groups):
        part = frame.get_partition(i).compute(scheduler="sync")
        # The same areas as the in-process partition, none of them in another partition.
        assert set(part.index) == set(area[group].tolist())
        assert not set(part.index) & set(seen)
        seen += list(part.index)
        for code in set(part.index):
            # Each area's points in their original order, coordinates and weights intact.
            rows = np.flatnonzero(area == code)
            mine = part.loc[[code]]
            assert mine["weight"].tolist() == demand.weight[rows].tolist()
            assert mine.geometry.x.tolist() == demand.lon[rows].tolist()
            assert mine.geometry.y.tolist() == demand.lat[rows].tolist()
    assert sorted(seen) == sorted(area.tolist())


def test_dask_without_dask_geopandas_says_which_extra(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, tree, demand, supply = city
    monkeypatch.setitem(sys.modules, "dask_geopandas", None)
    with pytest.raises(ImportError, match=r"resourcemap\[dask\]"):
        coverage_partitioned(demand, supply, tree, 500, parts=2, client=object())
    # The in-process path needs none of it.
    _same(coverage_partitioned(demand, supply, tree, 500, parts=2), coverage(demand, supply, tree))


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    pytest.importorskip("dask_geopandas", reason="the dask extra is not installed")
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            # A port of its own: with None, each cluster listens on 8787, and a second
            # test process starting one at the same moment failed ("Port 8787 is already
            # in use", a warning the suite treats as an error).
            dashboard_address=":0",
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_two_worker_dask_cluster_gets_exactly_the_single_process_result(
    city: City, dask_client: Client
) -> None:
    from distributed import get_task_stream

    _, tree, demand, supply = city
    single = coverage(demand, supply, tree, 500)
    with get_task_stream(dask_client) as stream:
        on_dask = coverage_partitioned(demand, supply, tree, 500, parts=6, client=dask_client)
    _same(on_dask, single)
    # The per-partition sums ran on the cluster's workers, one task per partition.
    ran = [t for t in stream.data if "frame_sums" in str(t["key"])]
    assert len(ran) == 6
    assert {t["worker"] for t in ran} <= set(dask_client.scheduler_info()["workers"])
    for level in ("community", "street"):
        assert on_dask.table(tree, level) == single.table(tree, level)
