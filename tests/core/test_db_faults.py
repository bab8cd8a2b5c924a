"""A hung, a stopped and a locked database (#16): every request gets a bounded answer (503
with ``Retry-After`` where it needs the database, 200 from ``/healthz`` always), the outage
is logged once, and the app recovers by itself when the database is back.

PostgreSQL runs as a cluster of the test's own (``tests/pg_cluster.py``), frozen with
SIGSTOP and stopped, never the shared server. The server under test has short limits
(1 s connect and pool wait, 2 s statements) so that a test waits seconds, not minutes;
the HTTP client's own timeout (30 s) is only there to turn a hang into a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from resourcemap import schema
from resourcemap.booking.requests import BookingIn
from tests import pg_cluster
from tests.conftest import NO_LIMITS, TEST_NOW, Backend
from tests.factories import run_in_db
from tests.load_helpers import Server, gather_all, open_room, running_server

pytestmark = pytest.mark.load

LIMITS = {"db_connect_timeout": "1", "db_statement_timeout": "2", "db_pool_timeout": "1"}
# Not a pass/fail limit: without the database's limits a request would wait for ever.
HANG_GUARD_S = 30.0
# Routes whose answer needs the database, and the one that must never need it.
NEEDS_DB = ["/api/v1/resources", "/api/v1/areas?level=district", "/readyz"]
OUTAGE_LINE = "database unavailable"
RECOVERY_LINE = "database answers again"


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg_cluster.Cluster]:
    problem = pg_cluster.available()
    if problem is not None:
        pytest.skip(problem)
    with pg_cluster.throwaway_cluster() as made:
        yield made


async def _answers(base: str, paths: list[str], rounds: int) -> list[tuple[str, int, str]]:
    """Every path ``rounds`` times at once: (path, status, Retry-After)."""
    async with httpx2.AsyncClient(base_url=base, timeout=HANG_GUARD_S) as client:

        async def get(path: str) -> tuple[str, int, str]:
            response = await client.get(path)
            return path, response.status_code, response.headers.get("retry-after", "")

        return await gather_all(*(get(p) for p in paths * rounds))


def _wait_ready(base: str, attempts: int = 300) -> int:
    """Poll ``/readyz`` until it says 200; how many polls it took (it never restarts)."""
    with httpx2.Client(base_url=base, timeout=HANG_GUARD_S) as client:
        for attempt in range(1, attempts + 1):
            if client.get("/readyz").status_code == 200:
                return attempt
            asyncio.run(asyncio.sleep(0.2))
    pytest.fail(f"/readyz did not come back after {attempts} polls")


def _lines(server: Server, text: str) -> int:
    return sum(text in line for line in server.log().splitlines())


def test_frozen_and_stopped_postgresql_answer_503_once_logged_and_recover(
    cluster: pg_cluster.Cluster, tmp_path: Path
) -> None:
    subprocess.run(
        ["psql", cluster.admin_url, "-qc", "CREATE DATABASE rm_faults"], check=True, timeout=60
    )
    url = cluster.url("rm_faults")
    asyncio.run(schema.migrate(url))  # PostGIS included: its files serve any cluster
    room = run_in_db(url, open_room)
    settings = {**LIMITS, "fixed_now": TEST_NOW.isoformat(), "log_level": "warning"}
    with running_server(url, tmp_path, workers=1, **settings) as server:
        base = server.base_url
        before = asyncio.run(_answers(base, [*NEEDS_DB, "/healthz"], 1))
        assert {status for _, status, _ in before} == {200}

        # Hung: every process of the cluster stopped with SIGSTOP, sockets still open.
        cluster.freeze()
        try:
            frozen = asyncio.run(_answers(base, [*NEEDS_DB, "/healthz"], 8))
            again = asyncio.run(_answers(base, NEEDS_DB, 4))  # the outage is known by now
        finally:
            cluster.thaw()
        for path, status, retry_after in frozen + again:
            if path == "/healthz":
                assert status == 200
            else:
                assert (path, status) == (path, 503)
                assert int(retry_after) > 0
        _wait_ready(base)
        assert {s for _, s, _ in asyncio.run(_answers(base, NEEDS_DB, 2))} == {200}

        # Dead: stopped at once, connections refused; then started again on the same port.
        cluster.stop()
        try:
            stopped = asyncio.run(_answers(base, [*NEEDS_DB, "/healthz"], 4))
            with httpx2.Client(base_url=base, timeout=HANG_GUARD_S) as client:
                # A resident's page: a page saying so, with the 24/7 lines the process kept.
                detail = client.get(f"/resources/{room}")
                # Search answers from the index this process holds, and says so.
                found = client.get("/api/v1/search", params={"q": "心理"})
        finally:
            cluster.start()
        assert detail.status_code == 503 and int(detail.headers["retry-after"]) > 0
        assert detail.headers["content-type"].startswith("text/html")
        assert "tel:12320" in detail.text
        assert found.status_code == 200, found.text
        assert found.json()["degraded"] is True and found.json()["total"] > 0
        assert {(p, s) for p, s, _ in stopped} == {
            *((p, 503) for p in NEEDS_DB),
            ("/healthz", 200),
        }
        _wait_ready(base)
        assert {s for _, s, _ in asyncio.run(_answers(base, NEEDS_DB, 2))} == {200}

    # One line when each outage began, one when it ended; never a traceback per request.
    assert _lines(server, OUTAGE_LINE) == 2, server.log()
    assert _lines(server, RECOVERY_LINE) == 2, server.log()
    assert "Traceback" not in server.log() and " ERROR " not in server.log()


# ---------------------------------------------------------------------- SQLite


HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def test_sqlite_write_lock_held_elsewhere_is_503_for_writes_only(
    sqlite_backend: Backend,
    make_client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="resourcemap")
    url = sqlite_backend.fresh()
    room = run_in_db(url, open_room)
    starts_at = (TEST_NOW + dt.timedelta(days=1)).replace(hour=2)  # 10:00 in Shanghai
    booking = BookingIn(resource_id=room, starts_at=starts_at, nickname="小王").model_dump(
        mode="json", exclude_none=True
    )
    limits = {k: float(v) for k, v in LIMITS.items()}
    with make_client(url, run_worker=False, **limits, **NO_LIMITS) as client:
        with subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, url.removeprefix("sqlite://")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as holder:
            assert holder.stdout is not None and holder.stdin is not None
            assert holder.stdout.readline().strip() == "locked"
            refused = client.post("/api/v1/bookings", json=booking)
            read = client.get("/api/v1/resources")
            holder.stdin.close()  # the holder's transaction ends with its process
        booked = client.post("/api/v1/bookings", json=booking)
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "unavailable"
    assert int(refused.headers["Retry-After"]) > 0
    assert read.status_code == 200  # readers are not held up by a writer (WAL)
    assert booked.status_code == 201, booked.text
    messages = [r.getMessage() for r in caplog.records]
    assert sum("locked by another process" in m for m in messages) == 1
    assert sum("write lock released" in m for m in messages) == 1
