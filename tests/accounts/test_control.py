"""Accounts an admin can control (#15): API tokens that expire, are listed and revoked, and
end with a password reset or a deactivation; accounts deactivated and reactivated."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from resourcemap.clock import FixedClock
from tests.conftest import TEST_NOW
from tests.factories import run_in_db
from tests.html_helpers import text_of
from tests.web.api.test_staff import PASSWORD, World, _people, signed_in
from tests.web.staff.test_pages import browser_values, html, only_form

pytestmark = pytest.mark.clock


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _people), make_client)


def new_token(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tokens", json={"name": "script", **body}, headers=headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def as_script(client: TestClient, token: str) -> int:
    """What a script holding ``token`` gets from a page of the API that needs an account."""
    client.cookies.clear()
    response = client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    client.cookies.clear()  # whatever the answer set, the script's, not the browser's
    return response.status_code


def test_a_token_works_for_its_lifetime_and_not_a_moment_longer(
    world: World, clock: FixedClock
) -> None:
    with world.make(world.url, token_lifetime_days=30) as client:
        issued = new_token(client, signed_in(client, "staff"))
        assert dt.datetime.fromisoformat(issued["expires_at"]) == TEST_NOW + dt.timedelta(days=30)
        clock.advance(days=30, seconds=-1)
        assert as_script(client, issued["token"]) == 200
        clock.advance(seconds=1)
        assert as_script(client, issued["token"]) == 401


def test_default_lifetime_is_ninety_days(world: World) -> None:
    with world.make(world.url) as client:
        issued = new_token(client, signed_in(client, "planner"))
    assert dt.datetime.fromisoformat(issued["expires_at"]) == TEST_NOW + dt.timedelta(days=90)


def test_owner_lists_sees_last_use_and_revokes_and_others_cannot(
    world: World, clock: FixedClock
) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, "staff")
        issued = new_token(client, headers)
        assert "token" not in client.get("/api/v1/tokens").json()["items"][0]
        cookies = dict(client.cookies)
        clock.advance(hours=2)
        assert as_script(client, issued["token"]) == 200
        client.cookies.update(cookies)
        got = client.get("/api/v1/tokens")
        assert got.status_code == 200, got.text
        (listed,) = got.json()["items"]
        assert listed["id"] == issued["id"] and listed["active"] is True
        assert dt.datetime.fromisoformat(listed["last_used_at"]) == TEST_NOW + dt.timedelta(hours=2)

        client.cookies.clear()
        other = signed_in(client, "other")
        assert client.get("/api/v1/tokens").json()["items"] == []
        mine = {"account_id": world.ids["acct_staff"]}
        assert client.get("/api/v1/tokens", params=mine).status_code == 403
        assert client.delete(f"/api/v1/tokens/{issued['id']}", headers=other).status_code == 404
        assert as_script(client, issued["token"]) == 200

        client.cookies.update(cookies)
        assert client.delete(f"/api/v1/tokens/{issued['id']}", headers=headers).status_code == 204
        (revoked,) = client.get("/api/v1/tokens").json()["items"]
        assert revoked["active"] is False and revoked["revoked_at"] is not None
        assert as_script(client, issued["token"]) == 401


def test_admins_list_and_revoke_anyones_tokens(world: World) -> None:
    with world.make(world.url) as client:
        issued = new_token(client, signed_in(client, "planner"))
        client.cookies.clear()
        admin = signed_in(client, "admin")
        by_account = {"account_id": world.ids["acct_planner"]}
        listed = client.get("/api/v1/tokens", params=by_account).json()["items"]
        assert [t["id"] for t in listed] == [issued["id"]]
        in_force = client.get("/api/v1/tokens", params={"all": "1"}).json()["items"]
        assert [(t["id"], t["username"]) for t in in_force] == [(issued["id"], "planner")]
        assert client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin).status_code == 204
        assert client.get("/api/v1/tokens", params={"all": "1"}).json()["items"] == []
        assert as_script(client, issued["token"]) == 401


def test_password_reset_revokes_the_accounts_tokens(world: World) -> None:
    with world.make(world.url) as client:
        issued = new_token(client, signed_in(client, "planner"))
        client.cookies.clear()
        admin = signed_in(client, "admin")
        reset = client.post(
            f"/api/v1/accounts/{world.ids['acct_planner']}/password",
            json={"password": "brand-new-pass-1"},
            headers=admin,
        )
        assert reset.status_code == 204
        assert as_script(client, issued["token"]) == 401


def test_deactivation_ends_sessions_and_tokens_and_reactivation_lets_in_again(
    world: World,
) -> None:
    planner = f"/api/v1/accounts/{world.ids['acct_planner']}"
    with world.make(world.url) as client:
        issued = new_token(client, signed_in(client, "planner"))
        planner_cookies = dict(client.cookies)
        client.cookies.clear()
        admin = signed_in(client, "admin")
        admin_cookies = dict(client.cookies)
        off = client.patch(planner, json={"active": False}, headers=admin)
        assert off.status_code == 200 and off.json()["active"] is False
        assert as_script(client, issued["token"]) == 401
        client.cookies.update(planner_cookies)
        assert client.get("/api/v1/session").status_code == 401
        refused = client.post("/api/v1/session", json={"username": "planner", "password": PASSWORD})
        assert refused.status_code == 403

        client.cookies.clear()
        client.cookies.update(admin_cookies)
        on = client.patch(planner, json={"active": True}, headers=admin)
        assert on.status_code == 200 and on.json()["active"] is True
        items = client.get("/api/v1/accounts").json()["items"]
        assert {a["username"]: a["active"] for a in items}["planner"] is True
        assert as_script(client, issued["token"]) == 401  # revoked for good
        client.cookies.clear()
        signed_in(client, "planner")


def test_only_admins_deactivate_and_not_themselves(world: World) -> None:
    with world.make(world.url) as client:
        staff = signed_in(client, "staff")
        target = f"/api/v1/accounts/{world.ids['acct_planner']}"
        assert client.patch(target, json={"active": False}, headers=staff).status_code == 403
        client.cookies.clear()
        admin = signed_in(client, "admin")
        own = f"/api/v1/accounts/{world.ids['acct_admin']}"
        response = client.patch(own, json={"active": False}, headers=admin)
        assert response.status_code == 400 and "your own account" in response.text
        assert client.patch(target, json={"active": "no"}, headers=admin).status_code == 400


def test_admin_page_deactivates_reactivates_and_revokes_tokens(world: World) -> None:
    with world.make(world.url) as client:
        issued = new_token(client, signed_in(client, "planner"))
        client.cookies.clear()
        signed_in(client, "admin")
        page = html(client.get("/staff/accounts"))
        assert "planner" in text_of(page, "table.tokens")
        revoke = only_form(page, f"/staff/tokens/{issued['id']}/revoke")
        done = client.post(str(revoke["action"]), data=browser_values(revoke))
        assert "撤销" in text_of(html(done), ".flash")
        assert as_script(client, issued["token"]) == 401

        client.cookies.clear()
        signed_in(client, "admin")
        action = f"/staff/accounts/{world.ids['acct_planner']}/active"
        form = only_form(html(client.get("/staff/accounts")), action)
        page = html(client.post(action, data=browser_values(form)))
        assert "停用" in text_of(page, ".flash")
        row = page.select_one(f"tr.account[data-id='{world.ids['acct_planner']}'] td.active")
        assert row is not None and "no" in row.get_text()
        form = only_form(page, action)
        page = html(client.post(action, data=browser_values(form)))
        assert "启用" in text_of(page, ".flash")
        # Admins cannot switch themselves off from the page either: no button.
        own = f"/staff/accounts/{world.ids['acct_admin']}/active"
        assert not page.select(f"form[action='{own}']")


def test_signing_out_ends_the_session_on_the_server(world: World) -> None:
    with world.make(world.url) as client:
        signed_in(client, "staff")
        copied = dict(client.cookies)  # someone copied the cookie before sign-out
        assert client.delete("/api/v1/session").status_code == 204
        client.cookies.clear()
        client.cookies.update(copied)
        assert client.get("/api/v1/session").status_code == 401


def test_signing_out_through_the_page_ends_the_session_on_the_server(world: World) -> None:
    with world.make(world.url) as client:
        signed_in(client, "staff")
        copied = dict(client.cookies)
        form = only_form(html(client.get("/staff")), "/logout")
        assert client.post("/logout", data=browser_values(form)).status_code == 200
        client.cookies.clear()
        client.cookies.update(copied)
        assert client.get("/staff", follow_redirects=False).status_code == 303
        assert client.get("/api/v1/session").status_code == 401


def test_a_role_change_ends_the_accounts_sessions(world: World) -> None:
    with world.make(world.url) as client:
        signed_in(client, "staff")
        staff_cookies = dict(client.cookies)
        assert client.get("/staff").status_code == 200
        client.cookies.clear()
        admin = signed_in(client, "admin")
        changed = client.patch(
            f"/api/v1/accounts/{world.ids['acct_staff']}", json={"role": "planner"}, headers=admin
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["role"] == "planner" and changed.json()["organisation_id"] is None
        client.cookies.clear()
        client.cookies.update(staff_cookies)
        assert client.get("/api/v1/session").status_code == 401
        client.cookies.clear()
        signed_in(client, "staff")
        assert client.get("/api/v1/session").json()["role"] == "planner"
        assert client.get("/staff").status_code == 403


def test_role_changes_are_checked_like_new_accounts(world: World) -> None:
    with world.make(world.url) as client:
        admin = signed_in(client, "admin")
        planner = f"/api/v1/accounts/{world.ids['acct_planner']}"
        no_org = client.patch(planner, json={"role": "staff"}, headers=admin)
        assert no_org.status_code == 400 and "organisation" in no_org.text
        bad = client.patch(planner, json={"role": "owner"}, headers=admin)
        assert bad.status_code == 400
        own = f"/api/v1/accounts/{world.ids['acct_admin']}"
        assert client.patch(own, json={"role": "planner"}, headers=admin).status_code == 400
        to_staff = client.patch(
            planner, json={"role": "staff", "organisation_id": world.ids["own_org"]}, headers=admin
        )
        assert to_staff.status_code == 200 and to_staff.json()["role"] == "staff"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://blog.testserver"},
    ],
    ids=["origin", "opaque-origin", "fetch-metadata", "sibling-site"],
)
def test_no_page_of_another_site_signs_its_visitor_in(
    world: World, headers: dict[str, str]
) -> None:
    body = {"username": "staff", "password": PASSWORD}
    with world.make(world.url) as client:
        forged = client.post("/api/v1/session", json=body, headers=headers)
        assert forged.status_code == 403 and "another site" in forged.json()["reason"]
        assert client.get("/api/v1/session").status_code == 401
        # A text/plain "form" (the one body another site can send without asking) neither.
        plain = client.post(
            "/api/v1/session", content=json.dumps(body), headers={"Content-Type": "text/plain"}
        )
        assert plain.status_code == 415
        assert client.get("/api/v1/session").status_code == 401
        # This site's own pages and scripts (no Origin) still sign in.
        own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        assert client.post("/api/v1/session", json=body, headers=own).status_code == 200
