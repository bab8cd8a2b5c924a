"""Who may write what, enforced on the server: every role against every write endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.models import Organisation
from resourcemap.vocab import Role
from tests.factories import run_in_db, small_city

PASSWORD = "correct-horse-9"


@dataclass
class World:
    url: str
    ids: dict[str, int]
    make: Callable[..., Any]


async def _people() -> dict[str, int]:
    ids = await small_city()
    own = await Organisation.get(name_zh="测试区卫健局")
    other = await Organisation.create(name_zh="别家机构", type="ngo")
    made = {
        "admin": await accounts.create_account(
            None, username="admin", password=PASSWORD, role=Role.ADMIN
        ),
        "staff": await accounts.create_account(
            None, username="staff", password=PASSWORD, role=Role.STAFF, organisation_id=own.id
        ),
        "other": await accounts.create_account(
            None, username="other", password=PASSWORD, role=Role.STAFF, organisation_id=other.id
        ),
        "planner": await accounts.create_account(
            None, username="planner", password=PASSWORD, role=Role.PLANNER
        ),
    }
    return {**ids, **{f"acct_{k}": v.id for k, v in made.items()}, "own_org": own.id}


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _people), make_client)


def signed_in(client: TestClient, username: str | None) -> dict[str, str]:
    """Sign ``client`` in; return the headers a browser page would send with writes."""
    if username is None:
        return {}
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def room_payload(**changes: Any) -> dict[str, Any]:
    payload = {
        "kind": "community_room",
        "name_zh": "东湖社区心理咨询室",
        "lat": 22.705,
        "lon": 114.005,
        "community_code": "449901001001",
        "services": ["counselling"],
        "hours": [{"weekday": 0, "opens": "09:00", "closes": "12:00"}],
    }
    payload.update(changes)
    return payload


WRITES: list[tuple[str, str, Callable[[dict[str, int]], Any]]] = [
    ("POST", "/api/v1/resources", lambda ids: room_payload(name_zh="新室")),
    ("PUT", "/api/v1/resources/{room}", lambda ids: room_payload(name_zh="改名室")),
    ("PATCH", "/api/v1/resources/{room}", lambda ids: {"phone": "0755-20000099"}),
    ("POST", "/api/v1/resources/{room}/status", lambda ids: {"status": "suspended"}),
    ("POST", "/api/v1/organisations", lambda ids: {"name_zh": "新机构", "type": "ngo"}),
    (
        "POST",
        "/api/v1/accounts",
        lambda ids: {"username": "newbie", "password": PASSWORD, "role": "planner"},
    ),
    ("POST", "/api/v1/accounts/{acct_planner}/password", lambda ids: {"password": "n3w-pass-word"}),
]
# Expected status per role: None = anonymous.
ALLOWED = {
    "/api/v1/resources": {"admin", "staff", "other"},
    "/api/v1/resources/{room}": {"admin", "staff"},
    "/api/v1/resources/{room}/status": {"admin", "staff"},
    "/api/v1/organisations": {"admin"},
    "/api/v1/accounts": {"admin"},
    "/api/v1/accounts/{acct_planner}/password": {"admin"},
}


@pytest.mark.parametrize("who", [None, "planner", "other", "staff", "admin"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_every_role_against_every_write(
    world: World, who: str | None, method: str, path: str, body: Callable[[dict[str, int]], Any]
) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, who)
        url = path.format(**world.ids)
        response = client.request(method, url, json=body(world.ids), headers=headers)
    if who is None:
        assert response.status_code == 401, response.text
    elif who in ALLOWED[path]:
        assert response.status_code in (200, 201, 204), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["reason"]


def test_audit_log_is_for_admins_and_records_before_and_after(world: World) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, "staff")
        client.patch(
            f"/api/v1/resources/{world.ids['room']}",
            json={"phone": "0755-20000099"},
            headers=headers,
        )
        assert client.get("/api/v1/audit").status_code == 403
        client.delete("/api/v1/session")
        signed_in(client, "admin")
        entries = client.get(
            "/api/v1/audit", params={"entity": "resource", "entity_id": world.ids["room"]}
        ).json()["items"]
    assert entries[0]["actor"] == "staff"
    assert entries[0]["action"] == "update"
    assert entries[0]["before"] == {"phone": "0755-20000001"}
    assert entries[0]["after"] == {"phone": "0755-20000099"}


def test_session_writes_need_the_csrf_token_bearer_tokens_do_not(world: World) -> None:
    with world.make(world.url) as client:
        signed_in(client, "staff")
        url = f"/api/v1/resources/{world.ids['room']}"
        forged = client.patch(url, json={"phone": "0755-20000098"})
        assert forged.status_code == 403 and "CSRF" in forged.json()["reason"]
        token = client.post(
            "/api/v1/tokens",
            json={"name": "script"},
            headers={"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]},
        ).json()["token"]
    with world.make(world.url) as script:
        ok = script.patch(
            url, json={"phone": "0755-20000097"}, headers={"Authorization": f"Bearer {token}"}
        )
        bad = script.patch(url, json={}, headers={"Authorization": "Bearer rm_nonsense"})
    assert ok.status_code == 200 and ok.json()["phone"] == "0755-20000097"
    assert bad.status_code == 401


def test_repeated_wrong_passwords_lock_the_account(world: World) -> None:
    with world.make(world.url) as client:
        for _ in range(accounts.MAX_FAILED_LOGINS):
            wrong = client.post("/api/v1/session", json={"username": "staff", "password": "x"})
            assert wrong.status_code == 403
            assert wrong.json()["reason"] == accounts.REFUSED
        locked = client.post("/api/v1/session", json={"username": "staff", "password": PASSWORD})
        unknown = client.post("/api/v1/session", json={"username": "nobody", "password": "x"})
    # Locked, even with the right password; worded as for a name that does not exist (#15).
    assert locked.status_code == 403 and locked.json() == unknown.json()
    assert "locked for 15 minutes" in accounts.REFUSED


def test_password_reset_ends_existing_sessions(world: World) -> None:
    with world.make(world.url) as client:
        signed_in(client, "planner")
        assert client.get("/api/v1/session").status_code == 200
        planner_cookies = dict(client.cookies)
        client.cookies.clear()
        headers = signed_in(client, "admin")
        reset = client.post(
            f"/api/v1/accounts/{world.ids['acct_planner']}/password",
            json={"password": "brand-new-pass-1"},
            headers=headers,
        )
        assert reset.status_code == 204
        client.cookies.clear()
        client.cookies.update(planner_cookies)  # the planner's browser, still holding its cookie
        assert client.get("/api/v1/session").status_code == 401


def test_edits_are_searchable_at_once_and_stamp_verified_at(world: World) -> None:
    with world.make(world.url, search_follow_seconds=0) as client:
        headers = signed_in(client, "staff")
        response = client.patch(
            f"/api/v1/resources/{world.ids['room']}",
            json={"name_zh": "东湖社区心灵驿站"},
            headers=headers,
        )
        assert response.status_code == 200
        assert response.json()["verified_at"] is not None
        found = client.get("/api/v1/search", params={"q": "心灵驿站"}).json()
    assert [i["id"] for i in found["items"]] == [world.ids["room"]]


@pytest.mark.clock
def test_new_hours_are_what_open_now_follows(world: World) -> None:
    """Staff move the room's Monday to the lunch hour: search finds it open then and shut
    at 10:00 (the process follows the change log as every process does, swapping the
    room's hours in), and the other listings' hours stay as they were."""
    monday_10, monday_1230 = "2026-11-23T10:00:00+08:00", "2026-11-23T12:30:00+08:00"

    def open_now(client: TestClient, at: str) -> set[int]:
        body = client.get("/api/v1/search", params={"open_now": "true", "at": at}).json()
        return {item["id"] for item in body["items"]}

    with world.make(world.url, search_follow_seconds=0) as client:
        before = {at: open_now(client, at) for at in (monday_10, monday_1230)}
        assert world.ids["room"] in before[monday_10]
        assert world.ids["room"] not in before[monday_1230]
        response = client.patch(
            f"/api/v1/resources/{world.ids['room']}",
            json={"hours": [{"weekday": 0, "opens": "12:00", "closes": "14:00"}]},
            headers=signed_in(client, "staff"),
        )
        assert response.status_code == 200, response.text
        assert open_now(client, monday_10) == before[monday_10] - {world.ids["room"]}
        assert open_now(client, monday_1230) == before[monday_1230] | {world.ids["room"]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"name_zh": ""}, "name_zh"),
        ({"lat": None}, "request"),
        ({"phone": "call me"}, "phone"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"community_code": "000000000000"}, "community_code"),
        ({"hours": [{"weekday": 0, "opens": "12:00", "closes": "09:00"}]}, "hours"),
        ({"hours": [{"weekday": 9, "opens": "09:00", "closes": "10:00"}]}, "hours.weekday"),
        ({"colour": "blue"}, "colour"),
        ({"name_zh": "东湖\x00室"}, "name_zh"),
        (
            {
                "exceptions": [
                    {
                        "start_date": "2026-12-01",
                        "end_date": "2026-12-01",
                        "closed": False,
                        "opens": "15:00",
                        "closes": "10:00",
                    }
                ]
            },
            "exceptions",
        ),
    ],
)
def test_invalid_listing_gets_400_naming_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, "admin")
        response = client.post("/api/v1/resources", json=room_payload(**changes), headers=headers)
    assert response.status_code == 400, response.text
    assert field in response.json()["fields"], response.json()


def test_malformed_json_is_400(world: World) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, "admin")
        response = client.post(
            "/api/v1/resources",
            content=b"{not json",
            headers={**headers, "content-type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json()["fields"] == {"body": "the body is not valid JSON"}


def test_duplicate_external_id_is_a_409_naming_the_field(world: World) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, "admin")
        first = client.post(
            "/api/v1/resources", json=room_payload(external_id="room-1"), headers=headers
        )
        again = client.post(
            "/api/v1/resources", json=room_payload(external_id="room-1"), headers=headers
        )
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["fields"] == {"external_id": "external_id 'room-1' is taken"}


def test_a_non_ascii_csrf_token_is_refused_not_a_crash(world: World) -> None:
    with world.make(world.url) as client:
        signed_in(client, "staff")
        response = client.post(
            f"/api/v1/resources/{world.ids['room']}/status",
            json={"status": "suspended"},
            headers={"X-CSRF-Token": "t\u00e9st".encode()},
        )
    assert response.status_code == 403
