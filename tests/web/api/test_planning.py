"""Planner API and pages on the demo city: who may see them, and what a planner sees."""

from __future__ import annotations

import io
from collections.abc import Callable
from csv import DictReader
from typing import Any

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.models import Organisation
from resourcemap.vocab import Role
from tests.factories import run_in_db
from tests.html_helpers import attr, csv_text, one, text_of

PASSWORD = "correct-horse-9"
READS = [
    "/api/v1/coverage?radius_m=500&level=community",
    "/api/v1/coverage.csv?level=street",
    "/api/v1/coverage/gaps.geojson",
    "/api/v1/heatmap?resolution=8",
    "/api/v1/indicators?level=district",
]


async def _accounts() -> None:
    org = await Organisation.first()
    assert org is not None
    for role in Role:
        await accounts.create_account(
            None,
            username=role.value,
            password=PASSWORD,
            role=role,
            organisation_id=org.id if role is Role.STAFF else None,
        )


@pytest.fixture
def url(demo_url: str) -> str:
    run_in_db(demo_url, _accounts)
    return demo_url


def sign_in(client: TestClient, username: str | None) -> dict[str, str]:
    if username is None:
        return {}
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("staff", 403), ("planner", 200), ("admin", 200)]
)
def test_only_planners_and_admins_may_use_the_planning_api(
    url: str, make_client: Callable[..., Any], who: str | None, status: int
) -> None:
    with make_client(url) as client:
        headers = sign_in(client, who)
        for path in READS:
            assert client.get(path).status_code == status, path
        siting = client.post("/api/v1/siting", json={"sites": 2}, headers=headers)
        assert siting.status_code == status
        page = client.get("/planning", follow_redirects=False)
        assert page.status_code == {401: 303, 403: 403, 200: 200}[status]


def test_coverage_geojson_gaps_heatmap_and_exports(
    url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(url) as client:
        sign_in(client, "planner")
        body = client.get("/api/v1/coverage?radius_m=500&level=community").json()
        assert len(body["features"]) == 30
        assert body["totals"]["population"] == 1_100_000
        assert 0.5 < body["totals"]["share"] < 1
        assert body["demand"] == {"method": "grid", "source": "demo-grid-100m"}
        assert "synthetic" in body["dataset"]
        props = [f["properties"] for f in body["features"]]
        assert all(p["covered"] + p["uncovered"] == pytest.approx(p["population"]) for p in props)
        # Counting only community rooms leaves more people outside.
        rooms = client.get("/api/v1/coverage?kind=community_room&level=district").json()
        assert rooms["totals"]["covered"] < body["totals"]["covered"]
        assert rooms["kinds"] == ["community_room"]

        gaps = client.get("/api/v1/coverage/gaps.geojson").json()
        assert gaps["features"] and all(
            f["properties"]["uncovered_population"] is not None for f in gaps["features"]
        )
        heat = client.get("/api/v1/heatmap?resolution=8").json()
        assert sum(f["properties"]["demand"] for f in heat["features"]) == pytest.approx(
            1_100_000, abs=1
        )
        unmet = sum(f["properties"]["unmet"] for f in heat["features"])
        assert unmet == pytest.approx(body["totals"]["uncovered"], abs=1)

        csv = client.get("/api/v1/coverage.csv?level=street")
        assert csv.headers["content-type"].startswith("text/csv")
        text = csv_text(csv)  # with a byte-order mark, for Excel on a Chinese Windows
        assert len(text.splitlines()) == 7  # header and six streets
        assert text.startswith("code,") and "街道" in text
        streets = list(DictReader(io.StringIO(text)))
        # Residents are whole people in the table, adding up to the district's.
        assert all(row["population"].isdigit() for row in streets)
        assert sum(int(row["population"]) for row in streets) == pytest.approx(1_100_000, abs=6)
        # From an English page, the areas are named in English; the codes stay the same.
        english = client.get("/api/v1/coverage.csv?level=street&lang=en")
        named = list(DictReader(io.StringIO(csv_text(english))))
        assert [r["code"] for r in named] == [r["code"] for r in streets]
        assert all(r["name"].isascii() and r["name"] for r in named), named
        report = client.get("/api/v1/coverage/report.html")
        assert report.status_code == 200 and "<script src=" not in report.text


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/coverage?radius_m=-1", "radius_m"),
        ("/api/v1/coverage?radius_m=abc", "radius_m"),
        ("/api/v1/coverage?level=planet", "level"),
        ("/api/v1/coverage?kind=spaceship", "kind"),
        ("/api/v1/coverage?demand=nope", "demand"),
        ("/api/v1/heatmap?resolution=20", "resolution"),
        ("/api/v1/indicators?level=x", "level"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(
    url: str, make_client: Callable[..., Any], path: str, field: str
) -> None:
    with make_client(url) as client:
        sign_in(client, "admin")
        response = client.get(path)
        assert response.status_code == 400, response.text
        assert field in response.json()["fields"]


def test_indicators_and_siting_api(url: str, make_client: Callable[..., Any]) -> None:
    with make_client(url) as client:
        headers = sign_in(client, "planner")
        body = client.get("/api/v1/indicators?level=street").json()
        assert len(body["areas"]) == 6 and body["targets"]["community_room_share"] == 0.8
        for area in body["areas"]:
            keys = {i["key"] for i in area["indicators"]}
            assert {"community_room_share", "circle_share", "professionals_per_100k"} <= keys
            assert all(i["source"] for i in area["indicators"])
        plan = client.post(
            "/api/v1/siting", json={"sites": 3, "candidates": "grid", "spacing_m": 400},
            headers=headers,
        ).json()  # fmt: skip
        assert len(plan["sites"]) == 3 and plan["sites"][0]["adds"] > 0
        assert plan["candidates"] == "grid of 400 m"
        refused: list[dict[str, object]] = [
            {"sites": 0},
            {"candidates": "moon"},
            {"candidates": []},
            {"spacing_m": 1},
        ]
        for bad in refused:
            response = client.post("/api/v1/siting", json=bad, headers=headers)
            assert response.status_code == 400, (bad, response.text)
            assert response.json()["reason"]
        no_csrf = client.post("/api/v1/siting", json={"sites": 1})
        assert no_csrf.status_code == 403


def test_planner_pages_show_map_table_dashboard_and_siting(
    url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(url) as client:
        sign_in(client, "planner")
        page = BeautifulSoup(client.get("/planning?level=street").text, "html.parser")
        assert len(page.select("table.coverage-table tbody tr")) == 6
        assert text_of(page, ".summary-strip .population") == "1,100,000"
        frame = one(page, "iframe.coverage-map")
        assert attr(frame, "src").startswith("/planning/map?")
        assert frame["sandbox"] == ["allow-scripts"]  # the map runs in an opaque origin
        exports = {a.text.split()[0] for a in page.select(".exports a")}
        assert {"GeoJSON", "CSV"} <= exports

        framed = client.get(str(frame["src"]))
        assert framed.headers["content-security-policy"].startswith("sandbox allow-scripts")
        doc = framed.text
        assert "/static/vendor/leaflet/leaflet.js" in doc
        assert "cdn" not in doc and "https://" not in doc  # offline: the app's own Leaflet
        for layer in ("服务圈内居民比例", "服务圈外的区域部分", "服务圈", "服务圈外居民"):
            assert layer in doc
        assert "L.control.layers" in doc and "rm-legend" in doc

        dash = BeautifulSoup(client.get("/planning/indicators?level=district").text, "html.parser")
        [row] = dash.select("tr.area-row")
        cells = row.select("td.cell")
        assert len(cells) == 8
        rehab = row.select_one('td[data-key="community_rehabilitation_share"]')
        assert rehab is not None and "not_met" in rehab["class"]

        form = BeautifulSoup(client.get("/planning/siting").text, "html.parser")
        token = attr(one(form, 'input[name="csrf_token"]'), "value")
        result = client.post(
            "/planning/siting",
            data={"csrf_token": token, "sites": "2", "candidates": "communities"},
        )
        sited = BeautifulSoup(result.text, "html.parser")
        assert len(sited.select("tr.site")) == 2
        drawn = client.get(attr(one(sited, "iframe.coverage-map"), "src"))
        assert drawn.status_code == 200 and "leaflet" in drawn.text.lower()
        bad = client.post("/planning/siting", data={"csrf_token": token, "sites": "0"})
        assert bad.status_code == 400 and "sites" in bad.text
        stale = client.post("/planning/siting", data={"csrf_token": "wrong", "sites": "2"})
        assert stale.status_code == 403


def test_staff_sees_a_refusal_page_and_residents_are_sent_to_sign_in(
    url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(url) as client:
        response = client.get("/planning/indicators", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=%2Fplanning%2Findicators")
        sign_in(client, "staff")
        refused = client.get("/planning/map")
        # The reason in the page's language: which role the page needs.
        assert refused.status_code == 403 and "需要规划人员或管理员权限" in refused.text
        english = client.get("/planning/map", params={"lang": "en"})
        assert english.status_code == 403 and "planner" in english.text
