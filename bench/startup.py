"""Start-up of ``resourcemap serve`` with several workers, and what a worker's memory is.

Builds the demo city in a temporary SQLite file, then measures in one run:

- start-up: ``resourcemap serve --workers 1`` (the baseline) and ``--workers N`` (default 4),
  from launch until every worker has said "Application startup complete.", while ``--busy``
  processes burn CPU as another job on the machine would (default 2: the 2-core machine
  fully taken). The parent migrates once; workers never migrate. Workers uvicorn's health
  check killed while they booted are counted (goal: none). Prints the N-worker start-up as
  a ratio to the one-worker start-up measured in the same run.
- memory: the resident set (RSS) of each worker after a few requests of every kind.
- what dominates it: a fresh interpreter imports the libraries a worker imports, one at a
  time in the order a worker needs them, then the app, then runs the app's start-up (the
  database, the search index, the booking worker); the growth of RSS at each step.

    python bench/startup.py                     # 4 workers, 2 busy processes
    python bench/startup.py --workers 2 --busy 0
    python bench/startup.py --healthcheck 5     # uvicorn's default check, as before #16

The machine is shared: start-up times move with what else runs; the ratio and the kill
count are the results, absolute seconds say little.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psutil
from cryptography.fernet import Fernet
from harness.servers import free_port

REPO = Path(__file__).resolve().parents[1]
STARTUP_LIMIT_S = 600.0
READY = "Application startup complete."
# uvicorn's supervisor, when its health check gets no answer from a worker.
KILLED = re.compile(r"Child process \[\d+\] died|was not ready in time|failed to start")
WARM_PATHS = (
    "/",
    "/api/v1/search?q=心理&lat=22.75&lon=113.93&radius_m=3000",
    "/api/v1/resources?limit=50",
    "/api/v1/map/points",
    "/readyz",
)
# Third-party packages a worker may import, in an order where each brings only itself.
LIBRARIES = (
    "numpy",
    "pydantic",
    "starlette",
    "jinja2",
    "tortoise",
    "asyncpg",
    "aiosqlite",
    "cryptography",
    "argon2",
    "babel",
    "shapely",
    "pyproj",
    "scipy.spatial",
    "pypinyin",
    "opencc",
    "rapidfuzz",
    "chinese_calendar",
    "h3",
    "openpyxl",
    "jsonschema",
    "meilisearch",
    "pandas",
    "folium",
)
# Which of them a worker imports at all (planners' map libraries, for one, wait for a map).
IMPORTED = r"""
import sys
import web.asgi
print(" ".join(name for name in sys.argv[1:] if name in sys.modules))
"""
PROBE = r"""
import asyncio, importlib, json, sys, time
import psutil
process = psutil.Process()
steps = []
def step(name, started):
    steps.append((name, process.memory_info().rss, time.perf_counter() - started))
step("interpreter", time.perf_counter())
for name in sys.argv[1:]:
    started = time.perf_counter()
    importlib.import_module(name)
    step(name, started)
started = time.perf_counter()
import web.asgi
step("the app's own modules (web.asgi)", started)
async def lifespan():
    async with web.asgi.app.router.lifespan_context(web.asgi.app):
        pass
started = time.perf_counter()
asyncio.run(lifespan())
step("start-up (database, search index, worker)", started)
print(json.dumps(steps))
"""


@dataclass(frozen=True)
class Start:
    workers: int
    seconds: float
    killed: int
    rss_mb: list[float]


def _env(database_url: str, port: int, healthcheck: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOURCEMAP_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH", "")))),
        RESOURCEMAP_DATABASE_URL=database_url,
        RESOURCEMAP_PORT=str(port),
        RESOURCEMAP_LOG_LEVEL="info",  # uvicorn says when each worker is ready
        RESOURCEMAP_DATA_KEYS=Fernet.generate_key().decode(),
        RESOURCEMAP_SECRET_KEY=Fernet.generate_key().decode() + "-bench-startup",
    )
    if healthcheck is not None:
        env["RESOURCEMAP_WORKER_HEALTHCHECK_TIMEOUT"] = str(healthcheck)
    return env


@contextmanager
def busy(count: int) -> Iterator[None]:
    """``count`` processes burning CPU, as another job on the machine."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def start(
    workdir: Path, database_url: str, workers: int, burn: int, healthcheck: int | None
) -> Start:
    port = free_port()
    log_path = workdir / f"serve-{workers}.log"
    command = [shutil.which("resourcemap") or "resourcemap", "serve", "--workers", str(workers)]
    with log_path.open("wb") as log, busy(burn):
        began = time.monotonic()
        server = subprocess.Popen(
            command,
            cwd=workdir,
            env=_env(database_url, port, healthcheck),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while (text := log_path.read_text(errors="replace")).count(READY) < workers:
                if server.poll() is not None:
                    raise RuntimeError(f"serve exited with {server.returncode}:\n{text[-3000:]}")
                if time.monotonic() - began > STARTUP_LIMIT_S:
                    raise RuntimeError(f"not started within {STARTUP_LIMIT_S:.0f} s:\n{text}")
                time.sleep(0.05)
            seconds = time.monotonic() - began
        except BaseException:
            _stop(server)
            raise
    try:
        _warm(f"http://127.0.0.1:{port}", workers)
        rss = _worker_rss(server.pid)
    finally:
        _stop(server)
    killed = len(KILLED.findall(log_path.read_text(errors="replace")))
    return Start(workers, seconds, killed, rss)


def _warm(base: str, workers: int) -> None:
    """Every kind of request, on fresh connections so that each worker gets some."""
    with httpx2.Client(base_url=base, timeout=60) as client:
        for _ in range(4 * workers):
            for path in WARM_PATHS:
                response = client.get(path, headers={"Connection": "close"})
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")


def _worker_rss(server_pid: int) -> list[float]:
    """RSS of the processes serving requests: uvicorn's workers (children of the supervisor
    ``resourcemap serve`` became), or the server itself when it runs one worker."""
    server = psutil.Process(server_pid)
    workers = [
        p
        for p in server.children()
        if "spawn_main" in " ".join(p.cmdline())  # not multiprocessing's resource tracker
    ] or [server]
    return sorted(p.memory_info().rss / 2**20 for p in workers)


def _stop(server: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def memory_steps(workdir: Path, database_url: str) -> list[tuple[str, float, float]]:
    """(step, RSS growth in MB, seconds) of one worker's imports and start-up, in order."""
    env = _env(database_url, free_port(), None)
    env["RESOURCEMAP_LOG_LEVEL"] = "warning"
    imported = subprocess.run(
        [sys.executable, "-c", IMPORTED, *LIBRARIES],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=STARTUP_LIMIT_S,
    ).stdout.split()
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *imported],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=STARTUP_LIMIT_S,
    ).stdout
    steps = json.loads(out.strip().splitlines()[-1])
    rows = []
    previous = 0
    for name, rss, seconds in steps:
        rows.append((name, (rss - previous) / 2**20, seconds))
        previous = rss
    return rows


def demo_database(workdir: Path) -> str:
    url = f"sqlite://{workdir / 'demo.sqlite3'}"
    subprocess.run(
        [sys.executable, "-m", "resourcemap", "demo", "--no-serve"],
        cwd=workdir,
        env=_env(url, free_port(), None),
        check=True,
        capture_output=True,
        timeout=STARTUP_LIMIT_S,
    )
    return url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=4, help="workers of the measured start")
    parser.add_argument("--busy", type=int, default=2, help="CPU-burning processes meanwhile")
    parser.add_argument(
        "--healthcheck",
        type=int,
        help="RESOURCEMAP_WORKER_HEALTHCHECK_TIMEOUT for both starts (default: the setting's)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rm-bench-startup-") as tmp:
        workdir = Path(tmp)
        url = demo_database(workdir)
        print(f"demo city in {url}; {os.cpu_count()} CPUs, {args.busy} busy processes")
        one = start(workdir, url, 1, args.busy, args.healthcheck)
        many = start(workdir, url, args.workers, args.busy, args.healthcheck)
        steps = memory_steps(workdir, url)
    for run in (one, many):
        rss = ", ".join(f"{r:.0f}" for r in run.rss_mb)
        print(
            f"{run.workers} worker(s): ready in {run.seconds:5.1f} s, "
            f"{run.killed} killed by the health check, RSS per worker (MB): {rss}"
        )
    print(
        f"start-up of {args.workers} workers / 1 worker: {many.seconds / one.seconds:.2f}x; "
        f"health-check kills: {many.killed + one.killed} (goal 0)"
    )
    print("\nwhat one worker's memory is (RSS growth per step, in the order a worker runs them):")
    total = sum(mb for _, mb, _ in steps)
    for name, mb, seconds in sorted(steps, key=lambda s: -s[1]):
        if mb >= 1 or seconds >= 0.1:
            print(f"  {name:45s} {mb:6.1f} MB {100 * mb / total:5.1f} %  {seconds:5.2f} s")
    print(f"  {'total':45s} {total:6.1f} MB")


if __name__ == "__main__":
    main()
