"""Coverage from the database: the demo city, caching, PostGIS agreement, indicators, demand
import and the ``resourcemap coverage`` command — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner
from tortoise import connections

from resourcemap import db
from resourcemap.cli import main
from resourcemap.errors import InvalidInput, NotFound
from resourcemap.models import Area, Resource, SearchChange
from resourcemap.planning import siting
from resourcemap.planning.access import AccessService
from resourcemap.planning.coverage import CoverageQuery, CoverageService
from resourcemap.planning.demand import import_demand
from resourcemap.planning.indicators import Targets
from resourcemap.search import changes
from resourcemap.vocab import AreaLevel, Placement, ResourceKind
from tests.factories import run_in_db, small_city

POINT_KINDS = tuple(k for k in ResourceKind if k.info.placement is Placement.POINT)


@pytest.mark.anyio
async def test_demo_city_coverage_per_community_and_cache(demo_url: str) -> None:
    async with db.database(demo_url):
        service = CoverageService()
        first = await service.analyse(CoverageQuery())
        assert first.result.population == 1_100_000
        assert first.result.demand_method == "grid"
        rows = first.table()
        assert len(rows) == 30 and all(0 <= r.covered <= r.population for r in rows)
        assert sum(r.population for r in rows) == 1_100_000
        assert any(r.share is not None and r.share < 1 for r in rows)
        streets = first.table(AreaLevel.STREET)
        assert sum(r.covered for r in streets) == first.result.covered_population
        # Same data: the cached analysis, not a new one.
        assert await service.analyse(CoverageQuery()) is first
        # A new room in the worst-covered community is seen on the next request.
        worst = min(rows, key=lambda r: r.share if r.share is not None else 2)
        gaps = await service.gaps_geojson(CoverageQuery())
        gap = next(f for f in gaps["features"] if f["id"] == worst.code)
        lon, lat = _interior(gap["geometry"])
        await Resource.create(kind="community_room", name_zh="新室", lat=lat, lon=lon)
        await SearchChange.create(resource_id=None, op=changes.REBUILD)
        second = await service.analyse(CoverageQuery())
        assert second is not first
        assert second.result.covered_population > first.result.covered_population


@pytest.mark.anyio
async def test_the_circle_counts_service_points_not_the_areas_teams_serve(demo_url: str) -> None:
    """A volunteer team serves its whole area wherever people live: counted by default it put
    a community with no room in it at 100% "within 500 m". By default the circle counts
    places; a planner who asks for teams gets them, and the answer says which it counted."""

    async with db.database(demo_url):
        service = CoverageService()
        places = await service.analyse(CoverageQuery())
        assert {k for k, _n in places.kind_counts} <= set(POINT_KINDS)
        assert ResourceKind.VOLUNTEER_TEAM not in places.query.kinds
        with_teams = CoverageQuery(kind=(*POINT_KINDS, ResourceKind.VOLUNTEER_TEAM))
        teams = await service.analyse(with_teams)
        assert teams.result.covered_population > places.result.covered_population
        assert "every service point" in places.description


@pytest.mark.anyio
async def test_coverage_counts_public_listings_unless_asked_and_says_which(demo_url: str) -> None:
    from resourcemap.planning.coverage import coverage_csv, coverage_geojson

    async with db.database(demo_url):
        service = CoverageService()
        public = await service.analyse(CoverageQuery())
        every = await service.analyse(CoverageQuery(eligibility="all"))
        # School, university and workplace rooms serve their members, not the street.
        assert every.resources - public.resources == 159  # active ones
        assert every.result.covered_population > public.result.covered_population
        assert "resources open to the public" in public.description
        assert "public and members-only" in every.description
        assert coverage_geojson(public)["eligibility"] == "public"
        assert coverage_csv(every).splitlines()[1].split(",")[9] == "all"


def _interior(geometry: dict[str, Any]) -> tuple[float, float]:
    from shapely.geometry import shape

    p = shape(geometry).point_on_surface()
    return p.x, p.y


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.anyio
async def test_covered_population_equals_postgis_st_dwithin_on_geography(demo_url: str) -> None:
    url = demo_url
    sql = """
        SELECT COALESCE(SUM(d.weight), 0) AS covered FROM demand_point d
        WHERE EXISTS (
          SELECT 1 FROM resource r
          WHERE r.status = 'active' AND r.kind = ANY($1::text[]) AND r.geom IS NOT NULL
            AND (r.eligibility = 'public' OR $3)
            AND r.geom && ST_Expand(ST_SetSRID(ST_MakePoint(d.lon, d.lat), 4326), 0.02)
            AND ST_DWithin(r.geom::geography,
                           ST_SetSRID(ST_MakePoint(d.lon, d.lat), 4326)::geography, $2))
    """

    async with db.database(url):
        conn = connections.get(db.dialect(url))
        kinds = [k.value for k in POINT_KINDS]
        for radius, eligibility in ((500.0, "public"), (300.0, "public"), (500.0, "all")):
            query = CoverageQuery(radius_m=radius, kind=POINT_KINDS, eligibility=eligibility)
            ours = (await CoverageService().analyse(query)).result.covered_population
            everyone = eligibility == "all"
            _, rows = await conn.execute_query(sql, [kinds, radius, everyone])
            assert ours == pytest.approx(float(rows[0]["covered"]), abs=1e-6)
            assert 0 < ours < 1_100_000


@pytest.mark.anyio
async def test_indicators_of_the_small_city_by_hand(database_url: str) -> None:
    async with db.database(database_url):
        await small_city()
        await Area.filter(code="449901000000").update(population_source="census 2020")
        await _import_points(
            "lon,lat,weight\n114.005,22.705,100\n113.905,22.705,40\n113.909,22.709,60\n"
        )
        found = await CoverageService().indicators(AreaLevel.DISTRICT, Targets(_env_file=None))
        [district] = found
        by_key = {i.key: i for i in district.indicators}
        room = by_key["community_room_share"]
        # 东湖 has an active room, 西山 none (the closed one does not count).
        assert (room.numerator, room.denominator, room.value, room.met) == (1, 2, 0.5, False)
        # One psychiatrist for 3,000 residents.
        pros = by_key["professionals_per_100k"]
        assert pros.value == pytest.approx(100_000 / 3000) and pros.met
        assert "census 2020" in pros.source
        # The city-wide hotline serves the district.
        assert by_key["county_hotline_share"].value == 1.0
        assert by_key["county_hotline_share"].source.startswith("districts/counties of this")
        # A community shows its district's, and says so: it is a county-level indicator.
        communities = await CoverageService().indicators(
            AreaLevel.COMMUNITY, Targets(_env_file=None)
        )
        lines = [next(i for i in c.indicators if i.key == "county_hotline_share")
                 for c in communities]  # fmt: skip
        assert all((i.numerator, i.denominator) == (1, 1) for i in lines)
        assert all(i.source.startswith("the district/county this area lies in") for i in lines)
        # The clinic belongs to a government body: no hospital is known, no share.
        assert by_key["psychiatric_hospital_clinic_share"].value is None
        circle = by_key["circle_share"]
        # 东湖's point sits on the room; 西山's two points are within 500 m of the clinic
        # (the first on it, the second about 600 m away: not covered).
        assert (circle.numerator, circle.denominator) == (140, 200)
        assert "points from 'points:people.csv'" in circle.source
        targets = Targets(_env_file=None, community_room_share=0.5)
        again = await CoverageService().indicators(AreaLevel.DISTRICT, targets)
        assert {i.key: i for i in again[0].indicators}["community_room_share"].met


async def _import_points(text: str, name: str = "people.csv") -> None:
    import tempfile

    path = Path(tempfile.mkdtemp()) / name
    path.write_text(text, encoding="utf-8")
    await import_demand(path, "points")


@pytest.mark.anyio
async def test_demand_import_raster_totals_and_bad_files(database_url: str, tmp_path: Path) -> None:
    raster = tmp_path / "worldpop.tif"
    with rasterio.open(
        raster, "w", driver="GTiff", width=3, height=1, count=1, dtype="float32",
        crs="EPSG:4326", transform=Affine(0.002, 0, 114.001, 0, -0.002, 22.705),
    ) as dst:  # fmt: skip
        dst.write(np.array([[50, 0, 25]], dtype="float32"), 1)

    # The census table, as a statistics bureau publishes it (its own numbers, not the area
    # table's): the file is read, every row of it.
    census = (
        '社区代码,社区名称,常住人口\n449901001001,东湖社区,"1,200"\n449901002001,西山社区,2400\n'
    )
    (tmp_path / "census.csv").write_text(census, encoding="utf-8")
    async with db.database(database_url):
        await small_city()
        service = CoverageService()
        with pytest.raises(NotFound, match="no demand data"):
            await service.analyse(CoverageQuery())
        done = await import_demand(raster, "raster")
        assert (done.points, done.population, done.source) == (2, 75, "raster:worldpop.tif")
        first = await service.analyse(CoverageQuery())
        assert first.result.demand_method == "raster"
        rows = {r.code: r for r in first.table()}
        assert rows["449901001001"].population == 75
        totals = await import_demand(tmp_path / "census.csv", "totals", cell_m=200)
        assert totals.method == "spread-uniform" and totals.population == pytest.approx(3600)
        latest = await service.analyse(CoverageQuery())
        assert latest.result.demand_method == "spread-uniform"
        older = await service.analyse(CoverageQuery(demand="raster:worldpop.tif"))
        assert older.result.population == 75
        with pytest.raises(InvalidInput, match="unknown demand source"):
            await service.analyse(CoverageQuery(demand="nope"))
        # A table that is not one (a random file was "imported" as 1.1 M people), a number
        # that is none, a code of no community here: said with its line and column.
        for text, said in (
            ("name,people\n东湖,5\n", "needs a column of area codes"),
            ("code,population\n449901001001,many\n", "line 2, column population: 'many'"),
            ("code,population\n449901001001,-5\n", "line 2, column population: '-5'"),
            ("code,population\n449901001001,5\n449901001001,6\n", "line 3, column code"),
            ("code,population\n449999999999,5\n", "no area with a boundary here"),
        ):
            table = tmp_path / "table.csv"
            table.write_text(text, encoding="utf-8")
            with pytest.raises(InvalidInput, match=re.escape(said)):
                await import_demand(table, "totals")
        table.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")  # an image
        with pytest.raises(InvalidInput, match=r"is neither UTF-8 nor GB18030 \(GBK\) text"):
            await import_demand(table, "totals")
        # Saved by Excel in Chinese: GBK, headed in Chinese.
        gbk = tmp_path / "census_gbk.csv"
        gbk.write_bytes("社区代码,常住人口\n449901001001,1200\n".encode("gbk"))
        assert (await import_demand(gbk, "totals", cell_m=200)).population == pytest.approx(1200)
        bad = tmp_path / "bad.csv"
        bad.write_text("lon,lat\n1,2\n", encoding="utf-8")
        with pytest.raises(InvalidInput, match="needs columns lon, lat"):
            await import_demand(bad, "points")
        coded = tmp_path / "coded.csv"
        coded.write_text("lon,lat,weight,area\n114,22.7,1,999\n", encoding="utf-8")
        with pytest.raises(InvalidInput, match="unknown area codes"):
            await import_demand(coded, "points")


@pytest.mark.anyio
async def test_siting_recommends_sites_that_add_people(demo_url: str) -> None:
    async with db.database(demo_url):
        service = CoverageService()
        found = await siting.plan(service, AccessService(service), siting.SitingRequest(sites=3))
    plan = found.as_json()
    adds = [s["adds"] for s in plan["sites"]]
    assert len(adds) == 3 and adds == sorted(adds, reverse=True) and adds[0] > 0
    assert plan["covered_after"] == pytest.approx(
        plan["population"] - plan["uncovered_before"] + sum(adds)
    )
    assert plan["exact_total"] is not None and plan["exact_total"] >= plan["greedy_total"]


def test_cli_coverage_writes_csv_and_html(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", demo_url)
    out = tmp_path / "report.csv"
    result = CliRunner().invoke(main, ["coverage", "--radius", "500", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "of 1,100,000 residents" in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("code,name,level,parent,population,covered,uncovered,share")
    assert len(lines) == 31 and lines[1].endswith(",500,straight,grid,demo-grid-100m")
    html = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["coverage", "--level", "street", "--out", str(html)])
    assert result.exit_code == 0, result.output
    page = html.read_text(encoding="utf-8")
    assert "cdn." not in page and "<script src=" not in page  # opens offline
    assert "服务圈覆盖报告" in page and "L.geoJson" in page


def test_cli_coverage_bad_input_is_a_message(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(main, ["coverage", "--radius", "-3", "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 2 and "greater than 0" in result.output
    result = runner.invoke(main, ["coverage", "--out", str(tmp_path / "a.txt")])
    assert result.exit_code == 2 and ".html, .csv or .geojson" in result.output
    result = runner.invoke(main, ["coverage", "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 1 and "no demand data" in result.output
    assert "Traceback" not in result.output


def test_cli_import_demand(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    run_in_db(database_url, small_city)
    people = tmp_path / "people.geojson"
    people.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"population": 12}, "geometry": {"type": "Point", "coordinates": [114.005, 22.705]}}]}',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["import-demand", str(people), "--format", "points"])
    assert result.exit_code == 0, result.output
    assert "imported 1 demand points (12 people)" in result.output
    assert "method points" in result.output
    broken = tmp_path / "broken.geojson"
    broken.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(main, ["import-demand", str(broken), "--format", "points"])
    assert result.exit_code == 1 and "not valid JSON" in result.output


@pytest.mark.anyio
async def test_concurrent_requests_share_one_computation(demo_url: str) -> None:
    async with db.database(demo_url):
        service = CoverageService()
        a, b = await asyncio.gather(
            service.analyse(CoverageQuery()), service.analyse(CoverageQuery())
        )
    assert a is b
