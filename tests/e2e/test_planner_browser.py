"""The planner's workspace in a real browser (#20), on a desktop and a phone.

A district planner signs in and reads the coverage map (its summary strip, legend and
layers), the indicator matrix and the report; each is saved as a screenshot at 1366×900 and
390×844 in ``test-output/``. An area whose name is a script stays text on the planner map
and on the staff location picker (``web/static/pick.js``). The server is the real app
(``resourcemap serve``) on the demo city, with no tile server.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from geo.map_legend import STYLE, LegendRow, LegendSection, legend_html
from geo.maps import HEX_COLOURS
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
    # The layers button says its name in the page's language, its tooltip too (Leaflet's
    # said "Layers" on a Chinese page).
    toggle = frame.locator(".leaflet-control-layers-toggle")
    assert toggle.get_attribute("title") == (toggle.text_content() or "").strip() == "图层"
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
    # Names that fit, on a phone too (its frame fits the district two zooms out, where
    # none showed), none over another.
    expect(frame.locator(".rm-label-icon:not(.rm-label-hidden) .rm-label").first).to_be_visible()
    page.wait_for_timeout(300)
    _names_apart(_map_state(page))
    if size == "desktop":
        expect(legend).to_have_attribute("open", "")
        circles = frame.get_by_label("500米 服务圈", exact=False)
        before = frame.locator(".rm-legend section:not([hidden])").count()
        circles.check()
        expect(frame.locator(".rm-legend section:not([hidden])")).to_have_count(before + 1)
        circles.uncheck()
        # The hexagons' classes (ranges of thousands): each label within its swatch's
        # width, not running into the next ("212–14,60818,603–26,05…").
        frame.get_by_label("服务圈外居民（按六边形）", exact=False).check()
        ramp = frame.locator(".rm-legend section:not([hidden]) .rm-ramp span")
        expect(ramp.first).to_be_visible()
        spilled = ramp.evaluate_all("spans => spans.filter(s => s.scrollWidth > s.clientWidth + 1)")
        assert spilled == [], spilled
        frame.get_by_label("服务圈内居民比例（按区域）", exact=False).check()
    # The scale bar in the page's units ("2公里"; Leaflet wrote "2 km" on Chinese pages).
    expect(frame.locator(".leaflet-control-scale-line")).to_have_text(re.compile(r"^\d+(米|公里)$"))
    page.wait_for_timeout(500)
    screenshot(page, f"planner-map-{size}")
    assert axe_violations(page) == []
    if size == "desktop":
        # Zoomed out past the areas' width, the gap outlines go and the legend says so;
        # two zoom levels further, the names go too.
        note = frame.locator(".rm-legend .rm-zoom-note")
        expect(note).to_be_hidden()
        gaps = frame.locator("path.rm-gap")
        expect(gaps.first).to_be_visible()
        zoom = frame.locator(".leaflet-control-zoom-out")
        while gaps.first.is_visible():
            zoom.click()
            page.wait_for_timeout(300)
        expect(note).to_have_text("放大地图即可看到轮廓。")
        expect(note).to_be_visible()
        names_from = _map_state(page)["zoom"] - 2
        while _map_state(page)["zoom"] >= names_from:  # the buttons zoom by halves
            zoom.click()
            page.wait_for_timeout(300)
        expect(frame.locator(".rm-label").first).to_be_hidden()
        expect(gaps.first).to_be_hidden()

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


# The map's own view of itself, read inside its frame: Leaflet's map, the areas' box and
# the names shown, in the frame's pixels.
MAP_STATE = """() => {
  const map = window[Object.keys(window).find(k => k.startsWith("map_"))];
  const box = document.querySelector(".folium-map").getBoundingClientRect();
  const areas = [...document.querySelectorAll("path.leaflet-interactive")]
    .map(p => p.getBoundingClientRect()).filter(r => r.width > 0);
  const shown = [...document.querySelectorAll(".rm-label-icon")]
    .filter(i => getComputedStyle(i).display !== "none" &&
                 !i.classList.contains("rm-label-hidden"))
    .map(i => { const r = i.firstChild.getBoundingClientRect();
                return {name: i.textContent, box: [r.left, r.top, r.right, r.bottom]}; });
  const controls = [...document.querySelectorAll(".leaflet-control")]
    .map(c => c.getBoundingClientRect()).filter(r => r.width > 0)
    .map(r => [r.left, r.top, r.right, r.bottom]);
  return {
    zoom: map.getZoom(),
    map: [box.left, box.top, box.right, box.bottom],
    areas: areas.length ? [Math.min(...areas.map(r => r.left)), Math.min(...areas.map(r => r.top)),
                           Math.max(...areas.map(r => r.right)),
                           Math.max(...areas.map(r => r.bottom))] : null,
    names: shown,
    controls: controls,
    listOpen: !!document.querySelector(".leaflet-control-layers-expanded"),
    legendOpen: document.querySelector(".rm-legend").open,
  };
}"""


def _map_state(page: Any) -> dict[str, Any]:
    frame = page.locator("iframe.coverage-map").element_handle().content_frame()
    state: dict[str, Any] = frame.evaluate(MAP_STATE)
    return state


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _names_apart(state: dict[str, Any]) -> None:
    """At least ten names shown, each whole on the map, clear of the controls and of the
    other names."""
    names, (left, top, right, bottom) = state["names"], state["map"]
    assert len(names) >= 10, names
    for i, a in enumerate(names):
        x0, y0, x1, y1 = a["box"]
        assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom, a
        assert not [c for c in state["controls"] if _overlap(a["box"], c)], a
        assert not [b["name"] for b in names[i + 1 :] if _overlap(a["box"], b["box"])], a


def _frame_late(page: Any, width: int, height: int) -> None:
    """The page's stylesheet as it is before it has arrived, for its map frame: the frame
    ``width`` × ``height`` while the map draws itself (0×0 before the page is laid out;
    300×150, a frame's own size, without its style). Given back its size once the map is
    drawn, as the stylesheet's arrival gives it. A cold page's stylesheet came after the
    map's script about 1 load in 4: the map stayed grey, with "Invalid LatLng object:
    (NaN, NaN)"; or it kept the view fitted to 300×150 (a tiny district, no names)."""

    def style(route: Any) -> None:
        served = route.fetch()
        size = f".coverage-map{{width:{width}px!important;height:{height}px!important}}"
        route.fulfill(response=served, body=served.text() + size)

    page.route("**/static/planning*.css", style)


def _cold_load(browser: Any, base: str, cookies: Any, frame: tuple[int, int] | None) -> Any:
    """``/planning`` in a new context (nothing cached), its frame first ``frame`` in size
    when given; the page, with the errors of all its frames in ``script_errors``."""
    context = browser.new_context(viewport=SIZES["desktop"], locale="zh-CN", storage_state=cookies)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))  # every frame's
    if frame is not None:
        _frame_late(page, *frame)
    page.goto(base + "/planning")
    expect(page.frame_locator("iframe.coverage-map").locator(".rm-legend")).to_be_attached(
        timeout=15_000
    )
    if frame is not None:
        page.add_style_tag(
            content=".coverage-map{width:100%!important;height:min(46rem,80vh)!important}"
        )
    page.wait_for_timeout(800)
    return page


def test_the_coverage_map_fits_its_frame_on_every_load(
    server: tuple[str, str], browser: Any
) -> None:
    """Loaded again and again, each time cold, the frame sized before the map draws or
    only after: no page error in any frame, and the whole area fills the map, with the
    layer list and legend open and names on it, at one zoom every time."""
    base, _ = server
    signed = _signed_in(browser, base, "desktop")
    cookies = signed.context.storage_state()
    signed.context.close()
    zooms: set[float] = set()
    for frame in [None, (0, 0), (300, 150)] * 2:
        page = _cold_load(browser, base, cookies, frame)
        state = _map_state(page)
        assert page.script_errors == [], frame
        left, top, right, bottom = state["map"]
        assert right - left > 1000 and bottom - top > 600, state["map"]
        assert state["areas"] is not None, f"no area drawn ({frame})"
        x0, y0, x1, y1 = state["areas"]
        assert left - 1 <= x0 and right + 1 >= x1 and top - 1 <= y0 and bottom + 1 >= y1
        # Fitted: the area spans the map's height or width (less the legend beside it).
        assert y1 - y0 >= 0.8 * (bottom - top) or x1 - x0 >= 0.8 * (right - left), (frame, state)
        assert state["listOpen"] and state["legendOpen"] and len(state["names"]) >= 10, frame
        zooms.add(state["zoom"])
        page.context.close()
    assert len(zooms) == 1, f"one view for one frame: {zooms}"


def test_english_area_names_never_overlap_and_the_scale_is_a_bar(
    server: tuple[str, str], browser: Any
) -> None:
    """English names are long ("Fengling Community" beside "Fenglin Community"): a name
    that would run into another, under the layer list or legend, or off the map's edge
    waits for a closer zoom. The scale is a line with end ticks, not a box."""
    base, _ = server
    page = _signed_in(browser, base, "desktop")
    page.goto(base + "/planning?lang=en")
    maps = page.frame_locator("iframe.coverage-map")
    expect(maps.locator(".rm-legend")).to_be_attached(timeout=15_000)
    page.wait_for_timeout(800)
    fitted = _map_state(page)
    _names_apart(fitted)
    for _ in range(2):  # closer in, where more of them fit
        maps.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(600)
    closer = _map_state(page)
    _names_apart(closer)
    waited = {a["name"] for a in closer["names"]} - {a["name"] for a in fitted["names"]}
    assert waited, "closer in, names left out before appear"
    scale = maps.locator(".leaflet-control-scale-line")
    expect(scale).to_have_text(re.compile(r"^\d+ (m|km)$"))
    look = scale.evaluate(
        """e => { const s = getComputedStyle(e);
                  return [s.backgroundColor, s.borderTopWidth, s.borderLeftWidth,
                          s.borderRightWidth, s.borderBottomWidth]; }"""
    )
    assert look == ["rgba(0, 0, 0, 0)", "0px", "0px", "0px", "2px"]
    screenshot(page, "planner-map-names-en")
    assert page.script_errors == []
    page.context.close()


def test_a_legend_of_long_ranges_keeps_each_within_its_swatch(browser: Any) -> None:
    """A province's hexagons hold thousands: five ranges such as "14,608–26,052" side by
    side ran into each other in a 19rem legend (a planner's walk-through on Shenzhen).
    Each breaks after its dash within its swatch's width."""
    rows = [
        LegendRow(colour, text)
        for colour, text in zip(
            HEX_COLOURS,
            ["212–14,608", "14,608–26,052", "26,052–27,303", "27,303–54,731", "54,731–100,258"],
            strict=False,
        )
    ]
    legend = legend_html([LegendSection("hex", "服务圈外居民", rows, ramp=True)], "图例")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.set_content(f'{STYLE}<details class="rm-legend" open>{legend}</details>')
        spans = page.locator(".rm-ramp span")
        assert spans.count() == 5
        spilled = spans.evaluate_all("ss => ss.filter(s => s.scrollWidth > s.clientWidth + 1)")
        boxes = [spans.nth(i).bounding_box() for i in range(5)]
    finally:
        page.close()
    assert spilled == [], spilled
    for a, b in itertools.pairwise(boxes):
        assert a is not None and b is not None and a["x"] + a["width"] <= b["x"] + 0.5
