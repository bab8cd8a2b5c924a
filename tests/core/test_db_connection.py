"""``db.one_connection``: a block's statements share one pooled connection, each committed
as it runs (no transaction is opened around them)."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from tortoise import connections

from resourcemap import db
from resourcemap.errors import Unavailable
from resourcemap.models import Organisation


async def _count_elsewhere(url: str) -> int:
    """Organisations as another connection sees them."""
    if db.dialect(url) == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            return int(conn.execute("SELECT COUNT(*) FROM organisation").fetchone()[0])
        finally:
            conn.close()
    pg = await asyncpg.connect(url)
    try:
        return int(await pg.fetchval("SELECT COUNT(*) FROM organisation"))
    finally:
        await pg.close()


@pytest.mark.anyio
async def test_one_connection_shares_a_connection_and_commits_each_statement(
    database_url: str,
) -> None:
    url = database_url

    async with db.database(url):
        client = connections.get(db.dialect(url))
        sessions: set[int] = set()
        async with db.one_connection(client) as conn:
            for _ in range(3):
                if db.dialect(url) == "postgres":
                    rows = await conn.execute_query_dict("SELECT pg_backend_pid() AS pid")
                    sessions.add(int(rows[0]["pid"]))
                # The ORM inside the block uses the block's connection too.
                assert Organisation._meta.db is conn
                await Organisation.create(name_zh="测试机构", type="government")
            seen_inside = await _count_elsewhere(url)
        seen_after = await _count_elsewhere(url)
    # One PostgreSQL backend answered every statement (SQLite has one connection anyway).
    assert len(sessions) == (1 if db.dialect(url) == "postgres" else 0)
    assert seen_inside == 3  # committed as they ran, visible before the block ended
    assert seen_after == 3


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.anyio
async def test_a_statement_over_the_limit_is_unavailable_and_the_next_one_runs(
    database_url: str,
) -> None:
    """The server cancels a statement past ``statement_timeout``: that request gets 503,
    the database is not taken for down (the next statement runs at once)."""
    url = database_url
    limits = db.Timeouts(connect=5, statement=0.2, pool=5)

    async with db.database(url, limits):
        client = connections.get("postgres")
        with pytest.raises(Unavailable) as slow:
            await client.execute_query("SELECT pg_sleep(3)")
        rows = await client.execute_query_dict("SELECT 1 AS one")
        reason, one = slow.value.reason, int(rows[0]["one"])
    assert "QueryCanceledError" in reason and "too busy" in reason
    assert one == 1


@pytest.mark.anyio
async def test_an_unreachable_server_is_unavailable_within_the_connect_limit() -> None:
    url = "postgres://postgres@127.0.0.1:1/none"  # nothing listens on port 1

    async with db.database(url, db.Timeouts(connect=1, statement=1, pool=1)):
        client = connections.get("postgres")
        reasons = []
        for _ in range(2):
            with pytest.raises(Unavailable) as down:
                await client.execute_query("SELECT 1")
            reasons.append(down.value.reason)
        first, second = reasons
    assert "cannot reach the database (ConnectionRefusedError)" in first
    assert "cannot reach the database (down for" in second  # answered at once meanwhile
