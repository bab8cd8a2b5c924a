"""Staff pages in one language at a time (#18): English when English is chosen, Chinese
otherwise, from the same catalogues as residents' pages; form errors summarised at the top
with links to their fields, in the staff member's language only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from resourcemap.models import Organisation, Resource
from tests.factories import run_in_db
from tests.html_helpers import attr, one, text_of
from tests.web.staff.test_pages import World, _people, browser_values, html, only_form, sign_in
from tests.web.test_english_pages import stray_chinese

ASCII_WORDS = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _people), make_client)


async def _english_names(room: int, organisation: int) -> None:
    await Resource.filter(id=room).update(name_en="Donghu Counselling Room")
    await Organisation.filter(id=organisation).update(name_en="Donghu Subdistrict Office")


def test_staff_pages_in_english_have_no_stray_chinese(world: World) -> None:
    room = world.ids["room"]
    run_in_db(world.url, lambda: _english_names(room, world.ids["own_org"]))
    with world.make(world.url) as client:
        sign_in(client, "staff")
        client.get("/staff", params={"lang": "en"})
        for path in (
            "/staff",
            "/staff/resources/new",
            f"/staff/resources/{room}/edit",
            f"/staff/resources/{room}/booking",
            "/staff/bookings",
            "/staff/bookings/stats",
            "/staff/import",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert stray_chinese(response.text) == [], path
            page = BeautifulSoup(response.text, "html.parser")
            assert page.select('small[lang="en"]') == [], path  # no second language beside
            # Names that have an English form are shown in it (the headings were Chinese).
            assert page.select('h1 [lang="zh-CN"]') == [], path
        home = BeautifulSoup(client.get("/staff").text, "html.parser")
        assert one(home, "h1").get_text(" ", strip=True) == "Listings of Donghu Subdistrict Office"
        rules = BeautifulSoup(client.get(f"/staff/resources/{room}/booking").text, "html.parser")
        assert one(rules, "h1").get_text(" ", strip=True).startswith("Donghu Counselling Room ·")


def test_chinese_staff_pages_show_one_language(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        page = html(client.get("/staff"))
        nav = one(page, ".staff-bar").get_text(" ")
        assert "我的服务资源" in nav and "My listings" not in nav
        # One sentence with the organisation in it ("云溪街道办事处 · 的服务资源" read wrong).
        heading = one(page, "h1").get_text(" ", strip=True)
        assert re.fullmatch(r"\S+的服务资源", heading), heading
        assert one(page, ".lang-switch a[hreflang=en]") is not None


def test_staff_form_errors_are_summarised_with_links_in_chinese(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get(action)), action))
        values.update(email=["not-an-email"], lat=["95"])
        response = client.post(action, data=values)
    assert response.status_code == 400
    page = html(response)
    assert page.title is not None and page.title.get_text().startswith("错误")
    summary = one(page, "#form-errors")
    assert summary.has_attr("autofocus") and attr(summary, "tabindex") == "-1"
    links = {attr(a, "href") for a in summary.select("a")}
    assert {"#f-email", "#f-lat"} <= links
    for href in links:
        assert page.select_one(href) is not None, href
    # The validator's English never reaches the Chinese page.
    for error in page.select(".field-error, #form-errors li"):
        assert not ASCII_WORDS.search(error.get_text()), error.get_text()


def test_rules_that_trap_same_day_bookings_are_saved_only_when_confirmed(world: World) -> None:
    room = world.ids["room"]
    rules = f"/staff/resources/{room}/booking"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        form = only_form(html(client.get(rules)), rules)
        values = browser_values(form) | {
            "enabled": ["1"],
            "min_notice_minutes": ["60"],
            "change_notice_minutes": ["240"],
        }
        asked = client.post(rules, data=values, follow_redirects=False)
        assert asked.status_code == 200
        page = html(asked)
        warning = one(page, "#rules-warning")
        assert "1小时" in warning.get_text() and "4小时" in warning.get_text()
        assert "未保存" not in warning.get_text()
        # Nothing saved yet: the page shows what was typed, with the confirmation inside.
        again = browser_values(only_form(page, rules))
        assert again["change_notice_minutes"] == ["240"] and again["understood"] == ["yes"]
        saved = client.post(rules, data=again, follow_redirects=False)
        assert saved.status_code == 303
        shown = html(client.get(rules))
        assert attr(one(shown, "#f-change_notice_minutes"), "value") == "240"
        assert shown.select_one("#rules-warning") is None
        # Asked once: a later save that leaves those two as they were is saved at once,
        # and says only that it was saved (bookings were open already).
        later = browser_values(only_form(shown, rules)) | {"horizon_days": ["60"]}
        resaved = client.post(rules, data=later, follow_redirects=False)
        assert resaved.status_code == 303
        said = text_of(html(client.get(rules)), ".flash")
        assert "已保存预约规则" in said and "已开通" not in said


def test_chinese_listing_form_says_per_field_what_is_wrong(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    with world.make(world.url) as client:
        sign_in(client, "staff")
        values = browser_values(only_form(html(client.get(action)), action))
        values.update(
            name_zh=[""],
            email=["not-an-email"],
            lat=["95"],
            website=["javascript:alert(1)"],
            hours_0=["9点到12点"],
            hours_1=["09:00-12:00, 11:00-13:00"],
            **{"exc-1-start_date": ["2027-01-02"], "exc-1-end_date": ["2027-01-01"]},
        )
        response = client.post(action, data=values)
    assert response.status_code == 400
    page = html(response)
    said = {
        attr(a, "href"): " ".join(a.get_text().split())
        for a in one(page, "#form-errors").select("a")
    }
    # Each message names its field: the summary lists them apart from the fields, and a
    # validator's "不能大于 90" does not say which field it means.
    assert said["#f-name_zh"] == "请填写中文名称。"
    assert said["#f-email"] == "电子邮箱：不是电子邮箱地址"
    assert said["#f-lat"] == "纬度：不能大于 90"
    assert said["#f-website"] == "网站：网址须以 http:// 或 https:// 开头"
    assert said["#f-hours_0"] == "周一：「9点到12点」格式应为 09:00-12:00。"
    assert said["#f-hours_1"].startswith("周二：") and "重叠" in said["#f-hours_1"]
    # Each field is marked with the same words, tied to its input.
    for href, words in said.items():
        name = href.removeprefix("#f-")
        if name.startswith("exc-"):
            continue
        assert one(page, f"#err-{name}").get_text(" ", strip=True).endswith(words), name
    row = one(page, "[data-row='exc-1']")
    assert "结束日期早于开始日期" in row.get_text()


def test_chinese_account_form_names_the_password_rule(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "admin")
        form = only_form(html(client.get("/staff/accounts")), "/staff/accounts/new")
        values = browser_values(form) | {
            "username": ["shorty"],
            "role": ["planner"],
            "password": ["abc1"],
        }
        response = client.post("/staff/accounts/new", data=values)
    assert response.status_code == 400
    page = html(response)
    summary = one(page, "#form-errors")
    assert "密码至少 10 个字符" in summary.get_text()
    assert not ASCII_WORDS.search(summary.get_text())


ADMIN_PAGES = ("/staff/accounts", "/staff/organisations", "/staff/organisations/new")


def test_admin_pages_and_sign_in_are_in_one_language(world: World) -> None:
    with world.make(world.url) as client:
        chinese_login = BeautifulSoup(client.get("/login").text, "html.parser")
        english_login = client.get("/login", params={"lang": "en"}).text
        sign_in(client, "admin")
        english = {path: client.get(path).text for path in ADMIN_PAGES}
        client.get("/staff", params={"lang": "zh-CN"})
        chinese = {path: html(client.get(path)) for path in ADMIN_PAGES}
    assert one(chinese_login, "h1").get_text(strip=True) == "工作人员登录"
    assert chinese_login.select('small[lang="en"]') == []
    assert stray_chinese(english_login) == []
    for path, text in english.items():
        # Organisations named only in Chinese are data: the lists of them are left out.
        assert stray_chinese(re.sub(r"<select.*?</select>", "", text, flags=re.S)) == [], path
        assert BeautifulSoup(text, "html.parser").select('small[lang="en"]') == [], path
    for path, page in chinese.items():
        assert page.select('small[lang="en"]') == [], path
        main = one(page, "main").get_text(" ")
        for word in ("Username", "Accounts", "New organisation", "Revoke", "Password", "none"):
            assert word not in main, (path, word)
    accounts = chinese["/staff/accounts"]
    assert [th.get_text(strip=True) for th in accounts.select("table.accounts th")][:3] == [
        "用户名",
        "显示名称",
        "角色",
    ]


# Words a Chinese page may show in Latin letters: formats, keys and codes, not labels.
LATIN_KEPT = {"WGS", "Ctrl", "https", "http", "HSDS", "CSV", "XLSX", "JSON", "ZIP", "SMS"}


def english_chrome(page: BeautifulSoup) -> list[str]:
    """English words in the page's own words: headings, labels, hints, buttons, choices."""
    main = one(page, "main")
    words = []
    for tag in main.select("h1, h2, h3, label, legend, .hint, button, th, option, p, li, dt"):
        if tag.find_parent(attrs={"lang": True}) or tag.get("lang"):
            continue
        words += [w for w in ASCII_WORDS.findall(tag.get_text(" ")) if w not in LATIN_KEPT]
    return words


def test_chinese_listing_form_labels_every_field_in_chinese_only(world: World) -> None:
    room = world.ids["room"]
    with world.make(world.url) as client:
        sign_in(client, "staff")
        pages = {
            path: html(client.get(path))
            for path in ("/staff/resources/new", f"/staff/resources/{room}/edit")
        }
    for path, page in pages.items():
        assert english_chrome(page) == [], path
        labels = {attr(x, "for"): x.get_text(strip=True) for x in page.select("label[for]")}
        assert labels["f-name_zh"] == "中文名称" and labels["f-lat"] == "纬度", path
        assert labels["f-hours_0"] == "周一" and labels["f-hours_6"] == "周日", path
        assert labels["f-q-0-issuer"] == "发证机关", path


def test_chinese_staff_pages_have_no_english_chrome(world: World) -> None:
    room = world.ids["room"]
    with world.make(world.url) as client:
        sign_in(client, "staff")
        for path in (
            "/staff",
            f"/staff/resources/{room}/booking",
            "/staff/bookings",
            "/staff/bookings/stats",
            "/staff/import",
        ):
            page = html(client.get(path))
            assert page.select('small[lang="en"]') == [], path
            assert english_chrome(page) == [], path
