"""Correctness under load: 200 requests race for one slot of 3 seats over real HTTP.

A real uvicorn server with two worker processes (two processes really race, on SQLite
through one shared database file), driven by ``httpx2.AsyncClient`` with 200 connections
open at once; afterwards the database itself is checked: seats taken equal the bookings
holding them and never exceed capacity.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import pytest

from resourcemap.booking.desk import Desk, Issued
from resourcemap.booking.requests import BookingIn
from resourcemap.models import Booking, Slot, WaitlistEntry
from resourcemap.vocab import BookingStatus, WaitlistStatus
from tests.factories import run_in_db
from tests.load_helpers import (
    app_settings,
    booking_codes,
    check_seats,
    client,
    future_slots,
    gather_all,
    now,
    open_room,
    running_server,
)

# Many concurrent requests, processes or generated cases: the slow tier.
pytestmark = pytest.mark.load

REQUESTS = 200
SEATS = 3


def iso(value: dt.datetime) -> str:
    return value.isoformat()


async def _book(http: httpx2.AsyncClient, room: int, starts_at: dt.datetime) -> httpx2.Response:
    return await http.post(
        "/api/v1/bookings",
        json={"resource_id": room, "starts_at": iso(starts_at)},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


async def _reschedule(
    http: httpx2.AsyncClient, issued: Issued, starts_at: dt.datetime
) -> httpx2.Response:
    return await http.post(
        f"/api/v1/bookings/{issued.code}/reschedule",
        json={"starts_at": iso(starts_at)},
        headers={"X-Booking-Token": issued.token},
    )


async def _cancel(
    http: httpx2.AsyncClient, issued: Issued, *, after: float = 0.0
) -> httpx2.Response:
    """Cancel, ``after`` seconds from now (spreads a cancel over its racing request's
    course: no assertion depends on the timing)."""
    await asyncio.sleep(after)
    return await http.post(
        f"/api/v1/bookings/{issued.code}/cancel", headers={"X-Booking-Token": issued.token}
    )


async def _prebook(database_url: str, room: int, starts: list[dt.datetime]) -> list[Issued]:
    """Fill each of ``starts`` (in the test process, before the server starts)."""
    desk = Desk(app_settings(database_url))
    made = []
    for start in starts:
        for _ in range(SEATS):
            made.append(await desk.book(BookingIn(resource_id=room, starts_at=start), now=now()))
    return made


def _lag(i: int) -> float:
    """Seconds the ``i``-th cancel waits after its racing move was sent."""
    return (i % 30) * (0.05 if i < 30 else 0.1)


def _statuses(responses: list[httpx2.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def _refused_as_full(responses: list[httpx2.Response]) -> None:
    for r in responses:
        if r.status_code == 409:
            assert r.json()["error"] == "Conflict", r.text


@pytest.fixture
def room(database_url: str) -> int:
    found: int = run_in_db(database_url, lambda: open_room(seats=SEATS))
    return found


def test_200_bookings_for_3_seats_confirm_exactly_3(
    database_url: str, room: int, tmp_path: Path
) -> None:
    (target,) = run_in_db(database_url, lambda: future_slots(database_url, room, 1))

    async def load(base_url: str) -> list[httpx2.Response]:
        async with client(base_url) as http:
            return await gather_all(*(_book(http, room, target) for _ in range(REQUESTS)))

    with running_server(database_url, tmp_path) as server:
        responses = asyncio.run(load(server.base_url))
    assert _statuses(responses) == {201: SEATS, 409: REQUESTS - SEATS}
    _refused_as_full(responses)
    confirmed = {r.json()["code"] for r in responses if r.status_code == 201}
    assert all(
        r.json()["booking"]["starts_at"] == iso(target) for r in responses if r.status_code == 201
    )

    async def stored() -> tuple[set[str], int, list[str]]:
        codes = set(await booking_codes(resource_id=room, status=BookingStatus.CONFIRMED))
        slot = await Slot.get(resource_id=room, starts_at=target.astimezone(dt.UTC))
        return codes, slot.taken, (await check_seats(room)).problems

    codes, taken, problems = run_in_db(database_url, stored)
    assert codes == confirmed
    assert taken == SEATS
    assert problems == []


def test_reschedules_and_bookings_race_for_3_seats(
    database_url: str, room: int, tmp_path: Path
) -> None:
    """100 residents move their booking into the slot while 100 others book it."""
    movers = REQUESTS // 2
    sources = -(-movers // SEATS)
    target, *others = run_in_db(database_url, lambda: future_slots(database_url, room, 1 + sources))
    held = run_in_db(database_url, lambda: _prebook(database_url, room, others))[:movers]

    async def load(base_url: str) -> list[httpx2.Response]:
        async with client(base_url) as http:
            return await gather_all(
                *(_reschedule(http, issued, target) for issued in held),
                *(_book(http, room, target) for _ in range(REQUESTS - movers)),
            )

    with running_server(database_url, tmp_path) as server:
        responses = asyncio.run(load(server.base_url))
    moves, books = responses[:movers], responses[movers:]
    assert set(_statuses(moves)) <= {200, 409}
    assert set(_statuses(books)) <= {201, 409}
    assert _statuses(moves)[200] + _statuses(books)[201] == SEATS
    _refused_as_full(responses)
    moved = {held[i].code for i, r in enumerate(moves) if r.status_code == 200}
    booked = {r.json()["code"] for r in books if r.status_code == 201}

    async def stored() -> tuple[set[str], set[str], list[str]]:
        at_target = set(
            await booking_codes(
                resource_id=room,
                status=BookingStatus.CONFIRMED,
                starts_at=target.astimezone(dt.UTC),
            )
        )
        elsewhere = set(
            await booking_codes(
                resource_id=room,
                status=BookingStatus.CONFIRMED,
                starts_at__not=target.astimezone(dt.UTC),
            )
        )
        return at_target, elsewhere, (await check_seats(room)).problems

    at_target, elsewhere, problems = run_in_db(database_url, stored)
    assert at_target == moved | booked
    # Those that did not move are still where they were; none was lost.
    assert {h.code for h in held} - moved <= elsewhere
    assert problems == []


def test_cancellations_race_reschedules_and_bookings(
    database_url: str, room: int, tmp_path: Path
) -> None:
    """The slot is full; its 3 holders cancel while 77 others book it, and 60 residents each
    move their booking and cancel it at the same time (racing themselves): 30 move into the
    slot, 30 into empty slots, where the move itself always has room."""
    pairs = 60
    sources = pairs // SEATS
    target, *others = run_in_db(
        database_url, lambda: future_slots(database_url, room, 1 + 2 * sources)
    )
    holders = run_in_db(database_url, lambda: _prebook(database_url, room, [target]))
    racers = run_in_db(database_url, lambda: _prebook(database_url, room, others[:sources]))
    empty = others[sources:]
    destinations = [target if i % 2 else empty[i // 2 % len(empty)] for i in range(pairs)]
    newcomers = REQUESTS - SEATS - 2 * pairs

    async def load(base_url: str) -> list[Any]:
        async with client(base_url) as http:
            calls = [
                *(_cancel(http, h) for h in holders),
                *(_reschedule(http, r, to) for r, to in zip(racers, destinations, strict=True)),
                # Each cancel starts a little after its move (by 0 to 1.5 s, or 0 to 3 s),
                # so that some read the booking before the move commits and end it after.
                *(_cancel(http, r, after=_lag(i)) for i, r in enumerate(racers)),
                *(_book(http, room, target) for _ in range(newcomers)),
            ]
            return await gather_all(*calls)

    with running_server(database_url, tmp_path) as server:
        responses = asyncio.run(load(server.base_url))
    holder_cancels = responses[:SEATS]
    moves = responses[SEATS : SEATS + pairs]
    racer_cancels = responses[SEATS + pairs : SEATS + 2 * pairs]
    books = responses[SEATS + 2 * pairs :]
    assert _statuses(holder_cancels) == {200: SEATS}
    assert _statuses(racer_cancels) == {200: pairs}  # cancelling is always allowed here
    assert set(_statuses(moves)) <= {200, 409}
    assert set(_statuses(books)) <= {201, 409}
    _refused_as_full(responses)
    booked = {r.json()["code"] for r in books if r.status_code == 201}

    async def stored() -> tuple[dict[str, str], list[str]]:
        rows = await Booking.filter(resource_id=room).values_list("code", "status")
        return {code: str(status) for code, status in rows}, (await check_seats(room)).problems

    status, problems = run_in_db(database_url, stored)
    assert problems == []
    assert all(status[h.code] == BookingStatus.CANCELLED for h in [*holders, *racers])
    # Only the newcomers can hold seats in the slot now, at most its capacity.
    assert {c for c, s in status.items() if s == BookingStatus.CONFIRMED} == booked
    assert len(booked) <= SEATS


def test_200_retries_of_one_idempotency_key_make_one_booking(
    database_url: str, room: int, tmp_path: Path
) -> None:
    """A client retrying hard: 200 copies of one request with one key, at once, on both
    workers; then the key once more with another body."""
    (target,) = run_in_db(database_url, lambda: future_slots(database_url, room, 1))
    key = uuid.uuid4().hex
    body = {"resource_id": room, "starts_at": iso(target), "nickname": "小王"}

    async def load(base_url: str) -> list[httpx2.Response]:
        async with client(base_url) as http:

            async def send(json: dict[str, Any]) -> httpx2.Response:
                return await http.post(
                    "/api/v1/bookings", json=json, headers={"Idempotency-Key": key}
                )

            copies = await gather_all(*(send(body) for _ in range(REQUESTS)))
            return [*copies, await send({**body, "nickname": "小张"})]

    with running_server(database_url, tmp_path) as server:
        responses = asyncio.run(load(server.base_url))
    *copies, other = responses
    assert _statuses(copies) == {201: REQUESTS}
    assert len({(r.json()["code"], r.json()["token"]) for r in copies}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in copies) == REQUESTS - 1
    assert other.status_code == 400, other.text
    assert "Idempotency-Key" in other.json()["fields"]
    code = copies[0].json()["code"]

    async def stored() -> tuple[list[str], int, list[str]]:
        codes = await booking_codes(resource_id=room)
        slot = await Slot.get(resource_id=room, starts_at=target.astimezone(dt.UTC))
        return list(codes), slot.taken, (await check_seats(room)).problems

    codes, taken, problems = run_in_db(database_url, stored)
    assert (codes, taken, problems) == ([code], 1, [])


def test_waitlist_offers_and_accepts_under_load(
    database_url: str, room: int, tmp_path: Path
) -> None:
    """The slot is full. Its 3 holders cancel while 50 residents join its waitlist and 100
    try to book it; then everyone offered a seat accepts it twice at once (two taps)."""
    (target,) = run_in_db(database_url, lambda: future_slots(database_url, room, 1))
    holders = run_in_db(database_url, lambda: _prebook(database_url, room, [target]))
    joiners, bookers = 50, 100

    async def join(http: httpx2.AsyncClient, i: int) -> httpx2.Response:
        return await http.post(
            "/api/v1/waitlist",
            json={"resource_id": room, "starts_at": iso(target), "phone": f"1380000{i:04d}"},
        )

    async def first_round(base_url: str) -> list[httpx2.Response]:
        async with client(base_url) as http:
            return await gather_all(
                *(_cancel(http, h) for h in holders),
                *(join(http, i) for i in range(joiners)),
                *(_book(http, room, target) for _ in range(bookers)),
            )

    async def accept_twice(base_url: str, entries: list[Issued]) -> list[httpx2.Response]:
        async with client(base_url) as http:
            return await gather_all(
                *(
                    http.post(
                        f"/api/v1/waitlist/{e.code}/accept", headers={"X-Booking-Token": e.token}
                    )
                    for e in entries
                    for _ in range(2)
                )
            )

    async def state() -> tuple[dict[str, str], dict[str, str], list[str]]:
        entries = await WaitlistEntry.filter(resource_id=room).values_list("code", "status")
        bookings = await Booking.filter(resource_id=room).values_list("code", "status")
        return (
            {c: str(s) for c, s in entries},
            {c: str(s) for c, s in bookings},
            (await check_seats(room)).problems,
        )

    with running_server(database_url, tmp_path, waitlist_offer_minutes="30") as server:
        responses = asyncio.run(first_round(server.base_url))
        cancels, joins, books = (
            responses[:SEATS],
            responses[SEATS : SEATS + joiners],
            responses[SEATS + joiners :],
        )
        assert _statuses(cancels) == {200: SEATS}
        assert set(_statuses(joins)) <= {201, 409}
        assert set(_statuses(books)) <= {201, 409}
        _refused_as_full(responses)
        entries, bookings, problems = run_in_db(database_url, state)
        assert problems == []
        offered = [
            Issued(r.json()["code"], r.json()["token"])
            for r in joins
            if r.status_code == 201 and entries[r.json()["code"]] == WaitlistStatus.OFFERED
        ]
        booked = sum(r.status_code == 201 for r in books)
        # Every seat freed went to a new booking or, with someone waiting, to an offer.
        assert booked + len(offered) == SEATS
        assert sum(s == BookingStatus.OFFERED for s in bookings.values()) == len(offered)
        accepts = asyncio.run(accept_twice(server.base_url, offered))
    assert _statuses(accepts) == {201: len(offered), 409: len(offered)}
    entries, bookings, problems = run_in_db(database_url, state)
    assert problems == []
    assert sum(s == WaitlistStatus.BOOKED for s in entries.values()) == len(offered)
    assert sum(s == BookingStatus.CONFIRMED for s in bookings.values()) == SEATS
