# Over 400 lines: both dialects' seat statements side by side, so they agree.
"""The two statements every seat-changing transaction is built on, one round trip each.

``lock`` is the first statement of the transaction: it bumps ``booking_policy.lock`` (a
row lock on PostgreSQL, the database write lock on SQLite) and returns the current rules.
``take`` then takes a seat with a single upsert whose conditions are the whole rule:
the slot has a free seat, a booked row of the slot keeps its length, and no booked slot of
another grid (left from an earlier slot length) overlaps it. The database's
``taken <= capacity`` check (migration 0005) backs the first condition up.

Raw SQL because the ORM cannot express a conditional upsert with ``RETURNING``; both
dialects run the same text, with numbered parameters in each one's spelling.

``book`` is the hot path, a new booking: lock, seat, booking row and its messages in one
round trip. On PostgreSQL that is one call of the function ``book_function()`` builds from
the same statements (each statement in a PL/pgSQL function reads afresh, so the seat is
decided after the lock, as in a transaction); ``schema.migrate`` (re)installs it. On SQLite it
is one call into the connection's thread, which runs the statements as one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.fields import Field
from tortoise.models import Model

from resourcemap.booking import slots
from resourcemap.errors import Conflict
from resourcemap.models import Booking, Notification

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
    WHERE other.resource_id = {rid} AND (other.taken > 0 OR other.referral_taken > 0)
      AND other.starts_at < {end} AND other.ends_at > {start}
      AND other.starts_at <> {start} AND other.id <> {moving}
)
ON CONFLICT (resource_id, starts_at) DO UPDATE
SET taken = booking_slot.taken + 1, capacity = excluded.capacity, ends_at = excluded.ends_at
WHERE booking_slot.taken < excluded.capacity
  AND (booking_slot.taken + booking_slot.referral_taken = 0
       OR booking_slot.ends_at = excluded.ends_at)
RETURNING id
"""

# How many active future bookings of the resource the new booking's holder has: naming its
# phone number or e-mail address, and from its network address (keyed digests; '' is none).
HELD = """
SELECT COALESCE(SUM(CASE WHEN ({phone} <> '' AND b.phone_key = {phone})
                          OR ({email} <> '' AND b.email_key = {email}) THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN {address} <> '' AND b.address_key = {address}
                         THEN 1 ELSE 0 END), 0)
  FROM booking b
 WHERE b.resource_id = {rid} AND b.status IN ('confirmed', 'offered', 'pending')
   AND b.starts_at > {now}
"""
HELD_SQLITE = {"rid": "?1", "now": "?2", "phone": "?3", "email": "?4", "address": "?5"}

SLOT_AT = """
SELECT taken, ends_at FROM booking_slot WHERE resource_id = {rid} AND starts_at = {start}
"""

# Parameter spellings: SQLite numbers with ?N; PostgreSQL needs types where a bare
# parameter in a SELECT list would leave them undetermined.
# The first four are a slot's, in every statement on slots (``referral.seats`` too).
SLOT_PARAMS = {
    "sqlite": {"rid": "?1", "start": "?2", "end": "?3", "seats": "?4"},
    "postgres": {
        "rid": "$1::int",
        "start": "$2::timestamptz",
        "end": "$3::timestamptz",
        "seats": "$4::smallint",
    },
}
PARAMS = {
    "sqlite": {**SLOT_PARAMS["sqlite"], "moving": "?5"},
    "postgres": {**SLOT_PARAMS["postgres"], "moving": "$5::bigint"},
}


def _sql(conn: BaseDBAsyncClient, template: str, **extra: str) -> str:
    return template.format(**PARAMS[conn.capabilities.dialect], **extra)


def not_bookable() -> Conflict:
    """The refusal for a resource without an enabled booking policy."""
    return Conflict(
        "this service does not take bookings online; call it instead", code="not_bookable"
    )


class Locked(NamedTuple):
    """A resource's booking rules and schedule version, read under its lock."""

    rules: slots.Rules
    version: int


async def lock(conn: BaseDBAsyncClient, resource_id: int) -> Locked:
    """Serialise seat changes of one resource; its current booking rules."""
    sql = _sql(conn, LOCK, columns=", ".join((*RULE_COLUMNS, "schedule_version")))
    # execute_query_dict: tortoise's asyncpg execute_query drops the rows of an UPDATE.
    rows = await conn.execute_query_dict(sql, [resource_id])
    if not rows:
        raise not_bookable()
    rules = slots.Rules(**{name: int(rows[0][name]) for name in RULE_COLUMNS})
    return Locked(rules, int(rows[0]["schedule_version"]))


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
    raise _refusal(found[0] if found else None, seats, end)


def _refusal(found: Mapping[str, Any] | None, seats: int, end: int) -> Conflict:
    """Why a seat was refused, from the slot row at its start (``SLOT_AT``), if any."""
    if found is not None and int(found["taken"]) > 0:
        if int(found["taken"]) >= seats:
            return Conflict("this slot is full; choose another or join its waitlist", code="full")
        if slots.epoch(_aware(found["ends_at"])) != end:
            return Conflict(
                "this slot was booked with another length; choose another slot", code="overlap"
            )
    return Conflict(
        "this time overlaps another booked session; choose another slot", code="overlap"
    )


# ---------------------------------------------------------------------------- book


def row(
    model: type[Model], values: Mapping[str, Any], now: dt.datetime, *, later: str = ""
) -> dict[str, Any]:
    """A row of ``model``'s table as the ORM would write it: the given values, then its
    auto timestamps and defaults, else NULL; without its key and the column ``later``,
    which the database fills in."""
    out: dict[str, Any] = {}
    for name, column, field in _writable(model, later):
        if name in values:
            value = values[name]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.default is not None and not callable(field.default):
            value = field.default
        elif field.null:
            value = None
        else:
            raise TypeError(f"{model._meta.db_table}.{column} needs a value")
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            # As the ORM writes them: SQLite compares stored times as text, so every stored
            # time must be UTC, whatever zone the caller's instant was given in.
            value = value.astimezone(dt.UTC)
        out[column] = value.value if isinstance(value, Enum) else value
    return out


class Stale(Exception):
    """The schedule a booking was checked against is no longer the resource's."""


class Caps(NamedTuple):
    """Most active future bookings of one resource a holder may have (#15): naming one phone
    number or e-mail address, and from one network address (0: no cap); future of ``now``."""

    contact: int
    address: int
    now: dt.datetime


NO_CAPS = Caps(0, 0, dt.datetime.min.replace(tzinfo=dt.UTC))


class Capped(Exception):
    """The holder has as many active future bookings of the resource as its cap allows."""

    def __init__(self, which: str) -> None:
        super().__init__(which)
        self.which = which  # "contact" or "address"


async def book(
    client: BaseDBAsyncClient,
    booking: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    *,
    version: int,
    caps: Caps = NO_CAPS,
) -> int:
    """Take a seat of the slot ``booking["starts_at"]``…``["ends_at"]`` and write the
    booking (``row(Booking, …, later="slot_id")``) and its messages (``row(Notification,
    …, later="booking_id")``), all or nothing, in one round trip, if the resource's
    ``schedule_version`` is still ``version`` (the schedule the slot was checked against).

    The holder's bookings are counted against ``caps`` under the resource's lock, so that
    parallel requests cannot all pass the count.

    Returns the booking's id. Raises ``Stale`` when the schedule changed, ``Capped`` when the
    holder is at a cap, ``Conflict`` when no seat can be taken and ``IntegrityError`` when
    the booking's code or idempotency key is already taken."""
    if client.capabilities.dialect == "postgres":
        values = [
            booking["resource_id"],
            booking["starts_at"],
            booking["ends_at"],
            version,
            _json(booking),
            _json(messages),
            caps.now.astimezone(dt.UTC),
            caps.contact,
            caps.address,
        ]
        outcome = (await client.execute_query_dict(BOOK_CALL, values))[0]
    else:
        async with client.acquire_connection() as conn:
            # aiosqlite runs each call in its connection's thread: one call is one hop.
            try:
                outcome = await conn._execute(
                    _book_sqlite, conn._conn, booking, messages, version, caps
                )
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(exc) from exc
            except sqlite3.OperationalError as exc:
                raise OperationalError(exc) from exc
    if outcome["booking_id"] is not None:
        return int(outcome["booking_id"])
    if outcome["seats"] is None:
        raise not_bookable()
    if outcome["stale"]:
        raise Stale()
    if outcome["capped"]:
        raise Capped(str(outcome["capped"]))
    slot = None if outcome["taken"] is None else outcome
    raise _refusal(slot, int(outcome["seats"]), slots.epoch(booking["ends_at"]))


def _json(value: Any) -> str:
    return json.dumps(value, default=_iso, ensure_ascii=False)


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _insert(table: str, columns: Sequence[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _book_sqlite(
    conn: sqlite3.Connection,
    booking: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    version: int,
    caps: Caps,
) -> dict[str, Any]:
    """``book`` on SQLite, in the connection's thread: the statements of ``book_function()``
    as one transaction. IMMEDIATE takes the write lock first, so nothing is read before it;
    inside a transaction the caller opened, a savepoint."""
    nested = conn.in_transaction
    conn.execute("SAVEPOINT book" if nested else "BEGIN IMMEDIATE")
    try:
        outcome = _book_statements(conn, booking, messages, version, caps)
    except BaseException:
        _undo(conn, nested)
        raise
    if outcome["booking_id"] is None:
        _undo(conn, nested)
    else:
        conn.execute("RELEASE book" if nested else "COMMIT")
    return outcome


def _undo(conn: sqlite3.Connection, nested: bool) -> None:
    if nested:
        conn.execute("ROLLBACK TO book")
        conn.execute("RELEASE book")
    elif conn.in_transaction:
        conn.execute("ROLLBACK")


def _book_statements(
    conn: sqlite3.Connection,
    booking: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    version: int,
    caps: Caps,
) -> dict[str, Any]:
    p = PARAMS["sqlite"]
    rid, start, end = booking["resource_id"], booking["starts_at"], booking["ends_at"]
    outcome: dict[str, Any] = dict.fromkeys(
        ("booking_id", "seats", "stale", "taken", "ends_at", "capped")
    )
    policy = conn.execute(LOCK.format(**p, columns=LOCKED), (rid,)).fetchall()
    if not policy:
        return outcome
    outcome["seats"] = seats = policy[0][0]
    if policy[0][1] != version:
        outcome["stale"] = True
        return outcome
    if caps.contact or caps.address:
        keys = (booking["phone_key"], booking["email_key"], booking["address_key"])
        held = conn.execute(
            HELD.format(**HELD_SQLITE), (rid, caps.now.astimezone(dt.UTC), *keys)
        ).fetchall()[0]
        outcome["capped"] = _capped(caps, int(held[0]), int(held[1]))
        if outcome["capped"]:
            return outcome
    slot = conn.execute(TAKE.format(**p), (rid, start, end, seats, 0)).fetchall()
    if not slot:
        found = conn.execute(SLOT_AT.format(**p), (rid, start)).fetchall()
        if found:
            outcome["taken"], outcome["ends_at"] = found[0][0], found[0][1]
        return outcome
    created = conn.execute(
        _insert("booking", [*booking, "slot_id"]) + " RETURNING id",
        [*booking.values(), slot[0][0]],
    ).fetchall()
    outcome["booking_id"] = booking_id = created[0][0]
    for message in messages:
        conn.execute(
            _insert("notification", [*message, "booking_id"]), [*message.values(), booking_id]
        )
    return outcome


def _capped(caps: Caps, contact: int, address: int) -> str | None:
    if caps.contact and contact >= caps.contact:
        return "contact"
    if caps.address and address >= caps.address:
        return "address"
    return None


# The call and the function, one statement each; the function's body is LOCK, TAKE and
# SLOT_AT with its own variables for parameters.
BOOK_CALL = """
SELECT o_booking AS booking_id, o_seats AS seats, o_stale AS stale, o_taken AS taken,
       o_ends_at AS ends_at, o_capped AS capped
  FROM resourcemap_book($1::int, $2::timestamptz, $3::timestamptz, $4::bigint,
                        $5::text::jsonb, $6::text::jsonb, $7::timestamptz, $8::int, $9::int)
"""
# What book's lock returns: the seats in force and the schedule's version.
LOCKED = "seats, schedule_version"

_BOOK_FUNCTION = """
CREATE OR REPLACE FUNCTION resourcemap_book(
    p_resource int, p_start timestamptz, p_end timestamptz, p_version bigint,
    p_booking jsonb, p_messages jsonb, p_now timestamptz, p_contact_cap int, p_address_cap int,
    OUT o_booking bigint, OUT o_seats int, OUT o_stale boolean, OUT o_taken int,
    OUT o_ends_at timestamptz, OUT o_capped text)
LANGUAGE plpgsql VOLATILE AS $body$
DECLARE
    v_slot bigint;
    v_version bigint;
    v_contact bigint;
    v_address bigint;
BEGIN
    {lock} INTO o_seats, v_version;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    o_stale := v_version <> p_version;
    IF o_stale THEN
        RETURN;
    END IF;
    IF p_contact_cap > 0 OR p_address_cap > 0 THEN
        SELECT h.c, h.a INTO v_contact, v_address FROM ({held}) h(c, a);
        IF p_contact_cap > 0 AND v_contact >= p_contact_cap THEN
            o_capped := 'contact';
        ELSIF p_address_cap > 0 AND v_address >= p_address_cap THEN
            o_capped := 'address';
        END IF;
        IF o_capped IS NOT NULL THEN
            RETURN;
        END IF;
    END IF;
    {take} INTO v_slot;
    IF v_slot IS NULL THEN
        SELECT s.taken, s.ends_at INTO o_taken, o_ends_at FROM ({slot_at}) s;
        RETURN;
    END IF;
    INSERT INTO booking ({booking_columns}, slot_id)
    SELECT {booking_values}, v_slot FROM jsonb_populate_record(NULL::booking, p_booking) r
    RETURNING id INTO o_booking;
    INSERT INTO notification ({message_columns}, booking_id)
    SELECT {message_values}, o_booking
      FROM jsonb_populate_recordset(NULL::notification, p_messages) r;
END
$body$
"""


def book_function() -> str:
    """``CREATE OR REPLACE`` of ``book``'s PostgreSQL function, from the statements above
    and the models' columns (known once tortoise is initialised)."""
    p = {"rid": "p_resource", "start": "p_start", "end": "p_end", "seats": "o_seats"}
    booking = _columns(Booking, "slot_id")
    messages = _columns(Notification, "booking_id")
    return _BOOK_FUNCTION.format(
        lock=LOCK.format(**p, columns=LOCKED).strip(),
        take=TAKE.format(**p, moving="0").strip(),
        slot_at=SLOT_AT.format(**p).strip(),
        held=HELD.format(
            rid="p_resource",
            now="p_now",
            phone="(p_booking->>'phone_key')",
            email="(p_booking->>'email_key')",
            address="(p_booking->>'address_key')",
        ).strip(),
        booking_columns=", ".join(booking),
        booking_values=", ".join(f"r.{c}" for c in booking),
        message_columns=", ".join(messages),
        message_values=", ".join(f"r.{c}" for c in messages),
    )


def _columns(model: type[Model], later: str) -> list[str]:
    return [column for _, column, _ in _writable(model, later)]


def _writable(model: type[Model], later: str) -> list[tuple[str, str, Field[Any]]]:
    """(field name, column, field) of each column an INSERT of ``model`` writes: all but the
    key and ``later``."""
    meta = model._meta
    return [
        (name, column, meta.fields_map[name])
        for name, column in meta.fields_db_projection.items()
        if not meta.fields_map[name].pk and column != later
    ]


async def install(client: BaseDBAsyncClient) -> None:
    """(Re)install ``book``'s function: ``schema.migrate`` runs this after the migrations, so
    the function always matches this code. Nothing to do on SQLite."""
    if client.capabilities.dialect != "postgres":
        return
    # Concurrent migrates would race on the catalogue row: one at a time.
    # CREATE OR REPLACE cannot change a function's result columns: drop every signature.
    await client.execute_script(
        f"BEGIN; SELECT pg_advisory_xact_lock({INSTALL_LOCK}); {DROP_BOOK_FUNCTIONS}; "
        f"{book_function()}; COMMIT;"
    )


INSTALL_LOCK = 0x5E47  # any constant of this app's own
DROP_BOOK_FUNCTIONS = """
DO $drop$ DECLARE f regprocedure; BEGIN
    FOR f IN SELECT oid::regprocedure FROM pg_proc
              WHERE proname = 'resourcemap_book' AND pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE 'DROP FUNCTION ' || f;
    END LOOP;
END $drop$
"""


def _aware(value: Any) -> dt.datetime:
    """A timestamp as read back raw: SQLite gives tortoise's ISO text, asyncpg a datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
