"""Staff pages in one language at a time (#18): English when English is chosen, Chinese
otherwise, from the same catalogues as residents' pages; form errors summarised at the top
with links to their fields, in the staff member's language only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.factories import run_in_db
from tests.html_helpers import attr, one
from tests.web.staff.test_pages import World, _people, browser_values, html, only_form, sign_in
from tests.web.test_english_pages import stray_chinese

ASCII_WORDS = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _people), make_client)


def test_staff_pages_in_english_have_no_stray_chinese(world: World) -> None:
    room = world.ids["room"]
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


def test_chinese_staff_pages_show_one_language(world: World) -> None:
    with world.make(world.url) as client:
        sign_in(client, "staff")
        page = html(client.get("/staff"))
        nav = one(page, ".staff-bar").get_text(" ")
        assert "我的服务资源" in nav and "My listings" not in nav
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
