"""Database configuration, connection lifetime and migrations (tortoise-orm 1.x's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.migrations.api import migrate as tortoise_migrate

MODELS_MODULE = "resourcemap.models"
MIGRATIONS_MODULE = "resourcemap.migrations"
# Several processes (app workers, CLI) may write one SQLite file: wait instead of failing.
SQLITE_BUSY_TIMEOUT_MS = 5000


def connection_url(database_url: str) -> str:
    """Normalise a settings URL to what tortoise expects."""
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("sqlite://") and "busy_timeout" not in database_url:
        sep = "&" if "?" in database_url else "?"
        database_url = f"{database_url}{sep}busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"
    return database_url


def tortoise_config(database_url: str) -> dict[str, Any]:
    # tortoise caches prepared SQL per connection *name*: naming the connection after its
    # dialect keeps one process (the test suite) able to switch between SQLite and PostgreSQL.
    name = dialect(database_url)
    return {
        "connections": {name: connection_url(database_url)},
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


async def open_db(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[None]:
    await open_db(database_url)
    try:
        yield
    finally:
        await close_db()


async def migrate(database_url: str) -> None:
    """Apply every pending migration (idempotent), then (re)install the database functions
    the code calls, so they always match it."""
    from resourcemap.booking import seats

    try:
        await tortoise_migrate(config=tortoise_config(database_url))
        await open_db(database_url)
        await seats.install(connections.get(dialect(database_url)))
    finally:
        await Tortoise.close_connections()


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


async def ping(database_url: str) -> None:
    """Raise if the database does not answer."""
    await connections.get(dialect(database_url)).execute_query("SELECT 1")


# For `tortoise -c resourcemap.db.MAKEMIGRATIONS_CONFIG makemigrations` (`make migrations`):
# the autodetector compares models with migration files and never touches this database.
MAKEMIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")
