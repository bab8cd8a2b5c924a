"""Staff change the booking rules while residents book, over real HTTP.

A two-worker server takes 200 bookings for 09:00 and 12:00 of ten mornings, staggered, while
staff switch the slot length between 50 minutes (every hour) and 90 minutes (back to back)
again and again: a request may check its slot under one length and take its seat under
the other. Whatever the order the database serialised them in, it must end up
consistent: seats taken equal the bookings holding them and never exceed capacity, every
booking lies exactly on its slot, and booked slots never overlap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest

from resourcemap import accounts, tokens
from resourcemap.models import Organisation
from resourcemap.vocab import SEAT_HOLDING, Role
from tests.factories import run_in_db
from tests.load_helpers import (
    booking_codes,
    check_seats,
    client,
    gather_all,
    now,
    open_room,
    running_server,
)

# Many concurrent requests, processes or generated cases: the slow tier.
pytestmark = pytest.mark.load

BOOKINGS = 200
POLICY_CHANGES = 40
# Both grids start slots at 09:00 and 12:00, with different lengths.
GRIDS = [
    {"slot_minutes": 50, "buffer_minutes": 10, "seats": 100},
    {"slot_minutes": 90, "buffer_minutes": 0, "seats": 100},
]
DAYS = 10


async def _world() -> tuple[int, str]:
    room = await open_room(seats=3)
    org = await Organisation.get(name_zh="测试区卫健局")
    staff = await accounts.create_account(
        None,
        username="staff",
        password="correct-horse-9",
        role=Role.STAFF,
        organisation_id=org.id,
    )
    return room, (await tokens.issue(None, staff.id, now=now())).token


def _mornings(tz: str = "Asia/Shanghai") -> list[dt.datetime]:
    """09:00 and 12:00 of ten days from two days ahead: slot starts on both grids. The
    first booking of each is the one that may meet a change of length."""
    zone = ZoneInfo(tz)
    first = (now() + dt.timedelta(days=2)).astimezone(zone).date()
    days = [first + dt.timedelta(days=n) for n in range(DAYS)]
    return [dt.datetime.combine(day, dt.time(h), zone) for day in days for h in (9, 12)]


def _lag(i: int, n: int) -> float:
    """When the ``i``-th booking is sent: the first of each of the ``n`` starts at its own
    moment, drifting against the rhythm of the changes of length; the rest soon after."""
    return (i % n) * 0.04 + (i // n) * 0.01


def test_slot_length_changes_during_a_booking_load(database_url: str, tmp_path: Path) -> None:
    room, token = run_in_db(database_url, _world)
    starts = _mornings()
    staff = {"Authorization": f"Bearer {token}"}
    policy = {"min_notice_minutes": 60, "horizon_days": 30, "change_notice_minutes": 60}

    async def load(base_url: str) -> tuple[list[httpx2.Response], list[httpx2.Response]]:
        async with client(base_url) as http:

            async def book(start: dt.datetime, after: float) -> httpx2.Response:
                await asyncio.sleep(after)
                return await http.post(
                    "/api/v1/bookings",
                    json={"resource_id": room, "starts_at": start.isoformat()},
                )

            async def change(rules: dict[str, Any], after: float) -> httpx2.Response:
                await asyncio.sleep(after)  # spread over the load; nothing depends on it
                return await http.put(
                    f"/api/v1/resources/{room}/booking-policy",
                    json={**policy, **rules},
                    headers=staff,
                )

            grids = itertools.cycle(GRIDS[1:] + GRIDS[:1])  # 90 minutes first
            results = await gather_all(
                *(book(starts[i % len(starts)], _lag(i, len(starts))) for i in range(BOOKINGS)),
                *(change(next(grids), i * 0.0375) for i in range(POLICY_CHANGES)),
            )
            return results[:BOOKINGS], results[BOOKINGS:]

    with running_server(database_url, tmp_path) as server:
        bookings, changes = asyncio.run(load(server.base_url))
    assert {r.status_code for r in changes} == {200}, [r.text for r in changes]
    assert {r.status_code for r in bookings} <= {201, 409}, {r.text for r in bookings}
    made = {r.json()["code"] for r in bookings if r.status_code == 201}
    assert made, "no booking got through at all"

    async def stored() -> tuple[set[str], list[str]]:
        holding = await booking_codes(resource_id=room, status__in=[s.value for s in SEAT_HOLDING])
        return set(holding), (await check_seats(room)).problems

    holding, problems = run_in_db(database_url, stored)
    assert problems == []
    assert holding == made
