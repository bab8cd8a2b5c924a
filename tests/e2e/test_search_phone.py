"""Finding the right help on a phone (390×844), in Debian's Chromium (#17).

A resident in 白鹭社区 of the demo city (22.7245N 113.938E) lets the page use their
location, then types what they feel. After each search the result count takes focus (it
is announced) with the first result in view; the map fits the results and its circle
follows the chosen distance; "show on map" brings the map into view; an empty result
offers a way forward; crisis words open with the 24/7 lines; back to the search from a
detail page keeps the query and filters. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, Backend, _free_port, serving
from tests.e2e.conftest import SHOTS, axe_violations, needs_chromium, playwright_api, screenshot

pytestmark = needs_chromium
expect = playwright_api.expect

HERE = {"latitude": 22.7245, "longitude": 113.938}
PHONE = {"width": 390, "height": 844}
ROOM = "白鹭社区健康服务中心心理咨询室"  # 330 m away: free, public, books online


@pytest.fixture(scope="module")
def server(sqlite_backend: Backend) -> Iterator[str]:
    url = sqlite_backend.fresh("demo")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": url,
        "RESOURCEMAP_PORT": str(port),
        "RESOURCEMAP_RUN_WORKER": "false",
        "RESOURCEMAP_FIXED_NOW": "2026-12-01T08:00:00+08:00",  # one instant every run (#14)
    }
    with serving("serve", cwd=ROOT, env=env, port=port, timeout=60) as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport=PHONE,
        geolocation=HERE,
        permissions=["geolocation"],
        locale="zh-CN",
        has_touch=True,
        is_mobile=True,
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert errors == []
    ctx.close()


IN_VIEW = """s => { const e = document.querySelector(s); if (!e) return false;
    const r = e.getBoundingClientRect();
    return r.top >= -1 && r.bottom <= innerHeight + 1; }"""


def in_view(page: Any, selector: str) -> None:
    """Wholly inside the phone's screen (allowing for a rounding pixel), once scrolling ends."""
    page.wait_for_function(IN_VIEW, arg=selector, timeout=5_000)


def announced(page: Any) -> None:
    """Focus on the result count, which is a live region, and the first result in view."""
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    assert page.evaluate("document.activeElement.id") == "result-count"
    count = page.locator("#result-count")
    expect(count).to_have_attribute("role", "status")
    expect(count).to_have_attribute("aria-live", "polite")
    in_view(page, "#result-count")
    in_view(page, "#results .result:first-child, #empty")


def answered_in_place(page: Any, field: str) -> None:
    """A filter changed: the answer is in and read out from the count's live region, and
    the focus stayed on the filter (the arrow keys step through its options, each a
    search: focus taken at each step left a keyboard user nowhere)."""
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    assert page.evaluate("document.activeElement.id") == field
    expect(page.locator("#result-count")).to_have_attribute("aria-live", "polite")


def choose(page: Any, label: str, value: str) -> None:
    """As a person does: the field takes the focus, then the choice."""
    field = page.get_by_label(label)
    field.focus()
    page.evaluate("document.body.dataset.results = 'loading'")
    field.select_option(value)


CIRCLE_IN_VIEW = """() => { const m = document.querySelector("#map").getBoundingClientRect();
    const c = document.querySelector("path.rm-circle"); if (!c) return false;
    const r = c.getBoundingClientRect();
    return r.left >= m.left - 2 && r.right <= m.right + 2 && r.top >= m.top - 2
        && r.bottom <= m.bottom + 2; }"""


def circle_in_view(page: Any) -> None:
    """The chosen distance's whole circle is on the map (once the fit's animation ends):
    the list's bound, not an edge of it."""
    page.wait_for_function(CIRCLE_IN_VIEW, timeout=5_000)


def shoot(page: Any, name: str) -> None:
    """The whole page, and what the phone's screen shows right now."""
    screenshot(page, name)
    page.screenshot(path=str(SHOTS / f"{name}-screen.png"))


def search(page: Any, text: str) -> None:
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_label("您想找什么帮助？").fill(text)
    page.get_by_role("button", name="搜索", exact=True).click()
    announced(page)


def test_a_resident_on_a_phone_finds_the_right_help(server: str, page: Any) -> None:
    page.goto(server + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)
    shoot(page, "phone-search-start")

    # Location: the nearest places come, the count is announced, the first result in view.
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_role("button", name="使用我的位置").click()
    announced(page)
    expect(page.locator("#results .result").first).to_contain_text(ROOM)
    shoot(page, "phone-located")

    # A concern in the resident's words: the room 330 m away first, saying why it matched.
    search(page, "焦虑")
    first = page.locator("#results .result").first
    expect(first.locator(".result-name")).to_have_text(ROOM)
    expect(first.locator(".why")).to_have_text("匹配原因：焦虑 → 心理咨询")
    expect(first.locator(".badge.free")).to_have_text("免费")
    expect(first.locator(".badge.book")).to_have_text("可在线预约")
    # Phone lines are never a walk.
    line = page.locator("#results .result", has_text="12320").first
    expect(line.locator(".reach")).to_contain_text("服务您所在地区的电话服务")
    expect(line.locator(".distance")).to_have_count(0)
    # The map fits the listed results (not an empty circle around the resident).
    fitted = int(page.locator("#map").get_attribute("data-fitted") or "0")
    assert fitted >= 5
    shot = "phone-anxiety"
    shoot(page, shot)
    page.evaluate("window.scrollTo(0, 0)")
    assert axe_violations(page) == [], shot

    # The circle follows the chosen distance.
    page.locator(".filters summary").click()
    expect(page.locator("#map")).to_have_attribute("data-circle", "500")
    # No distance chosen: the 500 m circle is the policy's, drawn dashed, not the list's bound.
    expect(page.locator("#map")).to_have_attribute("data-circle-chosen", "")
    expect(page.locator("path.rm-circle")).to_have_attribute("stroke-dasharray", "6 6")
    # The resident's dot is drawn above the service markers, never hidden under one.
    expect(page.locator(".leaflet-here-pane path.rm-here")).to_have_count(1)
    small = page.locator("path.rm-circle").bounding_box()
    choose(page, "距离", "3000")
    answered_in_place(page, "f-radius_m")
    expect(page.locator("#map")).to_have_attribute("data-circle", "3000")
    expect(page.locator("#map")).to_have_attribute("data-circle-chosen", "1")
    expect(page.locator("path.rm-circle")).not_to_have_attribute("stroke-dasharray", "6 6")
    page.evaluate("window.scrollTo(0, 0)")
    big = page.locator("path.rm-circle").bounding_box()
    assert big is not None and small is not None and big["width"] > small["width"] * 1.5
    circle_in_view(page)

    # "Show on map" brings the map (far up the page on a phone) into view, popup open.
    page.locator("#results .result").first.get_by_role("button", name="在地图上显示").click()
    expect(page.locator(".leaflet-popup")).to_be_visible(timeout=10_000)
    in_view(page, "#map")
    expect(page.locator(".leaflet-popup")).to_contain_text(ROOM)
    shoot(page, "phone-show-on-map")
    # The popup's link has the focus (the next step is there, not 60 Tabs away among the
    # pins), and closing the popup gives it back to the button.
    focused = page.evaluate("document.activeElement.closest('.leaflet-popup') !== null")
    assert focused and page.evaluate("document.activeElement.tagName") == "A"
    page.keyboard.press("Escape")
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    assert page.evaluate("document.activeElement.classList.contains('show-on-map')")
    # Pins are a finger's target (WCAG 2.2: 24 px), clusters named by what they hold.
    pin = page.locator(".rm-pin").first.bounding_box()
    assert pin is not None and pin["width"] >= 24 and pin["height"] >= 24
    page.get_by_role("button", name="Zoom out").click()  # the pins near the room gather
    page.get_by_role("button", name="Zoom out").click()
    cluster = page.locator(".marker-cluster").first
    expect(cluster).to_be_visible()
    assert "个服务点" in (cluster.text_content() or "")

    # Nothing fits: clear the filters, the nearest place whatever the filters, the lines.
    choose(page, "服务方式", "phone")
    answered_in_place(page, "f-mode")
    choose(page, "费用", "paid")
    answered_in_place(page, "f-fee")
    empty = page.locator("#empty")
    expect(page.locator("#result-count")).to_contain_text("没有同时符合这些条件的服务")
    expect(empty.locator(".nearest .result-name")).to_have_text(ROOM)
    expect(empty.locator("a.hotline-link").first).to_have_attribute("href", "tel:12320")
    shoot(page, "phone-empty")
    page.evaluate("document.body.dataset.results = 'loading'")
    empty.get_by_role("button", name="清除筛选条件").click()
    announced(page)
    expect(page.locator("#results .result").first.locator(".result-name")).to_have_text(ROOM)
    expect(page.get_by_label("费用")).to_have_value("")

    # Crisis words: the 24/7 lines first, in their own panel, which takes focus.
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_label("您想找什么帮助？").fill("我不想活了")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    assert page.evaluate("document.activeElement.id") == "crisis-title"
    panel = page.locator(".crisis-panel")
    in_view(page, ".crisis-panel")
    expect(panel.locator("a.call").first).to_have_attribute("href", "tel:12320")
    assert page.evaluate(
        """() => document.querySelector('.crisis-panel').compareDocumentPosition(
                   document.getElementById('results')) & Node.DOCUMENT_POSITION_FOLLOWING"""
    )
    shoot(page, "phone-crisis")

    # Back to the search from a detail page: query, place and filters as they were.
    search(page, "失眠")
    choose(page, "距离", "1000")
    answered_in_place(page, "f-radius_m")
    circle_in_view(page)  # a few results near the resident: the map still shows the 1 km
    page.locator("#results .result-name a").first.click()
    expect(page.locator("h1")).to_have_text(ROOM)
    shoot(page, "phone-detail")
    page.get_by_role("link", name="← 返回搜索").click()
    expect(page.get_by_label("您想找什么帮助？")).to_have_value("失眠")
    expect(page.get_by_label("距离")).to_have_value("1000")
    announced(page)
    expect(page.locator("#results .result").first.locator(".result-name")).to_have_text(ROOM)
    shoot(page, "phone-back")

    # A typed place goes to the server, which finds it: the address carries only what was
    # filled in, and back on the form every field is there to change again.
    page.get_by_label("您想找什么帮助？").fill("焦虑")
    page.get_by_label("附近（社区、街道或地址）").fill("白鹭社区")
    page.get_by_role("button", name="搜索", exact=True).click()
    # The server answered (a new page). Its script takes the count's focus once the map
    # shows the same set; a tap before then is the plain link's, a page load of its own.
    announced(page)
    sent = page.url.split("?", 1)[1]
    assert all(part.split("=", 1)[1] for part in sent.split("&")), sent
    assert "q=" in sent and "place=" in sent
    # 白鹭社区 reaches farther than 1 km from its centre, where distances are counted from:
    # its own counselling room is not within 1 km. The page says so, and one tap on the
    # search it offers takes the whole community in.
    reach = page.locator("#area-reach")
    expect(reach).to_be_visible()
    expect(reach).to_contain_text("其中超过1公里的服务未列出")
    expect(page.locator("#results .result-name", has_text=ROOM)).to_have_count(0)
    page.evaluate("document.body.dataset.results = 'loading'")
    reach.get_by_role("link").click()
    announced(page)
    expect(page.get_by_label("距离")).to_have_value("3000")
    expect(reach).to_be_hidden()
    expect(page.locator("#results .result-name", has_text=ROOM)).to_have_count(1)
    shoot(page, "phone-area-reach")
    page.go_back()
    expect(page.get_by_label("距离")).to_be_enabled()
    expect(page.get_by_label("您想找什么帮助？")).to_be_enabled()


CARDS = """() => [...document.querySelectorAll("#results .result")].map(li => [
    li.querySelector(".result-name").textContent.trim(),
    (li.querySelector(".badge.opens, .badge.open") || {textContent: ""}).textContent.trim()])"""


def test_searching_in_place_says_what_the_server_would(server: str, page: Any) -> None:
    """A search drawn by the page's script says what the server's page says for the same
    address (when a closed place opens, that no place was given), Back returns to the
    search before, and an empty answer with no filter set offers words, not "Clear"."""
    page.goto(server + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)

    # At 08:00 most rooms have not opened yet: each card says when it does, as the
    # server's own card for the same search does.
    search(page, "焦虑")
    drawn = page.evaluate(CARDS)
    assert any(opens.startswith("休息中 · ") for _, opens in drawn), drawn
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    assert page.evaluate(CARDS) == drawn

    # A new search is a step Back returns to.
    search(page, "失眠")
    page.evaluate("document.body.dataset.results = 'loading'")
    page.go_back()
    expect(page.get_by_label("您想找什么帮助？")).to_have_value("焦虑")
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    assert page.evaluate(CARDS) == drawn

    # Nearest first without a place: the best matches, not "Please check: request".
    page.locator(".filters summary").click()
    choose(page, "排序", "nearest")
    answered_in_place(page, "f-sort")
    expect(page.locator("#result-count")).not_to_contain_text("请检查")
    expect(page.locator("#result-count .needs-place")).to_have_text(
        "按距离排序需要一个地点：请输入社区，或使用我的位置。"
    )
    expect(page.locator("#results .result").first).to_be_visible()
    page.get_by_label("排序").select_option("")

    # In a crisis the count says the lines are among the results, and leaves out the
    # words that matched nothing ("i", "anymore"): as the server's page says it.
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_label("您想找什么帮助？").fill("I dont want to live anymore")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    expect(page.locator(".crisis-panel")).to_be_visible()
    said = page.locator("#result-count").inner_text()
    assert "含上方的24小时热线" in said and "anymore" not in said, said
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    expect(page.locator(".crisis-panel")).to_be_visible()
    assert page.locator("#result-count").inner_text() == said

    # Words asking for free services: the count and what was read, two sentences ("找到
    # 7 个服务仅显示…" ran on), said alike in place and by the server.
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_label("您想找什么帮助？").fill("免费心理咨询")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    said = page.locator("#result-count").inner_text()
    assert "个服务。仅显示免费服务。" in said, said
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    assert page.locator("#result-count").inner_text() == said

    # Words that match nothing, no filter set: nothing to clear, other words to try.
    search(page, "zzqxv")
    empty = page.locator("#empty")
    expect(empty).to_contain_text("换几个词")
    expect(empty.get_by_role("button", name="清除筛选条件")).to_have_count(0)

    # A place searched near, then the field emptied: the page no longer names it.
    page.get_by_label("您想找什么帮助？").fill("焦虑")
    page.get_by_label("附近（社区、街道或地址）").fill("白鹭社区")
    page.get_by_role("button", name="搜索", exact=True).click()
    # The server answered (a new page): the next Search is its script's to answer in place,
    # so wait for that script's first view; a tap before then went to the server.
    announced(page)
    expect(page.locator(".near")).to_contain_text("白鹭社区")
    page.get_by_label("附近（社区、街道或地址）").fill("")
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_role("button", name="搜索", exact=True).click()
    announced(page)
    expect(page.locator(".near")).to_be_hidden()
    expect(page.locator("#results .distance")).to_have_count(0)
    # … nor does the map: no dot, no circle, nothing in the legend for them.
    expect(page.locator("path.rm-circle")).to_have_count(0)
    expect(page.locator("#here-key")).to_be_hidden()


def test_a_typed_place_not_found_is_said_first_and_an_address_finds_its_community(
    server: str, page: Any
) -> None:
    """A road alone is not a place the page can find: after the search the phone shows
    that, focused, not "110 services found" as if near it; an address with its community
    is searched near the community, and the count takes focus as ever."""
    page.goto(server + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)
    page.get_by_label("您想找什么帮助？").fill("失眠")
    page.get_by_label("附近（社区、街道或地址）").fill("科创路")
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    problem = page.locator(".search-panel .problem")
    expect(problem).to_contain_text("找不到“科创路”")
    assert page.evaluate("document.activeElement.classList.contains('problem')")
    in_view(page, ".search-panel .problem")

    page.get_by_label("附近（社区、街道或地址）").fill("示例区翠岭街道白鹭社区和谐路287号")
    page.evaluate("document.body.dataset.results = 'loading'")
    page.get_by_role("button", name="搜索", exact=True).click()
    announced(page)
    expect(page.locator(".near")).to_contain_text("白鹭社区")
    expect(page.locator(".search-panel .problem")).to_have_count(0)


def test_the_skip_link_title_and_language_follow_a_search_made_in_place(
    server: str, page: Any
) -> None:
    """The skip link goes to the results without reloading the search away; the page's
    title names the search, as the server's page does; switching language keeps it."""
    page.goto(server + "/")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)
    search(page, "失眠")
    assert page.title().startswith("“失眠”的搜索结果 · ")
    page.locator(".skip-link").focus()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page.get_by_label("您想找什么帮助？")).to_have_value("失眠")  # not reloaded
    page.get_by_role("link", name="English").click()
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    expect(page.get_by_label("What are you looking for?")).to_have_value("失眠")
    assert page.title().startswith("Results for “失眠” · ")
    # The server's own page, reloaded, says the same.
    page.reload()
    assert page.title().startswith("Results for “失眠” · ")
