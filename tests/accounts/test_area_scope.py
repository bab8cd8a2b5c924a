"""The four-level platform (#20): planner and staff accounts kept to an area see and change
only what lies in it, enforced on the server."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.models import Area, DemandPoint, Organisation, Resource
from resourcemap.vocab import AreaLevel, Role
from tests.factories import run_in_db, small_city
from tests.html_helpers import text_of
from tests.web.api.test_bookings import _world as bookings_world
from tests.web.api.test_bookings import book, free_slots
from tests.web.api.test_staff import PASSWORD, room_payload
from tests.web.staff.test_pages import browser_values, html, only_form

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
# Role × level × endpoint (#20): planners kept to a district, a street or a community get every
# planner page, API answer, file, report, map and siting — cut to their area. The demo city
# has one district; a second one is added beside it so that a district planner has a foreign
# area too.


def _square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


async def _planners() -> dict[str, Any]:
    """A planner kept to the demo district, to its first street, to that street's first
    community; one kept to no area; a second district beside the city with residents and a
    counselling room; the code, name and parent of every area."""
    city = await Area.filter(level=AreaLevel.CITY).first()
    district = await Area.filter(level=AreaLevel.DISTRICT).order_by("code").first()
    assert city is not None and district is not None
    street = await Area.filter(parent_id=district.code).order_by("code").first()
    assert street is not None
    community = await Area.filter(parent_id=street.code).order_by("code").first()
    assert community is not None
    prefix, (lon, lat) = city.code[:4], (114.3, 22.75)
    other = await Area.create(code=f"{prefix}98000000", level="district", name_zh="外测区",
                              parent=city, population=4000)  # fmt: skip
    other_street = await Area.create(code=f"{prefix}98001000", level="street", name_zh="外测街道",
                                     parent=other, population=4000)  # fmt: skip
    await Area.create(code=f"{prefix}98001001", level="community", name_zh="外测社区",
                      parent=other_street, population=4000,
                      boundary=_square(lon, lat, 0.02))  # fmt: skip
    source = await DemandPoint.all().order_by("-id").first()
    assert source is not None
    await DemandPoint.bulk_create(
        DemandPoint(lon=lon + 0.002 * i, lat=lat + 0.01, weight=100.0, source=source.source,
                    area_id=f"{prefix}98001001")
        for i in range(1, 10)
    )  # fmt: skip
    org = await Organisation.create(name_zh="外测卫健局", type="government")
    await Resource.create(kind="community_room", name_zh="外测社区心理咨询室", organisation=org,
                          lat=lat + 0.01, lon=lon + 0.004, city_code=city.code,
                          district_code=other.code, street_code=other_street.code,
                          community_code=f"{prefix}98001001")  # fmt: skip
    for username, area in (
        ("district", district.code), ("street", street.code), ("community", community.code),
        ("city", None),
    ):  # fmt: skip
        await accounts.create_account(
            None, username=username, password=PASSWORD, role=Role.PLANNER, area_code=area
        )
    await accounts.create_account(None, username="boss", password=PASSWORD, role=Role.ADMIN)
    areas = await Area.all().values_list("code", "name_zh", "parent_id")
    return {
        "scopes": {"district": district.code, "street": street.code, "community": community.code},
        "areas": [list(row) for row in areas],
    }


@pytest.fixture
def planners(demo_url: str) -> dict[str, Any]:
    world: dict[str, Any] = run_in_db(demo_url, _planners)
    return {"url": demo_url, **world}


def _inside(world: dict[str, Any], code: str) -> set[str]:
    below: dict[str, list[str]] = {}
    for area, _name, parent in world["areas"]:
        below.setdefault(parent, []).append(area)
    found, todo = set(), [code]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(below.get(current, []))
    return found


def _foreign(world: dict[str, Any], code: str) -> list[str]:
    """Codes and names of the areas neither in ``code`` nor above it, as they could be written
    (names as they are and JSON-escaped): none may show."""
    parents = {a: p for a, _n, p in world["areas"]}
    mine = _inside(world, code)
    above, current = set(), parents.get(code)
    while current:
        above.add(current)
        current = parents.get(current)
    own_names = [n for a, n, _p in world["areas"] if a in mine | above]
    out = []
    for area, name, _parent in world["areas"]:
        if area in mine or area in above:
            continue
        out.append(area)
        if not any(name in own for own in own_names):
            out += [name, json.dumps(name)[1:-1]]
    return out


def _csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}


GETS = [
    "/planning",
    "/planning?level={level}",
    "/planning/map",
    "/planning/indicators",
    "/planning/indicators?level={level}",
    "/planning/access",
    "/planning/siting",
    "/planning/siting/map?sites=%5B%5D",
    "/planning/jobs",
    "/api/v1/coverage?level=community",
    "/api/v1/coverage?level={level}",
    "/api/v1/coverage/gaps.geojson?level=community",
    "/api/v1/heatmap?resolution=8",
    "/api/v1/indicators?level=community",
    "/api/v1/access?level=community",
    "/api/v1/coverage.csv?level=community",
    "/api/v1/indicators.csv?level=community",
    "/api/v1/access/cells.csv",
    "/api/v1/coverage/report.html",
]


def _text(response: Any) -> str:
    if response.headers["content-type"].startswith(XLSX):
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return str(response.text)


def _answers(client: TestClient, level: str, *, siting: bool = True) -> dict[str, Any]:
    """Every planner endpoint's answer, by a name (areas of ``level`` where a level is
    asked for by name); ``siting=False`` leaves out the siting answers."""
    found = {path: client.get(path.format(level=level)) for path in GETS}
    found["xlsx"] = client.get("/api/v1/indicators.xlsx?level=community")
    found["listings"] = client.get("/api/v1/exports?format=csv")
    if not siting:
        return found
    headers = _csrf(client)
    found["siting"] = client.post("/api/v1/siting", json={"sites": 2}, headers=headers)
    found["siting.csv"] = client.post("/api/v1/siting.csv", json={"sites": 2}, headers=headers)
    found["siting grid"] = client.post(
        "/api/v1/siting", json={"sites": 1, "candidates": "grid", "spacing_m": 500},
        headers=headers,
    )  # fmt: skip
    found["siting page"] = client.post(
        "/planning/siting",
        data={
            "csrf_token": headers["X-CSRF-Token"],
            "sites": "1",
            "candidates": "grid",
            "spacing_m": "500",
        },
    )
    return found


def _rows(csv_text: str) -> dict[str, list[str]]:
    return {row[0]: row for row in csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))) if row}


@pytest.mark.parametrize("level", ["district", "street", "community"])
def test_a_planner_kept_to_an_area_gets_every_planner_answer_cut_to_it(
    planners: dict[str, Any], make_client: Callable[..., Any], level: str
) -> None:
    code = planners["scopes"][level]
    inside, foreign = _inside(planners, code), _foreign(planners, code)
    with make_client(planners["url"]) as client:
        sign_in(client, "city")
        # The whole city's answers are read for what they name and for the figures the
        # planner's own are compared with; nothing compares siting plans, and planning sites on
        # a 500 m grid over the whole city took most of this test's time.
        whole = _answers(client, level, siting=False)
        sign_in(client, level)
        mine = _answers(client, level)
    # The whole city's answers name the foreign areas: the test below can fail.
    assert "外测社区" in whole["/api/v1/coverage?level=community"].text
    assert "外测社区心理咨询室" in whole["listings"].text
    for name, response in mine.items():
        assert response.status_code == 200, (level, name, response.text[:300])
        text = _text(response)
        shown = [f for f in foreign if f in text]
        assert not shown, (level, name, shown[:5])

    # Own-area figures equal the whole city's for those areas.
    for path, key in (
        ("/api/v1/coverage?level=community", "features"),
        ("/api/v1/coverage?level={level}", "features"),
        ("/api/v1/indicators?level=community", "areas"),
        ("/api/v1/access?level=community", "areas"),
    ):
        theirs = {_code(i): i for i in mine[path].json()[key]}
        everyone = {_code(i): i for i in whole[path].json()[key]}
        assert theirs and set(theirs) <= inside, path
        assert {c: everyone[c] for c in theirs} == theirs, path
        assert set(everyone) & inside == set(theirs), path  # nothing of theirs is lost
    totals = mine["/api/v1/coverage?level=community"].json()["totals"]
    rows = [everyone_row["properties"] for everyone_row in
            whole["/api/v1/coverage?level=community"].json()["features"]]  # fmt: skip
    assert totals["population"] == pytest.approx(
        sum(r["population"] for r in rows if r["code"] in inside), abs=0.5
    )
    heat = mine["/api/v1/heatmap?resolution=8"].json()["features"]
    assert sum(f["properties"]["demand"] for f in heat) == pytest.approx(
        totals["population"], abs=1 + len(heat)
    )
    for path in ("/api/v1/coverage.csv?level=community", "/api/v1/indicators.csv?level=community"):
        theirs, everyone = _rows(mine[path].text), _rows(whole[path].text)
        body = {k: v for k, v in theirs.items() if k != "code" and k != "area"}
        assert body and {k: everyone[k] for k in body} == body, path
    # The summary strip, the matrix and the report say only their areas; the report is
    # titled with their area; the map fits it; sites are inside it.
    name = next(n for a, n, _p in planners["areas"] if a == code)
    report = html(mine["/api/v1/coverage/report.html"])
    assert name in text_of(report, "#rm-report h1")
    assert f"{name} {code}" in _text(mine["xlsx"])
    assert code in mine["xlsx"].headers["content-disposition"]
    matrix = html(mine["/planning/indicators"])
    assert {str(td["data-code"]) for td in matrix.select("[data-code]")} <= inside
    for key in ("siting", "siting grid"):
        plan = mine[key].json()
        assert all(s["community"] in inside for s in plan["sites"]), key
        assert plan["population"] == pytest.approx(totals["population"], abs=0.5)
        assert plan["uncovered_before"] == pytest.approx(totals["uncovered"], abs=0.5)
    assert totals["uncovered"] > 0 and mine["siting grid"].json()["sites"]
    assert html(mine["siting page"]).select("tr.site")
    # Their listings, and only theirs, in the listings export.
    listings = list(csv.DictReader(io.StringIO(mine["listings"].text)))
    all_listings = list(csv.DictReader(io.StringIO(whole["listings"].text)))
    assert listings and len(listings) < len(all_listings)
    # The pages say whose area they show; the strip sums their residents only.
    page = html(mine["/planning"])
    assert name in text_of(page, ".planning-nav .scope-area") and code in page.text
    strip = text_of(page, ".summary-strip .population").replace(",", "")
    assert float(strip) == pytest.approx(totals["population"], abs=0.5)
    assert not html(whole["/planning"]).select(".scope-area")
    # The map fits their area: inside the whole city's bounds, and smaller.
    south, west, north, east = _fitted(mine["/planning/map"].text)
    s0, w0, n0, e0 = _fitted(whole["/planning/map"].text)
    assert s0 <= south < north <= n0 and w0 <= west < east <= e0
    assert (north - south) * (east - west) < (n0 - s0) * (e0 - w0)


def _fitted(document: str) -> tuple[float, ...]:
    """The bounds a folium map document fits: south, west, north, east."""
    found = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", document, re.S)
    assert found is not None
    (south, west), (north, east) = json.loads(found.group(1))
    return south, west, north, east


def _code(item: dict[str, Any]) -> str:
    return str((item.get("properties") or item)["code"])


def test_a_planner_asking_above_their_area_is_told_why(
    planners: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    street = planners["scopes"]["street"]
    with make_client(planners["url"]) as client:
        sign_in(client, "street")
        for path in ("/api/v1/coverage?level=city", "/api/v1/indicators?level=district",
                     "/planning?level=district"):  # fmt: skip
            refused = client.get(path)
            assert refused.status_code == 403 and street in refused.text, path
        # Candidate sites outside the area are left out; none inside is refused by name.
        outside = client.post(
            "/api/v1/siting", json={"sites": 1, "candidates": [[114.31, 22.76]]},
            headers=_csrf(client),
        )  # fmt: skip
        assert outside.status_code == 400 and street in outside.json()["reason"]
        # The page's level choice offers their level and below only.
        offered = html(client.get("/planning")).select("#f-level option")
        assert [str(o["value"]) for o in offered] == ["street", "community"]


@pytest.mark.parametrize("who", ["city", "boss"])
def test_a_planner_not_kept_to_an_area_and_an_admin_read_the_whole_city(
    planners: dict[str, Any], make_client: Callable[..., Any], who: str
) -> None:
    with make_client(planners["url"]) as client:
        sign_in(client, who)
        for path in [*GETS, "/api/v1/coverage?level=city", "/api/v1/indicators?level=city"]:
            response = client.get(path.format(level="city"))
            assert response.status_code == 200, path
        assert "外测社区" in client.get("/api/v1/coverage.csv?level=community").text
        assert not html(client.get("/planning")).select(".scope-area")


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
