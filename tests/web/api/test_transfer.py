"""Upload and download for staff: the JSON report, who may import what, search sees the result."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.models import Organisation, Resource
from resourcemap.vocab import Role
from tests.factories import run_in_db
from tests.transfer_helpers import EAST, GOOD_ROWS, city_areas, csv_bytes, transfer_client

PASSWORD = "correct-horse-9"


async def _people() -> None:
    own = await city_areas()
    other = await Organisation.create(name_zh="别家机构", type="ngo")
    for username, role, org in (
        ("admin", Role.ADMIN, None),
        ("staff", Role.STAFF, own),
        ("other", Role.STAFF, other.id),
        ("planner", Role.PLANNER, None),
    ):
        await accounts.create_account(
            None, username=username, password=PASSWORD, role=role, organisation_id=org
        )


def _sign_in(client: TestClient, username: str) -> str:
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def _upload(client: TestClient, csrf: str | None, data: bytes, **fields: str) -> Any:
    form = dict(fields)
    if csrf is not None:
        form["csrf_token"] = csrf
    return client.post(
        "/api/v1/imports", data=form, files={"file": ("rooms.csv", data, "text/csv")}
    )


@pytest.fixture
def url(database_url: str) -> str:
    run_in_db(database_url, _people)
    return database_url


def test_staff_upload_dry_run_import_and_search_sees_it(url: str) -> None:
    with transfer_client(url) as client:
        csrf = _sign_in(client, "staff")
        dry = _upload(client, csrf, csv_bytes(*GOOD_ROWS), dry_run="true")
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] is True and dry.json()["written"] is False
        assert client.get("/api/v1/search", params={"q": "东湖"}).json()["total"] == 0

        done = _upload(client, csrf, csv_bytes(*GOOD_ROWS))
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["created"], body["written"], body["problems"]) == (2, True, [])

        found = client.get("/api/v1/search", params={"q": "东湖社区心理咨询室"}).json()
        assert [item["name_zh"] for item in found["items"]][:1] == ["东湖社区心理咨询室"]
    orgs = run_in_db(url, lambda: Resource.all().values_list("organisation__name_zh", flat=True))
    assert set(orgs) == {"测试区卫健局"}  # the staff member's own organisation


def test_rejected_rows_answer_400_with_the_report(url: str) -> None:
    bad = f"room-9,castle,城堡,别家机构,counselling,22.70,114.00,{EAST},,"
    with transfer_client(url) as client:
        csrf = _sign_in(client, "staff")
        response = _upload(client, csrf, csv_bytes(GOOD_ROWS[0], bad), coords="gcj02")
        assert response.status_code == 400
        problems = {(p["row"], p["column"]) for p in response.json()["problems"]}
        assert problems == {(3, "kind"), (3, "organisation_name_zh")}
        assert response.json()["written"] is False
        wrong = _upload(client, csrf, csv_bytes(*GOOD_ROWS), coords="mars")
        assert wrong.status_code == 400 and wrong.json()["fields"]["coords"]
    assert run_in_db(url, lambda: Resource.all().count()) == 0


def test_upload_needs_staff_or_admin_and_the_csrf_token(url: str) -> None:
    with transfer_client(url) as client:
        assert _upload(client, None, csv_bytes(*GOOD_ROWS)).status_code == 401
        csrf = _sign_in(client, "planner")
        assert _upload(client, csrf, csv_bytes(*GOOD_ROWS)).status_code == 403
        csrf = _sign_in(client, "admin")
        assert _upload(client, None, csv_bytes(*GOOD_ROWS)).status_code == 403  # no CSRF
        response = client.post("/api/v1/imports", data={"csrf_token": csrf})
        assert response.status_code == 400 and response.json()["fields"]["file"]
        assert _upload(client, csrf, csv_bytes(*GOOD_ROWS)).status_code == 200


def test_export_download_per_role(url: str) -> None:
    with transfer_client(url) as client:
        assert client.get("/api/v1/exports", params={"format": "csv"}).status_code == 401
        _upload(client, _sign_in(client, "admin"), csv_bytes(*GOOD_ROWS))
        client.delete("/api/v1/session")

        csrf = _sign_in(client, "other")  # staff of another organisation
        other_row = f"o-1,community_room,别家室,,,22.70,114.00,{EAST},,"
        assert _upload(client, csrf, csv_bytes(other_row)).status_code == 200
        response = client.get("/api/v1/exports", params={"format": "csv"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [r["external_id"] for r in rows] == ["o-1"]

        _sign_in(client, "planner")
        everything = client.get("/api/v1/exports", params={"format": "geojson"})
        assert len(everything.json()["features"]) == 3
        assert client.get("/api/v1/exports", params={"format": "pdf"}).status_code == 400
