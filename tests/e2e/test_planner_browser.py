"""The planner's workspace in a real browser (#20), on a desktop and a phone.

A district planner signs in and reads the coverage map (its summary strip, legend and
layers), the indicator matrix and the report; each is saved as a screenshot at 1366×900 and
390×844 in ``test-output/``. An area whose name is a script stays text on the planner map
and on the staff location picker (``web/static/pick.js``). The server is the real app
(``resourcemap serve``) on the demo city, with no tile server.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from resourcemap import accounts
from resourcemap.models import Area
from resourcemap.vocab import Role
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

PASSWORD = "correct-horse-9"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
TARGET = "449901001001"
EDITED = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


async def _accounts() -> None:
    await accounts.create_account(None, username="plan", password=PASSWORD, role=Role.PLANNER)
    await accounts.create_account(None, username="boss", password=PASSWORD, role=Role.ADMIN)


@pytest.fixture(scope="module")
def server(sqlite_backend: Backend) -> Iterator[tuple[str, str]]:
    url = sqlite_backend.fresh("demo")
    run_in_db(url, _accounts)
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
        yield base, url


def _signed_in(browser: Any, base: str, size: str, user: str = "plan") -> Any:
    page = browser.new_context(viewport=SIZES[size], locale="zh-CN").new_page()
    page.script_errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit], form button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("size", list(SIZES))
def test_planner_reads_map_matrix_and_report(
    server: tuple[str, str], browser: Any, size: str
) -> None:
    base, _ = server
    page = _signed_in(browser, base, size)
    outside = watch_outside(page, base)

    page.goto(base + "/planning")
    strip = page.locator(".summary-strip")
    expect(strip).to_contain_text("1,100,000")
    expect(strip.locator(".gap-area")).to_have_count(3)
    frame = page.frame_locator("iframe.coverage-map")
    legend = frame.locator(".rm-legend")
    expect(legend).to_be_attached(timeout=15_000)
    # The choropleth and its legend; circles off until asked for.
    expect(frame.locator(".rm-legend section:not([hidden]) .rm-ramp span")).to_have_count(6)
    assert frame.locator("path.leaflet-interactive").count() >= 30
    # The service points: one canvas in a pane above the area fills, with dots drawn on it.
    dots = frame.locator(".leaflet-rm-marks-pane canvas").first
    expect(dots).to_be_attached()
    inked = dots.evaluate(
        """c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    assert inked > 100
    if size == "desktop":
        expect(legend).to_have_attribute("open", "")
        expect(frame.locator(".rm-label").first).to_be_visible()
        circles = frame.get_by_label("500米 服务圈", exact=False)
        before = frame.locator(".rm-legend section:not([hidden])").count()
        circles.check()
        expect(frame.locator(".rm-legend section:not([hidden])")).to_have_count(before + 1)
        circles.uncheck()
    page.wait_for_timeout(500)
    screenshot(page, f"planner-map-{size}")
    assert axe_violations(page) == []
    if size == "desktop":
        # Zoomed out past the names, the gap outlines go with them, and the legend says so.
        note = frame.locator(".rm-legend .rm-zoom-note")
        expect(note).to_be_hidden()
        gaps = frame.locator("path.rm-gap")
        expect(gaps.first).to_be_visible()
        for _ in range(6):
            frame.locator(".leaflet-control-zoom-out").click()
        expect(frame.locator(".rm-label").first).to_be_hidden()
        expect(gaps.first).to_be_hidden()
        expect(note).to_have_text("放大地图即可看到轮廓。")
        expect(note).to_be_visible()

    page.goto(base + "/planning/indicators")
    expect(page.locator("table.matrix tbody tr.area-row")).to_have_count(30)
    first = page.locator("table.matrix td.cell details").first
    first.locator("summary").click()
    expect(first.locator(".counts")).to_be_visible()
    screenshot(page, f"planner-matrix-{size}")
    assert axe_violations(page) == []
    page.emulate_media(media="print")
    assert page.locator(".planning-nav").is_hidden()
    page.emulate_media(media="screen")

    page.goto(base + "/planning/access")
    expect(page.locator("table.access-table tbody tr")).to_have_count(30)
    assert axe_violations(page) == []

    report = page.context.new_page()
    errors: list[str] = []
    report.on("pageerror", lambda exc: errors.append(str(exc)))
    report.goto(base + "/api/v1/coverage/report.html")
    expect(report.locator("#rm-report h1")).to_have_text("服务圈覆盖报告")
    expect(report.locator(".rm-legend")).to_be_attached(timeout=15_000)
    report.wait_for_timeout(500)
    # The whole district fits beside (or, on a phone, above) the table: the map's area
    # bounds lie inside the map's box.
    inside = report.evaluate(
        """() => {
          const box = document.querySelector('.folium-map').getBoundingClientRect();
          const paths = [...document.querySelectorAll('path.leaflet-interactive')]
            .map(p => p.getBoundingClientRect());
          return paths.every(r => r.left >= box.left - 1 && r.right <= box.right + 1
                                && r.top >= box.top - 1 && r.bottom <= box.bottom + 1);
        }"""
    )
    assert inside, "part of the district lies outside the report's map"
    screenshot(report, f"planner-report-{size}")
    assert page.script_errors == [] and errors == []
    assert outside == [], f"the pages reached outside the app: {outside}"
    page.context.close()


def _hover_until(page: Any, shapes: Any, text: str) -> Any:
    """Point at each shape in turn until a tooltip with ``text`` opens; that tooltip."""
    for i in range(shapes.count()):
        shapes.nth(i).dispatch_event("mouseover")
        found = page.locator(".leaflet-tooltip", has_text=text)
        if found.count():
            return found
        shapes.nth(i).dispatch_event("mouseout")
    raise AssertionError(f"no shape has a tooltip with {text!r}")


def test_a_script_in_an_area_name_never_runs(server: tuple[str, str], browser: Any) -> None:
    base, url = server

    async def rename() -> None:
        # A later updated_at, as an edit through the app leaves: cached analyses renew.
        # Both names: an English map names areas in English.
        await Area.filter(code=TARGET).update(name_zh=HOSTILE, name_en=HOSTILE, updated_at=EDITED)

    # Playwright's loop runs in this thread: the database call gets its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(run_in_db, url, rename).result()
    page = _signed_in(browser, base, "desktop")
    page.goto(base + "/planning/map?lang=en")
    label = page.locator(".rm-label", has_text="alert(2)")
    expect(label).to_have_text(HOSTILE)  # the area's name on the map: the text it is
    tooltip = _hover_until(page, page.locator("path.leaflet-interactive"), "alert(2)")
    assert HOSTILE in tooltip.inner_text()  # the tooltip: text too
    assert page.dialogs == [] and page.locator("img[src='x']").count() == 0
    page.context.close()

    staff = _signed_in(browser, base, "desktop", user="boss")
    staff.goto(base + "/staff/resources/new")
    picker = staff.locator("#pick-map")
    expect(picker.locator("path.leaflet-interactive").first).to_be_attached(timeout=15_000)
    staff.wait_for_timeout(500)
    tip = _hover_until(staff, picker.locator("path.leaflet-interactive"), "alert(2)")
    expect(tip).to_have_text(HOSTILE)
    assert staff.dialogs == [] and staff.locator("img[src='x']").count() == 0
    staff.context.close()
