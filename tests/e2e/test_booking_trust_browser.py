"""Booking pages people trust (#18), walked in Chromium on a phone and a desktop, in
Chinese and English: a same-day slot shows the change/cancel policy before confirming, the
confirmation says where the message went, a booking inside the change window offers the
phone, the detail page shows closed weekend days, a form's error summary takes the focus.

The server runs the real app (``resourcemap serve``) at a fixed instant, Tue 2026-12-01
08:00 Shanghai (RESOURCEMAP_FIXED_NOW), on the small test city whose counselling room is
open Mon–Fri and bookable 60 minutes ahead, changes closing 240 minutes before the start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.booking_helpers import bookable_city
from tests.conftest import ROOT, Backend, _free_port, serving
from tests.e2e.conftest import axe_violations, needs_chromium, playwright_api, screenshot
from tests.factories import run_in_db

pytestmark = needs_chromium
expect = playwright_api.expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
VIEWS = [(PHONE, "phone", "zh-CN"), (DESKTOP, "desktop", "zh-CN"), (PHONE, "phone", "en")]
VIEWS += [(DESKTOP, "desktop", "en")]


@pytest.fixture(scope="module")
def server(sqlite_backend: Backend) -> Iterator[tuple[str, int]]:
    url = sqlite_backend.fresh()
    ids = run_in_db(
        url, lambda: bookable_city(min_notice_minutes=60, change_notice_minutes=240, seats=2)
    )
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": url,
        "RESOURCEMAP_PORT": str(port),
        "RESOURCEMAP_RUN_WORKER": "false",
        "RESOURCEMAP_FIXED_NOW": "2026-12-01T08:00:00+08:00",
    }
    with serving("serve", cwd=ROOT, env=env, port=port, timeout=60) as base:
        yield base, ids["room"]


# Whether the chosen day's tab lies wholly inside the strip of days as it is scrolled.
CURRENT_TAB_IN_SIGHT = """() => {
  const strip = document.querySelector('.days ul').getBoundingClientRect();
  const tab = document.querySelector('.day-tab.current').getBoundingClientRect();
  return tab.left >= strip.left - 1 && tab.right <= strip.right + 1
    && tab.right <= window.innerWidth + 1;
}"""


def _page(browser: Any, viewport: dict[str, int], lang: str) -> Any:
    ctx = browser.new_context(viewport=viewport, locale=lang, has_touch=viewport is PHONE)
    page = ctx.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    return page


def _check(page: Any, name: str, *, axe: bool) -> None:
    screenshot(page, name)
    if axe:
        assert axe_violations(page) == [], name


@pytest.mark.parametrize(
    ("viewport", "label", "lang"), VIEWS, ids=[f"{v[1]}-{v[2]}" for v in VIEWS]
)
def test_same_day_booking_policy_confirmation_and_phone(
    server: tuple[str, int], browser: Any, viewport: dict[str, int], label: str, lang: str
) -> None:
    base, room = server
    zh = lang == "zh-CN"
    axe = label == "desktop"
    name = f"trust-{label}-{lang}"
    # Each run books its own same-day time with its own phone (booking limits count phones).
    run = VIEWS.index((viewport, label, lang))
    phone = f"1381234801{run}"
    page = _page(browser, viewport, lang)
    page.goto(f"{base}/resources/{room}?lang={'zh-CN' if zh else 'en'}")

    # Seven days of hours, the weekend closed, the holiday rule beside Sunday.
    rows = page.locator("table.hours tr")
    expect(rows).to_have_count(7)
    expect(rows.nth(5)).to_contain_text("休息" if zh else "Closed")
    expect(rows.nth(6).locator(".holiday-rule")).to_be_visible()
    # Each day's name on one line (on a phone 星期一 broke in two beside two spans of hours).
    lines = (
        rows.nth(0)
        .locator("th")
        .evaluate(
            "th => { const r = document.createRange(); r.selectNodeContents(th);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
        )
    )
    assert lines == 1, name
    _check(page, f"{name}-detail", axe=axe)

    # Error summary: nothing chosen, a bad phone; the summary has the focus, links to fields.
    page.goto(f"{base}/resources/{room}/book")
    page.locator("#phone").fill("abc")
    page.get_by_role("button", name="确认预约" if zh else "Confirm booking").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    assert page.title().startswith("错误：" if zh else "Error:")
    summary.locator("a[href='#phone']").click()
    expect(page.locator("#phone")).to_be_focused()
    _check(page, f"{name}-errors", axe=axe)

    # A same-day slot: marked, and the policy is beside the button before confirming.
    same_day = page.locator(".slot-option").filter(has=page.locator(".badge.fixed")).nth(run % 3)
    expect(same_day).to_contain_text(
        "不能在线更改或取消" if zh else "Cannot be changed or cancelled online"
    )
    same_day.locator("input").check()
    page.locator("#phone").fill(phone)
    policy = page.locator(".book-form .policy")
    expect(policy).to_contain_text("4小时" if zh else "4 hours")
    expect(policy).to_be_visible()
    _check(page, f"{name}-book", axe=axe)
    page.get_by_role("button", name="确认预约" if zh else "Confirm booking").click()

    # The confirmation: a success panel, the code large, where the message went.
    expect(page.locator(".panel-title")).to_contain_text("预约成功" if zh else "Booking confirmed")
    expect(page.locator(".panel .booking-code")).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    expect(page.locator(".sent-to")).to_contain_text(f"138****801{run}")
    # Inside the change window: no buttons that would only refuse, the phone instead.
    assert page.locator("form[action$='/cancel']").count() == 0
    call = page.locator(".change a.call")
    expect(call).to_have_attribute("href", "tel:075520000001")
    _check(page, f"{name}-booked", axe=axe)
    assert page.script_errors == []
    page.context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_an_error_keeps_the_day_and_a_move_is_said_once(
    server: tuple[str, int], browser: Any, lang: str
) -> None:
    """A day's tab keeps what was typed, and the chosen tab is in sight on a phone; Enter in
    a field books (no time chosen: the answer shows that day again, not today's times, with
    the phone typed); a wrong number is named with an example; changing the time opens on
    the booked day; after a move the page says so once, in the panel."""
    base, room = server
    zh = lang == "zh-CN"
    name = f"trust-day-{lang}"
    phone = "1371234802" + ("1" if zh else "2")
    page = _page(browser, PHONE, lang)
    page.goto(f"{base}/resources/{room}/book?lang={lang}")
    page.locator("#phone").fill("1380013800")
    last = page.locator("button.day-tab").last
    last_day = last.get_attribute("value")
    last.click()
    expect(page.locator(".day-tab.current")).to_have_count(1)
    expect(page.locator("input[name=day]")).to_have_value(last_day or "")
    expect(page.locator("#phone")).to_have_value("1380013800")
    # The click waits only for the new page to commit; days.js (deferred) scrolls the strip
    # before DOMContentLoaded.
    page.wait_for_load_state("domcontentloaded")
    assert page.evaluate(CURRENT_TAB_IN_SIGHT), "the chosen day's tab is off the strip"
    page.locator("button.day-tab[value='2026-12-03']").click()
    expect(page.locator("#phone")).to_have_value("1380013800")
    confirm = page.get_by_role("button", name="确认预约" if zh else "Confirm booking")
    page.locator("#phone").press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".day-tab.current")).to_contain_text("12月3日" if zh else "Dec 3")
    expect(page.locator("#starts_at")).to_have_value(re.compile(r"^2026-12-03T"))
    expect(page.locator("#phone")).to_have_value("1380013800")
    expect(page.locator("#phone-error")).to_contain_text("138 0013 8000")
    _check(page, f"{name}-errors", axe=False)

    page.locator("#phone").fill(phone)
    page.locator(".slot-picker input").nth(1).check()
    confirm.click()
    expect(page.locator(".panel-title")).to_contain_text("预约成功" if zh else "Booking confirmed")
    page.get_by_role("button", name="更改时间" if zh else "Change the time").click()
    expect(page.locator(".day-tab.current")).to_contain_text("12月3日" if zh else "Dec 3")
    page.locator(".slot-picker input").nth(2).check()
    page.get_by_role("button", name="改到这个时间" if zh else "Move my booking").click()
    expect(page.locator(".panel-title")).to_contain_text(
        "预约时间已更改" if zh else "Booking time changed"
    )
    assert page.locator(".flash").count() == 0
    expect(page.locator("body")).not_to_contain_text("预约成功" if zh else "Booking confirmed")
    _check(page, f"{name}-moved", axe=False)
    assert page.script_errors == []
    page.context.close()
