"""Planner pages and API on the demo city (1.1 M residents on 12k grid cells): cold and warm.

Loads the demo city into a temporary SQLite database, serves the real app (one uvicorn
worker, no booking worker), signs in as a planner and times every planner page and API
answer: the first request after start (cold: nothing computed yet) and the median of the
next ``--repeat`` (warm). Goals (#20): warm < 1 s, cold < 5 s on the 2-core machine. The
ratio printed beside each warm time is against ``/api/v1/coverage`` measured in the same
run, the plain coverage answer every planner page starts from.

    python bench/planning.py            # 5 warm requests each
    python bench/planning.py --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from harness.servers import uvicorn_server

from resourcemap import accounts, db, schema
from resourcemap.demo.city import load_demo_city
from resourcemap.vocab import Role

PASSWORD = "correct-horse-9"
GOAL_WARM_S, GOAL_COLD_S = 1.0, 5.0
GETS = [
    "/api/v1/coverage",
    "/planning",
    "/planning/map",
    "/planning/access",
    "/planning/indicators",
    "/planning/siting",
    "/api/v1/coverage/report.html",
    "/api/v1/access?level=street",
    "/api/v1/indicators?level=community",
    "/api/v1/indicators.xlsx?level=community",
    "/api/v1/heatmap",
    "/api/v1/coverage/gaps.geojson",
]
POSTS = [
    ("/api/v1/siting", {"sites": 3}),
    ("/api/v1/siting", {"sites": 3, "objective": "access"}),
]
FORMS = [("/planning/siting", {"sites": "3", "objective": "circle"})]


async def build(url: str) -> None:
    await schema.migrate(url)
    async with db.database(url):
        await load_demo_city()
        await accounts.create_account(None, username="planner", password=PASSWORD,
                                      role=Role.PLANNER)  # fmt: skip


def timed(client: httpx2.Client, method: str, path: str, body: object = None) -> float:
    started = time.perf_counter()
    if method == "FORM":  # a page's form: the session's CSRF token in a field
        data = {**body, "csrf_token": client.headers["X-CSRF-Token"]}  # type: ignore[dict-item]
        response = client.post(path, data=data)
    else:
        response = client.request(method, path, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rm-planning-") as tmp:
        url = f"sqlite://{Path(tmp) / 'demo.sqlite3'}"
        print("loading the demo city ...", file=sys.stderr, flush=True)
        asyncio.run(build(url))
        env = {"RESOURCEMAP_DATABASE_URL": url, "RESOURCEMAP_RUN_WORKER": "false"}
        with (
            uvicorn_server("web.asgi:app", env=env, log_path=Path(tmp) / "app.log") as base,
            httpx2.Client(base_url=base, timeout=120) as client,
        ):
            login = client.post(
                "/api/v1/session", json={"username": "planner", "password": PASSWORD}
            )
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            calls: list[tuple[str, str, object]] = [("GET", path, None) for path in GETS]
            calls += [("POST", path, body) for path, body in POSTS]
            calls += [("FORM", path, body) for path, body in FORMS]
            results: list[tuple[str, str, object, float, float]] = []
            for method, path, body in calls:
                cold = timed(client, method, path, body)
                warms = [timed(client, method, path, body) for _ in range(args.repeat)]
                results.append((method, path, body, cold, statistics.median(warms)))
    baseline = results[0][4]
    print(f"demo city, 1 uvicorn worker; warm = median of {args.repeat}; "
          f"ratio = warm / warm GET /api/v1/coverage ({baseline * 1000:.0f} ms)")  # fmt: skip
    print(f"{'answer':<58} {'cold ms':>8} {'warm ms':>8} {'ratio':>6}")
    ok = True
    for method, path, body, cold, warm in results:
        label = f"{method} {path}" + (f" {body}" if body else "")
        flag = "" if warm < GOAL_WARM_S and cold < GOAL_COLD_S else "  OVER GOAL"
        ok = ok and not flag
        print(f"{label[:58]:<58} {cold * 1000:>8.0f} {warm * 1000:>8.0f} "
              f"{warm / baseline:>6.1f}{flag}")  # fmt: skip
    print(
        f"goals: warm < {GOAL_WARM_S:g} s, cold < {GOAL_COLD_S:g} s — "
        + ("met" if ok else "NOT MET")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
