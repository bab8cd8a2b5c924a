"""Coverage of a GeoParquet demand dataset (#22) equals the single-process run, bit for bit,
in process and with the files read by Dask workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from geo.areatree import AreaNode, AreaTree
from geo.coverage import CoverageResult, Supply, coverage
from geo.demand import Demand
from geo.demand_parquet import write_demand
from geo.parquet_coverage import coverage_from_parquet, lon_range
from resourcemap.demo.province import Province, build_province

if TYPE_CHECKING:
    from distributed import Client

Setup = tuple[Province, AreaTree, Demand, Supply, Path]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """Two cities of one district each (~24,000 demand points), services near people."""
    p = build_province(11, cities=2, districts=1)
    tree = AreaTree.build([AreaNode(a.code, a.level.value, a.parent_code) for a in p.areas])
    demand = Demand.of(
        p.demand_lon, p.demand_lat, p.demand_weight, method="points", source="t", area=p.demand_area
    )
    located = [r for r in p.resources if r.lon is not None and r.lat is not None]
    served = [p.districts[1].code, p.areas[-1].code]  # a whole district and one community
    supply = Supply.of(
        [r.lon for r in located if r.lon is not None],
        [r.lat for r in located if r.lat is not None],
        served_areas=served,
    )
    directory = tmp_path_factory.mktemp("demand")
    write_demand(directory, p.demand_lon, p.demand_lat, p.demand_weight, p.demand_area)
    return p, tree, demand, supply, directory


def _same(a: CoverageResult, b: CoverageResult) -> None:
    assert a.sums.codes.tolist() == b.sums.codes.tolist()
    assert np.array_equal(a.sums.population, b.sums.population)  # no tolerance
    assert np.array_equal(a.sums.covered, b.sums.covered)
    assert np.array_equal(a.sums.points, b.sums.points)


def test_the_files_hold_the_demand_and_their_longitude_range(province: Setup) -> None:
    p, _, _, _, directory = province
    assert sorted(f.name for f in directory.iterdir()) == ["4471.parquet", "4472.parquet"]
    assert lon_range(sorted(directory.iterdir())) == (p.demand_lon.min(), p.demand_lon.max())


@pytest.mark.parametrize("radius", [300.0, 1000.0])
def test_in_process_equals_one_run(province: Setup, radius: float) -> None:
    _, tree, demand, supply, directory = province
    single = coverage(demand, supply, tree, radius)
    from_files = coverage_from_parquet(directory, supply, tree, radius)
    _same(from_files, single)
    assert 0 < single.covered_population < single.population
    for level in ("community", "district", "city"):
        assert from_files.table(tree, level) == single.table(tree, level)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
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


def test_dask_workers_read_the_files_and_get_exactly_the_single_result(
    province: Setup, dask_client: Client
) -> None:
    from distributed import get_task_stream

    _, tree, demand, supply, directory = province
    with get_task_stream(dask_client) as stream:
        on_dask = coverage_from_parquet(directory, supply, tree, 500, client=dask_client)
    _same(on_dask, coverage(demand, supply, tree, 500))
    ran = [t for t in stream.data if "file_sums" in str(t["key"])]
    assert len(ran) == 2  # one task per file, run by the cluster's workers
    assert {t["worker"] for t in ran} <= set(dask_client.scheduler_info()["workers"])


def test_jobs_one_after_another_on_one_cluster_all_finish(
    province: Setup, dask_client: Client
) -> None:
    """A planner's coverage jobs run one after another on the same cluster with the same
    services. Scattered under a key hashed from their content, the services of one job
    were released by the scheduler as the next scattered them again, and that job failed
    ("lost dependencies": dask/distributed#8576), about every other time."""
    _, tree, demand, supply, directory = province
    single = coverage(demand, supply, tree, 500)
    for _ in range(6):
        _same(coverage_from_parquet(directory, supply, tree, 500, client=dask_client), single)
