"""Importing administrative areas and population from GeoPackage, Shapefile and GeoJSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import LineString, box, shape

from resourcemap import db
from resourcemap.models import Area, SearchChange
from resourcemap.search import changes
from resourcemap.transfer.areas import import_areas

# CGCS2000 / 3-degree Gauss-Kruger CM 114E: what Shenzhen's surveyors hand over.
CGCS2000_GK_114 = "EPSG:4547"


def _city(**changes_by_code: dict[str, Any]) -> gpd.GeoDataFrame:
    whole, east, west = (
        box(113.90, 22.70, 114.01, 22.71),
        box(114.00, 22.70, 114.01, 22.71),
        box(113.90, 22.70, 113.91, 22.71),
    )
    rows = [
        ("449900000000", "city", "测试市", "", 3000, whole),
        ("449901000000", "区", "测试区", "449900000000", 3000, whole),
        ("449901001000", "街道", "东街道", "449901000000", 1000, east),
        ("449901002000", "镇", "西镇", "449901000000", 2000, west),
        ("449901001001", "社区", "东湖社区", "449901001000", 1000, east),
        ("449901002001", "村", "西山村", "449901002000", 2000, west),
    ]
    records = [
        {"code": c, "level": lv, "name_zh": n, "parent": p, "population": pop, "geometry": g}
        | changes_by_code.get(c, {})
        for c, lv, n, p, pop, g in rows
    ]
    return gpd.GeoDataFrame(records, crs="EPSG:4326")


@pytest.mark.anyio
async def test_geopackage_in_a_projected_crs_is_reprojected_to_wgs84(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "areas.gpkg"
    frame = _city().to_crs(CGCS2000_GK_114)
    assert frame.total_bounds[0] > 1000  # metres, not degrees
    frame.to_file(path, driver="GPKG")
    async with db.database(database_url):
        report = await import_areas(path)
        assert report.ok, report.lines()
        assert (report.rows, report.created, report.updated) == (6, 6, 0)
        areas = await Area.all().order_by("code")
        rebuilds = await SearchChange.filter(op=changes.REBUILD).count()
        by_code = {a.code: a for a in areas}
        east = by_code["449901001001"]
        assert (east.level, east.parent_id, east.population) == ("community", "449901001000", 1000)
        assert by_code["449901002000"].level == "street"  # 镇
        assert by_code["449901000000"].level == "district"  # 区
        assert east.boundary is not None
        bounds = shape(east.boundary).bounds
        assert bounds == pytest.approx((114.00, 22.70, 114.01, 22.71), abs=1e-7)
        assert east.source == "import:areas.gpkg"
        assert rebuilds == 1  # running apps reload areas

        # Loading a corrected file again updates by code.
        _city(**{"449901001001": {"population": 1500}}).to_file(path, driver="GPKG")
        again = await import_areas(path)
        assert (again.created, again.updated) == (0, 6), again.lines()
        assert (await Area.get(code="449901001001")).population == 1500


@pytest.mark.anyio
async def test_shapefile_rows_are_checked_and_nothing_is_written(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "areas.shp"
    broken: dict[str, dict[str, Any]] = {
        "449901001000": {"level": "province"},
        "449901002000": {"parent": "449900000000"},
        "449901001001": {"population": -5},
    }
    frame = _city(**broken)
    duplicate = {**frame.iloc[5].to_dict(), "name_zh": "重复"}
    frame = gpd.GeoDataFrame([*frame.to_dict("records"), duplicate], crs="EPSG:4326")
    frame.to_crs("EPSG:3857").to_file(path, driver="ESRI Shapefile")
    async with db.database(database_url):
        report = await import_areas(path)
        reasons = {(p.row, p.column): p.reason for p in report.problems}
        assert "'province' is not city" in reasons[(3, "level")]
        assert "is a city, not a district" in reasons[(4, "parent")]
        assert "is not a number of people" in reasons[(5, "population")]
        assert "also the code of row 6" in reasons[(7, "code")]
        assert (await Area.all().count(), await SearchChange.all().count()) == (0, 0)


@pytest.mark.anyio
async def test_missing_columns_dry_run_and_unreadable_files(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "areas.geojson"
    async with db.database(database_url):
        _city().drop(columns=["population"]).to_file(path, driver="GeoJSON")
        report = await import_areas(path)
        assert [(p.row, p.column) for p in report.problems] == [(0, "population")]
        line = LineString([(113.9, 22.7), (113.91, 22.71)])
        _city(**{"449901002001": {"geometry": line}}).to_file(path, driver="GeoJSON")
        assert "a boundary is a polygon" in (await import_areas(path)).problems[0].reason
        _city().to_file(path, driver="GeoJSON")
        dry = await import_areas(path, dry_run=True)
        assert dry.ok and dry.created == 6 and not dry.written
        assert await Area.all().count() == 0
        junk = tmp_path / "junk.gpkg"
        junk.write_bytes(b"not a geopackage")
        unreadable = await import_areas(junk)
        assert "cannot read junk.gpkg" in unreadable.problems[0].reason


@pytest.mark.anyio
async def test_the_demo_city_is_not_mixed_with_real_areas(demo_url: str, tmp_path: Path) -> None:
    path = tmp_path / "areas.gpkg"
    _city().to_file(path, driver="GPKG")
    async with db.database(demo_url):
        report = await import_areas(path)
    assert "synthetic demo city" in report.problems[0].reason
