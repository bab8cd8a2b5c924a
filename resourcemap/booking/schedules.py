"""Reading what decides resources' slots: one statement per read, on both dialects.

The rules, weekly hours, dated exceptions, closures (of the resource or of an area it lies
in), blocked time, booked seats and the listing's name and services of several resources
come back in one round trip and become ``slots.Schedule`` values; ``slots`` then cuts them
into slots as whole arrays, with no database in sight.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from resourcemap.booking.slots import (
    Listing,
    Rules,
    Schedule,
    Taken,
)
from resourcemap.listings.opening import ClosureSpan, DatedHours
from resourcemap.models import Slot
from resourcemap.vocab import HOLDS, Status

# weekly interval (1), dated exception (2), closure that applies, once per resource it
# applies to (3), block (4) and booked slot (5), as integers (dates as day ordinals,
# instants as epoch seconds), two texts (the area code of a closure; name and services),
# the policy's schedule_version and the English name.
_SCHEDULE_SQL = """
SELECT 0, p.resource_id, p.slot_minutes, p.buffer_minutes, p.seats, p.min_notice_minutes,
       p.horizon_days, p.change_notice_minutes, {always_open}, r.organisation_id, r.name_zh,
       CAST(r.services AS TEXT), p.schedule_version, r.name_en
  FROM booking_policy p JOIN resource r ON r.id = p.resource_id
 WHERE p.resource_id {ids} AND p.enabled = {true} AND r.status = {status}
UNION ALL
SELECT 1, resource_id, weekday, opens, closes, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL
  FROM opening_hours WHERE resource_id {ids}
UNION ALL
SELECT 2, resource_id, {start_date}, {end_date}, {closed}, opens, closes, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL
  FROM hours_exception WHERE resource_id {ids}
UNION ALL
SELECT 3, r.id, {c_start_date}, {c_end_date}, c.resource_id, NULL, NULL, NULL, NULL, NULL,
       c.area_code, NULL, NULL, NULL
  FROM resource r JOIN closure c
    ON c.resource_id = r.id
    OR c.area_code IN (r.city_code, r.district_code, r.street_code, r.community_code)
 WHERE r.id {ids}
UNION ALL
SELECT 4, resource_id, {epoch_starts_at}, {epoch_ends_at}, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL
  FROM booking_time_block WHERE resource_id {ids} AND starts_at < {end} AND ends_at > {start}
UNION ALL
SELECT 5, resource_id, {epoch_starts_at}, {epoch_ends_at}, capacity, taken, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL
  FROM booking_slot
 WHERE resource_id {ids} AND starts_at < {end} AND starts_at >= {lookback}
"""
# With ``now``: how many holds (waitlist offers, bookings waiting for their texted code) ran
# out (kind 6), as ``Desk.expire_offers`` finds them.
_OFFERS_DUE_SQL = """
UNION ALL
SELECT 6, resource_id, COUNT(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL
  FROM booking
 WHERE resource_id {ids} AND status IN ({holds}) AND offer_expires_at <= {now}
 GROUP BY resource_id
"""


@lru_cache(maxsize=64)
def _schedule_sql(dialect: str, n_ids: int, with_offers: bool = False) -> str:
    """``_SCHEDULE_SQL`` in a dialect, for ``n_ids`` resource ids; its parameters are
    ``_schedule_values``."""
    if dialect == "sqlite":
        # Dates are ISO text, instants ISO text in UTC with their offset (tortoise's).
        # unixepoch() (SQLite 3.38) is the faster way to read them; strftime() the old one.
        to_epoch = (
            "unixepoch({})"
            if sqlite3.sqlite_version_info >= (3, 38)
            else ("CAST(strftime('%s', {}) AS INTEGER)")
        )
        ordinal = "CAST(julianday({}) - 1721424.5 AS INTEGER)"
        n = n_ids
        params = {
            "ids": "IN (" + ", ".join(f"?{i}" for i in range(1, n + 1)) + ")",
            "true": "1",
            "start": f"?{n + 1}",
            "end": f"?{n + 2}",
            "lookback": f"?{n + 3}",
            "status": f"?{n + 4}",
            "now": f"?{n + 5}",
        }
    else:
        to_epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM {})) AS BIGINT)"
        ordinal = "({} - DATE '0001-01-01' + 1)"
        params = {
            # One id, the common case, as a plain value: PostgreSQL then settles on a
            # generic plan for the prepared statement instead of planning every call.
            "ids": "= $1::int" if n_ids == 1 else "= ANY($1::int[])",
            "true": "TRUE",
            "start": "$2::timestamptz",
            "end": "$3::timestamptz",
            "lookback": "$4::timestamptz",
            "status": "$5::text",
            "now": "$6::timestamptz",
        }
    sql = _SCHEDULE_SQL + (_OFFERS_DUE_SQL if with_offers else "")
    return sql.format(
        holds=", ".join(f"'{s.value}'" for s in HOLDS),
        always_open="CAST(r.always_open AS INTEGER)",
        closed="CAST(closed AS INTEGER)",
        start_date=ordinal.format("start_date"),
        end_date=ordinal.format("end_date"),
        c_start_date=ordinal.format("c.start_date"),
        c_end_date=ordinal.format("c.end_date"),
        epoch_starts_at=to_epoch.format("starts_at"),
        epoch_ends_at=to_epoch.format("ends_at"),
        **params,
    )


def _schedule_values(
    dialect: str,
    ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None,
    seats: bool = True,
) -> list[Any]:
    # Without seats, the booked slots' range is empty (start at the end): same statement.
    lookback = start - dt.timedelta(hours=12) if seats else end
    values = [x.astimezone(dt.UTC) for x in (start, end, lookback)]
    extra = [] if now is None else [now.astimezone(dt.UTC)]
    if dialect == "sqlite":
        return [*ids, *values, Status.ACTIVE.value, *extra]
    return [ids[0] if len(ids) == 1 else ids, *values, Status.ACTIVE.value, *extra]


async def load_schedules(
    resource_ids: Sequence[int],
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    seats: bool = True,
) -> dict[int, Schedule]:
    """Schedules of the bookable (active, enabled-policy) resources among ``resource_ids``,
    with blocks and (unless not ``seats``) booked slots overlapping ``start``…``end``; with
    ``now``, also how many of their waitlist offers are due to expire
    (``Schedule.offers_due``). One statement, read as plain values: no model is built."""
    ids = list(dict.fromkeys(resource_ids))
    if not ids:
        return {}
    client = Slot._meta.db
    dialect = client.capabilities.dialect
    _, rows = await client.execute_query(
        _schedule_sql(dialect, len(ids), now is not None),
        _schedule_values(dialect, ids, start, end, now, seats),
    )
    due: dict[int, int] = {}
    policies: dict[int, tuple[Rules, bool, Listing, int]] = {}
    weekly: dict[int, list[tuple[int, int, int]]] = {}
    exceptions: dict[int, list[DatedHours]] = {}
    closures: dict[int, list[ClosureSpan]] = {}
    blocks: dict[int, list[tuple[int, int]]] = {}
    taken: dict[int, list[Taken]] = {}
    date = dt.date.fromordinal
    for row in rows:
        kind, rid, a, b, c, d, e, f, g, h, code, text, version, name_en = row
        if kind == 0:
            rules = Rules(a, b, c, d, e, f)
            listing = Listing(h, code, tuple(json.loads(text or "[]")), name_en or "")
            policies[rid] = (rules, bool(g), listing, version)
        elif kind == 1:
            weekly.setdefault(rid, []).append((a, b, c))
        elif kind == 2:
            exceptions.setdefault(rid, []).append(DatedHours(date(a), date(b), bool(c), d, e))
        elif kind == 3:
            closures.setdefault(rid, []).append(ClosureSpan(date(a), date(b), code, c))
        elif kind == 4:
            blocks.setdefault(rid, []).append((a, b))
        elif kind == 5:
            taken.setdefault(rid, []).append(Taken(a, b, c, d))
        else:
            due[rid] = a
    schedules: dict[int, Schedule] = {}
    for rid in ids:
        if rid not in policies:
            continue
        rules, always, listing, version = policies[rid]
        schedules[rid] = Schedule(
            resource_id=rid,
            rules=rules,
            listing=listing,
            version=version,
            always_open=always,
            weekly=weekly.get(rid, []),
            exceptions=exceptions.get(rid, []),
            closures=closures.get(rid, []),
            blocks=blocks.get(rid, []),
            taken=sorted(taken.get(rid, []), key=lambda t: t.starts_at),
            offers_due=due.get(rid, 0),
        )
    return schedules
