"""Several app processes on one machine: what they hold together, at a start and a reload.

Serves the app as ``--workers`` processes (one uvicorn each, as ``resourcemap serve
--workers N`` runs them) on an existing database (say the province's, from ``resourcemap
demo --scale province``) and measures:

- the start: seconds from launch until every process's index is ready (``/readyz``), and
  the CPU seconds every process and the build processes they started spent until then;
- their memory: the proportional sets (PSS: a page shared by several processes, such as
  a mapped index file's, split among them, so the sum counts it once) of every app
  process and every build process they started, summed: at its peak, once every index
  is ready, and after each process served searches near listings all over the database
  (which bring the index's pages in: an index file's pages are in a process's memory once
  its searches have read them);
- a reload: a listing renamed and a rebuild logged in the change log, as an import does
  (with no listing changed, the shared index would be found as it is), then the peak of the
  same sum and the CPU seconds spent while every process builds (or maps) its index anew;
  and what the shared index directory holds at the end (before the shared index, each
  process held its own file, unlinked, while its index lived: not counted here).

With ``--baseline SRC`` the same runs first with ``PYTHONPATH=SRC`` (a checkout of an
earlier commit: ``git worktree add /tmp/old <rev>``). The machine is shared: the two runs of one
invocation are what compare.

    python bench/workers.py --database /tmp/b/province.sqlite3 --baseline /tmp/old
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psutil
from harness.servers import app_server, free_port, server_process
from harness.synthetic import log_import

READY_TIMEOUT_S = 900.0
QUERIES = ("心理咨询", "焦虑", "xinli")
POINTS = 60  # listings searched around, spread over the database by id


@dataclass
class Run:
    ready_s: float  # launch until every process answered /readyz with 200
    start_cpu_s: float  # CPU of the processes and their children until then
    start_peak_mb: float  # the processes' and their children's PSS, summed, at its peak
    ready_mb: float  # the same once every index was ready
    searched_mb: float  # the same after each process served the searches
    reload_cpu_s: float  # CPU from the logged rebuild until the watch ended
    reload_peak_mb: float
    files_mb: float  # index files in the shared directory at the end (on disk or tmpfs)


def _pss_mb(processes: list[psutil.Process]) -> float:
    """The proportional sets of ``processes`` and their children, summed."""
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            for one in (process, *process.children(recursive=True)):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += one.memory_full_info().pss
    return total / 2**20


def _cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in process.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child_times = child.cpu_times()
                    total += child_times.user + child_times.system
    return total


def _points(database: Path) -> list[tuple[float, float]]:
    with sqlite3.connect(database) as conn:
        (count,) = conn.execute("SELECT count(*) FROM resource").fetchone()
        rows = conn.execute(
            "SELECT lat, lon FROM resource WHERE lat IS NOT NULL AND id % ? = 0 LIMIT ?",
            (max(count // POINTS, 1), POINTS),
        ).fetchall()
    return [(float(lat), float(lon)) for lat, lon in rows]


@contextlib.contextmanager
def _servers(
    database: Path, workers: int, src: str | None, index_dir: Path, log_dir: Path
) -> Iterator[list[str]]:
    shared = {"RESOURCEMAP_SEARCH_INDEX_DIR": str(index_dir)}
    with ExitStack() as stack:
        urls = []
        for k in range(workers):
            log = log_dir / f"app{k}.log"
            server = app_server(database, port=free_port(), log_path=log, src=src, env=shared)
            urls.append(stack.enter_context(server))
        yield urls


def _all_ready(clients: list[httpx2.Client]) -> bool:
    return all(c.get("/readyz").status_code == 200 for c in clients)


def measure(database: Path, workers: int, seconds: float, src: str | None) -> Run:
    with tempfile.TemporaryDirectory() as work:
        peak = 0.0
        launched = time.monotonic()
        index_dir = Path(work) / "index"
        with ExitStack() as stack:
            # The servers answer /healthz as they start; their indexes build after that.
            urls = stack.enter_context(_servers(database, workers, src, index_dir, Path(work)))
            clients = [stack.enter_context(httpx2.Client(base_url=u, timeout=120.0)) for u in urls]
            processes = [server_process(int(u.rsplit(":", 1)[1])) for u in urls]
            deadline = launched + READY_TIMEOUT_S
            while not _all_ready(clients):
                if time.monotonic() > deadline:
                    raise RuntimeError("the indexes were not ready in time")
                peak = max(peak, _pss_mb(processes))
                time.sleep(0.5)
            ready_s = time.monotonic() - launched
            start_cpu = _cpu_s(processes)
            ready = _pss_mb(processes)
            for client in clients:
                for lat, lon in _points(database):
                    for q in QUERIES:
                        near: dict[str, str | float] = {"q": q, "lat": lat, "lon": lon}
                        near["radius_m"] = 3000.0
                        client.get("/api/v1/search", params=near)
            searched = _pss_mb(processes)
            before_reload = _cpu_s(processes)
            log_import(database)
            reload_peak = searched
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                reload_peak = max(reload_peak, _pss_mb(processes))
                for client in clients:
                    client.get("/api/v1/search", params={"q": QUERIES[0]})
                time.sleep(0.5)
            reload_cpu = _cpu_s(processes) - before_reload
            files = sum(f.stat().st_size for f in index_dir.glob("*")) if index_dir.exists() else 0
        return Run(
            ready_s=ready_s,
            start_cpu_s=start_cpu,
            start_peak_mb=max(peak, ready),
            ready_mb=ready,
            searched_mb=searched,
            reload_cpu_s=reload_cpu,
            reload_peak_mb=reload_peak,
            files_mb=files / 2**20,
        )


def describe(label: str, r: Run) -> str:
    return (
        f"{label}: ready after {r.ready_s:.0f} s, {r.start_cpu_s:.0f} CPU s; PSS of all "
        f"processes {r.start_peak_mb:,.0f} MB at the start's peak, {r.ready_mb:,.0f} MB ready, "
        f"{r.searched_mb:,.0f} MB after {POINTS * len(QUERIES)} searches each; "
        f"reload: {r.reload_cpu_s:.0f} CPU s, {r.reload_peak_mb:,.0f} MB at the peak; "
        f"shared index files at the end {r.files_mb:,.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", type=Path, required=True, help="an SQLite database")
    parser.add_argument("--workers", type=int, default=2, help="app processes (2)")
    parser.add_argument("--seconds", type=float, default=150.0, help="watch a reload this long")
    parser.add_argument("--baseline", help="PYTHONPATH of an earlier checkout to compare")
    args = parser.parse_args(argv)
    runs: list[Run] = []
    if args.baseline:
        runs.append(measure(args.database, args.workers, args.seconds, args.baseline))
        print(describe("baseline", runs[-1]), flush=True)
    runs.append(measure(args.database, args.workers, args.seconds, None))
    print(describe("this tree", runs[-1]), flush=True)
    if len(runs) == 2:
        old, new = runs
        print(
            f"ratios this tree / baseline, {args.workers} processes: memory (PSS) ready "
            f"{new.ready_mb / old.ready_mb:.2f}, after the searches "
            f"{new.searched_mb / old.searched_mb:.2f}, at the start's peak "
            f"{new.start_peak_mb / old.start_peak_mb:.2f}, at the reload's peak "
            f"{new.reload_peak_mb / old.reload_peak_mb:.2f}; CPU to start "
            f"{new.start_cpu_s / old.start_cpu_s:.2f}, to reload "
            f"{new.reload_cpu_s / old.reload_cpu_s:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
