"""Rate limits counted in the database, so that with N app processes a limit is still the
limit (#22), on PostgreSQL and SQLite alike.

Each key has a counter per fixed window (``rate_count``). A request is let through by one
conditional increment — ``UPDATE … SET count = count + 1 WHERE count < allowed`` — which
the database applies atomically whichever process sends it, so concurrent requests can
never pass more than ``allowed`` (a read-then-write in Python could). ``allowed`` is the
limit less the previous window's count weighted by how much of it still overlaps the last
``window`` seconds (the usual sliding-window estimate), so a burst at a window's end does
not buy a second full limit at the start of the next. Refused requests are not counted.

Times come from the caller's clock; keys should be keyed digests (no personal data).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from resourcemap.errors import TooManyRequests
from resourcemap.models import RateCount

# Old windows are deleted by the process that passes this many hits since it last did.
SWEEP_EVERY = 1000


@dataclass
class SharedRateLimiter:
    """At most ``limit`` events per ``window`` seconds per key across every process (a
    ``limit`` of 0: no limit); past it, ``TooManyRequests`` with ``reason``."""

    name: str  # keeps the keys of different limits apart
    limit: int
    window: float
    reason: str
    _hits: int = field(default=0, repr=False)

    async def hit(self, key: str, *, now: dt.datetime) -> None:
        if not self.limit:
            return
        conn = connections.get(RateCount._meta.default_connection or "default")
        full_key = f"{self.name}:{key}"[:96]
        seconds = now.timestamp()
        start = int(seconds // self.window * self.window)
        overlap = 1.0 - (seconds - start) / self.window
        previous = await RateCount.filter(key=full_key, window_start=start - int(self.window))
        earlier = previous[0].count if previous else 0
        allowed = self.limit - math.ceil(earlier * overlap - 1e-9)
        if allowed <= 0 or not await _increment(conn, full_key, start, allowed):
            # Until this window ends: then the previous one weighs less (a sliding window).
            wait = max(1, math.ceil(start + self.window - seconds))
            raise TooManyRequests(self.reason, retry_after=wait)
        self._hits += 1
        if self._hits >= SWEEP_EVERY:
            self._hits = 0
            await RateCount.filter(window_start__lt=start - int(self.window)).delete()


async def _increment(conn: BaseDBAsyncClient, key: str, start: int, allowed: int) -> bool:
    """Count one event if fewer than ``allowed`` are counted; whether it was."""
    postgres = conn.capabilities.dialect == "postgres"
    mark = ["$1", "$2", "$3"] if postgres else ["?", "?", "?"]
    await conn.execute_query(
        "INSERT INTO rate_count (key, window_start, count) "
        f"VALUES ({mark[0]}, {mark[1]}, 0) ON CONFLICT (key, window_start) DO NOTHING",
        [key, start],
    )
    changed, _ = await conn.execute_query(
        "UPDATE rate_count SET count = count + 1 "
        f"WHERE key = {mark[0]} AND window_start = {mark[1]} AND count < {mark[2]}",
        [key, start, allowed],
    )
    return changed == 1
