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
