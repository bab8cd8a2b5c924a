"""Database configuration, connection lifetime and migrations (tortoise-orm 1.x's own).

A slow or dead database must cost a bounded wait and give a clear answer, never hang
(#16). Every wait has a limit (``Timeouts``): connecting, each statement, and waiting for a
pooled connection (or, on SQLite, for the process's one connection and a write lock held
by another process). When a limit is reached or the server cannot be reached, the driver's
error becomes ``resourcemap.errors.Unavailable`` here and nowhere else, which the web layer
answers with 503 and ``Retry-After``.

An outage is noticed once per client (``Outage``): the first failure logs one line and
opens the circuit, so later callers fail at once instead of each waiting out a timeout;
one caller per ``PROBE_SECONDS`` is let through to find out whether the database is back,
and the first answer closes the circuit (and logs one line). No restart is needed.

tortoise's own clients, given bounded waits and that translation, are the engines
``resourcemap.db_asyncpg`` and ``resourcemap.db_sqlite``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.backends.base.config_generator import expand_db_url

from resourcemap.errors import Unavailable

if TYPE_CHECKING:
    from tortoise.models import Model
    from tortoise.queryset import QuerySet

    from resourcemap.settings import Settings

log = logging.getLogger(__name__)

MODELS_MODULE = "resourcemap.models"
MIGRATIONS_MODULE = "resourcemap.migrations"
# Commands (imports, migrations) have no statement limit; while they wait for another
# process's write lock on SQLite, they wait this long.
SQLITE_BUSY_TIMEOUT_MS = 5000
# While the database is down, one caller per this many seconds tries it again.
PROBE_SECONDS = 1.0
# A statement the server should have cancelled itself by now gets this much longer before
# the client gives up on the server (a frozen server cancels nothing).
CLIENT_GRACE_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5
# The engine module per dialect (tortoise sniffs the driver's name in it: keep it there).
ENGINES = {"sqlite": "sqlite", "postgres": "asyncpg"}


@dataclass(frozen=True)
class Timeouts:
    """Limits on waiting for the database, in seconds; ``None`` waits as long as it takes."""

    connect: float = 5.0
    statement: float | None = None
    pool: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Timeouts:
        """What the app and the worker use: every wait bounded."""
        return cls(
            connect=settings.db_connect_timeout,
            statement=settings.db_statement_timeout,
            pool=settings.db_pool_timeout,
        )


# Commands: a connect limit only, so an import or a migration is never cut short.
BATCH = Timeouts()


def connection_url(database_url: str) -> str:
    """Normalise a settings URL to what tortoise expects."""
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    return database_url


def connection_config(database_url: str, timeouts: Timeouts = BATCH) -> dict[str, Any]:
    """tortoise's connection entry: ResourceMap's clients with ``timeouts`` applied."""
    credentials: dict[str, Any] = expand_db_url(connection_url(database_url))["credentials"]
    if dialect(database_url) == "sqlite":
        # Several processes (app workers, CLI) may write one file: wait, within limits.
        busy = timeouts.statement * 1000 if timeouts.statement else SQLITE_BUSY_TIMEOUT_MS
        credentials.setdefault("busy_timeout", int(busy))
        credentials["wait_timeout"] = timeouts.pool
    else:
        credentials["timeout"] = timeouts.connect  # asyncpg's connect limit
        if timeouts.statement:
            # The server cancels a slow statement itself; the client gives up on a server
            # that does not answer at all a little later.
            settings = credentials.setdefault("server_settings", {})
            settings["statement_timeout"] = str(int(timeouts.statement * 1000))
            credentials["command_timeout"] = timeouts.statement + CLIENT_GRACE_SECONDS
        credentials["acquire_timeout"] = timeouts.pool
        # No connection floor: asyncpg would otherwise keep reconnecting in the background
        # through an outage, logging a traceback each time.
        credentials["minsize"] = 0
    engine = f"resourcemap.db_{ENGINES[dialect(database_url)]}"
    return {"engine": engine, "credentials": credentials}


def tortoise_config(database_url: str, timeouts: Timeouts = BATCH) -> dict[str, Any]:
    # tortoise caches prepared SQL per connection *name*: naming the connection after its
    # dialect keeps one process (the test suite) able to switch between SQLite and PostgreSQL.
    name = dialect(database_url)
    return {
        "connections": {name: connection_config(database_url, timeouts)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": name,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def dialect(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite://") else "postgres"


async def open_db(database_url: str, timeouts: Timeouts = BATCH) -> None:
    await Tortoise.init(
        config=tortoise_config(database_url, timeouts), _enable_global_fallback=True
    )


async def close_db() -> None:
    await Tortoise.close_connections()


@asynccontextmanager
async def database(database_url: str, timeouts: Timeouts = BATCH) -> AsyncIterator[None]:
    await open_db(database_url, timeouts)
    try:
        yield
    finally:
        await close_db()


# Rows SQLite reads per index to estimate it: enough to tell a column of 120 hotlines
# from one of 21,594 active listings, and a province's tables are analysed in milliseconds.
SQLITE_ANALYSIS_LIMIT = 1000


async def analyse(*models: type[Model]) -> None:
    """Refresh the query planner's statistics of ``models``' tables, after a bulk write (a
    demo, an import). Without them SQLite guesses by the shape of the indexes: on the demo
    province every resident page read its 24/7 lines through the index of active listings
    (21,594 rows) rather than that of kinds (120 lines), 11 ms instead of 0.6. PostgreSQL's
    autovacuum analyses too, but a while after the load. Statistics only make reads faster:
    a failure (a busy database) is logged, never raised after the write has committed."""
    for model in models:
        client, table = model._meta.db, model._meta.db_table
        sqlite = client.capabilities.dialect == "sqlite"
        limit = f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}; " if sqlite else ""
        try:
            await client.execute_script(f"{limit}ANALYZE {table}")
        except Exception as exc:
            log.warning("statistics of %s not refreshed (%s)", table, type(exc).__name__)


@asynccontextmanager
async def one_connection(client: BaseDBAsyncClient) -> AsyncIterator[BaseDBAsyncClient]:
    """Run a block's statements, ORM and raw, on one pooled PostgreSQL connection and
    outside a transaction: the block checks a connection out of the pool (which resets it
    on return, a round trip) once instead of once per statement. On SQLite (one connection
    anyway) and inside an open transaction (already one connection) the block runs on the
    client given."""
    if client.capabilities.dialect != "postgres" or isinstance(client, TransactionalDBClient):
        yield client
        return
    # tortoise's transaction wrapper is its client bound to one connection; used without
    # begin() it is that connection in autocommit, each statement its own transaction.
    from tortoise.backends.asyncpg.client import TransactionWrapper

    pinned = TransactionWrapper(client)  # type: ignore[arg-type]
    async with client.acquire_connection() as connection:
        pinned._connection = connection
        token = connections.set(client.connection_name, pinned)
        try:
            yield pinned
        finally:
            connections.reset(token)


async def ping(database_url: str, *, limit: float) -> None:
    """Raise ``Unavailable`` unless the database answers within ``limit`` seconds."""
    try:
        async with asyncio.timeout(limit):
            await connections.get(dialect(database_url)).execute_query("SELECT 1")
    except TimeoutError:
        raise Unavailable(
            f"the database did not answer within {limit:g} s", retry_after=RETRY_AFTER_SECONDS
        ) from None


# ---------------------------------------------------------------------- outages


class Outage:
    """What one database client knows about its database being unreachable or locked."""

    def __init__(self, probe_seconds: float = PROBE_SECONDS) -> None:
        self.probe_seconds = probe_seconds
        self.down_since: float | None = None
        self.locked = False
        self._next_probe = 0.0

    def check(self) -> None:
        """Fail at once while the database is known to be down, except for one caller per
        probe interval, who finds out whether it is back."""
        if self.down_since is None:
            return
        now = time.monotonic()  # a duration, not a date: the monotonic clock
        if now < self._next_probe:
            down = now - self.down_since
            raise Unavailable(
                f"cannot reach the database (down for {down:.0f} s); try again shortly",
                retry_after=RETRY_AFTER_SECONDS,
            )
        self._next_probe = now + self.probe_seconds

    def down(self, exc: BaseException) -> Unavailable:
        """The database did not answer or cannot be reached: open the circuit."""
        now = time.monotonic()
        if self.down_since is None:
            log.warning("database unavailable (%s); answering 503 until it is back", _cause(exc))
            self.down_since = now
        self._next_probe = now + self.probe_seconds
        return Unavailable(
            f"cannot reach the database ({_cause(exc)}); try again shortly",
            retry_after=RETRY_AFTER_SECONDS,
        )

    def slow(self, exc: BaseException) -> Unavailable:
        """The server answered but gave up on a statement (its ``statement_timeout``): this
        request fails, the database is not down. Logged each time, as a slow-query log is."""
        log.warning("a statement ran past the statement limit (%s)", _cause(exc))
        return self._busy(exc)

    def write_locked(self, exc: BaseException) -> Unavailable:
        """SQLite: another process holds the write lock longer than the busy timeout."""
        if not self.locked:
            log.warning("database locked by another process; writes answer 503 until released")
            self.locked = True
        return self._busy(exc)

    @staticmethod
    def _busy(exc: BaseException) -> Unavailable:
        return Unavailable(
            f"the database is too busy to answer ({_cause(exc)}); try again shortly",
            retry_after=RETRY_AFTER_SECONDS,
        )

    def answered(self) -> None:
        if self.down_since is not None:
            log.warning("database answers again after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None

    def wrote(self) -> None:
        if self.locked:
            log.warning("database write lock released")
            self.locked = False


def _cause(exc: BaseException) -> str:
    # The type only: a driver's message may quote the statement and its parameters.
    return type(exc).__name__


# For `tortoise -c resourcemap.db.MAKEMIGRATIONS_CONFIG makemigrations` (`make migrations`):
# the autodetector compares models with migration files and never touches this database.
MAKEMIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")


# Rows read at a time by rows_in_batches: turning rows into Python values holds the event
# loop, so a batch holds it for ~0.1 s; a province's 200,000 listings or two million weekly
# intervals read at once held it (and every resident's search) for seconds, and their
# tuples took ~0.9 GB for a moment.
ROWS_AT_ONCE = 10_000
# Keys named in one query (SQLite allows 32,766 parameters).
IDS_AT_ONCE = 2_000


async def rows_in_batches(
    model: type[Model],
    ids: Collection[int] | None,
    *columns: str,
    key: str = "resource_id",
    raw: bool = False,
    **where: Any,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """``model``'s rows matching ``where`` as (id, *columns), a batch at a time: those whose
    ``key`` is one of ``ids``, or all of them. ``raw``: rows as the driver returns them,
    without tortoise's conversion of every value (over half the CPU of reading a
    province's weekly hours); only for integer columns, which need none."""

    async def rows(query: QuerySet[Any]) -> list[tuple[Any, ...]]:
        selected = query.values_list("id", *columns)
        if not raw:
            return list(await selected)
        # Inlined parameters are only integers here: ids and a batch size.
        _, found = await model._meta.db.execute_query(selected.sql(params_inline=True))
        return [tuple(r) for r in found]

    if ids is not None:
        chosen = sorted(ids)
        for start in range(0, len(chosen), IDS_AT_ONCE):
            part = {f"{key}__in": chosen[start : start + IDS_AT_ONCE]}
            yield await rows(model.filter(**part, **where))
        return
    after = 0
    while True:
        batch = await rows(model.filter(id__gt=after, **where).order_by("id").limit(ROWS_AT_ONCE))
        yield batch
        if len(batch) < ROWS_AT_ONCE:
            return
        after = int(batch[-1][0])
