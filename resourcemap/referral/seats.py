"""Taking a green-channel seat: the seat ledger's lock, then one conditional upsert.

The same guarantees as ``resourcemap.booking.seats`` (read its docstring): the transaction
starts with ``seats.lock`` on the receiving resource's ``booking_policy`` row, so referral
and public bookings of one resource are serialised on both databases; the upsert adds a
referral seat only while ``referral_taken < referral_capacity`` and counts it apart from the
public ``taken``, so no public booking can take it and no referral can take a public seat;
and the database refuses ``referral_taken > referral_capacity`` (migration 0012).
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from resourcemap.booking import seats, slots
from resourcemap.errors import Conflict

TAKE = """
INSERT INTO booking_slot
    (resource_id, starts_at, ends_at, capacity, taken, referral_capacity, referral_taken)
SELECT {rid}, {start}, {end}, {seats}, 0, {referral}, 1
WHERE NOT EXISTS (
    SELECT 1 FROM booking_slot other
    WHERE other.resource_id = {rid} AND (other.taken > 0 OR other.referral_taken > 0)
      AND other.starts_at < {end} AND other.ends_at > {start}
      AND other.starts_at <> {start}
)
ON CONFLICT (resource_id, starts_at) DO UPDATE
SET referral_taken = booking_slot.referral_taken + 1,
    referral_capacity = excluded.referral_capacity, ends_at = excluded.ends_at
WHERE booking_slot.referral_taken < excluded.referral_capacity
  AND (booking_slot.taken + booking_slot.referral_taken = 0
       OR booking_slot.ends_at = excluded.ends_at)
RETURNING id
"""

PARAMS = {
    "sqlite": {**seats.SLOT_PARAMS["sqlite"], "referral": "?5"},
    "postgres": {**seats.SLOT_PARAMS["postgres"], "referral": "$5::smallint"},
}

POLICY = "SELECT referral_seats FROM booking_policy WHERE resource_id = {rid}"


async def take(
    conn: BaseDBAsyncClient, resource_id: int, start: int, end: int, *, version: int
) -> int:
    """Take a referral seat of the slot ``start``…``end`` inside the caller's transaction;
    its slot's row id. ``version`` is the schedule the slot was checked against."""
    locked = await seats.lock(conn, resource_id)
    if locked.version != version:
        raise seats.Stale()
    p = PARAMS[conn.capabilities.dialect]
    found = await conn.execute_query_dict(POLICY.format(**p), [resource_id])
    referral = int(found[0]["referral_seats"]) if found else 0
    if referral < 1:
        raise Conflict(
            "this service holds no referral seats; book an ordinary slot or call it",
            code="no_referral_seats",
        )
    values: list[Any] = [
        resource_id,
        slots.as_utc(start),
        slots.as_utc(end),
        locked.rules.seats,
        referral,
    ]
    rows = await conn.execute_query_dict(TAKE.format(**p), values)
    if not rows:
        raise Conflict(
            "the referral seats of this slot are taken; choose another", code="referral_full"
        )
    return int(rows[0]["id"])
