"""``db.one_connection``: a block's statements share one pooled connection, each committed
as it runs (no transaction is opened around them)."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
from tortoise import connections

from resourcemap import db
from resourcemap.models import Organisation
from tests.conftest import Backend


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


def test_one_connection_shares_a_connection_and_commits_each_statement(
    backend: Backend,
) -> None:
    url = backend.fresh()

    async def go() -> tuple[set[int], int, int]:
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
            return sessions, seen_inside, await _count_elsewhere(url)

    sessions, seen_inside, seen_after = asyncio.run(go())
    # One PostgreSQL backend answered every statement (SQLite has one connection anyway).
    assert len(sessions) == (1 if db.dialect(url) == "postgres" else 0)
    assert seen_inside == 3  # committed as they ran, visible before the block ended
    assert seen_after == 3
