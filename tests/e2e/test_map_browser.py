"""The demo map in a real browser (Debian's Chromium driven by Playwright).

A resident opens the page, sees the service points of the demo city on a map with no
internet, clicks one and reads its name, kind, address, hours and phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parents[2] / "test-output"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_map_shows_points_and_a_popup_with_the_details(
    browser: object, demo_server: str, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((demo_server, "data:")) else outside.append(r.url),
    )
    page.goto(demo_server + "/")
    status = page.locator("#map-status")
    playwright_api.expect(status).to_have_text(re.compile(r"^\d+ 个服务点"), timeout=15_000)
    count = int(status.inner_text().split()[0])
    assert count >= 200
    markers = page.locator("path.rm-marker")
    assert markers.count() == count
    assert page.locator("path.rm-area").count() >= 20
    # Markers overlap at small zooms: click where one is drawn, whichever is on top answers.
    markers.nth(count // 2).click(force=True)
    popup = page.locator(".leaflet-popup-content .popup")
    playwright_api.expect(popup).to_be_visible(timeout=10_000)
    text = popup.inner_text()
    for label in ("地址", "开放时间", "电话", "示例数据 / synthetic demo data"):
        assert label in text, text
    assert popup.locator("h2").inner_text().strip()
    assert popup.locator("a[href^='tel:']").count() == 1
    assert page.locator(".crisis a[href='tel:12320']").count() == 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"map-{width}x{height}.png"))
    assert outside == [], f"the page reached outside the app: {outside}"
    page.close()
