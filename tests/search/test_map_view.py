"""A map that loads what is in view (#22): server-side H3 clusters per zoom and bounding box."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from h3.api import basic_int as h3

from geo.clusters import FINEST, cluster_view, finest_cells, parents, resolution_for
from resourcemap.models import Resource
from resourcemap.vocab import ResourceKind, Status
from tests.factories import run_in_db

WHOLE = "110,21,116,25"


def test_coarser_cells_are_h3_parents() -> None:
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(18, 26, 200), rng.uniform(105, 120, 200)
    cells = finest_cells(lat, lon)
    for res in range(FINEST + 1):
        expected = [h3.cell_to_parent(int(c), res) for c in cells]
        assert parents(cells, res).tolist() == expected


def test_clusters_count_every_point_in_view_once() -> None:
    rng = np.random.default_rng(4)
    lat = np.r_[rng.normal(22.5, 0.05, 800), rng.normal(23.5, 0.05, 700), [np.nan]]
    lon = np.r_[rng.normal(113.0, 0.05, 800), rng.normal(115.0, 0.05, 700), [np.nan]]
    cells = finest_cells(lat, lon)
    whole = cluster_view(lat, lon, cells, (110, 21, 116, 25), zoom=6)
    assert whole.total == 1500 and sum(c.count for c in whole.clusters) == 1500
    assert 2 <= len(whole.clusters) < 20 and whole.points.size == 0
    closer = cluster_view(lat, lon, cells, (110, 21, 116, 25), zoom=12)
    assert len(closer.clusters) > len(whole.clusters)
    assert resolution_for(12) > resolution_for(6)
    one_clump = cluster_view(lat, lon, cells, (112.5, 22, 113.5, 23), zoom=9, max_points=900)
    assert one_clump.resolution is None and one_clump.points.size == 800


async def province_points() -> dict[str, list[int]]:
    """600 active rooms in two towns far apart, 30 suspended ones, and a few in a park."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(600):
        town = i % 2
        rows.append(
            Resource(
                kind=ResourceKind.COMMUNITY_ROOM,
                name_zh=f"{'东' if town else '西'}城心理咨询室{i}",
                lat=float(rng.normal(22.5 + town, 0.03)),
                lon=float(rng.normal(113.0 + 2 * town, 0.03)),
                source="test",
            )
        )
    for i in range(30):
        rows.append(
            Resource(
                kind=ResourceKind.COMMUNITY_ROOM,
                name_zh=f"停业咨询室{i}",
                lat=22.5,
                lon=113.0,
                status=Status.SUSPENDED,
                source="test",
            )
        )
    for i in range(5):
        rows.append(
            Resource(
                kind=ResourceKind.STREET_STATION,
                name_zh=f"湖心公园服务站{i}",
                lat=24.0 + i * 0.001,
                lon=111.0,
                source="test",
            )
        )
    await Resource.bulk_create(rows)
    park = await Resource.filter(name_zh__startswith="湖心").order_by("id")
    return {"park": [r.id for r in park]}


def test_a_province_view_is_clusters_and_a_close_view_is_points(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, province_points)
    with make_client(database_url) as client:
        whole = client.get("/api/v1/map/view", params={"bbox": WHOLE, "zoom": 7})
        park = client.get("/api/v1/map/view", params={"bbox": "110.9,23.9,111.1,24.1", "zoom": 14})
    assert whole.status_code == 200
    body = whole.json()
    assert body["total"] == 605 and body["rows"] == []  # the suspended ones are not shown
    assert sum(c[2] for c in body["clusters"]) == 605
    assert body["resolution"] == resolution_for(7)
    assert len(whole.content) < 5_000
    assert {int(c[0]) for c in body["clusters"]} == {22, 23, 24}  # two towns and the park
    near = park.json()
    assert near["resolution"] is None and near["clusters"] == []
    rows = [dict(zip(near["fields"], r, strict=True)) for r in near["rows"]]
    assert [r["id"] for r in rows] == ids["park"]
    assert rows[0]["kind"] == "street_station" and rows[0]["public"] == 1


def test_the_map_view_and_the_list_agree_on_a_search(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, province_points)
    with make_client(database_url) as client:
        shown = client.get("/api/v1/map/view", params={"bbox": WHOLE, "zoom": 7, "q": "东城"})
        listed = client.get("/api/v1/search", params={"q": "东城", "limit": 1})
        west = client.get("/api/v1/map/view", params={"bbox": "112,22,114,23", "zoom": 7})
    assert shown.json()["total"] == listed.json()["total"] == 300
    assert west.json()["total"] == 300  # the other town is out of view


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3", "zoom": 7}, "bbox"),
        ({"bbox": "116,21,110,25", "zoom": 7}, "bbox"),
        ({"bbox": "a,b,c,d", "zoom": 7}, "bbox"),
        ({"bbox": WHOLE, "zoom": 40}, "zoom"),
        ({"bbox": WHOLE}, "zoom"),
        ({"bbox": WHOLE, "zoom": 7, "fee": "maybe"}, "fee"),
    ],
)
def test_a_bad_view_is_a_400_naming_the_field(
    database_url: str, make_client: Callable[..., Any], params: dict[str, Any], field: str
) -> None:
    with make_client(database_url) as client:
        answer = client.get("/api/v1/map/view", params=params)
    assert answer.status_code == 400
    assert field in answer.json()["fields"]
