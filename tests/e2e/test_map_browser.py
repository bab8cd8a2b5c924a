"""The residents' map in a real browser, on the demo city with no internet.

Every service point loads from the app's own API and is drawn in clusters; a resident opens a
cluster, clicks a point and reads its name with a link to the details.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import (
    axe_violations,
    needs_chromium,
    playwright_api,
    screenshot,
    watch_outside,
)

pytestmark = needs_chromium
expect = playwright_api.expect


def test_map_clusters_points_and_opens_a_popup(browser: Any, demo_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    outside = watch_outside(page, demo_server)
    page.goto(demo_server + "/")
    status = page.locator("#map-status")
    expect(status).to_have_text(re.compile(r"地图上有 \d+ 个服务点"), timeout=15_000)
    shown = int(page.locator("#map").get_attribute("data-shown") or 0)
    # Every point open to the public (members-only rooms come when a search asks, #17).
    assert shown >= 100
    clusters = page.locator(".marker-cluster")
    assert clusters.count() >= 5, "points are clustered at the city's zoom"
    assert clusters.count() + page.locator(".rm-pin").count() < shown
    assert page.locator("path.rm-area").count() >= 20
    # Zoom into the biggest cluster until single points show, then open one.
    for _ in range(6):
        if page.locator(".rm-pin").count() >= 3:
            break
        page.locator(".marker-cluster").first.click()
        page.wait_for_timeout(400)
    page.locator(".rm-pin").first.click()
    popup = page.locator(".leaflet-popup-content .popup")
    expect(popup).to_be_visible(timeout=5_000)
    assert popup.locator("h2").inner_text().strip()
    assert popup.locator("a[href^='/resources/']").count() == 1
    assert page.locator(".crisis a[href='tel:12320']").count() == 1
    screenshot(page, "map-clusters-1280x800")
    assert axe_violations(page) == []
    assert outside == [], f"the page reached outside the app: {outside}"
    page.close()


LABELS = """() => { const m = document.querySelector("#map").getBoundingClientRect();
    return [...document.querySelectorAll(".area-label")].map(l => {
        const r = l.getBoundingClientRect();
        return {text: l.textContent, l: r.left - m.left, r: r.right - m.left,
                t: r.top - m.top, b: r.bottom - m.top, w: m.width, h: m.height}; }); }"""


def settled_labels(page: Any) -> list[dict[str, Any]]:
    """The area names once the map has stopped moving (a fit or zoom animates, and the names
    are placed again at its end): the same twice in a row."""
    expect(page.locator("body")).to_have_attribute("data-results", "ready", timeout=15_000)
    before = page.evaluate(LABELS)
    for _ in range(20):
        page.wait_for_timeout(250)
        now = page.evaluate(LABELS)
        if now == before and now:
            return list(now)
        before = now
    raise AssertionError(f"the names never settled: {before}")


def test_the_map_names_its_areas_and_says_what_its_marks_are(
    browser: Any, demo_server: str
) -> None:
    """With no background tiles the areas' names say where the map is: whole, inside the
    map, none over another. Near a typed place the legend names its dot and circle; a
    service's own small map shows its whole name."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(demo_server + "/?q=失眠&place=白鹭社区")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)
    labels = settled_labels(page)
    assert len(labels) >= 5 and any(lab["text"] == "白鹭社区" for lab in labels), labels
    for lab in labels:
        assert lab["text"].endswith("社区"), lab
        assert lab["l"] >= 0 and lab["t"] >= 0 and lab["r"] <= lab["w"] and lab["b"] <= lab["h"]
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart = a["r"] <= b["l"] or b["r"] <= a["l"] or a["b"] <= b["t"] or b["b"] <= a["t"]
            assert apart, (a, b)
    key = page.locator("#here-key")
    expect(key).to_be_visible()
    expect(key).to_contain_text("您的位置或输入的地点")
    expect(key).to_contain_text("500米服务圈")
    screenshot(page, "map-labels-1280x800")
    # In English the names go without "Community": the long forms left most areas unnamed.
    page.goto(demo_server + "/?lang=en")
    english = settled_labels(page)
    assert len(english) >= 5 and not any(" Community" in lab["text"] for lab in english), english
    page.goto(demo_server + "/?q=失眠&place=白鹭社区&lang=zh-CN")
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#results .result-name a").first.click()
    tip = page.locator("#place-map .place-name")
    expect(tip).to_be_visible()
    box, frame = tip.bounding_box(), page.locator("#place-map").bounding_box()
    assert box is not None and frame is not None
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
    page.close()
