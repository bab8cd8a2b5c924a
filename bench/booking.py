"""Booking speed on SQLite and PostgreSQL: slot listing and booking throughput.

Each database (a temporary SQLite file; a throwaway PostgreSQL database, dropped at the
end) gets the demo city, whose services take bookings under the demo's rules, and two
measures, each against a bare statement timed in the same run on the same connection:

- listing: ``Desk.slot_list`` for one resource over 90 days (policy horizon 90 days; weekly
  hours, public holidays and make-up days, exceptions, blocked time, a third of the slots
  partly booked) against a bare indexed SELECT of the same rows (start, end, capacity,
  taken) from ``booking_slot``, where a copy of the resource has every listed slot stored.
  Two resources: a community room (50-minute slots, 1 seat) and a hospital clinic
  (20-minute slots, 3 seats). Goal: the listing takes at most 2x the SELECT's time.
- throughput: 50 concurrent clients calling ``Desk.book`` (distinct seats across the demo's
  bookable services, each with an Idempotency-Key, a nickname and a phone number) against
  50 concurrent bare INSERTs of a booking row through the same tortoise connection. Goal:
  bookings per second at least 0.3x the INSERTs per second.

    python bench/booking.py                      # both databases
    python bench/booking.py --quick              # fewer repeats and bookings
    python bench/booking.py --database sqlite    # one database only

The machine is shared and noisy: listing and SELECT alternate and medians are compared;
booking rounds alternate with INSERT rounds and the median of the rounds' ratios is the
result. PostgreSQL is the server at ``RESOURCEMAP_BENCH_PG`` (default
``postgres://postgres@127.0.0.1:5432/postgres``); without it that half is skipped and says
so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg
import numpy as np
from cryptography.fernet import Fernet
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from resourcemap import db, schema
from resourcemap.booking import slots
from resourcemap.booking.desk import Desk
from resourcemap.booking.requests import BookingIn, digest
from resourcemap.demo.city import load_demo_city
from resourcemap.models import BookingPolicy, Resource, Slot, TimeBlock
from resourcemap.settings import Settings
from resourcemap.vocab import BookingStatus, Channel, ResourceKind

PG_ADMIN_URL = os.environ.get("RESOURCEMAP_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
GOAL_LISTING, GOAL_BOOKING = 2.0, 0.3
SEED = 2026
DAYS = 90
CLIENTS = 50
BOOKED_SHARE = 1 / 3
# 90 days from here span National Day (2026-10-01..07) and its make-up working days.
NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
LISTED = {"room": ResourceKind.COMMUNITY_ROOM, "clinic": ResourceKind.PSYCHIATRIC_HOSPITAL_CLINIC}


@dataclass(frozen=True)
class Listing:
    label: str
    rows: int
    app_ms: float  # median Desk.slot_list
    bare_ms: float  # median bare SELECT of the same rows

    @property
    def ratio(self) -> float:
        return self.app_ms / self.bare_ms


@dataclass(frozen=True)
class Throughput:
    bookings: int  # per round
    book_rate: float  # median bookings per second over the rounds
    bare_rate: float  # median INSERTs per second
    book_rates: list[float]
    bare_rates: list[float]

    @property
    def ratio(self) -> float:
        """The median of each round's ratio: a booking round and an INSERT round run back to
        back, so each pair sees the same load from the rest of the machine."""
        return statistics.median(
            b / i for b, i in zip(self.book_rates, self.bare_rates, strict=True)
        )


def connection(database_url: str) -> BaseDBAsyncClient:
    client: BaseDBAsyncClient = connections.get(db.dialect(database_url))
    return client


def placeholders(database_url: str, n: int) -> list[str]:
    return ["?"] * n if db.dialect(database_url) == "sqlite" else [f"${i}" for i in range(1, n + 1)]


def db_time(database_url: str, value: dt.datetime) -> Any:
    """A UTC instant as the driver takes it (tortoise stores ISO text on SQLite)."""
    value = value.astimezone(dt.UTC)
    return value.isoformat(" ") if db.dialect(database_url) == "sqlite" else value


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- set-up


async def prepare(database_url: str) -> None:
    await schema.migrate(database_url)
    async with db.database(database_url):
        await load_demo_city(SEED)


async def listed_resource(kind: ResourceKind) -> int:
    """The first bookable resource of ``kind``, its horizon widened to 90 days."""
    found = await (
        Resource.filter(kind=kind, booking_policy__enabled=True)
        .order_by("id")
        .first()
        .values_list("id", flat=True)
    )
    rid = cast(int, found)
    await BookingPolicy.filter(resource_id=rid).update(horizon_days=DAYS)
    return rid


async def book_some(desk: Desk, rid: int, rng: np.random.Generator) -> None:
    """Existing bookings: a third of the slots partly taken, and two blocked afternoons."""
    first_day = NOW.astimezone(desk.tz).date()
    listed = await desk.slot_list(rid, first_day, DAYS, now=NOW)
    picked = np.flatnonzero(rng.random(len(listed)) < BOOKED_SHARE)
    await Slot.bulk_create(
        [
            Slot(
                resource_id=rid,
                starts_at=slots.as_utc(int(listed.starts[i])),
                ends_at=slots.as_utc(int(listed.ends[i])),
                capacity=int(listed.capacity[i]),
                taken=int(rng.integers(1, int(listed.capacity[i]) + 1)),
            )
            for i in picked.tolist()
        ]
    )
    for week in (2, 7):
        start = dt.datetime.combine(first_day + dt.timedelta(weeks=week), dt.time(14), desk.tz)
        await TimeBlock.create(
            resource_id=rid, starts_at=start, ends_at=start + dt.timedelta(hours=3), reason="staff"
        )


async def mirror(desk: Desk, rid: int) -> tuple[int, int]:
    """A copy of resource ``rid`` with every slot it lists stored: what the bare SELECT
    reads. Returns the copy's id and the number of rows."""
    first_day = NOW.astimezone(desk.tz).date()
    listed = await desk.slot_list(rid, first_day, DAYS, now=NOW)
    copy = await Resource.get(id=rid)
    copy.pk = None
    copy.external_id = f"bench-mirror-{rid}"
    await copy.save(force_create=True)
    await Slot.bulk_create(
        [
            Slot(
                resource_id=copy.pk,
                starts_at=slots.as_utc(s),
                ends_at=slots.as_utc(e),
                capacity=c,
                taken=c - r,
            )
            for s, e, c, r in zip(
                listed.starts.tolist(),
                listed.ends.tolist(),
                listed.capacity.tolist(),
                listed.remaining.tolist(),
                strict=True,
            )
        ]
    )
    return int(copy.pk), len(listed)


# ---------------------------------------------------------------------------- listing


async def measure_listing(
    database_url: str, desk: Desk, label: str, rid: int, copy_id: int, repeat: int
) -> Listing:
    conn = connection(database_url)
    first_day = NOW.astimezone(desk.tz).date()
    start, end = slots.window(first_day, DAYS, desk.tz)
    p = placeholders(database_url, 3)
    sql = (
        "SELECT starts_at, ends_at, capacity, taken FROM booking_slot "
        f"WHERE resource_id = {p[0]} AND starts_at >= {p[1]} AND starts_at < {p[2]} "
        "ORDER BY starts_at"
    )
    values = [copy_id, db_time(database_url, start), db_time(database_url, end)]

    async def app() -> slots.SlotList:
        return await desk.slot_list(rid, first_day, DAYS, now=NOW)

    async def bare() -> list[Any]:
        _, rows = await conn.execute_query(sql, values)
        return list(rows)

    listed, rows = await app(), await bare()
    assert len(listed) == len(rows), f"{label}: {len(listed)} slots listed, {len(rows)} rows"
    assert [int(r["capacity"]) - int(r["taken"]) for r in rows] == listed.remaining.tolist()
    times: dict[Callable[[], Awaitable[Any]], list[float]] = {app: [], bare: []}
    for _ in range(max(3, repeat // 10)):  # warm-up: statement caches, pools, code paths
        for fn in times:
            await fn()
    for i in range(repeat):
        for fn in list(times) if i % 2 == 0 else list(times)[::-1]:
            times[fn].append(await timed(fn))
    return Listing(
        label=label,
        rows=len(rows),
        app_ms=statistics.median(times[app]) * 1000,
        bare_ms=statistics.median(times[bare]) * 1000,
    )


# ---------------------------------------------------------------------------- throughput


async def free_seats(desk: Desk, exclude: set[int], rng: np.random.Generator) -> list[BookingIn]:
    """One booking request per free seat of the demo's bookable services, shuffled."""
    found = await BookingPolicy.filter(enabled=True).values_list("resource_id", flat=True)
    ids = {cast(int, rid) for rid in found}
    first_day = NOW.astimezone(desk.tz).date()
    requests = []
    for rid in sorted(ids - exclude):
        listed = await desk.slot_list(rid, first_day, 30, now=NOW)
        for start, free in zip(listed.starts.tolist(), listed.remaining.tolist(), strict=True):
            at = slots.to_local(start, desk.tz)
            requests += [BookingIn(resource_id=rid, starts_at=at)] * free
    order = rng.permutation(len(requests))
    return [
        requests[i].model_copy(update={"nickname": f"居民{n}", "phone": f"+86 138 0000 {n:04d}"})
        for n, i in enumerate(order.tolist())
    ]


async def run_clients(jobs: list[Callable[[], Awaitable[Any]]], clients: int) -> float:
    """Seconds for ``clients`` concurrent clients to work through ``jobs``, each in turn."""
    queues = [jobs[i::clients] for i in range(clients)]

    async def client(mine: list[Callable[[], Awaitable[Any]]]) -> None:
        for job in mine:
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(client(q) for q in queues))
    return time.perf_counter() - started


def booking_jobs(desk: Desk, requests: list[BookingIn]) -> list[Callable[[], Awaitable[Any]]]:
    def job(data: BookingIn) -> Callable[[], Awaitable[Any]]:
        async def book() -> None:
            issued = await desk.book(data, now=NOW, idempotency_key=uuid.uuid4().hex)
            assert not issued.replayed

        return book

    return [job(r) for r in requests]


async def insert_jobs(
    database_url: str, desk: Desk, n: int, serial: int
) -> list[Callable[[], Awaitable[Any]]]:
    """``n`` bare INSERTs of a booking row like the desk writes (sealed token and contact
    details, hashes, timestamps), into ``booking`` itself, on an existing slot."""
    conn = connection(database_url)
    slot = await Slot.filter(taken__gt=0).order_by("id").first()
    assert slot is not None
    columns = [
        "code",
        "token_enc",
        "resource_id",
        "slot_id",
        "starts_at",
        "ends_at",
        "status",
        "service",
        "channel",
        "nickname_enc",
        "phone_enc",
        "idempotency_key",
        "request_hash",
        "cancelled_by",
        "cancel_reason",
        "reminder_queued",
        "created_at",
        "updated_at",
    ]
    sql = (
        f"INSERT INTO booking ({', '.join(columns)}) "
        f"VALUES ({', '.join(placeholders(database_url, len(columns)))})"
    )
    now = db_time(database_url, dt.datetime.now(dt.UTC))
    token, nickname, phone = (desk.vault.seal(t) for t in ("t" * 32, "居民", "+86 138 0000 0000"))
    rows = [
        [
            f"9{serial + i:07d}",
            token,
            slot.resource_id,
            slot.id,
            db_time(database_url, slot.starts_at),
            db_time(database_url, slot.ends_at),
            BookingStatus.CONFIRMED.value,
            "",
            Channel.WEB.value,
            nickname,
            phone,
            digest(uuid.uuid4().hex),
            digest(str(i)),
            "",
            "",
            False,
            now,
            now,
        ]
        for i in range(n)
    ]

    def job(values: list[Any]) -> Callable[[], Awaitable[Any]]:
        async def insert() -> None:
            await conn.execute_query(sql, values)

        return insert

    return [job(r) for r in rows]


async def measure_throughput(
    database_url: str, desk: Desk, requests: list[BookingIn], rounds: int, per_round: int
) -> Throughput:
    book_rates: list[float] = []
    bare_rates: list[float] = []
    # Warm-up: one booking and one INSERT per client.
    await run_clients(booking_jobs(desk, requests[:CLIENTS]), CLIENTS)
    await run_clients(await insert_jobs(database_url, desk, CLIENTS, 0), CLIENTS)
    used = CLIENTS
    for r in range(rounds):
        batch = requests[used : used + per_round]
        used += per_round
        book = booking_jobs(desk, batch)
        bare = await insert_jobs(database_url, desk, per_round, (r + 1) * per_round)
        order = [("book", book), ("bare", bare)]
        for kind, jobs in order if r % 2 == 0 else order[::-1]:
            seconds = await run_clients(jobs, CLIENTS)
            (book_rates if kind == "book" else bare_rates).append(len(jobs) / seconds)
    return Throughput(
        bookings=per_round,
        book_rate=statistics.median(book_rates),
        bare_rate=statistics.median(bare_rates),
        book_rates=book_rates,
        bare_rates=bare_rates,
    )


# ---------------------------------------------------------------------------- a database


async def bench(
    database_url: str, *, repeat: int, rounds: int, per_round: int
) -> tuple[list[Listing], Throughput]:
    rng = np.random.default_rng(SEED)
    # Keys of this run only: the bench writes nothing outside its own databases.
    desk = Desk(
        Settings(
            _env_file=None,
            database_url=database_url,
            secret_key=secrets.token_urlsafe(48),
            data_keys=Fernet.generate_key().decode(),
        )
    )
    async with db.database(database_url):
        listed = {label: await listed_resource(kind) for label, kind in LISTED.items()}
        copies = {}
        for label, rid in listed.items():
            await book_some(desk, rid, rng)
            copies[label], _ = await mirror(desk, rid)
        listings = [
            await measure_listing(database_url, desk, label, rid, copies[label], repeat)
            for label, rid in listed.items()
        ]
        requests = await free_seats(desk, set(listed.values()) | set(copies.values()), rng)
        needed = CLIENTS + rounds * per_round
        if len(requests) < needed:
            raise SystemExit(f"only {len(requests)} free seats for {needed} bookings")
        throughput = await measure_throughput(database_url, desk, requests, rounds, per_round)
    return listings, throughput


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_sqlite(args: argparse.Namespace) -> tuple[list[Listing], Throughput]:
    with tempfile.TemporaryDirectory(prefix="resourcemap-bench-") as tmp:
        database_url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(prepare(database_url))
        return asyncio.run(bench(database_url, **_sizes(args)))


def run_postgres(args: argparse.Namespace) -> tuple[list[Listing], Throughput] | str:
    name = f"rm_bench_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} unreachable ({type(exc).__name__}: {exc})"
    try:
        database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        asyncio.run(prepare(database_url))
        return asyncio.run(bench(database_url, **_sizes(args)))
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"'))


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    return {"repeat": args.repeat, "rounds": args.rounds, "per_round": args.bookings}


# ---------------------------------------------------------------------------- report


def report(name: str, listings: list[Listing], throughput: Throughput) -> bool:
    ok = True
    for x in listings:
        met = x.ratio <= GOAL_LISTING
        ok &= met
        print(
            f"{name} listing {x.label} ({x.rows} slots, {DAYS} days): slot_list "
            f"{x.app_ms:.2f} ms, bare SELECT {x.bare_ms:.2f} ms -> {x.ratio:.2f}x "
            f"(goal <= {GOAL_LISTING:g}x){'' if met else '  NOT MET'}"
        )
    t = throughput
    met = t.ratio >= GOAL_BOOKING
    ok &= met
    rates = ", ".join(f"{b:.0f}/{i:.0f}" for b, i in zip(t.book_rates, t.bare_rates, strict=True))
    print(
        f"{name} throughput ({CLIENTS} clients, {t.bookings} per round): Desk.book "
        f"{t.book_rate:.0f}/s, bare INSERT {t.bare_rate:.0f}/s (medians) -> {t.ratio:.2f} "
        f"(goal >= {GOAL_BOOKING:g}){'' if met else '  NOT MET'}  [rounds book/insert: {rates}]"
    )
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and bookings")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, help="listings timed per resource (200; quick 40)")
    parser.add_argument("--rounds", type=int, help="booking rounds (5; quick 3)")
    parser.add_argument("--bookings", type=int, help="bookings per round (200; quick 100)")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 40 if args.quick else 200
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
    if args.bookings is None:
        args.bookings = 100 if args.quick else 200
    if min(args.repeat, args.rounds, args.bookings) < 1:
        parser.error("--repeat, --rounds and --bookings must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, tuple[list[Listing], Throughput]] = {}
    skipped: list[str] = []
    if args.database in ("sqlite", "both"):
        print("sqlite: demo city, bookings, timing ...", file=sys.stderr, flush=True)
        results["sqlite"] = run_sqlite(args)
    if args.database in ("postgres", "both"):
        print("postgres: demo city, bookings, timing ...", file=sys.stderr, flush=True)
        outcome = run_postgres(args)
        if isinstance(outcome, str):
            skipped.append(f"postgres skipped: {outcome}")
        else:
            results["postgres"] = outcome
    print(f"machine: {os.cpu_count()} cores; medians of alternating runs")
    ok = True
    for name, (listings, throughput) in results.items():
        ok &= report(name, listings, throughput)
    for line in skipped:
        print(line)
    print("goals met" if ok and not skipped else "GOALS NOT MET" if not ok else "incomplete")
    return 0 if ok and not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
