"""A planner's coverage map draws what its extent can show (#22): a province's map is
hexagons a planner can tell apart and outlines a browser can draw, every resident still in
them; a district keeps its 0.1 km² hexagons. Before, a province's map was 43 MB and took
the server 20 s and the browser most of a minute."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from geo.map_marks import Marks
from geo.maps import DOTS_SHOWN, Assets, coverage_map
from resourcemap import db
from resourcemap.models import Resource
from resourcemap.planning import coverage
from resourcemap.planning.coverage import CoverageQuery, CoverageService
from resourcemap.planning.report import map_html, map_layers
from resourcemap.search import changes
from resourcemap.vocab import AreaLevel
from tests.factories import square
from tests.planning.test_demand_dataset import province_service


def _vertices(fc: dict[str, object]) -> int:
    features = fc["features"]
    assert isinstance(features, list)
    return int(sum(shapely.get_num_coordinates(shape(f["geometry"])) for f in features))


@pytest.mark.anyio
async def test_a_province_map_has_hexagons_and_outlines_its_extent_can_show(
    database_url: str, tmp_path: Path
) -> None:
    async with db.database(database_url):
        service = await province_service(tmp_path / "demand")
        query = CoverageQuery(level=AreaLevel.COMMUNITY)
        layers = await map_layers(service, query)
        exact = await service.gaps_geojson(query)
        page, _ = await map_html(service, query, Assets())
    # Two cities far apart: hexagons of about 0.7 km², not 0.1, and the legend says so.
    assert layers.heat["resolution"] == 8
    assert "per hexagon (about 0.7 km²)" in page
    hexagons = layers.heat["features"]
    population = layers.analysis.result.population
    assert sum(f["properties"]["demand"] for f in hexagons) == pytest.approx(population, rel=1e-6)
    # Gap outlines: the same areas and sizes, drawn with fewer points.
    assert layers.gaps is not None
    drawn = {f["properties"]["code"]: f["properties"]["gap_km2"] for f in layers.gaps["features"]}
    assert drawn == {f["properties"]["code"]: f["properties"]["gap_km2"] for f in exact["features"]}
    assert _vertices(layers.gaps) < 0.8 * _vertices(exact)
    # Every counted service point, in one array a loop draws (twice: dots, and circles that
    # are off until asked for), not an element each; every area's name likewise.
    points = sorted((round(lat, 6), round(lon, 6)) for lon, lat in layers.services)
    assert len(points) == layers.analysis.shown_supply.size > 100
    arrays = [json.loads(a) for a in re.findall(r"marks = (\[.*?\]);\n", page)]
    assert [sorted(map(tuple, a)) for a in arrays[:2]] == [points, points]
    assert sorted(name for _, _, name in arrays[2]) == sorted(
        f["properties"]["name"] for f in layers.areas["features"]
    )
    assert page.count("L.circleMarker(") == 3  # the one loop, in each of the three layers


@pytest.mark.anyio
async def test_a_district_map_keeps_its_fine_hexagons_drawn_once_per_data_version(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: Counter[str] = Counter()
    for name in ("gap_features", "hex_heat"):
        monkeypatch.setattr(coverage, name, _counted(getattr(coverage, name), name, drawn))
    async with db.database(demo_url):
        service = CoverageService()
        layers = await map_layers(service, CoverageQuery())
        page, _ = await map_html(service, CoverageQuery(), Assets())
        again = await map_layers(service, CoverageQuery())
        assert drawn == {"gap_features": 1, "hex_heat": 1}
        await service.gaps_geojson(CoverageQuery())  # the API's exact outlines: not kept
        await service.gaps_geojson(CoverageQuery())
        assert drawn == {"gap_features": 3, "hex_heat": 1}
        # An edit moves a counted service point out of its area: drawn anew.
        moved = await Resource.get(lat=layers.services[0][1], lon=layers.services[0][0])
        moved.lon = layers.services[0][0] + 0.05
        await moved.save(update_fields=["lon"])
        await changes.record([moved.id])
        edited = await map_layers(service, CoverageQuery())
    assert layers.heat["resolution"] == 9
    assert "per hexagon (about 0.1 km²)" in page
    assert layers.gaps is not None and again.gaps is not None and edited.gaps is not None
    assert again.gaps["features"] == layers.gaps["features"]
    assert again.heat["features"] == layers.heat["features"]
    assert drawn == {"gap_features": 4, "hex_heat": 2}
    assert edited.gaps["features"] != layers.gaps["features"]
    assert edited.heat["features"] != layers.heat["features"]


def _counted(fn: Callable[..., Any], name: str, calls: Counter[str]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return fn(*args, **kwargs)

    return counted


@pytest.mark.parametrize(("count", "shown"), [(DOTS_SHOWN, True), (DOTS_SHOWN + 1, False)])
def test_thousands_of_service_points_wait_to_be_asked_for(count: int, shown: bool) -> None:
    """A province's dots cover its fills at the zoom that shows them all: above
    ``DOTS_SHOWN`` the layer is listed but off, and so is its legend row."""
    area = {
        "type": "Feature",
        "geometry": square(113.9, 22.7, 0.1),
        "properties": {"code": "a", "name": "东湖", "share": 0.5, "uncovered": 5, "population": 10},
    }
    services = [(113.9 + 0.1 * i / count, 22.75) for i in range(count)]
    m = coverage_map({"features": [area]}, None, None, services, 500, Assets())
    dots, rings, names = [c for c in m._children.values() if isinstance(c, Marks)]
    assert (dots.show, rings.show, names.show) == (shown, False, True)
    assert len(json.loads(dots.marks)) == count  # listed either way
