"""Walking distance over a street network, against distances measured along the streets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from geo.coverage import Supply, coverage
from geo.demand import Demand
from geo.network import NetworkError, graph_from_geojson, walking_coverage, walking_within
from tests.geo_cases import lonlat, two_communities


def _line(*points: tuple[float, float]) -> dict[str, Any]:
    lon, lat = lonlat([p[0] for p in points], [p[1] for p in points])
    return {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "LineString",
            "coordinates": [[x, y] for x, y in zip(lon, lat, strict=True)],
        },
    }


# An L: east along y = 0 from the room at the origin, then north along x = 400, with a
# vertex every 100 m; a short street crosses the first leg at x = 200 with no shared vertex.
STREETS = {
    "type": "FeatureCollection",
    "features": [
        _line(*[(x, 0) for x in range(0, 401, 100)]),
        _line(*[(400, y) for y in range(0, 401, 100)]),
        _line((200, -150), (200, 150)),
    ],
}


def _demand(*points: tuple[float, float]) -> Demand:
    lon, lat = lonlat([p[0] for p in points], [p[1] for p in points])
    return Demand.of(lon, lat, np.ones(len(points)), method="points", source="hand")


def test_walking_distance_follows_the_streets() -> None:
    graph = graph_from_geojson(STREETS)
    room = Supply.of(*lonlat([0], [0]))
    # (400, 100): 400 m east then 100 m north, exactly 500 m; (400, 200) walks 600 m
    # although it is 447 m away in a straight line.
    demand = _demand((400, 100), (400, 200), (200, -140))
    assert walking_within(graph, demand, room, 500).tolist() == [True, False, False]
    straight = coverage(demand, room, two_communities(), 500)
    assert straight.covered is not None and straight.covered[:2].tolist() == [True, True]


def test_crossing_lines_connect_only_when_asked() -> None:
    room = Supply.of(*lonlat([0], [0]))
    demand = _demand((200, -140))  # 10 m from the end of the crossing street
    assert not walking_within(graph_from_geojson(STREETS), demand, room, 500)[0]
    noded = graph_from_geojson(STREETS, node_crossings=True)
    # 200 m east, 150 m south along the crossing street, then 10 m to the door.
    assert walking_within(noded, demand, room, 360).tolist() == [True]
    assert walking_within(noded, demand, room, 359.9).tolist() == [False]


def test_walking_coverage_records_mode_and_keeps_teams() -> None:
    tree = two_communities()
    graph = graph_from_geojson(STREETS)
    demand = _demand((400, 100), (400, 300)).located(tree)
    result = walking_coverage(graph, demand, Supply.of(*lonlat([0], [0]), ["c1"]), tree, 500)
    assert result.mode == "walking" and result.covered_population == 2
    none = walking_coverage(graph, demand, Supply.of([], []), tree, 500)
    assert none.covered_population == 0


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "FeatureCollection", "features": []}, "FeatureCollection of lines"),
        ({"features": [{"geometry": {"type": "Point", "coordinates": [1, 2]}}]}, "not a line"),
        ({"features": [{"geometry": None}]}, "no valid geometry"),
    ],
)
def test_bad_networks_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(NetworkError, match=message):
        graph_from_geojson(doc)
