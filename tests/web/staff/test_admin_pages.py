"""Admin pages as a browser uses them: organisations and accounts through plain forms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import Tag
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.clock import FixedClock
from resourcemap.models import Account, Organisation
from resourcemap.vocab import Role
from tests.conftest import TEST_NOW, make_settings
from tests.factories import run_in_db, small_city
from tests.html_helpers import attr, one, text_of
from tests.web.staff.test_pages import (
    PASSWORD,
    browser_values,
    csrf_of,
    field_box,
    html,
    only_form,
    sign_in,
)
from web.app import create_app

PAYLOAD = "<script>alert(1)</script>"


@dataclass
class World:
    url: str
    ids: dict[str, int]


async def _people() -> dict[str, int]:
    ids = await small_city()
    own = await Organisation.get(name_zh="测试区卫健局")
    made = {}
    for username, role, org in (
        ("admin", Role.ADMIN, None),
        ("staff", Role.STAFF, own.id),
        ("planner", Role.PLANNER, None),
    ):
        account = await accounts.create_account(
            None, username=username, password=PASSWORD, role=role, organisation_id=org
        )
        made[username] = account.id
    return {**ids, "own_org": own.id, **made}


@pytest.fixture
def world(database_url: str) -> World:
    return World(database_url, run_in_db(database_url, _people))


@contextmanager
def admin_client(world: World) -> Iterator[TestClient]:
    """The real app."""
    app = create_app(make_settings(world.url), clock=FixedClock(TEST_NOW))
    with TestClient(app) as client:
        yield client


def organisation_names(client: TestClient) -> list[str]:
    response = client.get("/api/v1/organisations")
    assert response.status_code == 200
    return [o["name_zh"] for o in response.json()["items"]]


def submit(client: TestClient, form: Tag, **changes: str) -> Any:
    values = browser_values(form)
    values.update({k: [v] for k, v in changes.items()})
    return client.post(str(form["action"]), data=values, follow_redirects=False)


def test_admin_creates_an_organisation_through_the_form(world: World) -> None:
    with admin_client(world) as client:
        sign_in(client, "admin")
        form = only_form(html(client.get("/staff/organisations/new")), "/staff/organisations/new")
        response = submit(client, form, name_zh="新机构" + PAYLOAD, type="ngo", phone="0755-1")
        assert response.status_code == 303
        assert response.headers["location"] == "/staff/organisations"
        page = client.get("/staff/organisations")
        assert "新机构" + PAYLOAD in organisation_names(client)
    assert PAYLOAD not in page.text and "&lt;script&gt;" in page.text
    soup = html(page)
    assert "已保存" in text_of(soup, ".flash")
    row = next(r for r in soup.find_all("tr", class_="organisation") if "新机构" in r.get_text())
    assert "社会组织" in text_of(row, ".type")
    assert text_of(row, ".phone") == "0755-1"


def test_admin_edits_an_organisation(world: World) -> None:
    org = world.ids["own_org"]
    with admin_client(world) as client:
        sign_in(client, "admin")
        soup = html(client.get("/staff/organisations"))
        assert soup.find("a", href=f"/staff/organisations/{org}/edit") is not None
        action = f"/staff/organisations/{org}/edit"
        form = only_form(html(client.get(action)), action)
        assert attr(one(form, "input[name=name_zh]"), "value") == "测试区卫健局"
        assert submit(client, form, name_en="Health Bureau").status_code == 303
        names = client.get("/api/v1/organisations").json()["items"]
        assert client.get("/staff/organisations/999999/edit").status_code == 404
    assert {"name_zh": "测试区卫健局", "name_en": "Health Bureau"}.items() <= next(
        o for o in names if o["id"] == org
    ).items()


def test_invalid_organisation_re_renders_with_messages(world: World) -> None:
    with admin_client(world) as client:
        sign_in(client, "admin")
        before = organisation_names(client)
        form = only_form(html(client.get("/staff/organisations/new")), "/staff/organisations/new")
        response = submit(client, form, name_zh="  ", type="spaceship", phone="12345")
        assert response.status_code == 400
        soup = html(response)
        assert organisation_names(client) == before
    assert field_box(soup, "name_zh").find(class_="field-error") is not None
    assert "请从列表中选择" in text_of(field_box(soup, "type"), ".field-error")
    again = only_form(soup, "/staff/organisations/new")
    assert attr(one(again, "input[name=phone]"), "value") == "12345"


def test_taken_external_id_is_shown_next_to_its_field(world: World) -> None:
    with admin_client(world) as client:
        sign_in(client, "admin")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        form = only_form(html(client.get("/staff/organisations/new")), "/staff/organisations/new")
        assert submit(client, form, name_zh="甲", type="ngo", external_id="x-1").status_code == 303
        response = submit(client, form, name_zh="乙", type="ngo", external_id="x-1")
    assert response.status_code == 400
    assert "taken" in field_box(html(response), "external_id").get_text()


@pytest.mark.parametrize("username", ["staff", "planner"])
@pytest.mark.parametrize("path", ["/staff/organisations", "/staff/accounts"])
def test_only_admins_see_admin_pages(world: World, username: str, path: str) -> None:
    with admin_client(world) as client:
        sign_in(client, username)
        response = client.get(path)
        assert response.status_code == 403
        assert "没有权限" in text_of(html(response), "h1")
        token = csrf_of(html(client.get("/staff/organisations/new")))
        posted = client.post(
            "/staff/organisations/new",
            data={"csrf_token": token, "name_zh": "不该有", "type": "ngo"},
        )
        assert posted.status_code == 403
        assert "不该有" not in organisation_names(client)


def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    with admin_client(world) as client:
        response = client.get("/staff/accounts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_admin_creates_a_staff_account_that_can_sign_in(world: World) -> None:
    with admin_client(world) as client:
        sign_in(client, "admin")
        soup = html(client.get("/staff/accounts"))
        assert {text_of(r, ".username") for r in soup.find_all("tr", class_="account")} == {
            "admin",
            "planner",
            "staff",
        }
        form = only_form(soup, "/staff/accounts/new")
        response = submit(
            client,
            form,
            username="newstaff",
            display_name="新同事" + PAYLOAD,
            role="staff",
            organisation_id=str(world.ids["own_org"]),
            password="another-pass-7",
        )
        assert response.status_code == 303
        page = client.get("/staff/accounts")
    assert PAYLOAD not in page.text and "$argon2" not in page.text
    soup = html(page)
    assert "已创建" in text_of(soup, ".flash")
    row = next(r for r in soup.find_all("tr", class_="account") if "newstaff" in r.get_text())
    assert text_of(row, ".display-name") == "新同事" + PAYLOAD
    assert "测试区卫健局" in text_of(row, ".organisation")
    with admin_client(world) as fresh:
        form = only_form(html(fresh.get("/login")), "/login")
        values = browser_values(form) | {"username": ["newstaff"], "password": ["another-pass-7"]}
        response = fresh.post("/login", data=values, follow_redirects=False)
        assert response.status_code == 303
        assert fresh.get("/staff").status_code == 200


def test_invalid_account_re_renders_with_messages(world: World) -> None:
    with admin_client(world) as client:
        sign_in(client, "admin")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        form = only_form(html(client.get("/staff/accounts")), "/staff/accounts/new")
        no_org = submit(
            client,
            form,
            username="nobody",
            role="staff",
            organisation_id="",
            password="pass-word-9",
        )
        short = submit(client, form, username="shorty", role="planner", password="abc1")
        taken = submit(client, form, username="staff", role="planner", password="pass-word-9")
        bad_role = submit(client, form, username="who", role="root", password="pass-word-9")
        # Three things wrong: all three said at once (it took an administrator four tries).
        everything = submit(
            client, form, username="A B", role="staff", organisation_id="", password="short"
        )
    said = html(everything)
    for name, words in (
        ("username", "lower-case"),
        ("password", "at least"),
        ("organisation_id", "organisation"),
    ):
        assert words in field_box(said, name).get_text(), name
    assert len(said.select(".error-summary-list li")) == 3
    assert no_org.status_code == 400
    soup = html(no_org)
    assert "organisation" in field_box(soup, "organisation_id").get_text()
    assert attr(one(only_form(soup, "/staff/accounts/new"), "input[name=username]"), "value") == (
        "nobody"
    )
    assert "at least" in field_box(html(short), "password").get_text()
    assert attr(one(field_box(html(short), "password"), "input"), "value") == ""
    assert "taken" in field_box(html(taken), "username").get_text()
    assert field_box(html(bad_role), "role").find(class_="field-error") is not None
    usernames = run_in_db(world.url, _usernames)
    assert usernames == ["admin", "planner", "staff"]


async def _usernames() -> list[str]:
    return [a.username for a in await Account.all().order_by("username")]


def test_admin_resets_a_password_and_the_old_one_stops_working(world: World) -> None:
    staff_id = world.ids["staff"]
    action = f"/staff/accounts/{staff_id}/password"
    with admin_client(world) as client:
        sign_in(client, "admin")
        form = only_form(html(client.get("/staff/accounts")), action)
        weak = submit(client, form, new_password="short")
        assert weak.status_code == 400
        box = field_box(html(weak), f"new_password-{staff_id}")
        assert "密码至少 10 个字符" in text_of(box, ".field-error")
        response = submit(client, form, new_password="brand-new-pass-5")
        assert response.status_code == 303
        assert "已重设" in text_of(html(client.get("/staff/accounts")), ".flash")
    with admin_client(world) as fresh:
        token = csrf_of(html(fresh.get("/login")))
        old = fresh.post(
            "/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token}
        )
        assert old.status_code == 403
        new = fresh.post(
            "/login",
            data={"username": "staff", "password": "brand-new-pass-5", "csrf_token": token},
            follow_redirects=False,
        )
        assert new.status_code == 303


def test_forms_without_the_csrf_token_change_nothing(world: World) -> None:
    org = world.ids["own_org"]
    with admin_client(world) as client:
        sign_in(client, "admin")
        before = organisation_names(client)
        posts = [
            ("/staff/organisations/new", {"name_zh": "无令牌", "type": "ngo"}),
            (f"/staff/organisations/{org}/edit", {"name_zh": "改名", "type": "ngo"}),
            (
                "/staff/accounts/new",
                {"username": "sneaky", "role": "admin", "password": "pass-word-9"},
            ),
            (f"/staff/accounts/{world.ids['staff']}/password", {"new_password": "pass-word-99"}),
        ]
        for path, data in posts:
            for extra in ({}, {"csrf_token": "wrong"}):
                response = client.post(path, data=data | extra, follow_redirects=False)
                assert response.status_code == 403, path
                assert "过期" in text_of(html(response), "h1")
        assert organisation_names(client) == before
    assert run_in_db(world.url, _usernames) == ["admin", "planner", "staff"]
    with admin_client(world) as fresh:
        sign_in(fresh, "staff")  # the password was not reset
