"""The demand dataset as the planner pages' demand (#22): read whole when it fits a page's
memory, else with each area's points combined per square cell, keeping every area's total;
read again when its files change; and a page opens at a level a planner can read down."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from geo.demand_parquet import read_demand, read_demand_cells, write_demand
from resourcemap import db
from resourcemap.demo.province import build_province
from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from resourcemap.models import Area
from resourcemap.planning import levels
from resourcemap.planning.coverage import CoverageQuery, CoverageService
from resourcemap.planning.demand_dataset import DemandDataset
from resourcemap.scope import area_scope
from resourcemap.vocab import AreaLevel

M_PER_DEGREE = 111_320.0


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two cities of one district each: ~24,000 points on a 100 m grid."""
    p = build_province(5, cities=2, districts=1)
    directory = tmp_path_factory.mktemp("demand")
    write_demand(directory, p.demand_lon, p.demand_lat, p.demand_weight, p.demand_area)
    return directory


async def province_service(directory: Path) -> CoverageService:
    """Two cities of one district each loaded into the open database, their demand as the
    dataset in ``directory``, and the coverage service that reads it."""
    await load_demo_province(3, ProvinceSize(2, 1), directory)
    return CoverageService(dataset=DemandDataset(directory))


def _totals(area: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    codes, at = np.unique(area, return_inverse=True)
    return dict(zip(codes.tolist(), np.bincount(at, weights=weight).tolist(), strict=True))


def test_cells_keep_every_area_s_residents_and_move_them_less_than_a_cell(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    points = read_demand(dataset)
    cells = read_demand_cells(dataset, 400.0)
    assert cells.size < points.size / 4  # 100 m grid points, four by four to a cell
    whole, combined = _totals(points.area, points.weight), _totals(cells.area, cells.weight)
    assert whole.keys() == combined.keys()
    assert all(combined[k] == pytest.approx(v, rel=1e-12) for k, v in whole.items())
    # Each cell's point lies within the bounds of the points it stands for: the nearest
    # original point of the same area is less than a cell's diagonal away.
    for i in range(0, cells.size, max(1, cells.size // 50)):
        same = points.area == cells.area[i]
        dy = (points.lat[same] - cells.lat[i]) * M_PER_DEGREE
        dx = (points.lon[same] - cells.lon[i]) * M_PER_DEGREE * np.cos(np.radians(cells.lat[i]))
        assert np.hypot(dx, dy).min() < 400.0 * np.sqrt(2)
    # Read in batches, the file cuts the same cells: the sums are the same.
    monkeypatch.setattr("geo.demand_parquet._BATCH_ROWS", 997)
    batched = read_demand_cells(dataset, 400.0)
    assert batched.size == cells.size
    assert np.allclose(batched.weight, cells.weight) and np.allclose(batched.lon, cells.lon)


@pytest.mark.anyio
async def test_a_dataset_too_large_for_a_page_is_read_in_cells_and_says_so(
    dataset: Path,
) -> None:
    whole = await DemandDataset(dataset).load()
    assert whole.source == "dataset:" + dataset.name and whole.size == read_demand(dataset).size
    small = await DemandDataset(dataset, max_points=whole.size // 10).load()
    assert small.size <= whole.size // 10
    assert small.source.startswith(f"dataset:{dataset.name}, ") and "m cells" in small.source
    assert small.total == pytest.approx(whole.total, rel=1e-12)


@pytest.mark.anyio
async def test_coverage_reads_the_dataset_again_when_its_files_change(
    database_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "demand"
    async with db.database(database_url):
        service = await province_service(directory)
        query = CoverageQuery(level=AreaLevel.CITY)
        before = await service.analyse(query)
        assert before.result.population == pytest.approx(read_demand(directory).weight.sum())
        # Rewrite one city's file with everyone there twice: the next analysis counts them.
        first = sorted(directory.glob("*.parquet"))[0]
        points = read_demand(directory)
        mine = np.char.startswith(points.area, first.stem)
        first.unlink()
        write_demand(
            directory,
            points.lon[mine],
            points.lat[mine],
            points.weight[mine] * 2,
            points.area[mine],
        )
        os.utime(first, ns=(1, 1))  # a new version even within one clock tick
        after = await service.analyse(query)
    added = float(points.weight[mine].sum())
    assert after.result.population == pytest.approx(before.result.population + added)


@pytest.mark.anyio
async def test_a_page_opens_at_the_finest_level_a_planner_can_read_down(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.database(database_url):
        await load_demo_province(3, ProvinceSize(2, 1), tmp_path / "demand")
        counts = {
            level: await Area.filter(level=level.value).count()
            for level in (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
        }
        assert await levels.table_level() is AreaLevel.COMMUNITY  # a small province: all fit
        # Too many communities and streets for one table: the districts.
        monkeypatch.setattr(levels, "TABLE_AREAS", counts[AreaLevel.STREET] - 1)
        assert await levels.table_level() is AreaLevel.DISTRICT
        # An account kept to one district counts only its own areas: half the streets fit.
        district = await Area.filter(level="district").order_by("code").first()
        assert district is not None
        scope = await area_scope(district.code)
        assert await levels.table_level(scope) is AreaLevel.STREET
