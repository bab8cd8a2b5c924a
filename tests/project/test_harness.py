"""The test harness itself: it leaves no database behind on the shared PostgreSQL server,
whether a run ends, is interrupted with Ctrl-C, or is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DB_PREFIX, ROOT, _pg_databases, drop_stale_databases

pytestmark = pytest.mark.postgres


def _start_probe(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    """``tests/harness_probe.py`` in a pytest subprocess, once its database exists."""
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            # In this process: its databases are named by the pid the test knows.
            "-n",
            "0",
            "-k",
            "postgres",
            "tests/harness_probe.py",
        ],
        cwd=ROOT,
        env={**os.environ, "RESOURCEMAP_PROBE_READY": str(ready)},
        # Ctrl-C as a terminal sends it: a suite started in the background (`pytest &` in
        # a script) ignores SIGINT, the probe inherited that, slept its 120 s through the
        # signal and passed.
        preexec_fn=_interruptible,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the probe run did not start: {proc.communicate()[0]}")
        time.sleep(0.2)
    return proc, f"{DB_PREFIX}{proc.pid}_"


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _databases_of(prefix: str) -> list[str]:
    return [n for n in asyncio.run(_pg_databases()) if n.startswith(prefix)]


def test_ctrl_c_leaves_no_database_on_the_server(postgres_backend: object, tmp_path: Path) -> None:
    proc, prefix = _start_probe(tmp_path)
    assert _databases_of(prefix), "the probe should hold a template and a test database"
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=60)[0]
    assert "KeyboardInterrupt" in out, out
    assert _databases_of(prefix) == []


def test_a_killed_runs_databases_are_dropped_by_the_next_run(
    postgres_backend: object, tmp_path: Path
) -> None:
    proc, prefix = _start_probe(tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    left = _databases_of(prefix)
    assert left, "a killed run cannot clean up after itself"
    dropped = drop_stale_databases()
    assert set(left) <= set(dropped)
    assert _databases_of(prefix) == []
