"""The two statements every seat-changing transaction is built on, one round trip each.

``lock`` is the first statement of the transaction: it bumps ``booking_policy.lock`` (a
row lock on PostgreSQL, the database write lock on SQLite) and returns the current rules.
``take`` then takes a seat with a single upsert whose conditions are the whole rule:
the slot has a free seat, a booked row of the slot keeps its length, and no booked slot of
another grid (left from an earlier slot length) overlaps it. The database's
``taken <= capacity`` check (migration 0005) backs the first condition up.

Raw SQL because the ORM cannot express a conditional upsert with ``RETURNING``; both
dialects run the same text, with numbered parameters in each one's spelling.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from resourcemap.booking import slots
from resourcemap.errors import Conflict

# booking_policy's columns are named as the Rules fields.
RULE_COLUMNS = tuple(f.name for f in dataclasses.fields(slots.Rules))

LOCK = """
UPDATE booking_policy SET "lock" = "lock" + 1
WHERE resource_id = {rid} AND enabled
RETURNING {columns}
"""

# The SELECT needs a WHERE for SQLite to parse the ON CONFLICT that follows (its docs).
TAKE = """
INSERT INTO booking_slot (resource_id, starts_at, ends_at, capacity, taken)
SELECT {rid}, {start}, {end}, {seats}, 1
WHERE NOT EXISTS (
    SELECT 1 FROM booking_slot other
    WHERE other.resource_id = {rid} AND other.taken > 0
      AND other.starts_at < {end} AND other.ends_at > {start}
      AND other.starts_at <> {start} AND other.id <> {moving}
)
ON CONFLICT (resource_id, starts_at) DO UPDATE
SET taken = booking_slot.taken + 1, capacity = excluded.capacity, ends_at = excluded.ends_at
WHERE booking_slot.taken < excluded.capacity
  AND (booking_slot.taken = 0 OR booking_slot.ends_at = excluded.ends_at)
RETURNING id
"""

SLOT_AT = """
SELECT taken, ends_at FROM booking_slot WHERE resource_id = {rid} AND starts_at = {start}
"""

# Parameter spellings: SQLite numbers with ?N; PostgreSQL needs types where a bare
# parameter in a SELECT list would leave them undetermined.
PARAMS = {
    "sqlite": {"rid": "?1", "start": "?2", "end": "?3", "seats": "?4", "moving": "?5"},
    "postgres": {
        "rid": "$1::int",
        "start": "$2::timestamptz",
        "end": "$3::timestamptz",
        "seats": "$4::smallint",
        "moving": "$5::bigint",
    },
}


def _sql(conn: BaseDBAsyncClient, template: str, **extra: str) -> str:
    return template.format(**PARAMS[conn.capabilities.dialect], **extra)


async def lock(conn: BaseDBAsyncClient, resource_id: int) -> slots.Rules:
    """Serialise seat changes of one resource; its current booking rules."""
    sql = _sql(conn, LOCK, columns=", ".join(RULE_COLUMNS))
    # execute_query_dict: tortoise's asyncpg execute_query drops the rows of an UPDATE.
    rows = await conn.execute_query_dict(sql, [resource_id])
    if not rows:
        raise Conflict(
            "this service does not take bookings online; call it instead", code="not_bookable"
        )
    return slots.Rules(**{name: int(rows[0][name]) for name in RULE_COLUMNS})


async def take(
    conn: BaseDBAsyncClient,
    resource_id: int,
    start: int,
    end: int,
    seats: int,
    *,
    moving: int | None = None,
) -> int:
    """Take a seat of the slot ``start``…``end``; its row id. ``moving`` is the slot a
    rescheduled booking still holds, which may overlap the new one."""
    values: list[Any] = [resource_id, slots.as_utc(start), slots.as_utc(end), seats, moving or 0]
    rows = await conn.execute_query_dict(_sql(conn, TAKE), values)
    if rows:
        return int(rows[0]["id"])
    # Refused: a second statement, only now, to say why.
    found = await conn.execute_query_dict(_sql(conn, SLOT_AT), values[:2])
    if found and int(found[0]["taken"]) > 0:
        taken, ends_at = int(found[0]["taken"]), _aware(found[0]["ends_at"])
        if taken >= seats:
            raise Conflict("this slot is full; choose another or join its waitlist", code="full")
        if slots.epoch(ends_at) != end:
            raise Conflict(
                "this slot was booked with another length; choose another slot", code="overlap"
            )
    raise Conflict("this time overlaps another booked session; choose another slot", code="overlap")


def _aware(value: Any) -> dt.datetime:
    """A timestamp as read back raw: SQLite gives tortoise's ISO text, asyncpg a datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
