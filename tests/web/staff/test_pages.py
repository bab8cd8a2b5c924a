"""Staff pages as a browser uses them: sign in, see your listings, edit through the form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.clock import FixedClock
from resourcemap.models import Organisation, Resource
from resourcemap.vocab import Role
from tests.conftest import TEST_NOW
from tests.factories import run_in_db, small_city
from tests.html_helpers import attr, one, text_of

PASSWORD = "correct-horse-9"
PAYLOAD = "<script>alert(1)</script>"


@dataclass
class World:
    url: str
    ids: dict[str, int]
    make: Callable[..., Any]


async def _people() -> dict[str, int]:
    ids = await small_city()
    own = await Organisation.get(name_zh="测试区卫健局")
    other = await Organisation.create(name_zh="别家机构", type="ngo")
    theirs = await Resource.create(
        kind="community_room",
        name_zh="别家心理咨询室",
        organisation=other,
        lat=22.705,
        lon=113.905,
    )
    for username, role, org in (
        ("admin", Role.ADMIN, None),
        ("staff", Role.STAFF, own.id),
        ("other", Role.STAFF, other.id),
        ("planner", Role.PLANNER, None),
    ):
        await accounts.create_account(
            None, username=username, password=PASSWORD, role=role, organisation_id=org
        )
    return {**ids, "theirs": theirs.id, "own_org": own.id, "other_org": other.id}


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _people), make_client)


def html(response: Any) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html"), response.text
    return BeautifulSoup(response.text, "html.parser")


def only_form(soup: Tag, action: str) -> Tag:
    form = soup.find("form", action=action)
    assert isinstance(form, Tag), f"no form posting to {action}"
    return form


def browser_values(form: Tag) -> dict[str, list[str]]:
    """What a browser would submit for ``form`` as it stands."""
    values: dict[str, list[str]] = {}
    for el in form.find_all(["input", "select", "textarea"]):
        if not el.get("name"):
            continue
        name = attr(el, "name")
        if el.name == "input":
            if el.get("type") in ("checkbox", "radio") and not el.has_attr("checked"):
                continue
            chosen = [attr(el, "value", "on")]
        elif el.name == "textarea":
            chosen = [el.get_text()]
        else:
            options = el.find_all("option")
            chosen = [attr(o, "value", "") for o in options if o.has_attr("selected")]
            if not chosen and not el.has_attr("multiple") and options:
                chosen = [attr(options[0], "value", "")]
        values.setdefault(name, []).extend(chosen)
    return values


def sign_in(client: TestClient, username: str, next_url: str = "/staff") -> None:
    form = only_form(html(client.get(f"/login?next={next_url}")), "/login")
    values = browser_values(form)
    values.update(username=[username], password=[PASSWORD])
    response = client.post("/login", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_url


def csrf_of(soup: BeautifulSoup) -> str:
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert isinstance(field, Tag)
    return str(field["value"])


def field_box(soup: BeautifulSoup, name: str) -> Tag:
    return one(soup, f"[data-field='{name}']")


def api(client: TestClient, resource_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/resources/{resource_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_sign_in_through_the_form_shows_who_is_signed_in(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        soup = html(client.get("/staff"))
    bar = soup.find("nav", class_="staff-bar")
    assert bar is not None and text_of(bar, ".username") == "staff"  # no name given: the login
    logout = only_form(soup, "/logout")
    assert attr(one(logout, "input[name=csrf_token]"), "value")
    assert logout.find("button") is not None


def test_the_bar_greets_a_person_by_the_name_their_account_gives(world: World) -> None:
    run_in_db(
        world.url,
        lambda: accounts.create_account(
            None,
            username="wang01",
            password=PASSWORD,
            role=Role.STAFF,
            organisation_id=world.ids["own_org"],
            display_name="王老师",
        ),
    )
    with world.make(world.url) as client:
        sign_in(client, "wang01")
        bar = html(client.get("/staff")).find("nav", class_="staff-bar")
    assert isinstance(bar, Tag) and text_of(bar, ".username") == "王老师"


def test_sign_in_failures_say_why(world: World) -> None:
    with world.make(world.url) as client:
        token = csrf_of(html(client.get("/login")))
        answers = []
        for _ in range(11):
            response = client.post(
                "/login",
                data={"username": "staff", "password": "wrong-pass-1", "csrf_token": token},
            )
            error = html(response).find(class_="form-error")
            answers.append((response.status_code, error.get_text() if error else ""))
        locked = client.post(
            "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
        )
    assert answers[0][0] == 403 and "用户名或密码错误" in answers[0][1]
    # The fifth failure locks the account; the sixth attempt reads the same words, which
    # name the lockout without telling a stranger the account exists (#15).
    assert "锁定 15 分钟" in answers[0][1] and "locked" not in answers[0][1]  # one language
    assert answers[5] == answers[0]
    # Ten attempts a minute from one address; the eleventh waits, whatever the account.
    assert answers[10][0] == 429 and "频繁" in answers[10][1]
    assert locked.status_code == 429


def test_sign_in_needs_the_forms_csrf_token(world: World) -> None:
    with world.make(world.url) as client:
        client.get("/login")
        response = client.post("/login", data={"username": "staff", "password": PASSWORD})
        assert response.status_code == 403
        assert "过期" in text_of(html(response), ".form-error")
        assert client.get("/staff", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example/",
        "https://evil.example/",
        "/\t/evil.example/",
        "/\\evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(world: World, target: str) -> None:
    with world.make(world.url) as client:
        token = csrf_of(html(client.get("/login")))
        response = client.post(
            "/login",
            data={"username": "staff", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
    assert response.status_code == 303 and response.headers["location"] == "/staff"


@pytest.mark.parametrize("path", ["/staff", "/staff/resources/new", "/staff/resources/{room}/edit"])
def test_anonymous_people_are_sent_to_sign_in_and_back(world: World, path: str) -> None:
    url = path.format(**world.ids)
    with world.make(world.url) as client:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        sign_in(client, "staff", next_url=url)
        assert client.get(url).status_code == 200


def test_planners_get_a_friendly_403_page(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "planner")
        response = client.get("/staff")
    assert response.status_code == 403
    soup = html(response)
    assert "没有权限" in text_of(soup, "h1")
    # The reason is read in the page's language, roles and all (not "this needs the role…").
    assert "需要管理员或工作人员权限" in one(soup, "main").get_text()
    assert "needs the role" not in response.text
    assert text_of(soup, ".username") == "planner"
    assert only_form(soup, "/logout") is not None


@pytest.mark.parametrize(("username", "landing"), [("planner", "/planning"), ("staff", "/staff")])
def test_signing_in_without_a_next_page_lands_where_the_account_may_go(
    world: World, username: str, landing: str
) -> None:
    with world.make(world.url) as client:
        form = only_form(html(client.get("/login")), "/login")
        values = browser_values(form)
        values.update(username=[username], password=[PASSWORD])
        response = client.post("/login", data=values, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == landing
        # Not the "not allowed" page (this small city has no demand for /planning to show).
        assert client.get(landing).status_code != 403


def test_staff_see_only_their_organisations_resources(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        soup = html(client.get("/staff"))
    rows = {int(attr(r, "data-id")): r for r in soup.select("tr.listing")}
    assert set(rows) == {world.ids["room"]}
    row = rows[world.ids["room"]]
    assert "东湖社区心理咨询室" in text_of(row, ".name")
    assert "正常" in row.get_text() and "从未" in text_of(row, ".verified")
    assert (
        row.find("a", href=re.compile(rf"^/staff/resources/{world.ids['room']}/edit\?back="))
        is not None
    )
    suspend = only_form(row, f"/staff/resources/{world.ids['room']}/status")
    assert browser_values(suspend)["status"] == ["suspended"]


def test_admins_see_everything_and_filter_by_organisation_and_text(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "admin")
        everything = html(client.get("/staff")).select("tr.listing")
        theirs = html(client.get(f"/staff?org={world.ids['other_org']}")).select("tr.listing")
        unowned = html(client.get("/staff?org=0&q=热线")).select("tr.listing")
    assert len(everything) == 7
    assert [int(attr(r, "data-id")) for r in theirs] == [world.ids["theirs"]]
    assert [int(attr(r, "data-id")) for r in unowned] == [world.ids["hotline"]]


def test_staff_cannot_touch_another_organisations_resource(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get(action)), action))
        client.post("/logout", data={"csrf_token": values["csrf_token"][0]})
        sign_in(client, "other")
        token = csrf_of(html(client.get("/staff")))
        assert client.get(action).status_code == 403
        values.update(csrf_token=[token], name_zh=["被改掉了"])
        edit = client.post(action, data=values)
        status = client.post(
            f"/staff/resources/{room}/status", data={"csrf_token": token, "status": "suspended"}
        )
        after = api(client, room)
    assert edit.status_code == 403 and "没有权限" in html(edit).get_text()
    assert status.status_code == 403
    assert after["name_zh"] == "东湖社区心理咨询室" and after["status"] == "active"
    assert after["verified_at"] is None


@pytest.mark.parametrize("token", [None, "not-the-token", "令牌"])
def test_form_posts_without_the_csrf_token_are_refused(world: World, token: str | None) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get(action)), action))
        values["name_zh"] = ["被改掉了"]
        del values["csrf_token"]
        status_data = {"status": "suspended"}
        if token is not None:
            values["csrf_token"] = [token]
            status_data["csrf_token"] = token
        edit = client.post(action, data=values)
        status = client.post(f"/staff/resources/{room}/status", data=status_data)
        logout = client.post("/logout", data=status_data)
        after = api(client, room)
        still_signed_in = client.get("/staff", follow_redirects=False).status_code
    assert (edit.status_code, status.status_code, logout.status_code) == (403, 403, 403)
    # What to do, in the page's language: not "missing or wrong CSRF token" in English.
    said = html(edit).get_text()
    assert "页面已过期" in said and "请返回并刷新页面后重试" in said and "CSRF" not in said
    assert after["name_zh"] == "东湖社区心理咨询室" and after["status"] == "active"
    assert still_signed_in == 200


def test_invalid_input_is_shown_next_to_its_field_and_kept(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        values = browser_values(only_form(html(client.get(action)), action))
        values.update(
            name_zh=["新名字"],
            email=["not-an-email"],
            lat=["95"],
            hours_0=["9点到12点"],
            hours_1=["09:00-12:00, 11:00-13:00"],
            **{"exc-1-start_date": ["2027-01-02"], "exc-1-end_date": ["2027-01-01"]},
        )
        response = client.post(action, data=values)
        after = api(client, room)
    assert response.status_code == 400
    soup = html(response)
    assert soup.find(id="form-errors") is not None
    for field, words in {
        "email": "e-mail",
        "lat": "must be at most 90",
        "hours_0": "should look like 09:00-12:00",
        "hours_1": "overlap",
    }.items():
        box = field_box(soup, field)
        error = box.find(class_="field-error")
        assert error is not None and words in error.get_text(), field
        assert attr(one(box, f"[name='{field}']"), "aria-describedby") == f"err-{field}"
    row = one(soup, "[data-row='exc-1']")
    assert "end_date is before start_date" in text_of(row, ".field-error")
    assert field_box(soup, "name_zh").find(class_="field-error") is None
    # What was typed is still there, including the wrong parts.
    assert attr(one(soup, "input[name=name_zh]"), "value") == "新名字"
    assert attr(one(soup, "input[name=email]"), "value") == "not-an-email"
    assert attr(one(soup, "input[name=hours_0]"), "value") == "9点到12点"
    assert attr(one(soup, "input[name=exc-1-start_date]"), "value") == "2027-01-02"
    assert after["name_zh"] == "东湖社区心理咨询室"


def test_whole_form_rules_point_at_their_field(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        values = browser_values(
            only_form(html(client.get("/staff/resources/new")), "/staff/resources/new")
        )
        values.update(kind=["volunteer_team"], name_zh=["新志愿队"])
        response = client.post("/staff/resources/new", data=values)
    assert response.status_code == 400
    error = field_box(html(response), "service_area_codes").find(class_="field-error")
    assert error is not None and "needs the areas it serves" in error.get_text()


def test_saving_an_edit_returns_to_the_list_as_it_was_left(world: World) -> None:
    """Searched the list, edited one, saved: back on the list searched as before (it came
    back whole, the search typed gone), through a form error too."""
    room = world.ids["room"]
    with world.make(world.url) as client:
        sign_in(client, "staff")
        listing = html(client.get("/staff", params={"q": "东湖"}))
        (edit,) = [
            a
            for a in listing.select("a")
            if attr(a, "href").startswith(f"/staff/resources/{room}/edit")
        ]
        page = html(client.get(attr(edit, "href")))
        action = f"/staff/resources/{room}/edit"
        values = browser_values(only_form(page, action))
        assert values["back"] == ["/staff?q=%E4%B8%9C%E6%B9%96"]
        refused = html(client.post(action, data=values | {"name_zh": [""]}))
        values = browser_values(only_form(refused, action))
        assert values["back"] == ["/staff?q=%E4%B8%9C%E6%B9%96"]
        values.update(name_zh=["东湖社区心理服务室"])
        saved = client.post(action, data=values, follow_redirects=False)
        assert saved.status_code == 303
        assert saved.headers["location"] == "/staff?q=%E4%B8%9C%E6%B9%96"
        # Only this site's paths: a forged "back" returns to the plain list.
        values.update(back=["//elsewhere.example/"])
        forged = client.post(action, data=values, follow_redirects=False)
        assert forged.headers["location"] == "/staff"


def test_a_valid_edit_is_what_the_api_shows_and_stamps_verified_at(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        form = only_form(html(client.get(action)), action)
        values = browser_values(form)
        assert values["hours_0"] == ["09:00-12:00, 14:00-17:30"]
        assert values["exc-0-note"] == ["员工培训"]
        values.update(
            name_zh=["东湖社区心理服务室"],
            phone=["0755-20000002"],
            services=["counselling", "crisis_intervention"],
            hours_5=["10:00-12:00"],
            lat=["22.7061"],
            **{
                "exc-1-start_date": ["2027-02-10"],
                "exc-1-end_date": ["2027-02-12"],
                "exc-1-note": ["春节"],
                "q-0-type": ["counsellor"],
                "q-0-certificate_number": ["XL-2020-7"],
                "q-0-issuer": ["测试市人社局"],
            },
        )
        response = client.post(action, data=values, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/staff"
        listing = html(client.get("/staff"))
        after = api(client, room)
    assert "已保存" in text_of(listing, ".flash")
    assert after["name_zh"] == "东湖社区心理服务室" and after["phone"] == "0755-20000002"
    assert after["services"] == ["counselling", "crisis_intervention"]
    assert after["location"] == {"lat": 22.7061, "lon": 114.005}
    assert {"weekday": 5, "opens": "10:00", "closes": "12:00"} in after["hours"]
    assert len(after["hours"]) == 11
    assert [e["note"] for e in after["exceptions"]] == ["员工培训", "春节"]
    assert after["qualifications"][0]["certificate_number"] == "XL-2020-7"
    assert after["area_codes"]["community"] == "449901001001"
    assert dt.datetime.fromisoformat(after["verified_at"]) == TEST_NOW  # the app's clock
    row = one(listing, f"tr[data-id='{room}']")
    assert "从未" not in text_of(row, ".verified")


def test_a_special_date_typed_in_the_past_is_refused_but_saved_ones_stay(
    world: World, clock: FixedClock
) -> None:
    # A week on, the stored staff-training day (4 December) is over: saving the form with
    # it is fine. A new row dated last year (a slip of the year for the coming Spring
    # Festival) would leave the room open for booking then: refused, naming the row.
    clock.set(TEST_NOW + dt.timedelta(days=7))
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get(action)), action))
        assert values["exc-0-end_date"] == ["2026-12-04"]
        slip = {"exc-1-start_date": ["2026-02-16"], "exc-1-end_date": ["2026-02-18"]}
        refused = client.post(action, data=values | slip | {"exc-1-note": ["春节"]})
        assert refused.status_code == 400
        page = html(refused)
        message = text_of(field_box(page, "exc-1-end_date"), ".field-error")
        assert "例外第 2 行" in message and "2026-02-18" in message and "年份" in message
        assert browser_values(only_form(page, action))["exc-1-note"] == ["春节"]
        assert [e["note"] for e in api(client, room)["exceptions"]] == ["员工培训"]
        kept = client.post(action, data=values, follow_redirects=False)
        assert kept.status_code == 303


def test_staff_say_who_may_use_a_listing(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        form = only_form(html(client.get(action)), action)
        values = browser_values(form)
        assert values["eligibility"] == ["public"]
        values.update(eligibility=["employees"], eligibility_note_zh=["仅限本单位职工"])
        assert client.post(action, data=values, follow_redirects=False).status_code == 303
        after = api(client, room)
        again = browser_values(only_form(html(client.get(action)), action))
    assert after["eligibility"] == "employees"
    assert after["eligibility_note"] == {"zh": "仅限本单位职工", "en": ""}
    assert again["eligibility"] == ["employees"]


def test_staff_create_a_listing_for_their_organisation(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        form = only_form(html(client.get("/staff/resources/new")), "/staff/resources/new")
        assert form.find("select", attrs={"name": "organisation_id"}) is None
        values = browser_values(form)
        values.update(
            kind=["volunteer_team"],
            name_zh=["西街道心理志愿者服务队"],
            service_area_codes=["449901002000", "449901002001"],
        )
        response = client.post("/staff/resources/new", data=values)
        ids = [int(attr(r, "data-id")) for r in html(response).select("tr.listing")]
        created = api(client, max(ids))
    assert created["name_zh"] == "西街道心理志愿者服务队"
    assert created["organisation"]["name_zh"] == "测试区卫健局"
    assert created["service_area_codes"] == ["449901002000", "449901002001"]
    assert created["verified_at"] is not None


def test_suspend_and_reactivate_from_the_list(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/status"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        suspend = browser_values(only_form(html(client.get("/staff?q=东湖")), action))
        asked = html(client.post(action, data=suspend))
        # Asked first: nothing changed yet, and the question names the listing.
        assert "东湖社区心理咨询室" in text_of(asked, "h1")
        assert api(client, room)["status"] == "active"
        listing = html(client.post(action, data=browser_values(only_form(asked, action))))
        suspended = api(client, room)
        reactivate = browser_values(only_form(listing, action))
        client.post(action, data=reactivate)
        active = api(client, room)
    assert suspended["status"] == "suspended" and suspended["verified_at"] is not None
    assert "暂停" in text_of(listing, ".flash")
    assert reactivate["status"] == ["active"] and active["status"] == "active"


def test_signing_out_ends_the_session(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get("/staff")), "/logout"))
        response = client.post("/logout", data=values, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert client.get("/staff", follow_redirects=False).status_code == 303


def test_listing_text_is_escaped_on_the_list_and_the_form(world: World) -> None:
    async def hostile() -> int:
        org = await Organisation.get(name_zh="测试区卫健局")
        r = await Resource.create(
            kind="community_room",
            name_zh=PAYLOAD,
            name_en=PAYLOAD,
            description_zh=PAYLOAD,
            address_zh=PAYLOAD,
            organisation=org,
            lat=22.7,
            lon=114.0,
        )
        return r.id

    resource_id = run_in_db(world.url, hostile)
    with world.make(world.url) as client:
        sign_in(client, "staff")
        pages = [client.get("/staff").text, client.get(f"/staff/resources/{resource_id}/edit").text]
    for text in pages:
        assert PAYLOAD not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    form = BeautifulSoup(pages[1], "html.parser")
    assert attr(one(form, "input[name=name_zh]"), "value") == PAYLOAD
    assert text_of(form, "textarea[name=description_zh]") == PAYLOAD


def test_a_taken_external_id_is_shown_next_to_its_field(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        values = browser_values(
            only_form(html(client.get("/staff/resources/new")), "/staff/resources/new")
        )
        values.update(kind=["community_room"], name_zh=["一号室"], lat=["22.7"], lon=["114"])
        values["external_id"] = ["room-1"]
        assert client.post("/staff/resources/new", data=values).status_code == 200
        values["name_zh"] = ["二号室"]
        response = client.post("/staff/resources/new", data=values)
    assert response.status_code == 400
    error = field_box(html(response), "external_id").find(class_="field-error")
    assert error is not None and "taken" in error.get_text()


def test_an_unknown_resource_is_a_404_page(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "admin")
        response = client.get("/staff/resources/999999/edit")
    assert response.status_code == 404
    assert "找不到" in text_of(html(response), "h1")


def test_hours_typed_with_a_chinese_keyboard_are_read(world: World) -> None:
    """A Chinese keyboard types full-width colons and dashes ("09：00－12：00"): they were
    refused as not looking like 09:00-12:00."""
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get(action)), action))
        values.update(hours_2=["０９：００－１２：００，14：00～17：30"])
        response = client.post(action, data=values, follow_redirects=False)
        assert response.status_code == 303, html(response).get_text(" ", strip=True)[:300]
        hours = [h for h in api(client, room)["hours"] if h["weekday"] == 2]
    assert [(h["opens"], h["closes"]) for h in hours] == [("09:00", "12:00"), ("14:00", "17:30")]


def test_the_list_counts_its_listings_in_words(world: World) -> None:
    own = run_in_db(world.url, lambda: Resource.filter(organisation_id=world.ids["own_org"]).all())
    keep = own[0].id
    run_in_db(
        world.url,
        lambda: Resource.filter(organisation_id=world.ids["own_org"]).exclude(id=keep).delete(),
    )
    with world.make(world.url) as client:
        sign_in(client, "staff")
        english = html(client.get("/staff", params={"lang": "en"}))
        chinese = html(client.get("/staff", params={"lang": "zh-CN"}))
    assert text_of(english, "p.count") == "1 listing"  # not "1 listings"
    assert text_of(chinese, "p.count") == "共 1 项"


def test_a_long_list_goes_page_by_page_keeping_the_filter(world: World) -> None:
    """An administrator's 250 listings (an import of another directory's file): every one
    is reachable, a hundred a page, the filter kept from page to page (the list stopped at
    300 with "narrow the filter")."""
    from web.pages.staff.listings import LIST_LIMIT

    async def many() -> None:
        await Resource.bulk_create(
            [
                Resource(kind="community_room", name_zh=f"导入室{i:03d}", lat=22.705, lon=114.005)
                for i in range(250)
            ]
        )

    run_in_db(world.url, many)
    with world.make(world.url) as client:
        sign_in(client, "admin")
        first = html(client.get("/staff", params={"q": "导入室", "lang": "en"}))
        assert text_of(first, "p.count") == f"250 listings, 1–{LIST_LIMIT} shown"
        assert first.select("nav.pager a[rel=prev]") == []
        names = [td.get_text() for td in first.select("tr.listing td.name")]
        seen = list(names)
        link = first.select_one("nav.pager a[rel=next]")
        while link is not None:
            assert "q=" in attr(link, "href")  # the filter goes along
            page = html(client.get(attr(link, "href")))
            seen += [td.get_text() for td in page.select("tr.listing td.name")]
            link = page.select_one("nav.pager a[rel=next]")
        last = text_of(page, "nav.pager .page-of")
        assert client.get("/staff", params={"page": "²"}).status_code == 200  # not a 500
        beyond = html(client.get("/staff", params={"q": "导入室", "page": "9"}))
        back = attr(one(beyond, "nav.pager a[rel=prev]"), "href")
    assert last == "Page 3 of 3"
    assert "page=3" in back  # a page past the end leads back to the last one
    assert seen == sorted(f"导入室{i:03d}" for i in range(250))  # each once, in order
