"""The outbox: changes reach an external search server in order, and none is lost while
it is down. The "server" here is an embedded engine behind a switch that can fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from resourcemap import db
from resourcemap.models import Resource
from resourcemap.search import changes
from resourcemap.search.base import (
    Criteria,
    SearchDocument,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
)
from resourcemap.search.embedded import EmbeddedBackend
from resourcemap.search.sync import PUSH_LOCK, OutboxSync
from tests.factories import small_city


class FlakyServer(EmbeddedBackend):
    name = "flaky"

    def __init__(self) -> None:
        super().__init__()
        self.up = True
        self.calls = 0
        self.prepared = 0

    def _check(self) -> None:
        self.calls += 1
        if not self.up:
            raise SearchUnavailable("connection refused")

    async def prepare(self) -> None:
        self._check()
        self.prepared += 1

    async def replace_all(self, documents: list[SearchDocument]) -> None:
        self._check()
        await super().replace_all(documents)

    async def upsert(self, documents: list[SearchDocument]) -> None:
        self._check()
        await super().upsert(documents)

    async def delete(self, ids: list[int]) -> None:
        self._check()
        await super().delete(ids)

    async def search(self, criteria: Criteria) -> SearchResult:
        self._check()
        return await super().search(criteria)


async def names(server: FlakyServer, q: str) -> set[str]:
    result = await server.search(Criteria(SearchQuery(q=q, limit=100)))
    return {h.document.name_zh for h in result.hits}


@pytest.fixture
async def city(database_url: str) -> AsyncIterator[str]:
    """The ORM connected to a database holding ``small_city``; its URL."""
    async with db.database(database_url):
        await small_city()
        yield database_url


@pytest.mark.anyio
async def test_first_run_sends_everything_then_only_changes(city: str) -> None:
    server = FlakyServer()
    sync = OutboxSync(server)

    assert await sync.run_once() == 6  # every resource, closed ones too
    assert await sync.run_once() == 0
    calls = server.calls
    assert await sync.run_once() == 0 and server.calls == calls  # nothing to send
    r = await Resource.create(kind="community_room", name_zh="新开心理驿站")
    await changes.record([r.id])
    assert await sync.run_once() == 1
    assert await names(server, "新开") == {"新开心理驿站"}


@pytest.mark.anyio
async def test_changes_made_during_an_outage_arrive_after_it(city: str) -> None:
    server = FlakyServer()
    sync = OutboxSync(server)

    await sync.run_once()
    before = await sync.applied_seq()
    server.up = False
    room = await Resource.get(name_zh="东湖社区心理咨询室")
    room.name_zh = "东湖社区心理服务室"
    await room.save()
    await changes.record([room.id])
    gone = await Resource.get(name_zh="王医生")
    await changes.record([gone.id], changes.DELETE)
    await gone.delete()
    try:
        await sync.run_once()
    except SearchUnavailable:
        pass
    else:
        raise AssertionError("an unreachable server must not look synced")
    assert await sync.applied_seq() == before
    server.up = True
    assert await sync.run_once() == 2
    assert await names(server, "东湖") == {"东湖社区心理服务室"}
    assert await names(server, "王医生") == set()


@pytest.mark.anyio
async def test_a_rebuild_in_the_log_resends_everything(city: str) -> None:
    server = FlakyServer()
    sync = OutboxSync(server)

    await sync.run_once()
    await Resource.filter(name_zh="王医生").delete()
    await changes.record_rebuild()
    assert await sync.run_once() == 5
    assert await names(server, "王医生") == set()


@pytest.mark.anyio
async def test_background_sync_prepares_the_index_and_catches_up_after_an_outage(
    city: str,
) -> None:
    server = FlakyServer()
    server.up = False
    sync = OutboxSync(server, interval=0.01)

    task = asyncio.create_task(sync.run_forever())
    try:
        await asyncio.sleep(0.1)
        assert server.prepared == 0 and await sync.applied_seq() is None
        server.up = True
        for _ in range(200):  # bounded: the backoff is capped well below this
            if await sync.applied_seq() is not None:
                break
            await asyncio.sleep(0.05)
        assert server.prepared == 1
        assert await names(server, "东湖") == {"东湖社区心理咨询室"}
    finally:
        task.cancel()


@pytest.mark.anyio
async def test_one_process_pushes_at_a_time_on_postgresql(city: str) -> None:
    """Another process holding the push lock: this one skips its turn and sends nothing,
    then sends everything once the lock is free (#22)."""
    if not city.startswith("postgres"):
        pytest.skip("SQLite deployments are one process: no push lock")
    server = FlakyServer()
    sync = OutboxSync(server)

    other = await asyncpg.connect(city)
    try:
        await other.execute("SELECT pg_advisory_lock($1)", PUSH_LOCK)
        skipped = await sync.run_once()
        calls = server.calls
        await other.execute("SELECT pg_advisory_unlock($1)", PUSH_LOCK)
    finally:
        await other.close()
    sent = await sync.run_once()
    assert (skipped, calls) == (0, 0), "pushed while another process held the lock"
    assert sent > 0 and server.calls > 0
