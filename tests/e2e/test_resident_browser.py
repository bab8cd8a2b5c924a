"""A resident's whole visit in a real browser, on a phone and a desktop, in Chinese and English.

They let the page use their location, search "焦虑", filter to free services open now, open a
result, book a slot, see the code, and cancel it. The server is the real app started as an
operator would (``resourcemap serve``) on the demo city plus one free 24/7 counselling room
that takes bookings, so "open now" has an answer at any hour the suite runs. Its tile server
is configured but unreachable, as on an intranet whose tile server is down: the map must
still show areas and points.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from resourcemap.models import BookingPolicy, Resource
from tests.conftest import ROOT, Backend, _free_port, serving
from tests.e2e.conftest import (
    axe_violations,
    needs_chromium,
    playwright_api,
    screenshot,
    watch_outside,
)
from tests.factories import run_in_db

pytestmark = needs_chromium
expect = playwright_api.expect

HERE = {"latitude": 22.7512, "longitude": 113.9301}
ROOM = "示例24小时焦虑倾诉室"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


async def _add_room() -> None:
    room = await Resource.create(
        kind="community_room",
        name_zh=ROOM,
        name_en="Demo 24-hour Anxiety Listening Room",
        description_zh="缓解焦虑、压力的倾诉与心理咨询,全天开放",
        services=["counselling"],
        audiences=["everyone"],
        languages=["zh", "en"],
        modes=["in_person"],
        accessibility=["wheelchair"],
        fee="free",
        always_open=True,
        phone="0755-20001234",
        lat=HERE["latitude"] + 0.002,
        lon=HERE["longitude"] + 0.001,
        address_zh="示例市示例区宁静路8号",
        source="synthetic-demo",
    )
    await BookingPolicy.create(
        resource_id=room.id,
        slot_minutes=50,
        buffer_minutes=10,
        seats=2,
        min_notice_minutes=0,
        horizon_days=14,
        change_notice_minutes=0,
    )


@pytest.fixture(scope="module")
def server(sqlite_backend: Backend) -> Iterator[tuple[str, str]]:
    url = sqlite_backend.fresh("demo")
    run_in_db(url, _add_room)
    port = _free_port()
    tiles = f"http://127.0.0.1:{_free_port()}/tiles"  # nothing listens there
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": url,
        "RESOURCEMAP_PORT": str(port),
        "RESOURCEMAP_RUN_WORKER": "false",
        "RESOURCEMAP_TILE_URL": tiles + "/{z}/{x}/{y}.png",
        "RESOURCEMAP_TILE_ATTRIBUTION": "© 测试底图",
        # One instant for every run (#14): a Tuesday morning, tomorrow a whole free day.
        "RESOURCEMAP_FIXED_NOW": "2026-12-01T08:00:00+08:00",
    }
    with serving("serve", cwd=ROOT, env=env, port=port, timeout=60) as base:
        yield base, tiles


def _page(browser: Any, viewport: dict[str, int], **context: Any) -> Any:
    ctx = browser.new_context(
        viewport=viewport,
        geolocation=HERE,
        permissions=["geolocation"],
        locale="zh-CN",
        **context,
    )
    page = ctx.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    return page


def _check(page: Any, name: str, *, axe: bool) -> None:
    screenshot(page, name)
    if axe:
        assert axe_violations(page) == [], name


@pytest.mark.parametrize(
    ("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")], ids=["desktop", "phone"]
)
def test_resident_finds_books_and_cancels(
    server: tuple[str, str], browser: Any, viewport: dict[str, int], label: str
) -> None:
    base, tiles = server
    axe = label == "desktop"  # same markup on both; the phone run checks layout and flow
    page = _page(browser, viewport, has_touch=label == "phone")
    outside = watch_outside(page, base)
    page.goto(base + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)
    # No tile answered, yet the city's areas and its points are on the map.
    assert page.locator("path.rm-area").count() >= 20
    assert page.locator(".marker-cluster, .rm-pin").count() >= 5
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("© 测试底图")
    _check(page, f"home-{label}", axe=axe)

    # Near a point: the browser's location, with the 500 m circle drawn around it.
    page.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("path.rm-circle")).to_have_count(1)
    page.get_by_label("您想找什么帮助？").fill("焦虑")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("#results .result").first).to_contain_text(ROOM)
    page.locator(".filters summary").click()
    page.get_by_label("费用").select_option("free")
    page.get_by_label("正在开放").check()
    first = page.locator("#results .result").first
    expect(first).to_contain_text(ROOM)
    expect(first.locator(".badge.open")).to_have_text("正在开放")
    expect(first.locator(".distance")).to_contain_text(re.compile(r"\d+米 · 步行约 \d+ 分钟"))
    # Searched in place around a point with no distance: the count says it is every match.
    expect(page.locator("#result-count")).to_contain_text(
        re.compile(r"找到 \d+ 个服务（不限距离，附近最合适的在前）")
    )
    expect(page.locator("#map")).to_have_attribute("data-ready", "1")
    assert "open_now=true" in page.url and "fee=free" in page.url  # a shareable state
    _check(page, f"search-{label}", axe=axe)

    first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(ROOM)
    # A 24/7 service has hundreds of slots a fortnight: a few days, a few times each.
    assert page.locator(".slots-preview h3.day").count() <= 3
    assert page.locator(".slots-preview a.slot").count() <= 18
    _check(page, f"detail-{label}", axe=axe)

    # Not the very next time: it may start while the test runs, and a started booking
    # can no longer be cancelled online.
    page.locator(".slots-preview a.slot").nth(1).click()
    expect(page.locator("input[name=starts_at]:checked")).to_have_count(1)
    page.get_by_label("怎么称呼您？").fill("小林")
    _check(page, f"book-{label}", axe=axe)
    page.get_by_role("button", name="确认预约").click()

    expect(page.locator(".booking-code")).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    expect(page.locator(".panel-title")).to_contain_text("预约成功")
    assert page.locator("a[href*='.ics']").count() == 1
    _check(page, f"booked-{label}", axe=axe)

    if axe:  # the other booking pages, once
        page.get_by_role("button", name="更改时间").click()
        expect(page.locator("h1")).to_have_text("更改时间")
        _check(page, f"reschedule-{label}", axe=axe)
        page.get_by_role("link", name="← 返回您的预约").click()
        expect(page.locator(".booking-code")).to_be_visible()

    page.get_by_role("button", name="取消预约").click()
    expect(page.locator("h1")).to_have_text("确定要取消这个预约吗？")
    _check(page, f"cancel-{label}", axe=axe)
    page.get_by_role("button", name="是的，取消预约").click()
    expect(page.locator(".status")).to_have_text("已取消")
    _check(page, f"cancelled-{label}", axe=axe)
    outside = [u for u in outside if not u.startswith(tiles)]
    assert outside == [], f"the page reached outside the app: {outside}"
    assert page.script_errors == []
    page.context.close()


# The selects whose chosen option's text is wider than the select shows it.
CUT_OFF_SELECTS = """() => { const c = document.createElement("canvas").getContext("2d");
    return [...document.querySelectorAll(".filters select")].filter(s => {
        const st = getComputedStyle(s); c.font = st.font;
        const room = s.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight) - 20;
        return c.measureText(s.options[s.selectedIndex].text).width > room;
    }).map(s => s.id + ": " + s.options[s.selectedIndex].text); }"""


def test_english_pages_and_keyboard_slot_picker(server: tuple[str, str], browser: Any) -> None:
    page = _page(browser, DESKTOP, reduced_motion="reduce")
    page.goto(server[0] + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)
    # A resident who asked for less motion gets a map that does not fade or glide.
    assert "leaflet-fade-anim" not in (page.locator("#map").get_attribute("class") or "")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#search-title")).to_have_text("Find mental health help near you")
    expect(page.locator("#map-status")).to_contain_text("service points on the map")
    page.get_by_label("What are you looking for?").fill("焦虑")
    page.keyboard.press("Enter")
    expect(page.locator("#results .result").first).to_contain_text(
        "Demo 24-hour Anxiety Listening Room"
    )
    _check(page, "home-en", axe=True)
    # One place on the map is one "service point", not "1 service points".
    page.get_by_label("What are you looking for?").fill("白鹭社区健康服务中心心理咨询室")
    page.keyboard.press("Enter")
    expect(page.locator("#map-status")).to_contain_text("1 service point on the map")
    page.get_by_label("What are you looking for?").fill("焦虑")
    page.keyboard.press("Enter")
    expect(page.locator("#results .result").first).to_contain_text(
        "Demo 24-hour Anxiety Listening Room"
    )
    # Every filter's chosen option can be read whole ("Best match near y…" was cut off).
    page.locator(".filters summary").click()
    cut = page.evaluate(CUT_OFF_SELECTS)
    assert cut == [], cut
    page.locator("#results .result a").first.click()
    expect(page.locator(".facts")).to_contain_text("Wheelchair accessible")
    page.get_by_role("link", name="More times").click()
    # Tomorrow (Wednesday) has every hour free.
    page.locator("button.day-tab").first.click()
    # Keyboard only: Tab to the first time, arrows move between times, Space chooses.
    radios = page.locator("input[name=starts_at]")
    radios.first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(radios.nth(1)).to_be_checked()
    _check(page, "book-en", axe=True)
    page.keyboard.press("Tab")
    expect(page.locator("#nickname")).to_be_focused()
    start = radios.first.get_attribute("value")
    resource = page.url.split("/resources/")[1].split("/")[0]
    page.goto(f"{server[0]}/resources/{resource}/waitlist?start={quote(start or '')}")
    expect(page.locator("h1")).to_have_text("Join the waitlist")
    _check(page, "waitlist-join-en", axe=True)
    page.goto(server[0] + "/resources/999999")
    expect(page.locator("h1")).to_have_text("Not found")
    _check(page, "not-found-en", axe=True)
    assert page.script_errors == []
    page.context.close()


def test_booking_works_with_javascript_off(server: tuple[str, str], browser: Any) -> None:
    page = _page(browser, PHONE, java_script_enabled=False)
    page.goto(server[0] + "/?q=" + quote("焦虑") + "&fee=free&open_now=true")
    first = page.locator("#results .result").first
    expect(first).to_contain_text(ROOM)
    first.get_by_role("link").click()
    page.locator(".slots-preview a.slot").nth(1).click()
    page.get_by_role("button", name="确认预约").click()
    expect(page.locator(".booking-code")).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    page.get_by_role("button", name="取消预约").click()
    page.get_by_role("button", name="是的，取消预约").click()
    expect(page.locator(".status")).to_have_text("已取消")
    screenshot(page, "cancelled-no-js")
    page.context.close()


@pytest.mark.parametrize(
    ("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")], ids=["desktop", "phone"]
)
def test_a_service_page_maps_the_place_and_says_how_far(
    server: tuple[str, str], browser: Any, viewport: dict[str, int], label: str
) -> None:
    base, _tiles = server
    page = _page(browser, viewport, has_touch=label == "phone")
    page.goto(base + "/?" + urlencode({"lat": HERE["latitude"], "lon": HERE["longitude"]}))
    page.locator("#results .result a", has_text=ROOM).first.click()
    page.wait_for_load_state()
    place_map = page.locator("#place-map")
    expect(place_map).to_be_visible()
    expect(place_map.locator(".leaflet-interactive")).to_have_count(3)  # place, point, line
    expect(place_map.locator(".leaflet-tooltip")).to_contain_text(ROOM)
    expect(page.locator(".away")).to_contain_text("米")
    _check(page, f"detail-map-{label}", axe=label == "desktop")
    page.goto(page.url + "&lang=en")
    expect(page.locator(".away")).to_contain_text(" m from ")
    expect(page.locator("#place-map .leaflet-tooltip")).to_contain_text("Anxiety Listening Room")
    _check(page, f"detail-map-en-{label}", axe=False)
    assert page.script_errors == []
    page.context.close()
