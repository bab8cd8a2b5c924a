"""Booking through several app processes on PostgreSQL (#22): throughput against bare INSERTs,
and no seat sold twice when every process is asked for the same seats at once.

A throwaway PostgreSQL database gets the demo city; ``--processes`` uvicorn processes
(default 4) serve it, each with its own connection pool and caches, the clock fixed at the
bench's instant (``RESOURCEMAP_FIXED_NOW``), request limits and booking caps off (one
address books everything here). Then:

1. **Throughput**: rounds of ``--bookings`` distinct free seats booked over HTTP
   (``POST /api/v1/bookings``) by 50 concurrent clients spread round-robin over the
   processes, alternating with rounds of the same number of bare INSERTs of a booking row
   (``bench/booking.py``'s) through one connection pool in this process. The result is the
   median of the rounds' ratios (goal >= 0.3: the whole HTTP stack, validation, sealing of
   contact details and the seat ledger cost at most about three INSERTs).
2. **No overbooking**: ``--contest`` free seats (3,000) are each asked for three times at
   once, each ask sent to a different process; afterwards every slot's confirmed bookings
   are counted in SQL against its capacity, and the seats won against the seats there were.

    python bench/booking_processes.py                # 4 processes
    python bench/booking_processes.py --quick        # fewer rounds
    python bench/booking_processes.py --processes 2

The machine is shared (2 cores): the ratio within the run is the result.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import numpy as np
from booking import (
    CLIENTS,
    NOW,
    PG_ADMIN_URL,
    SEED,
    _pg_admin,
    free_seats,
    insert_jobs,
    prepare,
    run_clients,
)
from cryptography.fernet import Fernet
from harness.servers import uvicorn_server

from resourcemap import db
from resourcemap.booking.desk import Desk
from resourcemap.booking.requests import BookingIn, digest
from resourcemap.settings import Settings

GOAL = 0.3
CONTENDERS = 3  # asks per contested seat, each to another process


def _body(request: BookingIn, n: int) -> dict[str, Any]:
    return {
        "resource_id": request.resource_id,
        "starts_at": request.starts_at.isoformat(),
        "nickname": f"居民{n}",
        "phone": f"+86 139 {n // 10000 % 10000:04d} {n % 10000:04d}",
    }


async def _post_all(
    bases: list[str], bodies: list[dict[str, Any]], clients: int
) -> tuple[float, dict[int, int]]:
    """Seconds to send every body, round-robin over the processes from ``clients``
    concurrent clients; the count of answers per status."""
    statuses: dict[int, int] = {}
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx2.AsyncClient(limits=limits, timeout=60.0) as client:
        turn = itertools.count()

        async def one(body: dict[str, Any]) -> None:
            base = bases[next(turn) % len(bases)]
            answer = await client.post(
                f"{base}/api/v1/bookings",
                json=body,
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        def job(body: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            return lambda: one(body)

        seconds = await run_clients([job(b) for b in bodies], clients)
    return seconds, statuses


async def _overbooked(database_url: str) -> tuple[int, int]:
    """Slots holding more confirmed bookings than seats, and slots whose counter disagrees
    with their bookings."""
    conn = await asyncpg.connect(database_url)
    try:
        over = await conn.fetchval(
            "SELECT count(*) FROM (SELECT s.id FROM booking_slot s JOIN booking b "
            "ON b.slot_id = s.id AND b.status = 'confirmed' "
            "GROUP BY s.id, s.capacity HAVING count(*) > s.capacity) x"
        )
        wrong = await conn.fetchval(
            "SELECT count(*) FROM booking_slot s WHERE s.taken <> (SELECT count(*) "
            "FROM booking b WHERE b.slot_id = s.id AND b.status = 'confirmed')"
        )
    finally:
        await conn.close()
    return int(over), int(wrong)


async def _forget_bare_rows(database_url: str, n: int) -> None:
    """Delete the bare INSERTs' rows: ``insert_jobs`` marks them with the request digests of
    0…n-1, which no booking's request has."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "DELETE FROM booking WHERE request_hash = ANY($1::text[])",
            [digest(str(i)) for i in range(n)],
        )
    finally:
        await conn.close()


async def run(database_url: str, args: argparse.Namespace, logs: Path) -> bool:
    secret, data_key = secrets.token_urlsafe(48), Fernet.generate_key().decode()
    desk = Desk(
        Settings(_env_file=None, database_url=database_url, secret_key=secret, data_keys=data_key)
    )
    rng = np.random.default_rng(SEED)
    async with db.database(database_url):
        requests = await free_seats(desk, set(), rng)
    needed = args.rounds * args.bookings
    if len(requests) < needed + 50:
        raise SystemExit(f"only {len(requests)} free seats for {needed} bookings and a contest")
    env = {
        "RESOURCEMAP_DATABASE_URL": database_url,
        "RESOURCEMAP_SECRET_KEY": secret,
        "RESOURCEMAP_DATA_KEYS": data_key,
        "RESOURCEMAP_RUN_WORKER": "false",
        "RESOURCEMAP_FIXED_NOW": NOW.isoformat(),
        "RESOURCEMAP_BOOKING_LIMIT_PER_ADDRESS": "0",
        "RESOURCEMAP_BOOKING_LIMIT_PER_CONTACT": "0",
        "RESOURCEMAP_BOOKING_CAP_PER_ADDRESS": "0",
        "RESOURCEMAP_BOOKING_CAP_PER_CONTACT": "0",
        "RESOURCEMAP_LOG_LEVEL": "WARNING",
    }
    serial = itertools.count()
    with ExitStack() as stack:
        bases = [
            stack.enter_context(
                uvicorn_server("web.asgi:app", log_path=logs / f"app{i}.log", env=env)
            )
            for i in range(args.processes)
        ]
        print(f"{len(bases)} app processes up; {len(requests)} free seats")
        async with db.database(database_url):
            # Warm-up: every process's pool, caches and code paths.
            warm = [_body(r, next(serial)) for r in requests[:CLIENTS]]
            await _post_all(bases, warm, CLIENTS)
            await run_clients(await insert_jobs(database_url, desk, CLIENTS, 0), CLIENTS)
            used = CLIENTS
            book_rates: list[float] = []
            bare_rates: list[float] = []
            for r in range(args.rounds):
                batch = [_body(x, next(serial)) for x in requests[used : used + args.bookings]]
                used += args.bookings
                bare = await insert_jobs(database_url, desk, len(batch), (r + 1) * len(batch))
                for kind in ("book", "bare") if r % 2 == 0 else ("bare", "book"):
                    if kind == "book":
                        seconds, statuses = await _post_all(bases, batch, CLIENTS)
                        if statuses.get(201, 0) != len(batch):
                            raise SystemExit(f"bookings of free seats refused: {statuses}")
                        book_rates.append(len(batch) / seconds)
                    else:
                        seconds = await run_clients(bare, CLIENTS)
                        bare_rates.append(len(bare) / seconds)
            # The bare rows filled one slot past its seats: gone before the count below.
            await _forget_bare_rows(database_url, args.bookings + CLIENTS)
        # The contest: free seats, each asked for by several processes at once.
        left = requests[used : used + args.contest]
        contest = [_body(x, next(serial)) for x in left for _ in range(CONTENDERS)]
        _, statuses = await _post_all(bases, contest, CLIENTS)
    over, wrong = await _overbooked(database_url)
    ratio = statistics.median(b / i for b, i in zip(book_rates, bare_rates, strict=True))
    rounds = ", ".join(f"{b:.0f}/{i:.0f}" for b, i in zip(book_rates, bare_rates, strict=True))
    met = ratio >= GOAL
    print(
        f"throughput over {len(bases)} processes ({CLIENTS} clients, {args.bookings} per "
        f"round): HTTP bookings {statistics.median(book_rates):.0f}/s, bare INSERT "
        f"{statistics.median(bare_rates):.0f}/s (medians) -> {ratio:.2f} (goal >= {GOAL:g})"
        f"{'' if met else '  NOT MET'}  [rounds book/insert: {rounds}]"
    )
    won = statuses.get(201, 0)
    # A slot's seats are several entries of ``requests``: each slot asked for in the
    # contest can give at most the seats it still had.
    key = [(r.resource_id, r.starts_at) for r in requests]
    seats = Counter(key)
    gone = Counter(key[:used])
    asked = Counter(key[used : used + len(left)])
    could = sum(min(CONTENDERS * n, seats[k] - gone[k]) for k, n in asked.items())
    fair = over == 0 and wrong == 0 and won == could
    print(
        f"contest: {len(left)} seats asked for {CONTENDERS} times each across the processes: "
        f"{won} booked of the {could} free seats of their slots, answers "
        f"{dict(sorted(statuses.items()))}; slots over capacity: {over}, counters that "
        f"disagree with their bookings: {wrong}{'' if fair else '  OVERBOOKED'}"
    )
    return met and fair


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bookings", type=int, default=200, help="bookings per round")
    parser.add_argument("--contest", type=int, default=3000, help="seats contested")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 100, 1,000 seats")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.bookings, args.contest = 3, 100, 1000
    name = f"rm_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    started = time.perf_counter()
    try:
        database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        asyncio.run(prepare(database_url))
        with tempfile.TemporaryDirectory(prefix="resourcemap-bench-") as tmp:
            ok = asyncio.run(run(database_url, args, Path(tmp)))
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"({time.perf_counter() - started:.0f} s in all)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
