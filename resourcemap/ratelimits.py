"""Rate limits shared by every app process, so that with N processes a limit is still the
limit (#22): counted in the database (PostgreSQL or SQLite), or in Redis when
``RESOURCEMAP_REDIS_URL`` is set.

Each key has a counter per fixed window. ``allowed`` is the limit less the previous
window's count weighted by how much of it still overlaps the last ``window`` seconds (the
usual sliding-window estimate), so a burst at a window's end does not buy a second full
limit at the start of the next. A request passes by one conditional increment — count it
only while fewer than ``allowed`` are counted — which the store applies atomically whichever
process sends it, so concurrent requests can never pass more than ``allowed`` (a read then
a write in Python could). Refused requests are not counted.

Times come from the caller's clock (window starts are part of the keys, never the store's
own clock); keys should be keyed digests (no personal data).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Protocol

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from resourcemap.errors import TooManyRequests, Unavailable
from resourcemap.models import RateCount

# Old windows are deleted by the process that passes this many hits since it last did.
SWEEP_EVERY = 1000
KEY_LENGTH = 96  # rate_count.key


class WindowCounts(Protocol):
    """Where the counters live: one store for every limit of a deployment."""

    async def admit(self, key: str, start: int, window: int, overlap: float, limit: int) -> bool:
        """Count one event in ``key``'s window beginning at ``start`` if fewer than the
        limit less ``overlap`` × the previous window's count are counted; whether it was."""
        ...

    async def close(self) -> None:
        """Let go of connections (the database's belong to the app)."""
        ...


@dataclass
class DatabaseCounts:
    """Counters in the ``rate_count`` table of the app's database."""

    _hits: int = field(default=0, repr=False)

    async def admit(self, key: str, start: int, window: int, overlap: float, limit: int) -> bool:
        previous = await RateCount.filter(key=key, window_start=start - window)
        allowed = limit - _weighted(previous[0].count if previous else 0, overlap)
        if allowed <= 0:
            return False
        conn = connections.get(RateCount._meta.default_connection or "default")
        if not await _increment(conn, key, start, allowed):
            return False
        self._hits += 1
        if self._hits >= SWEEP_EVERY:
            self._hits = 0
            await RateCount.filter(window_start__lt=start - window).delete()
        return True

    async def close(self) -> None:
        pass


# One script, so reading the previous window and counting in the current one are a single
# step for Redis (scripts run atomically). Windows expire on their own after two windows.
_ADMIT = """
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local allowed = tonumber(ARGV[1]) - math.ceil(previous * tonumber(ARGV[2]) - 1e-9)
local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
if counted >= allowed then
    return 0
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


# A request waits at most this long for Redis, then is answered 503 (never left hanging).
REDIS_TIMEOUT_S = 2.0


class RedisCounts:
    """Counters in Redis (``RESOURCEMAP_REDIS_URL``): one key per limit key and window,
    under ``prefix``, expiring after two windows. Unreachable or slow: ``Unavailable``
    (503, try again), never a request let through uncounted."""

    def __init__(self, url: str, prefix: str = "resourcemap:rate:") -> None:
        # Imported here: Redis is optional (the `redis` extra); without it the database counts.
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self.client = Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
        self.prefix = prefix
        self._admit = self.client.register_script(_ADMIT)
        self._failure: tuple[type[Exception], ...] = (RedisError, OSError)

    async def admit(self, key: str, start: int, window: int, overlap: float, limit: int) -> bool:
        keys = [f"{self.prefix}{key}:{start}", f"{self.prefix}{key}:{start - window}"]
        try:
            return bool(await self._admit(keys=keys, args=[limit, repr(overlap), 2 * window]))
        except self._failure as exc:
            raise Unavailable(
                f"the request limits cannot be counted ({type(exc).__name__}); try again shortly"
            ) from exc

    async def close(self) -> None:
        await self.client.aclose()


def counts_for(redis_url: str | None) -> WindowCounts:
    """The deployment's store: Redis when a URL is given, else the database."""
    return RedisCounts(redis_url) if redis_url else DatabaseCounts()


@dataclass
class SharedRateLimiter:
    """At most ``limit`` events per ``window`` seconds per key across every process (a
    ``limit`` of 0: no limit); past it, ``TooManyRequests`` with ``reason``."""

    name: str  # keeps the keys of different limits apart
    limit: int
    window: int  # seconds
    reason: str
    counts: WindowCounts = field(default_factory=DatabaseCounts)

    async def hit(self, key: str, *, now: dt.datetime) -> None:
        if not self.limit:
            return
        seconds = now.timestamp()
        start = int(seconds // self.window * self.window)
        overlap = 1.0 - (seconds - start) / self.window
        full_key = f"{self.name}:{key}"[:KEY_LENGTH]
        if not await self.counts.admit(full_key, start, self.window, overlap, self.limit):
            # Until this window ends: then the previous one weighs less (a sliding window).
            wait = max(1, math.ceil(start + self.window - seconds))
            raise TooManyRequests(self.reason, retry_after=wait)


def _weighted(earlier: int, overlap: float) -> int:
    return math.ceil(earlier * overlap - 1e-9)


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
