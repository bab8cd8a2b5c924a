"""Real server processes for load tests: uvicorn with several workers on a free port.

The server runs in its own process group, so ``kill()`` sends SIGKILL to the supervisor and
every worker at once, like a machine losing power; ``stop()`` shuts it down in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx2
from cryptography.fernet import Fernet

from resourcemap.booking.desk import Desk
from resourcemap.models import Booking, BookingPolicy, Resource, Slot
from resourcemap.settings import Settings
from resourcemap.vocab import SEAT_HOLDING, BookingStatus, Channel
from tests.conftest import _free_port as free_port
from tests.factories import small_city

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
# Waiting only: a request under load may queue behind many others, never a pass/fail limit.
REQUEST_TIMEOUT_S = 120.0
DATA_KEY = Fernet.generate_key().decode()
SECRET_KEY = secrets.token_urlsafe(48)


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server process: ``settings`` are ``RESOURCEMAP_*`` names in
    lower case without the prefix (``timezone="Europe/Berlin"``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOURCEMAP_")}
    pythonpath = [str(REPO), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(pythonpath)),
            "RESOURCEMAP_DATABASE_URL": database_url,
            "RESOURCEMAP_ENVIRONMENT": "development",
            "RESOURCEMAP_DATA_KEYS": DATA_KEY,
            "RESOURCEMAP_SECRET_KEY": SECRET_KEY,
            "RESOURCEMAP_LOG_LEVEL": "warning",
            # Every load comes from one address: no request limits (tests/booking/test_limits.py
            # covers those).
            "RESOURCEMAP_BOOKING_LIMIT_PER_ADDRESS": "0",
            "RESOURCEMAP_BOOKING_LIMIT_PER_CONTACT": "0",
            "RESOURCEMAP_BOOKING_CAP_PER_CONTACT": "0",
            "RESOURCEMAP_BOOKING_CAP_PER_ADDRESS": "0",
        }
    )
    env.update({f"RESOURCEMAP_{k.upper()}": v for k, v in settings.items()})
    return env


def app_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings equal to a server's, for checking its database in the test process."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        data_keys=DATA_KEY,
        secret_key=SECRET_KEY,
        **overrides,
    )


@dataclass
class Server:
    """A uvicorn process group serving ``web.asgi:app``."""

    database_url: str
    workdir: Path
    workers: int = 2
    settings: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.port}-{self.starts}.log"

    def start(self) -> None:
        """Start (or restart, on the same port) and wait until every worker answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        command = [
            *(sys.executable, "-m", "uvicorn", "web.asgi:app", "--app-dir", str(REPO)),
            *("--host", HOST, "--port", str(self.port), "--workers", str(self.workers)),
            *("--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "5"),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,  # no stray .env is read
                env=server_env(self.database_url, **self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the workers
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        answers = 0
        with httpx2.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                    )
                try:
                    # A fresh connection each time, so that every worker is reached in turn.
                    ok = client.get("/healthz", headers={"Connection": "close"}).status_code
                except httpx2.TransportError:
                    ok = 0
                answers = answers + 1 if ok == 200 else 0
                # Both workers bind the same socket; a few answers in a row make it very
                # likely that every worker has finished its start-up.
                if answers >= 3 * self.workers:
                    return
                time.sleep(0.1)
        raise RuntimeError(f"{self.base_url}/healthz did not answer within {STARTUP_TIMEOUT_S} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown, no cleanup."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT_S)
        _wait_group_gone(self.process.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_S)
        _wait_group_gone(self.process.pid)


def _wait_group_gone(pgid: int) -> None:
    """Workers are children of the supervisor: wait until none of the group is left (a
    worker still holding a database connection would keep PostgreSQL from dropping it)."""
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)


@contextmanager
def running_server(
    database_url: str, workdir: Path, *, workers: int = 2, **settings: str
) -> Iterator[Server]:
    """A started server, always stopped afterwards (its log printed if the block failed)."""
    server = Server(database_url, workdir, workers=workers, settings=settings)
    server.start()
    try:
        yield server
    except BaseException:
        print(server.log()[-5000:])
        raise
    finally:
        server.stop()


def client(base_url: str, concurrency: int = 200) -> httpx2.AsyncClient:
    """An HTTP client that really opens ``concurrency`` connections at once."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S)


async def gather_all(*calls: Any) -> list[Any]:
    """Run coroutines concurrently, released together by one event."""
    go = asyncio.Event()

    async def wait_then(call: Any) -> Any:
        await go.wait()
        return await call

    tasks = [asyncio.ensure_future(wait_then(c)) for c in calls]
    await asyncio.sleep(0)
    go.set()
    return list(await asyncio.gather(*tasks))


# --------------------------------------------------------------------------- the world


async def open_room(seats: int = 3, **policy: Any) -> int:
    """``small_city``'s counselling room, made always open with a booking policy: 50-minute
    slots every hour, round the clock, so tests find slots whatever day they run on."""
    ids = await small_city()
    await Resource.filter(id=ids["room"]).update(always_open=True)
    rules = {
        "slot_minutes": 50,
        "buffer_minutes": 10,
        "seats": seats,
        "min_notice_minutes": 60,
        "horizon_days": 30,
        "change_notice_minutes": 60,
        **policy,
    }
    await BookingPolicy.create(resource_id=ids["room"], **rules)
    return ids["room"]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def future_slots(database_url: str, resource_id: int, count: int) -> list[dt.datetime]:
    """The first ``count`` slots starting a day from now or later (real clock: the server
    uses it too), as aware datetimes."""
    desk = Desk(app_settings(database_url))
    first = (now() + dt.timedelta(days=1)).astimezone(desk.tz).date()
    listed = await desk.slot_list(resource_id, first, 5, now=now())
    starts = [dt.datetime.fromtimestamp(s, desk.tz) for s in listed.starts.tolist()[:count]]
    assert len(starts) == count, "not enough slots"
    return starts


@dataclass(frozen=True)
class SeatCheck:
    """What the database says about seats."""

    problems: list[str]
    holding_by_slot: dict[int, int]


async def booking_codes(**filters: Any) -> list[str]:
    """The codes of the bookings that ``filters`` select (``Booking.filter`` keywords)."""
    codes = await Booking.filter(**filters).values_list("code", flat=True)
    # tortoise types values_list as tuples even with flat=True; one flat field gives its values.
    return cast(list[str], codes)


async def check_seats(resource_id: int) -> SeatCheck:
    """Every slot row: ``taken`` within capacity and equal to the seat-holding bookings in
    it; seat-holding bookings have the times of their slot; booked slots never overlap."""
    problems: list[str] = []
    rows = await Slot.filter(resource_id=resource_id).order_by("starts_at")
    holding: dict[int, int] = {}
    # Referral bookings hold the slot's green-channel seats, counted apart (#23).
    referred: dict[int, int] = {}
    for slot_id, status, channel in await Booking.filter(resource_id=resource_id).values_list(
        "slot_id", "status", "channel"
    ):
        if BookingStatus(status) in SEAT_HOLDING:
            counts = referred if channel == Channel.REFERRAL else holding
            counts[slot_id] = counts.get(slot_id, 0) + 1
    known = {row.id for row in rows}
    for slot_id in (set(holding) | set(referred)) - known:
        problems.append(f"bookings hold seats of missing slot {slot_id}")
    for row in rows:
        n = holding.get(row.id, 0)
        if not 0 <= row.taken <= row.capacity:
            problems.append(f"slot {row.starts_at}: taken {row.taken} of {row.capacity}")
        if row.taken != n:
            problems.append(f"slot {row.starts_at}: taken {row.taken} but {n} bookings hold seats")
        r = referred.get(row.id, 0)
        if not 0 <= row.referral_taken <= row.referral_capacity or row.referral_taken != r:
            problems.append(
                f"slot {row.starts_at}: referral seats {row.referral_taken} of "
                f"{row.referral_capacity}, {r} referral bookings"
            )
    mismatched = [
        b.code
        for b in await Booking.filter(
            resource_id=resource_id, status__in=[s.value for s in SEAT_HOLDING]
        ).prefetch_related("slot")
        if (b.starts_at, b.ends_at) != (b.slot.starts_at, b.slot.ends_at)
    ]
    if mismatched:
        problems.append(f"bookings not at their slot's times: {mismatched}")
    latest: Slot | None = None  # the booked slot ending last so far
    for row in (r for r in rows if r.taken > 0):
        if latest is not None and row.starts_at < latest.ends_at:
            problems.append(
                f"booked slots overlap: {latest.starts_at}-{latest.ends_at} and "
                f"{row.starts_at}-{row.ends_at}"
            )
        if latest is None or row.ends_at > latest.ends_at:
            latest = row
    return SeatCheck(problems=problems, holding_by_slot=holding)
