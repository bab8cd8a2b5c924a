"""The four-level platform (#20): planner and staff accounts kept to an area see and change
only what lies in it, enforced on the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.models import Area, Organisation, Resource
from resourcemap.vocab import AreaLevel, Role
from tests.factories import run_in_db, small_city
from tests.html_helpers import text_of
from tests.test_api_bookings import _world as bookings_world
from tests.test_api_bookings import book, free_slots
from tests.test_api_staff import PASSWORD, room_payload
from tests.test_staff_pages import browser_values, html, only_form

EAST_STREET, EAST_COMMUNITY = "449901001000", "449901001001"
WEST_COMMUNITY = "449901002001"


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


# --- staff ----------------------------------------------------------------------------------


async def _staff_world() -> dict[str, int]:
    ids = await small_city()
    own = await Organisation.get(name_zh="测试区卫健局")
    west = await Resource.create(
        kind="community_room",
        name_zh="西湖社区心理咨询室",
        organisation=own,
        lat=22.705,
        lon=113.905,
        city_code="449900000000",
        district_code="449901000000",
        street_code="449901002000",
        community_code=WEST_COMMUNITY,
    )
    for username, area in (("east", EAST_STREET), ("everywhere", None)):
        await accounts.create_account(
            None,
            username=username,
            password=PASSWORD,
            role=Role.STAFF,
            organisation_id=own.id,
            area_code=area,
        )
    return {**ids, "west": west.id}


@pytest.fixture
def staff_world(database_url: str) -> dict[str, int]:
    ids: dict[str, int] = run_in_db(database_url, _staff_world)
    return ids


@pytest.mark.parametrize(("who", "west_status"), [("east", 403), ("everywhere", 200)])
def test_staff_kept_to_a_street_edit_only_its_listings(
    database_url: str,
    make_client: Callable[..., Any],
    staff_world: dict[str, int],
    who: str,
    west_status: int,
) -> None:
    with make_client(database_url) as client:
        headers = sign_in(client, who)
        east = client.patch(
            f"/api/v1/resources/{staff_world['room']}", json={"phone": "0755-1"}, headers=headers
        )
        west = client.patch(
            f"/api/v1/resources/{staff_world['west']}", json={"phone": "0755-2"}, headers=headers
        )
        status = client.post(
            f"/api/v1/resources/{staff_world['west']}/status",
            json={"status": "suspended"},
            headers=headers,
        )
        new_west = client.post(
            "/api/v1/resources",
            json=room_payload(name_zh="新西室", community_code=WEST_COMMUNITY),
            headers=headers,
        )
        new_east = client.post(
            "/api/v1/resources",
            json=room_payload(name_zh="新东室", community_code=EAST_COMMUNITY),
            headers=headers,
        )
        # Moving one's own listing out of the area is refused too.
        moved = client.put(
            f"/api/v1/resources/{staff_world['room']}",
            json=room_payload(community_code=WEST_COMMUNITY),
            headers=headers,
        )
    assert east.status_code == 200, east.text
    assert new_east.status_code == 201, new_east.text
    assert west.status_code == west_status, west.text
    assert status.status_code == west_status
    assert new_west.status_code == {403: 403, 200: 201}[west_status]
    assert moved.status_code == west_status
    if west_status == 403:
        assert EAST_STREET in west.json()["reason"]


def test_admins_keep_planners_and_staff_to_known_areas_only(
    database_url: str, make_client: Callable[..., Any], staff_world: dict[str, int]
) -> None:
    run_in_db(
        database_url,
        lambda: accounts.create_account(None, username="boss", password=PASSWORD, role=Role.ADMIN),
    )
    with make_client(database_url) as client:
        admin = sign_in(client, "boss")

        def create(**fields: Any) -> Any:
            body = {"username": "kept", "password": PASSWORD, "role": "planner", **fields}
            return client.post("/api/v1/accounts", json=body, headers=admin)

        assert create(area_code="449999999999").status_code == 400
        assert create(area_code="<b>").status_code == 400
        assert create(role="admin", area_code=EAST_STREET).status_code == 400
        made = create(area_code=EAST_STREET)
        assert made.status_code == 201 and made.json()["area_code"] == EAST_STREET
        widened = client.patch(
            f"/api/v1/accounts/{made.json()['id']}", json={"role": "planner"}, headers=admin
        )
        assert widened.status_code == 200 and widened.json()["area_code"] is None


# --- planners on the demo city --------------------------------------------------------------


async def _planners() -> str:
    """A planner kept to the demo city's first street (街道), one not kept to any area."""
    street = await Area.filter(level=AreaLevel.STREET).order_by("code").first()
    assert street is not None
    for username, area in (("street", street.code), ("city", None)):
        await accounts.create_account(
            None, username=username, password=PASSWORD, role=Role.PLANNER, area_code=area
        )
    communities = [a.code for a in await Area.filter(parent_id=street.code)]
    return ",".join([street.code, *communities])


@pytest.fixture
def planners(demo_url: str) -> dict[str, Any]:
    inside: str = run_in_db(demo_url, _planners)
    return {"url": demo_url, "inside": inside.split(",")}


CUT = [
    ("/api/v1/coverage?level=community", "features"),
    ("/api/v1/coverage?level=street", "features"),
    ("/api/v1/coverage/gaps.geojson?level=street", "features"),
    ("/api/v1/indicators?level=street", "areas"),
    ("/api/v1/access?level=community", "areas"),
]
WHOLE_CITY = [
    "/api/v1/coverage?level=city",
    "/api/v1/coverage?level=district",
    "/api/v1/indicators?level=city",
    "/api/v1/coverage.csv?level=street",
    "/api/v1/coverage/report.html",
    "/api/v1/heatmap?resolution=8",
    "/api/v1/indicators.csv?level=community",
    "/api/v1/access/cells.csv",
    "/planning",
    "/planning/indicators",
    "/planning/access",
    "/planning/map",
    "/planning/siting",
]


def _codes(body: dict[str, Any], key: str) -> set[str]:
    items = body[key]
    return {(i.get("properties") or i).get("code") for i in items}


def test_a_street_planner_reads_only_the_street(
    planners: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    inside = set(planners["inside"])
    with make_client(planners["url"]) as client:
        sign_in(client, "city")
        whole = {path: client.get(path).json() for path, _ in CUT}
        sign_in(client, "street")
        for path, key in CUT:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            codes = _codes(response.json(), key)
            everything = _codes(whole[path], key)
            assert codes <= inside, path
            assert codes or "gaps" in path, path  # a street may have no gaps
            assert codes == everything & inside, path  # nothing of theirs is lost either
            assert everything - codes, f"{path}: the demo city has one street only"
        totals = client.get("/api/v1/coverage?level=community").json()["totals"]
        assert (
            totals["population"] < whole["/api/v1/coverage?level=community"]["totals"]["population"]
        )
        for path in WHOLE_CITY:
            assert client.get(path).status_code == 403, path
        siting = client.post(
            "/api/v1/siting",
            json={"sites": 2},
            headers={"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]},
        )
        assert siting.status_code == 403


def test_a_planner_not_kept_to_an_area_reads_the_whole_city(
    planners: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    with make_client(planners["url"]) as client:
        sign_in(client, "city")
        for path in [p for p, _ in CUT] + WHOLE_CITY:
            assert client.get(path).status_code == 200, path


def test_admin_page_keeps_a_new_account_to_an_area(
    database_url: str, make_client: Callable[..., Any], staff_world: dict[str, int]
) -> None:
    run_in_db(
        database_url,
        lambda: accounts.create_account(None, username="boss", password=PASSWORD, role=Role.ADMIN),
    )
    with make_client(database_url) as client:
        sign_in(client, "boss")
        form = only_form(html(client.get("/staff/accounts")), "/staff/accounts/new")
        values = browser_values(form)
        values.update(
            username=["streetplanner"],
            role=["planner"],
            password=[PASSWORD],
            area_code=["449999999999"],
        )
        refused = client.post("/staff/accounts/new", data=values)
        assert refused.status_code == 400
        assert "449999999999" in text_of(html(refused), "[data-field=area_code]")
        values["area_code"] = [EAST_STREET]
        page = html(client.post("/staff/accounts/new", data=values))
        row = page.select_one("tr.account:has(td.username:-soup-contains('streetplanner'))")
        assert row is not None and text_of(row, "td.area") == EAST_STREET


# --- booking counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(("area", "total"), [(EAST_STREET, 1), ("449901002000", 0), (None, 1)])
def test_booking_counts_cover_the_planners_area_only(
    database_url: str, make_client: Callable[..., Any], area: str | None, total: int
) -> None:
    ids = run_in_db(database_url, bookings_world)
    run_in_db(
        database_url,
        lambda: accounts.create_account(
            None, username="counter", password=PASSWORD, role=Role.PLANNER, area_code=area
        ),
    )
    with make_client(database_url, run_worker=False) as client:
        start = free_slots(client, ids["room"])[0]["starts_at"]  # the room is in the east
        assert book(client, ids["room"], start, phone="13812345678").status_code == 201
        sign_in(client, "counter")
        stats = client.get(f"/api/v1/booking-stats?from={start[:10]}&days=1")
    assert stats.status_code == 200 and stats.json()["total"] == total


def test_staff_kept_to_a_street_cannot_open_other_streets_listing_forms(
    database_url: str, make_client: Callable[..., Any], staff_world: dict[str, int]
) -> None:
    with make_client(database_url) as client:
        sign_in(client, "east")
        assert client.get(f"/staff/resources/{staff_world['room']}/edit").status_code == 200
        refused = client.get(f"/staff/resources/{staff_world['west']}/edit")
    assert refused.status_code == 403 and EAST_STREET in refused.text


def test_admin_page_changes_a_role_and_area_and_ends_the_sessions(
    database_url: str, make_client: Callable[..., Any], staff_world: dict[str, int]
) -> None:
    run_in_db(
        database_url,
        lambda: accounts.create_account(None, username="boss", password=PASSWORD, role=Role.ADMIN),
    )
    with make_client(database_url) as client:
        sign_in(client, "everywhere")
        staff_cookies = dict(client.cookies)
        sign_in(client, "boss")
        page = html(client.get("/staff/accounts"))
        row = page.select_one("tr.account:has(td.username:-soup-contains('everywhere'))")
        assert row is not None
        form = row.select_one("form.change-role")
        assert form is not None
        values = browser_values(form)
        values.update(role=["planner"], organisation_id=[""], area_code=["449999999999"])
        refused = client.post(str(form["action"]), data=values)
        assert refused.status_code == 400 and "449999999999" in refused.text
        values["area_code"] = [EAST_STREET]
        done = html(client.post(str(form["action"]), data=values))
        assert "角色" in text_of(done, ".flash")
        row = done.select_one("tr.account:has(td.username:-soup-contains('everywhere'))")
        assert row is not None and text_of(row, "td.area") == EAST_STREET
        assert text_of(row, "td.role") == "规划人员"  # one language (#18)
        client.cookies.clear()
        client.cookies.update(staff_cookies)
        assert client.get("/api/v1/session").status_code == 401
