"""``/api/v1/resources``: filters, paging, detail, GeoJSON and clear errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.factories import run_in_db, small_city


@pytest.fixture
def city(
    database_url: str, make_client: Callable[..., Any]
) -> Iterator[tuple[TestClient, dict[str, int]]]:
    ids = run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        yield client, ids


def names(body: dict[str, Any]) -> set[str]:
    return {item["name_zh"] for item in body["items"]}


def test_list_shows_active_resources_only(city: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = city
    body = client.get("/api/v1/resources").json()
    assert names(body) == {
        "东湖社区心理咨询室",
        "西山医院心理门诊",
        "王医生",
        "东街道心理志愿者服务队",
        "测试市心理援助热线",
    }
    assert body["next_cursor"] is None
    room = next(i for i in body["items"] if i["name_zh"] == "东湖社区心理咨询室")
    assert room["location"] == {"lat": 22.705, "lon": 114.005}
    assert room["area_codes"]["community"] == "449901001001"
    assert room["kind_label"]["zh"] == "社区心理咨询室/社会工作室"
    assert room["services"] == ["counselling", "group_activity"]


def test_list_closed_on_request(city: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = city
    assert names(client.get("/api/v1/resources?status=closed").json()) == {"旧址心理咨询室"}


def test_list_filters_by_repeated_and_comma_separated_kind(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = city
    repeated = client.get("/api/v1/resources?kind=hotline&kind=psychiatrist").json()
    comma = client.get("/api/v1/resources?kind=hotline,psychiatrist").json()
    assert names(repeated) == names(comma) == {"测试市心理援助热线", "王医生"}


def test_list_bbox_includes_points_on_the_boundary(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = city
    exact = client.get("/api/v1/resources?bbox=114.005,22.705,114.02,22.72").json()
    assert names(exact) == {"东湖社区心理咨询室"}
    west = client.get("/api/v1/resources?bbox=113.8,22.6,113.95,22.8").json()
    assert names(west) == {"西山医院心理门诊", "王医生"}


def test_list_area_includes_teams_and_hotlines_that_serve_it(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = city
    east = client.get("/api/v1/resources?area=449901001001").json()
    assert names(east) == {"东湖社区心理咨询室", "东街道心理志愿者服务队", "测试市心理援助热线"}
    west = client.get("/api/v1/resources?area=449901002000").json()
    assert names(west) == {"西山医院心理门诊", "王医生", "测试市心理援助热线"}


def test_list_pages_with_cursor_cover_everything_once(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, _ = city
    seen: list[int] = []
    url = "/api/v1/resources?limit=2"
    pages = 0
    while True:
        body = client.get(url).json()
        pages += 1
        assert len(body["items"]) <= 2
        seen.extend(i["id"] for i in body["items"])
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/resources?limit=2&cursor={body['next_cursor']}"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=spaceship", "kind"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=114,22.8,113,22.7", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJhZnRlciI6IC0xfQ", "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("area=000000000000", "area"),
        ("colour=blue", "colour"),
    ],
)
def test_list_bad_input_is_400_with_reason(
    city: tuple[TestClient, dict[str, int]], query: str, field: str
) -> None:
    client, _ = city
    response = client.get(f"/api/v1/resources?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "InvalidInput"
    assert field in body["fields"], body
    assert body["reason"]


def test_detail_has_hours_exceptions_and_summary(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = city
    detail = client.get(f"/api/v1/resources/{ids['room']}").json()
    assert detail["hours_summary"]["zh"] == "周一至周五 09:00-12:00, 14:00-17:30"
    assert detail["hours_summary"]["en"] == "Mon-Fri 09:00-12:00, 14:00-17:30"
    assert len(detail["hours"]) == 10
    assert detail["exceptions"] == [
        {
            "start_date": "2026-12-04",
            "end_date": "2026-12-04",
            "closed": True,
            "opens": None,
            "closes": None,
            "note": "员工培训",
        }
    ]
    assert detail["organisation"]["name_zh"] == "测试区卫健局"
    assert detail["phone"] == "0755-20000001"
    assert {"zh": "心理咨询", "en": "Counselling"} in detail["service_labels"]


def test_detail_discloses_practitioner_qualification(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = city
    detail = client.get(f"/api/v1/resources/{ids['doctor']}").json()
    assert detail["qualifications"] == [
        {
            "type": "psychiatrist",
            "certificate_number": "YS-2015-000123",
            "issuer": "测试市卫生健康委员会",
            "issued_on": None,
            "verified_on": "2026-03-01",
        }
    ]


def test_detail_of_area_served_resources(city: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = city
    team = client.get(f"/api/v1/resources/{ids['team']}").json()
    assert team["location"] is None
    assert team["placement"] == "area"
    assert team["service_area"] == [
        {"code": "449901001000", "level": "street", "name_zh": "东街道", "name_en": ""}
    ]
    hotline = client.get(f"/api/v1/resources/{ids['hotline']}").json()
    assert hotline["hours_summary"]["zh"] == "24小时 全年无休"


def test_detail_unknown_id_is_404_json(city: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = city
    response = client.get("/api/v1/resources/999999")
    assert response.status_code == 404
    assert response.json()["reason"] == "no resource with id 999999"
    assert client.get("/api/v1/resources/abc").status_code == 404


def test_geojson_has_points_only_with_properties(
    city: tuple[TestClient, dict[str, int]],
) -> None:
    client, ids = city
    response = client.get("/api/v1/resources.geojson")
    assert response.headers["content-type"].startswith("application/geo+json")
    fc = response.json()
    assert fc["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in fc["features"]}
    assert set(by_id) == {ids["room"], ids["clinic"], ids["doctor"]}
    room = by_id[ids["room"]]
    assert room["geometry"] == {"type": "Point", "coordinates": [114.005, 22.705]}
    assert room["properties"]["name_zh"] == "东湖社区心理咨询室"
    filtered = client.get("/api/v1/resources.geojson?kind=psychiatrist").json()
    assert [f["id"] for f in filtered["features"]] == [ids["doctor"]]
    assert client.get("/api/v1/resources.geojson?bbox=x").status_code == 400


def test_list_of_empty_database_is_empty_not_an_error(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        body = client.get("/api/v1/resources").json()
    assert body["items"] == []
    assert body["dataset"] is None
