"""At least once made effectively once (#16): a worker killed (SIGKILL) after handing a
message to the gateway and before recording it repeats that one message, once its lease
runs out, with the same message id; every other message goes out meanwhile.

The gateway is a local HTTP server that kills the worker the moment the first message
arrives, before answering: the message is handed over, the worker never learns it. Each
worker is ``resourcemap worker --once`` at a fixed instant (``RESOURCEMAP_FIXED_NOW``), so
"restarted at once" and "restarted after the lease" are instants the test sets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from resourcemap.booking import outbox
from resourcemap.booking.dispatch import LEASE
from resourcemap.models import Notification
from resourcemap.vault import Vault
from resourcemap.vocab import NotificationKind, NotificationStatus
from tests.conftest import KEY_ENV, ROOT, make_settings
from tests.factories import run_in_db
from tests.notify_helpers import CST, NOW, PHONE, TOMORROW_9

# Kills processes: the slow tier.
pytestmark = pytest.mark.load

SECRET = "gateway-shared-secret-0123456789"
MESSAGES = 5


@dataclass
class KillingGateway:
    """Records every message; kills ``victim`` when the first one arrives, unanswered."""

    url: str = ""
    victim: subprocess.Popen[str] | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[KillingGateway]:
    state = KillingGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(
                ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
            )
            if state.victim is not None:
                victim, state.victim = state.victim, None
                state.ready.wait(60)
                os.kill(victim.pid, signal.SIGKILL)  # handed over, never recorded
                victim.wait(60)
                return  # no answer: the connection closes with the server's end
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _worker(
    database_url: str, gateway: KillingGateway, cwd: Path, at: dt.datetime
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": database_url,
        "RESOURCEMAP_NOTIFY_SENDERS": "webhook",
        "RESOURCEMAP_SMS_WEBHOOK_URL": gateway.url,
        "RESOURCEMAP_SMS_WEBHOOK_SECRET": SECRET,
        "RESOURCEMAP_FIXED_NOW": at.isoformat(),
        **KEY_ENV,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "resourcemap", "worker", "--once"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _sent(database_url: str, gateway: KillingGateway, cwd: Path, at: dt.datetime) -> int:
    """One round of a worker at ``at``; how many messages it says it sent."""
    proc = _worker(database_url, gateway, cwd, at)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return int(out.split("sent: ")[1].split(",")[0])


def test_a_worker_killed_between_send_and_record_repeats_that_message_once_with_its_id(
    database_url: str, gateway: KillingGateway, tmp_path: Path
) -> None:
    vault = Vault.from_settings(make_settings(database_url))

    async def queue() -> list[int]:
        for i in range(MESSAGES):
            message = outbox.Message(
                NotificationKind.CONFIRMATION, f"{i:08d}", "东湖", TOMORROW_9, "http://x/"
            )
            await outbox.enqueue(
                vault,
                CST,
                message,
                booking_id=None,
                phone=PHONE,
                email=None,
                now=NOW - dt.timedelta(minutes=1),
            )
        return [n.id for n in await Notification.all().order_by("id")]

    async def rows() -> list[Notification]:
        return await Notification.all().order_by("id")

    first, *later = run_in_db(database_url, queue)

    # The worker hands the first message over and is killed before it can record it.
    gateway.victim = killed = _worker(database_url, gateway, tmp_path, NOW)
    gateway.ready.set()
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert [payload["id"] for _, payload in gateway.received] == [first]
    [held, *_] = run_in_db(database_url, rows)
    assert held.status is NotificationStatus.PENDING and held.attempts == 0
    assert held.claimed_until == NOW + LEASE

    # Restarted at once: every other message goes out; the one held waits for its lease.
    assert _sent(database_url, gateway, tmp_path, NOW) == len(later)
    assert _sent(database_url, gateway, tmp_path, NOW + LEASE) == 0
    # Once the lease has run out it is sent again, with the id it had.
    assert _sent(database_url, gateway, tmp_path, NOW + LEASE + dt.timedelta(seconds=1)) == 1

    by_message = Counter(payload["id"] for _, payload in gateway.received)
    assert by_message == {first: 2, **dict.fromkeys(later, 1)}
    # Each request names its message three times (two headers, the signed body), and every
    # attempt of a message names it alike; no two messages share an id.
    ids: dict[int, set[str]] = {}
    for h, payload in gateway.received:
        names = {h["idempotency-key"], h["x-resourcemap-message-id"], payload["message_id"]}
        ids.setdefault(payload["id"], set()).update(names)
    assert all(len(names) == 1 for names in ids.values()), ids
    assert len(set.union(*ids.values())) == MESSAGES
    assert {n.status for n in run_in_db(database_url, rows)} == {NotificationStatus.SENT}
