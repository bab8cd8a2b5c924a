"""The synthetic province (#22) as benchmarks and planners see it: small sizes only here."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import shape

from geo.demand_parquet import demand_files, read_demand
from resourcemap.cli import main
from resourcemap.demo.province import Province, build_province
from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from resourcemap.errors import Conflict
from resourcemap.models import Area, DatasetInfo, Resource
from resourcemap.vocab import AreaLevel, ResourceKind
from tests.factories import run_in_db


@pytest.fixture(scope="module")
def province() -> Province:
    return build_province(5, cities=2, districts=2)


def test_same_seed_gives_the_same_province() -> None:
    a, b = build_province(5, cities=1, districts=2), build_province(5, cities=1, districts=2)
    assert [(r.name_zh, r.lat, r.lon) for r in a.resources] == [
        (r.name_zh, r.lat, r.lon) for r in b.resources
    ]
    assert np.array_equal(a.demand_lon, b.demand_lon)
    other = build_province(6, cities=1, districts=2)
    assert [r.lat for r in other.resources] != [r.lat for r in a.resources]


def test_codes_nest_city_district_street_community(province: Province) -> None:
    codes = {a.code: a for a in province.areas}
    assert len(codes) == len(province.areas)  # no code used twice
    for a in province.areas:
        assert len(a.code) == 12 and a.code.startswith("447")
        if a.parent_code is not None:
            parent = codes[a.parent_code]
            assert list(AreaLevel).index(parent.level) == list(AreaLevel).index(a.level) - 1
            digits = {AreaLevel.CITY: 4, AreaLevel.DISTRICT: 6, AreaLevel.STREET: 9}
            assert a.code[: digits[parent.level]] == parent.code[: digits[parent.level]]
    for r in province.resources:
        if r.codes[3]:
            community = shape(codes[r.codes[3]].boundary)
            assert community.buffer(1e-6).contains(shapely.Point(r.lon, r.lat)), r.name_zh


def test_each_city_has_its_city_services_once_and_every_district_its_own(
    province: Province,
) -> None:
    per_city = Counter(r.codes[0] for r in province.resources if r.kind is ResourceKind.CITY_CENTRE)
    assert sorted(per_city.values()) == [1, 1]
    per_district = Counter(
        r.codes[1] for r in province.resources if r.kind is ResourceKind.DISTRICT_CENTRE
    )
    assert len(per_district) == 4 and set(per_district.values()) == {1}
    lines_12320 = [r for r in province.resources if r.phone == "12320"]
    assert len(lines_12320) == 2  # one per city, each serving its own city
    assert {r.service_area_codes[0] for r in lines_12320} == {a.code for a in province.cities}
    names = [d.name_zh for d in province.districts]
    assert len(set(names)) == len(names)
    assert all("示例区" not in r.address_zh for r in province.resources)


def test_population_is_the_demand(province: Province) -> None:
    assert province.population == 4_400_000
    assert province.demand_weight.sum() == pytest.approx(4_400_000)
    split = build_province(5, cities=1, districts=1, points_per_cell=3)
    one = build_province(5, cities=1, districts=1)
    assert split.demand_weight.size == 3 * one.demand_weight.size
    assert split.demand_weight.sum() == pytest.approx(one.demand_weight.sum())


def test_loads_listings_and_writes_demand_as_geoparquet(database_url: str, tmp_path: Path) -> None:
    size = ProvinceSize(cities=2, districts=1)
    messages: list[str] = []

    async def scenario() -> tuple[int, int, str]:
        summary = await load_demo_province(5, size, tmp_path, progress=messages.append)
        with pytest.raises(Conflict, match="already loaded"):
            await load_demo_province(5, size, tmp_path)
        seed = await DatasetInfo.get(key="demo_seed")
        assert summary.resources == await Resource.all().count()
        return await Area.filter(level=AreaLevel.CITY).count(), summary.demand_points, seed.value

    cities, points, seed = run_in_db(database_url, scenario)
    assert cities == 2 and seed == "5:province:2x1x1"
    assert [f.name for f in demand_files(tmp_path)] == ["4471.parquet", "4472.parquet"]
    demand = read_demand(tmp_path)
    assert demand.size == points
    assert demand.weight.sum() == pytest.approx(2_200_000)
    assert set(np.strings.slice(demand.area, 0, 4).tolist()) == {"4471", "4472"}
    assert messages[-1] == "done"


def test_demo_command_loads_a_province(database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            *("demo", "--scale", "province", "--cities", "1", "--districts", "1"),
            *("--no-serve", "--demand-dir", str(tmp_path / "demand")),
        ],
        env={"RESOURCEMAP_DATABASE_URL": database_url, "RESOURCEMAP_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert "1 city, 1 district, " in result.output
    assert re.search(r"\d streets, \d+ communities; [\d,]+ resources, ", result.output)
    # The app serving it must read the same demand: the command says how.
    demand = tmp_path / "demand"
    assert f"To serve it: RESOURCEMAP_DEMAND_DATASET={demand} resourcemap serve" in result.output
    assert (tmp_path / "demand" / "4471.parquet").exists()
