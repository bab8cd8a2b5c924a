"""tortoise's SQLite engine for ResourceMap: its client, with a bounded wait for the
process's one connection and a lock held by another process turned into ``Unavailable``
(see ``resourcemap.db``).

tortoise's migration executor picks its schema editor by the client's module name, which
is why this module's name says ``sqlite``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import aiosqlite
from tortoise.backends.base.client import ConnectionWrapper, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)

from resourcemap.db import RETRY_AFTER_SECONDS, Outage
from resourcemap.errors import Unavailable

T = TypeVar("T")


class _SqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection; every call to SQLite passes through ``_execute`` (its one
    hand-over to the connection's thread), which is where a lock wait or a lost file turns
    into ``Unavailable``."""

    def __init__(self, outage: Outage, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, 64)
        self.outage = outage

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        changes = self._changes()
        try:
            result: T = await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise self.outage.write_locked(exc) from exc
            if "unable to open" in text or "disk I/O" in text:
                raise self.outage.down(exc) from exc
            raise
        self.outage.answered()
        if self.outage.locked and self._changes() != changes:
            self.outage.wrote()
        return result

    def _changes(self) -> int:
        """Rows changed so far (a write got through); -1 once the connection is closed."""
        if not self.outage.locked or self._connection is None:
            return -1
        try:
            return int(self._connection.total_changes)
        except sqlite3.ProgrammingError:
            return -1


class _WaitingLock(asyncio.Lock):
    """tortoise's SQLite client serialises its one connection with a lock: a caller waits
    for it at most ``timeout`` seconds, so requests queued behind a stuck write do not
    wait for each other's busy timeouts one after another."""

    def __init__(self, timeout: float | None) -> None:
        super().__init__()
        self.timeout = timeout

    async def acquire(self) -> Literal[True]:
        try:
            async with asyncio.timeout(self.timeout):
                return await super().acquire()
        except TimeoutError:
            raise Unavailable(
                "the database is busy; try again shortly", retry_after=RETRY_AFTER_SECONDS
            ) from None


class _Connected(ConnectionWrapper[Any]):
    """tortoise's wrapper, letting go of the lock when the connection cannot be made: its
    own kept it, and every later caller waited for it forever (a command given a SQLite
    path in a directory that does not exist hung without a word)."""

    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


class _Transaction(SqliteTransactionContext):
    """tortoise's transaction, letting go of the lock as :class:`_Connected` does."""

    async def ensure_connection(self) -> None:
        try:
            await super().ensure_connection()
        except BaseException:
            self._trxlock.release()
            raise


class SqliteFileClient(SqliteClient):
    def __init__(self, file_path: str, *, wait_timeout: float | None = None, **kw: Any) -> None:
        super().__init__(file_path, **kw)
        self._lock = _WaitingLock(wait_timeout)
        self.outage = Outage()

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return _Connected(self._lock, self)

    def _in_transaction(self) -> TransactionContext:
        return _Transaction(SqliteTransactionWrapper(self), self._lock)

    async def create_connection(self, with_db: bool) -> None:
        # tortoise's own, with the connection class above.
        if self._connection:
            return
        filename = self.filename
        connection = _SqliteConnection(
            self.outage, lambda: sqlite3.connect(filename, isolation_level=None)
        )
        try:
            self._connection = await connection
            self._connection._conn.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
                await cursor.close()
        except (sqlite3.Error, Unavailable) as exc:
            await self._forget(connection)
            if isinstance(exc, Unavailable) and self.outage.locked:
                raise  # another process holds the write lock: busy, not a bad file
            shown = "/" + filename.lstrip("/") if filename.startswith("/") else filename
            raise Unavailable(
                f"cannot open the SQLite database {shown} (RESOURCEMAP_DATABASE_URL): "
                f"{_cause_of(exc)}; is it a database file, in a directory that exists and "
                "this user may write to?",
                retry_after=RETRY_AFTER_SECONDS,
            ) from None
        await self._post_connect()

    async def _forget(self, connection: _SqliteConnection) -> None:
        """Close a connection that could not be set up, and wait for its thread to end:
        aiosqlite stops the thread of a failed connect without waiting, and a command
        ending at once closed its event loop first (the thread's "Event loop is closed")."""
        with contextlib.suppress(Exception):  # broken: close() stops its thread anyway
            await connection.close()
        self._connection = None
        if connection._thread.is_alive():
            await asyncio.to_thread(connection._thread.join, 5.0)


def _cause_of(exc: BaseException) -> str:
    """SQLite's own words ("unable to open database file", "file is not a database")."""
    cause = exc.__cause__ if isinstance(exc, Unavailable) and exc.__cause__ else exc
    return str(cause)


client_class = SqliteFileClient
