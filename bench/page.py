"""The residents' search page in headless Chromium: 10,000 service points against 100.

Builds two temporary SQLite databases (the demo city topped up with synthetic resources; in
the small one all but 100 are closed, so the page shows 100), serves the real app on each
(one uvicorn worker) and opens the home page in Debian's Chromium several times, reading
from the browser's own clock:

- first results: first contentful paint (the server renders the result list);
- map ready: every point loaded, clustered and drawn (``performance.mark("rm-map-ready")``
  in ``web/static/map.js``).

    python bench/page.py            # 10,000 vs 100 resources, 5 loads each
    python bench/page.py --quick    # 2,000 vs 100, 3 loads each

Prints medians and the ratios large/small; the ratio is the result (the goal: the page a
resident sees first does not slow down with the size of the city).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from harness.servers import uvicorn_server
from harness.synthetic import populate

from resourcemap import db
from resourcemap.models import Resource
from resourcemap.vocab import Status

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SMALL = 100
SEED = 8


async def build(url: str, resources: int) -> int:
    count = await populate(url, max(resources, SMALL), SEED)
    if resources <= SMALL:
        async with db.database(url):
            ids = await Resource.all().order_by("id").values_list("id", flat=True)
            cut = ids[SMALL - 1]
            await Resource.filter(id__gt=cut).update(status=Status.CLOSED)
            count = await Resource.filter(status=Status.ACTIVE).count()
    return count


def measure(base_url: str, loads: int) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    paint: list[float] = []
    ready: list[float] = []
    shown = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for i in range(loads + 1):  # the first load warms the server's caches
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base_url + "/")
            page.wait_for_selector("#map[data-ready='1']", state="attached", timeout=60_000)
            fcp, mark = page.evaluate(
                """() => [
                  performance.getEntriesByName('first-contentful-paint')[0].startTime,
                  performance.getEntriesByName('rm-map-ready')[0].startTime]"""
            )
            shown = int(page.get_attribute("#map", "data-shown") or 0)
            if i:
                paint.append(fcp)
                ready.append(mark)
            page.close()
        browser.close()
    return paint, ready, shown


def run(resources: int, loads: int, workdir: Path) -> tuple[float, float, int]:
    url = f"sqlite://{workdir / f'page-{resources}.sqlite3'}"
    asyncio.run(build(url, resources))
    env = {"RESOURCEMAP_DATABASE_URL": url, "RESOURCEMAP_RUN_WORKER": "false"}
    with uvicorn_server("web.asgi:app", env=env, log_path=workdir / f"app-{resources}.log") as base:
        paint, ready, shown = measure(base, loads)
    return statistics.median(paint), statistics.median(ready), shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 resources, 3 loads")
    args = parser.parse_args()
    large, loads = (2_000, 3) if args.quick else (10_000, 5)
    with tempfile.TemporaryDirectory(prefix="rm-page-") as tmp:
        small_fcp, small_ready, small_n = run(SMALL, loads, Path(tmp))
        large_fcp, large_ready, large_n = run(large, loads, Path(tmp))
    print(f"{'points':>8} {'first results ms':>17} {'map ready ms':>13}")
    print(f"{small_n:>8} {small_fcp:>17.0f} {small_ready:>13.0f}")
    print(f"{large_n:>8} {large_fcp:>17.0f} {large_ready:>13.0f}")
    print(f"ratio first results {large_n} / {small_n}: {large_fcp / small_fcp:.2f}")
    print(f"ratio map ready     {large_n} / {small_n}: {large_ready / small_ready:.2f}")


if __name__ == "__main__":
    main()
