"""tortoise's PostgreSQL engine for ResourceMap: its asyncpg client, with every wait bounded
and the driver's "no answer" turned into ``Unavailable`` (see ``resourcemap.db``).

tortoise's migration executor picks its schema editor by the client's module name, which
is why this module's name says ``asyncpg``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from resourcemap.db import Outage

T = TypeVar("T")


async def _watched(
    outage: Outage,
    call: Awaitable[T],
    *,
    answers: bool = True,
    connection: asyncpg.Connection | None = None,
) -> T:
    """Run one PostgreSQL round trip, turning the driver's "no answer" into ``Unavailable``;
    its success shows the server ``answers`` unless a pool merely handed out a connection."""
    try:
        result = await call
    except asyncpg.QueryCanceledError as exc:  # statement_timeout: the server is alive
        raise outage.slow(exc) from exc
    except TimeoutError as exc:
        if connection is not None:
            # No answer even to the server's own statement limit: the connection is of no
            # more use, and returning it to the pool would wait for a cancellation first.
            connection.terminate()
        raise outage.down(exc) from exc
    except (
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.OperatorInterventionError,
        asyncpg.InsufficientResourcesError,
    ) as exc:
        raise outage.down(exc) from exc
    if answers:
        outage.answered()
    return result


class _PgConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection, every round trip tortoise makes watched by the client's
    ``Outage`` (which the pool attaches when it opens the connection)."""

    outage: Outage

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> Any:
        return await self._watched(super().execute(query, *args, timeout=timeout))

    async def executemany(self, command: str, args: Any, *, timeout: float | None = None) -> Any:
        return await self._watched(super().executemany(command, args, timeout=timeout))

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._watched(super().fetch(query, *args, **kwargs))

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._watched(super().fetchrow(query, *args, **kwargs))

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._watched(super().fetchval(query, *args, **kwargs))

    async def _watched(self, call: Awaitable[T]) -> T:
        return await _watched(self.outage, call, connection=self)

    def get_reset_query(self) -> str:
        """Nothing to reset when the pool takes a connection back (asyncpg still ends any
        open transaction). Its default (unlock advisory locks, close cursors, unlisten,
        reset settings) is one more round trip after every query tortoise runs outside a
        transaction, which made up about half of a booking's round trips (#22); this code
        leaves no session state behind: its advisory locks are transaction-scoped, and it
        never SETs, LISTENs or DECLAREs (``tests/core/test_db_sessions.py``)."""
        return ""


class _PgPool(asyncpg.Pool):  # type: ignore[misc]
    """asyncpg's pool with a default limit on waiting for a connection (which covers
    opening one), failing at once while the circuit is open."""

    def __init__(self, *args: Any, acquire_timeout: float | None, outage: Outage, **kw: Any):
        super().__init__(*args, **kw)
        self.acquire_timeout = acquire_timeout
        self.outage = outage

    # Both ways of taking a connection (``await pool.acquire()`` and ``async with``) and the
    # pool's own maintenance come through here (asyncpg 0.29-0.32).
    async def _acquire(self, timeout: float | None) -> Any:
        self.outage.check()
        wait = self.acquire_timeout if timeout is None else timeout
        return await _watched(self.outage, super()._acquire(wait), answers=False)

    async def release(self, connection: Any, *, timeout: float | None = None) -> Any:
        # Returning a connection resets it: a round trip that a frozen server never answers.
        return await _watched(
            self.outage, super().release(connection, timeout=timeout), answers=False
        )


class PostgresClient(AsyncpgDBClient):
    connection_class = _PgConnection

    def __init__(self, *, acquire_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = acquire_timeout
        self.outage = Outage()

    async def create_pool(self, **kwargs: Any) -> Any:
        outage = self.outage

        async def attach(connection: _PgConnection) -> None:
            connection.outage = outage

        pool = _PgPool(
            None,
            acquire_timeout=self.acquire_timeout,
            outage=outage,
            init=attach,
            max_queries=50000,
            max_inactive_connection_lifetime=300.0,
            record_class=asyncpg.Record,
            **kwargs,
        )
        return await pool


client_class = PostgresClient
