"""A server killed (SIGKILL) in the middle of a booking load loses nothing and doubles
nothing.

Clients send every booking with its own ``Idempotency-Key``. The whole server (supervisor
and both workers) is killed while requests are in flight, then started again; clients
replay each request whose answer they did not get, with the same key and body, as a
resident's app would. Afterwards every booking a client saw confirmed is in the database
exactly once, every key made exactly one booking, and seats add up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from resourcemap.booking.requests import digest
from resourcemap.models import Booking
from resourcemap.vocab import BookingStatus
from tests.factories import run_in_db
from tests.load_helpers import Server, check_seats, client, future_slots, open_room

# Many concurrent requests, processes or generated cases: the slow tier.
pytestmark = pytest.mark.load

SEATS = 3
SLOTS = 50
REQUESTS = SEATS * SLOTS  # exactly the seats there are: every request can be confirmed
CONCURRENCY = 30
KILL_AFTER = 40  # answers received before the kill


@dataclass
class Attempt:
    key: str
    body: dict[str, Any]
    code: str | None = None  # from the first 201 the client saw
    statuses: list[int] = field(default_factory=list)
    replayed: bool = False  # an answer said the booking had been made before


async def _send(http: httpx2.AsyncClient, attempt: Attempt) -> bool:
    """One try; ``False`` when no answer came back (connection refused, reset, cut)."""
    try:
        answer = await http.post(
            "/api/v1/bookings", json=attempt.body, headers={"Idempotency-Key": attempt.key}
        )
    except httpx2.TransportError:
        return False
    attempt.statuses.append(answer.status_code)
    assert answer.status_code == 201, answer.text
    code = answer.json()["code"]
    assert attempt.code in (None, code), "a replay answered with another booking"
    attempt.code = code
    attempt.replayed |= answer.headers.get("idempotent-replayed") == "true"
    return True


async def _load_until_killed(server: Server, attempts: list[Attempt]) -> None:
    answered = 0
    killed = asyncio.Event()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(attempt: Attempt) -> None:
        nonlocal answered
        async with gate:
            if killed.is_set():
                return  # the client noticed the server is gone; it will retry later
            if await _send(http, attempt):
                answered += 1
        if answered >= KILL_AFTER and not killed.is_set():
            killed.set()
            server.kill()  # blocks the loop briefly: nothing can be answered meanwhile

    async with client(server.base_url, CONCURRENCY) as http:
        await asyncio.gather(*(one(a) for a in attempts))


async def _replay(base_url: str, attempts: list[Attempt]) -> None:
    async with client(base_url, CONCURRENCY) as http:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(attempt: Attempt) -> None:
            async with gate:
                assert await _send(http, attempt), "the restarted server did not answer"

        await asyncio.gather(*(one(a) for a in attempts))


def test_killed_server_loses_no_booking_and_makes_none_twice(
    database_url: str, tmp_path: Path
) -> None:
    room = run_in_db(database_url, lambda: open_room(seats=SEATS))
    starts: list[dt.datetime] = run_in_db(
        database_url, lambda: future_slots(database_url, room, SLOTS)
    )
    attempts = [
        Attempt(
            key=str(uuid.uuid4()),
            body={"resource_id": room, "starts_at": starts[i % SLOTS].isoformat()},
        )
        for i in range(REQUESTS)
    ]
    server = Server(database_url, tmp_path)
    server.start()
    try:
        asyncio.run(_load_until_killed(server, attempts))
        assert server.process is not None and server.process.returncode == -9
        seen_before = {a.key: a.code for a in attempts if a.code is not None}
        unanswered = [a for a in attempts if a.code is None]
        assert len(seen_before) >= KILL_AFTER
        assert unanswered, "the kill came too late to cut any request"

        server.start()
        # Unanswered requests are replayed; a few answered ones too (a client that lost
        # its copy of the answer): they must get the very same booking back.
        asyncio.run(_replay(server.base_url, unanswered + attempts[:10]))
    except BaseException:
        print(server.log())
        raise
    finally:
        server.stop()

    assert all(a.code is not None for a in attempts)
    print(
        f"{len(seen_before)} answered before the kill, {len(unanswered)} replayed after it, "
        f"of which {sum(a.replayed for a in unanswered)} had been booked before the kill"
    )
    assert all(seen_before[k] == a.code for a in attempts if (k := a.key) in seen_before)

    async def stored() -> tuple[list[tuple[str, str, str]], list[str]]:
        rows = await Booking.filter(resource_id=room).values_list(
            "code", "idempotency_key", "status"
        )
        return [(c, k, str(s)) for c, k, s in rows], (await check_seats(room)).problems

    rows, problems = run_in_db(database_url, stored)
    assert problems == []
    by_key = {k: c for c, k, _ in rows}
    assert len(rows) == REQUESTS, "a key made two bookings, or a booking was lost"
    assert len(by_key) == REQUESTS
    assert {digest(a.key): a.code for a in attempts} == by_key
    assert all(s == BookingStatus.CONFIRMED for _, _, s in rows)
