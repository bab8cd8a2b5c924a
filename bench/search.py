"""Search API throughput against a bare Starlette app, on 10,000 synthetic listings.

Builds a temporary SQLite database (the demo city topped up with synthetic resources),
times the search index build in-process, then serves the real app and a bare Starlette app
(one uvicorn worker each) and drives both with the same client: a fixed number of
concurrent connections for a fixed time, realistic mixed queries (text — service names and
residents' concerns in their own words, which the needs vocabulary expands, a crisis
phrase among them — point and radius, filters, open-now). Every answer must be 200 with a
JSON page; a run with errors is invalid.

It also scores search on the judged query set of ``tests/data/judged_queries.toml`` (on the
plain demo city): recall@5 and the share of queries with no suitable result in the top 5.

    python bench/search.py            # 10,000 resources, 10 s per server
    python bench/search.py --quick    # 2,000 resources, 3 s per server
    python bench/search.py --resources 200000 --database /tmp/p.sqlite3  # keep the
                                      # database: a later run reuses it (minutes at 200k)
    python bench/search.py --province --database /tmp/prov.sqlite3  # a province loaded by
                                      # `resourcemap demo --scale province` (see --help)

By default the synthetic listings all lie in the demo district, so at 200,000 a 3 km
circle holds some 14,000 of them: the worst case, density growing with the count. With
``--province`` the listings are the synthetic province's, spread over its cities as a
province's are, and the query points over its districts: the count grows, the density of
what is near does not.

The client shares the machine with the server, so the figures are only comparable with each
other: the ratio is the result, absolute rates say little.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlencode

import httpx2
import numpy as np
import numpy.typing as npt
import psutil
from harness.load import MAX_FAILURES_KEPT, LoadResult, drive
from harness.servers import free_port, uvicorn_server
from harness.synthetic import district_points, populate, province_points

from resourcemap import db, schema
from resourcemap.demo.city import load_demo_city
from resourcemap.models import Resource
from resourcemap.search.base import SearchQuery
from resourcemap.search.service import SearchService
from resourcemap.settings import Settings
from resourcemap.vocab import Fee, Placement, ResourceKind, Service

BENCH_DIR = Path(__file__).resolve().parent
GOAL_RATIO = 0.4
SEED = 2026
# A Tuesday 10:00 in Shanghai: open-now filters match a working day's services. The server
# is given it too (RESOURCEMAP_FIXED_NOW): on the wall clock, a run at night found nothing
# open for a quarter of the queries, which then widened, and the ratio followed the hour.
BENCH_NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
TEXTS = (
    *("焦虑", "心理咨询", "儿童", "xinli", "xlzx", "counselling", "社区"),
    # Concerns in residents' words: each expands through the needs vocabulary.
    *("睡不着", "压力大", "我最近情绪低落怎么办", "anxiety", "sleep", "jiaolv", "想死"),
)
POINT_KINDS = [str(k) for k in ResourceKind if k.info.placement is Placement.POINT]
QUERIES = 2_000  # distinct query strings, used in turn
ENGINE_QUERIES = 200  # timed in-process, without HTTP
MAX_RATE = 5_000  # requests per second per run at most: bounds the count of a timed run
WARMUP_REQUESTS = 100

Params = dict[str, str | list[str]]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Prepared:
    resources: int
    load_s: float  # SearchService.refresh: documents, areas and timetable from the database
    columns_s: float  # the embedded engine's column build, done on the first search
    engine_ms: float  # mean SearchService.search per query, in-process
    queries: list[Params]


def make_queries(rng: np.random.Generator, lon: FloatArray, lat: FloatArray) -> list[Params]:
    """Mostly combinations: text near a point, with a filter or two now and then."""
    queries = []
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        params: Params = {}
        if rng.random() < 0.8:
            params["q"] = TEXTS[int(rng.integers(len(TEXTS)))]
        if "q" not in params or rng.random() < 0.75:
            params |= {"lat": f"{y:.6f}", "lon": f"{x:.6f}"}
            params["radius_m"] = str(int(rng.integers(500, 3001)))
            if rng.random() < 0.3:
                params["sort"] = "distance"
        if rng.random() < 0.2:
            kinds = rng.choice(POINT_KINDS, size=int(rng.integers(1, 4)), replace=False)
            params["kind"] = [str(k) for k in kinds]
        if rng.random() < 0.25:
            params["service"] = str(rng.choice(list(Service)))
        if rng.random() < 0.2:
            params["fee"] = str(rng.choice(list(Fee)))
        if rng.random() < 0.25:
            params["open_now"] = "true"
        queries.append(params)
    return queries


async def prepare(
    database_url: str,
    resources: int,
    seed: int,
    *,
    reuse: bool,
    province: bool = False,
    now: dt.datetime = BENCH_NOW,
) -> Prepared:
    if reuse:  # a database an earlier run populated
        async with db.database(database_url):
            count = await Resource.all().count()
    else:
        count = await populate(database_url, resources, seed)
    rng = np.random.default_rng(seed)
    points = province_points if province else district_points
    async with db.database(database_url):
        queries = make_queries(rng, *await points(QUERIES, rng))
        # Never follow the change log while timing: nothing changes, it would only add I/O.
        service = SearchService(Settings(database_url=database_url).tz, follow_interval=3600)
        started = time.perf_counter()
        await service.refresh()
        loaded = time.perf_counter()
        # A fixed instant: open-now answers, and so the timing, do not depend on the hour.
        await service.search(SearchQuery(), now=now)
        built = time.perf_counter()
        parsed = [SearchQuery.model_validate(q) for q in queries[:ENGINE_QUERIES]]
        engine_started = time.perf_counter()
        for query in parsed:
            await service.search(query, now=now)
        engine_s = time.perf_counter() - engine_started
    return Prepared(
        resources=count,
        load_s=loaded - started,
        columns_s=built - loaded,
        engine_ms=engine_s / len(parsed) * 1000,
        queries=queries,
    )


async def judged(database_url: str) -> str:
    """Search quality on the judged query set, on the demo city alone."""
    sys.path.insert(0, str(BENCH_DIR.parent))  # the judged set lives with the tests
    from tests.judged import evaluate, load

    await schema.migrate(database_url)
    async with db.database(database_url):
        await load_demo_city()
        service = SearchService(Settings(database_url=database_url).tz, follow_interval=3600)
        await service.refresh()
        return (await evaluate(service, load())).summary()


async def measure(
    app_url: str, bare_url: str, paths: list[str], seconds: float, concurrency: int, rounds: int
) -> tuple[LoadResult, LoadResult, list[float]]:
    """Warm each server up, then load the app and the bare app in turn, ``rounds`` times
    for ``seconds / rounds`` each: on shared cores the machine's speed drifts from minute
    to minute (other guests' steal time), and one long run of each put the drift into the
    ratio (0.36-0.47 for the same code). Each round's ratio compares servers loaded within
    seconds of each other; their median is the result."""
    # The app builds its search index as it starts: at 200,000 listings that takes a minute,
    # longer than any request may. Wait for it, untimed.
    async with httpx2.AsyncClient(base_url=app_url, timeout=None) as client:
        await client.get(paths[0])
    for base_url in (app_url, bare_url):
        warm = await drive(
            base_url, paths, seconds=60, concurrency=concurrency, max_requests=WARMUP_REQUESTS
        )
        if warm.failed:  # reported as invalid below, without loading a broken server
            return warm, LoadResult(), []
    totals = LoadResult(), LoadResult()
    ratios = []
    share = seconds / rounds
    for _ in range(rounds):
        runs = []
        for base_url, total in zip((app_url, bare_url), totals, strict=True):
            run = await drive(
                base_url,
                paths,
                seconds=share,
                concurrency=concurrency,
                max_requests=int(share * MAX_RATE),
            )
            total.seconds += run.seconds
            total.latencies += run.latencies
            total.failures += run.failures[: MAX_FAILURES_KEPT - len(total.failures)]
            total.failed += run.failed
            total.body_bytes += run.body_bytes
            runs.append(run)
        if runs[1].throughput:
            ratios.append(runs[0].throughput / runs[1].throughput)
    return totals[0], totals[1], ratios


def server_memory_mb(port: int) -> tuple[float, float]:
    """Resident and peak resident memory (MB) of the server listening on ``port``."""
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "uvicorn" in command and str(port) in command:
            status = Path(f"/proc/{process.pid}/status").read_text()
            kb = {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in status.splitlines())
                  if k in ("VmRSS", "VmHWM")}  # fmt: skip
            return kb["VmRSS"] / 1024, kb["VmHWM"] / 1024
    return float("nan"), float("nan")


def describe(label: str, result: LoadResult) -> str:
    return (
        f"{label}: {result.throughput:.0f} req/s, p50 {result.latency_ms(50):.1f} ms, "
        f"p99 {result.latency_ms(99):.1f} ms ({result.requests} requests in "
        f"{result.seconds:.1f} s, {result.failed} errors, {result.mean_body_kb:.1f} KB/answer)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 resources, 3 s per server")
    parser.add_argument("--resources", type=int, help="listings in the database (10,000)")
    parser.add_argument(
        "--seconds", type=float, help="load duration per server, over all rounds (10)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="the servers take turns this many times (4)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="random seed for data and queries")
    parser.add_argument(
        "--database",
        type=Path,
        help="SQLite file for the listings, kept after the run; reused as it is when it exists",
    )
    parser.add_argument(
        "--province",
        action="store_true",
        help="--database holds a province: RESOURCEMAP_DATABASE_URL=sqlite:///FILE "
        "resourcemap demo --scale province --districts 37 --no-serve (about 200,000 listings)",
    )
    parser.add_argument(
        "--at",
        type=dt.datetime.fromisoformat,
        default=BENCH_NOW,
        help="the instant the engine and the server take as now (ISO 8601 with its offset; "
        "a Tuesday 10:00 in Shanghai): 2026-12-01T06:00:00+08:00 asks at dawn, when little "
        "is open",
    )
    args = parser.parse_args(argv)
    if args.at.tzinfo is None:
        parser.error("--at needs its offset, e.g. 2026-12-01T06:00:00+08:00")
    if args.resources is None:
        args.resources = 2_000 if args.quick else 10_000
    if args.seconds is None:
        args.seconds = 3.0 if args.quick else 10.0
    if args.resources < 1 or args.seconds <= 0 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--resources, --seconds, --concurrency and --rounds must be positive")
    if args.province and (args.database is None or not args.database.exists()):
        parser.error("--province needs --database FILE holding a province (see --help)")
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM would end the process without running `finally`: unwind like Ctrl-C instead.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    with tempfile.TemporaryDirectory(prefix="resourcemap-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        database = args.database or workdir / "bench.sqlite3"
        reuse = database.exists()
        database_url = f"sqlite://{database}"
        print("scoring the judged query set ...", file=sys.stderr, flush=True)
        quality = asyncio.run(judged(f"sqlite://{workdir / 'judged.sqlite3'}"))
        what = "the province in" if args.province else f"{args.resources:,} resources in"
        print(f"preparing {what} {database} ...", file=sys.stderr, flush=True)
        prepared = asyncio.run(
            prepare(
                database_url,
                args.resources,
                args.seed,
                reuse=reuse,
                province=args.province,
                now=args.at,
            )
        )
        port = free_port()
        env = {
            "RESOURCEMAP_DATABASE_URL": database_url,
            "RESOURCEMAP_PORT": str(port),
            "RESOURCEMAP_LOG_LEVEL": "warning",
            "RESOURCEMAP_FIXED_NOW": args.at.isoformat(),
        }
        app_url = stack.enter_context(
            uvicorn_server("web.asgi:app", port=port, env=env, log_path=workdir / "app.log")
        )
        bare_url = stack.enter_context(
            uvicorn_server("harness.bare_app:app", app_dir=BENCH_DIR, log_path=workdir / "bare.log")
        )
        paths = ["/api/v1/search?" + urlencode(q, doseq=True) for q in prepared.queries]
        print(f"loading each server for {args.seconds:g} s ...", file=sys.stderr, flush=True)
        app, bare, ratios = asyncio.run(
            measure(app_url, bare_url, paths, args.seconds, args.concurrency, args.rounds)
        )
        rss_mb, peak_mb = server_memory_mb(port)

    build_s = prepared.load_s + prepared.columns_s
    print(f"machine: {os.cpu_count()} cores; client and both servers share them")
    print(f"now (engine and server): {args.at.isoformat()}")
    spread = "a province's cities" if args.province else "one district"
    print(f"resources: {prepared.resources:,} in {spread}")
    print(
        f"index build: {build_s:.2f} s (load {prepared.load_s:.2f} s + "
        f"columns {prepared.columns_s:.2f} s)"
    )
    print(f"engine in-process: {prepared.engine_ms:.2f} ms/query ({ENGINE_QUERIES} queries)")
    print(quality)
    print(f"load: {args.concurrency} concurrent clients, {len(paths)} distinct queries")
    print(describe("search api", app))
    print(f"app worker memory: {rss_mb:,.0f} MB resident after the load, peak {peak_mb:,.0f} MB")
    print(describe("bare starlette", bare))
    failures = app.failures + bare.failures
    if app.failed or bare.failed or not app.latencies or not bare.latencies:
        print(f"INVALID: {app.failed + bare.failed} failed requests, e.g.:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    ratio = float(np.median(ratios))
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"search throughput ratio vs bare starlette, needs vocabulary on: {ratio:.2f} "
        f"(median of {len(ratios)} rounds: {rounds}; goal >= {GOAL_RATIO})"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: servers stopped, temporary files removed", file=sys.stderr)
        sys.exit(130)
