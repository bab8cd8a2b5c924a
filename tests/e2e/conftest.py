"""Shared set-up for the browser tests: Debian's Chromium driven by Playwright, axe-core.

One browser per test module; never a downloaded browser. axe-core is vendored under
``vendor/`` (test-only, the app never serves it) and injected into each page checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parents[2] / "test-output"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BLOCKING = ("serious", "critical")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is of the browser tier (``-m "not e2e"`` leaves it out)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def axe_violations(page: Any) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations on the page once the map is still.

    Cluster icons fade in (opacity transition); mid-fade their text has less contrast than
    at rest, so a check taken then would report the animation, not the page.
    """
    page.wait_for_function(
        """() => !document.querySelector('.leaflet-cluster-anim') &&
           [...document.querySelectorAll('.leaflet-marker-icon')]
             .every(e => getComputedStyle(e).opacity === '1')""",
        timeout=10_000,
    )
    # Icons may still arrive (clusters load in chunks) and fade in while axe runs: for the
    # check, every transition ends at once, so axe sees each element at rest.
    still = page.add_style_tag(
        content="*, *::before, *::after { transition: none !important; "
        "animation: none !important; }"
    )
    # Evaluated through the DevTools protocol rather than as a <script> tag: the app's
    # Content-Security-Policy (script-src 'self') rightly refuses inline scripts.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    try:
        result = page.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
        )
    finally:
        still.evaluate("e => e.remove()")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['html'][:120] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def watch_outside(page: Any, base: str) -> list[str]:
    """Requests that leave the app (a CDN, tiles, fonts): collected for an assertion."""
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((base, "data:", "blob:")) else outside.append(r.url),
    )
    return outside
