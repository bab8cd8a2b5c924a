"""Demand readers: rasters, weighted points, spread totals — and the method they record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from geo.coverage import Supply, coverage
from geo.demand import DemandError, read_points, read_raster, spread_totals
from tests.geo_cases import CRS, X0, Y0, lonlat, rect, two_communities


def _write_tif(path: Path, values: np.ndarray, crs: str, transform: Affine, nodata: float) -> None:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(values.astype("float32"), 1)


def test_raster_in_a_metric_crs_gives_cell_centres_in_wgs84(tmp_path: Path) -> None:
    # A 3 × 2 grid of 100 m cells in EPSG:4547 whose top-left corner is the test origin.
    values = np.array([[10, 0, -9999], [1.5, 20, np.nan]])
    path = tmp_path / "pop.tif"
    _write_tif(path, values, CRS.to_wkt(), Affine(100, 0, X0, 0, -100, Y0), -9999)
    demand = read_raster(path)
    assert demand.method == "raster" and demand.source == "pop.tif"
    assert sorted(demand.weight.tolist()) == [1.5, 10.0, 20.0]
    lon, lat = lonlat([50], [-50])  # centre of the first cell
    first = int(np.argmax(demand.weight == 10))
    assert demand.lon[first] == pytest.approx(lon[0], abs=1e-9)
    assert demand.lat[first] == pytest.approx(lat[0], abs=1e-9)


def test_raster_errors_are_messages(tmp_path: Path) -> None:
    bad = tmp_path / "not.tif"
    bad.write_bytes(b"hello")
    with pytest.raises(DemandError, match=r"cannot read not\.tif"):
        read_raster(bad)
    path = tmp_path / "one.tif"
    _write_tif(path, np.ones((1, 1)), "EPSG:4326", Affine(0.001, 0, 113.9, 0, -0.001, 22.8), 0)
    with pytest.raises(DemandError, match="band 2"):
        read_raster(path, band=2)


def test_points_from_csv_and_geojson() -> None:
    csv = b"lon,lat,population,area\n113.93,22.75,120,c1\n113.94,22.76,30,\n"
    d = read_points(csv, "people.csv")
    assert d.method == "points" and d.total == 150 and d.area.tolist() == ["c1", ""]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.93, 22.75]},
             "properties": {"weight": 4}},
        ],
    }  # fmt: skip
    g = read_points(json.dumps(doc).encode(), "people.geojson")
    assert g.total == 4 and g.source == "people.geojson"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"x,y\n1,2\n", "a.csv", "needs columns lon, lat"),
        (b"lon,lat,weight\n113,abc,1\n", "a.csv", "line 2"),
        (b"lon,lat,weight\n113,95,1\n", "a.csv", "not a valid WGS-84"),
        (b"lon,lat,weight\n113,22,-1\n", "a.csv", "non-negative"),
        (b"lon,lat,weight\n", "a.csv", "holds no demand points"),
        (b"{", "a.geojson", "not valid JSON"),
        (b'{"type": "FeatureCollection", "features": [{"geometry": {"type": "LineString"}}]}',
         "a.geojson", "must be Points"),
        (b"", "a.xlsx", ".csv or .geojson"),
    ],
)  # fmt: skip
def test_bad_points_are_refused_with_a_reason(data: bytes, name: str, message: str) -> None:
    with pytest.raises(DemandError, match=message):
        read_points(data, name)


def test_uniform_spread_keeps_each_total_and_records_the_method() -> None:
    tree = two_communities()
    demand = spread_totals(tree, {"c1": 1000, "c2": 10, "c3": 0})
    assert demand.method == "spread-uniform"
    by_area = {c: demand.weight[demand.area == c].sum() for c in ("c1", "c2", "c3")}
    assert by_area["c1"] == pytest.approx(1000) and by_area["c2"] == pytest.approx(10)
    assert by_area["c3"] == 0
    # 100 m cells in a 1 km square: 100 points of 10 people each.
    assert (demand.area == "c1").sum() == 100
    result = coverage(demand, Supply.of([], []), tree)
    assert result.demand_method == "spread-uniform"


def test_building_spread_follows_floor_area() -> None:
    tree = two_communities()
    small = {"type": "Feature", "geometry": rect(100, 100, 120, 120), "properties": {}}
    tall = {"type": "Feature", "geometry": rect(500, 500, 520, 520), "properties": {"floors": 3}}
    demand = spread_totals(tree, {"c1": 400, "c2": 50}, buildings=[small, tall])
    assert demand.method == "spread-buildings"
    c1 = np.sort(demand.weight[demand.area == "c1"])
    assert c1.tolist() == pytest.approx([100, 300])
    # c2 has no buildings: its total is spread on the grid, not lost.
    assert demand.weight[demand.area == "c2"].sum() == pytest.approx(50)


def test_spreading_needs_boundaries() -> None:
    tree = two_communities()
    with pytest.raises(DemandError, match="d1 has no boundary"):
        spread_totals(tree, {"d1": 5})
    with pytest.raises(DemandError, match="no area has a positive total"):
        spread_totals(tree, {"c1": 0})
