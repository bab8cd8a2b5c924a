"""A worker's memory and its searches while a bulk change reloads a province's index.

Serves the app (one uvicorn worker) on an existing database (say the province's, from
``resourcemap demo --scale province``), waits until its index is ready, then renames a
listing and logs a rebuild in the change log, as an import does, and searches every
``--every`` seconds for ``--seconds`` while the worker reads every listing again and
builds its index anew. It prints the worker's peak resident memory during that time
(``VmHWM``, reset when the rebuild is logged), its resident memory at the end, the largest
resident memory of any process the worker started (a build in a process of its own), and
the searches' longest and median times.

With ``--baseline SRC`` the same runs first with ``PYTHONPATH=SRC`` (a checkout of an
earlier commit: ``git worktree add /tmp/old <rev>``), and the ratios are printed: the
machine is shared, so the two runs of one invocation are what compare.

    python bench/reload.py --database /tmp/b/province.sqlite3 --baseline /tmp/old
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psutil
from harness.servers import app_server, free_port, server_process
from harness.synthetic import log_import

QUERIES = ("心理咨询", "焦虑", "xinli", "counselling", "社区")
READY_TIMEOUT_S = 600.0


@dataclass
class Reload:
    start_peak_mb: float  # the worker's VmHWM from its start until its index was ready
    peak_mb: float  # the worker's VmHWM from the rebuild on
    resident_mb: float  # the worker's VmRSS at the end
    builder_mb: float  # the largest RSS of a process the worker started
    builder_own_mb: float  # the largest memory of such a process that is its own (USS)
    longest_s: float
    median_s: float
    searches: int
    failed: int


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(database: Path, seconds: float, every: float, src: str | None) -> Reload:
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "app.log"
        with (
            app_server(database, port=port, log_path=log, src=src) as url,
            httpx2.Client(base_url=url, timeout=60.0) as client,
        ):
            deadline = time.monotonic() + READY_TIMEOUT_S
            while client.get("/readyz").status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the index was not ready in time")
                time.sleep(1.0)
            worker = server_process(port)
            for q in QUERIES:  # every first-search cost paid before the rebuild
                client.get("/api/v1/search", params={"q": q})
            start_peak = _status_mb(worker.pid, "VmHWM")
            Path(f"/proc/{worker.pid}/clear_refs").write_text("5")  # VmHWM from now
            log_import(database)
            times: list[float] = []
            failed = 0
            builder = builder_own = 0.0
            looked = 0.0
            end = time.monotonic() + seconds
            k = 0
            while time.monotonic() < end:
                q = QUERIES[k % len(QUERIES)]
                k += 1
                started = time.perf_counter()
                answer = client.get("/api/v1/search", params={"q": q})
                times.append(time.perf_counter() - started)
                failed += answer.status_code != 200
                for child in worker.children(recursive=True):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        builder = max(builder, child.memory_info().rss / 2**20)
                        if time.monotonic() - looked > 1.0:  # smaps: slow to read
                            looked = time.monotonic()
                            own = child.memory_full_info().uss / 2**20
                            builder_own = max(builder_own, own)
                time.sleep(every)
            return Reload(
                start_peak_mb=start_peak,
                peak_mb=_status_mb(worker.pid, "VmHWM"),
                resident_mb=_status_mb(worker.pid, "VmRSS"),
                builder_mb=builder,
                builder_own_mb=builder_own,
                longest_s=max(times),
                median_s=statistics.median(times),
                searches=len(times),
                failed=failed,
            )


def describe(label: str, r: Reload) -> str:
    return (
        f"{label}: worker peak at its start {r.start_peak_mb:,.0f} MB, during the reload "
        f"{r.peak_mb:,.0f} MB, resident after {r.resident_mb:,.0f} MB, "
        f"build process {r.builder_mb:,.0f} MB ({r.builder_own_mb:,.0f} MB its own); "
        f"{r.searches} searches ({r.failed} failed), "
        f"longest {r.longest_s:.2f} s, median {r.median_s * 1000:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", type=Path, required=True, help="an SQLite database")
    parser.add_argument("--seconds", type=float, default=150.0, help="watch this long (150)")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between searches")
    parser.add_argument("--baseline", help="PYTHONPATH of an earlier checkout to compare")
    args = parser.parse_args(argv)
    runs: list[tuple[str, Reload]] = []
    if args.baseline:
        runs.append(("baseline", measure(args.database, args.seconds, args.every, args.baseline)))
        print(describe(*runs[-1]), flush=True)
    runs.append(("this tree", measure(args.database, args.seconds, args.every, None)))
    print(describe(*runs[-1]), flush=True)
    if len(runs) == 2:
        (_, old), (_, new) = runs
        print(
            f"ratios this tree / baseline: worker peak at its start "
            f"{new.start_peak_mb / old.start_peak_mb:.2f}, during the reload "
            f"{new.peak_mb / old.peak_mb:.2f}, "
            f"longest search {new.longest_s / old.longest_s:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
