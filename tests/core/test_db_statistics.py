"""``db.analyse`` after a bulk write (a demo, an import): the query planner reads a
kind's few listings through the kind index, not every active listing (#22: each resident
page on the demo province read its 24/7 lines in 11 ms instead of 0.6)."""

from __future__ import annotations

import logging

import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError

from resourcemap import db, schema
from resourcemap.models import Organisation, Resource

HOTLINES = (
    "SELECT id FROM resource WHERE kind = 'hotline' AND status = 'active' "
    "AND always_open = {true} ORDER BY id"
)


async def _plan(url: str) -> str:
    client = connections.get(db.dialect(url))
    if db.dialect(url) == "sqlite":
        _, rows = await client.execute_query("EXPLAIN QUERY PLAN " + HOTLINES.format(true=1))
        return " ".join(str(r["detail"]) for r in rows)
    _, rows = await client.execute_query("EXPLAIN " + HOTLINES.format(true="true"))
    return " ".join(str(r["QUERY PLAN"]) for r in rows)


async def _analysed_on_postgres() -> bool:
    """Whether ANALYZE (not autovacuum's, counted apart) has run on the listings' table."""
    client = connections.get("postgres")
    _, rows = await client.execute_query(
        "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'resource'"
    )
    return rows[0]["last_analyze"] is not None


async def _listings() -> None:
    org = await Organisation.create(name_zh="测试机构", type="government")
    await Resource.bulk_create(
        [
            Resource(kind="community_room", name_zh=f"社区心理咨询室{i}", organisation=org)
            for i in range(2000)
        ]
        + [
            Resource(kind="hotline", name_zh=f"心理援助热线{i}", organisation=org, phone="12356")
            for i in range(3)
        ]
    )


@pytest.mark.anyio
async def test_after_a_bulk_load_the_planner_knows_how_few_hotlines_there_are(
    database_url: str,
) -> None:
    async with db.database(database_url):
        await _listings()
        before = await _plan(database_url)
        if db.dialect(database_url) == "postgres":
            assert not await _analysed_on_postgres()  # a fresh database: never analysed
        await db.analyse(Resource)
        after = await _plan(database_url)
        if db.dialect(database_url) == "postgres":
            assert await _analysed_on_postgres()
            assert "Seq Scan" not in after, after
        else:
            # Without statistics SQLite took the status index (every active listing).
            assert "status" in before, before
            assert "kind" in after and "status" not in after, after


@pytest.mark.anyio
async def test_migrate_gives_a_database_loaded_before_its_statistics(database_url: str) -> None:
    """``resourcemap migrate`` (and ``serve``, which runs it) analyses: a database loaded by
    an earlier version, which did not, gets them at the next deploy."""
    async with db.database(database_url):
        await _listings()
    await schema.migrate(database_url)
    async with db.database(database_url):
        after = await _plan(database_url)
        if db.dialect(database_url) == "postgres":
            assert await _analysed_on_postgres()
        else:
            assert "kind" in after, after


@pytest.mark.anyio
async def test_statistics_that_cannot_be_refreshed_do_not_fail_the_write_before_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An import has committed when its statistics are refreshed: a busy database then
    is a warning in the log, not an error for the staff member who imported."""
    async with db.database(database_url):
        client = Resource._meta.db

        async def busy(script: str) -> None:
            raise OperationalError("database is locked")

        monkeypatch.setattr(client, "execute_script", busy)
        with caplog.at_level(logging.WARNING, logger="resourcemap.db"):
            await db.analyse(Resource)
    assert "statistics of resource not refreshed (OperationalError)" in caplog.text
