"""A change whose transaction took its number before another's but committed after it (a
long import beside a staff edit) is still followed by every process (#22): the numbers not
seen below the last one read are asked for again."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from resourcemap import db
from resourcemap.models import Resource, SearchChange
from resourcemap.search import changes
from resourcemap.search.base import SearchQuery
from resourcemap.search.service import SearchService
from resourcemap.search.sync import OutboxSync
from tests.factories import small_city
from tests.search.test_sync import FlakyServer, names

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


async def _renamed(resource_id: int, name: str) -> None:
    resource = await Resource.get(id=resource_id)
    resource.name_zh = name
    await resource.save()


async def _found(search: SearchService, q: str) -> list[int]:
    result = await search.search(SearchQuery(q=q), now=NOW)
    return [h.id for h in result.hits]


async def _edit_committed_first(ids: dict[str, int]) -> int:
    """A staff edit (the clinic renamed) numbered after a change still open, and committed;
    the number before both."""
    last = await changes.latest_seq()
    await _renamed(ids["clinic"], "月湾心理门诊")
    await SearchChange.create(seq=last + 2, resource_id=ids["clinic"], op=changes.UPSERT)
    return last


async def _import_committed_late(ids: dict[str, int], last: int) -> None:
    """The change still open (an import renaming the room), committed now under ``last + 1``."""
    await _renamed(ids["room"], "星海心灵驿站")
    await SearchChange.create(seq=last + 1, resource_id=ids["room"], op=changes.UPSERT)


@pytest.mark.anyio
async def test_a_change_committed_after_a_later_numbered_one_is_followed(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await small_city()
        search = SearchService(ZoneInfo("Asia/Shanghai"))
        await search.refresh()
        await _renamed(ids["room"], "星海心灵驿站")  # the import's, still open
        last = await _edit_committed_first(ids)
        await search.follow(force=True)
        staff_edit = await _found(search, "月湾")
        before = await _found(search, "星海")
        await _import_committed_late(ids, last)
        await search.follow(force=True)
        after = await _found(search, "星海")
    assert staff_edit == [ids["clinic"]]
    assert before == []
    assert after == [ids["room"]]


@pytest.mark.anyio
async def test_a_change_still_open_when_a_process_loads_everything_is_followed(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await small_city()
        last = await _edit_committed_first(ids)
        search = SearchService(ZoneInfo("Asia/Shanghai"))
        await search.refresh()  # as of last + 2; last + 1 not committed yet
        await _import_committed_late(ids, last)
        await search.follow(force=True)
        after = await _found(search, "星海")
    assert after == [ids["room"]]


@pytest.mark.anyio
async def test_the_push_to_a_search_server_follows_a_late_commit_too(database_url: str) -> None:
    async with db.database(database_url):
        ids = await small_city()
        server = FlakyServer()
        sync = OutboxSync(server)
        await sync.run_once()
        last = await _edit_committed_first(ids)
        assert await sync.run_once() == 1
        await _import_committed_late(ids, last)
        assert await sync.run_once() == 1
        assert await names(server, "星海") == {"星海心灵驿站"}
        assert await sync.run_once() == 0  # nothing sent twice


@pytest.mark.anyio
async def test_a_number_never_used_is_given_up_after_a_while(database_url: str) -> None:
    """A rolled-back transaction's number never comes: it is asked for while an import's
    transaction could still be open, then no more."""
    now = [0.0]
    gaps = changes.Gaps(wait_s=600.0, clock=lambda: now[0])
    async with db.database(database_url):
        await SearchChange.create(seq=5, resource_id=1, op=changes.UPSERT)
        first = await changes.since(0, gaps)
        assert first.seq == 5 and gaps.runs() == [(1, 4)]
        await SearchChange.create(seq=3, resource_id=2, op=changes.UPSERT)
        now[0] = 599.0
        second = await changes.since(5, gaps)
        assert second.upserts == {2} and gaps.runs() == [(1, 2), (4, 4)]
        now[0] = 601.0
        assert gaps.runs() == []
        await SearchChange.create(seq=4, resource_id=3, op=changes.UPSERT)
        assert not (await changes.since(5, gaps)).anything


@pytest.mark.anyio
async def test_a_process_taking_over_the_push_asks_for_what_the_last_one_waited_for(
    database_url: str,
) -> None:
    """Processes take the push in turn (an advisory lock): the stored cursor stays below a
    number the last pusher had not seen, so the next one reads it when it comes."""
    async with db.database(database_url):
        ids = await small_city()
        server = FlakyServer()
        first = OutboxSync(server)
        await first.run_once()
        last = await _edit_committed_first(ids)
        assert await first.run_once() == 1
        stored = await first.applied_seq()
        await _import_committed_late(ids, last)
        second = OutboxSync(server)  # another process, or this one restarted
        await second.run_once()
        found = await names(server, "星海")
        assert await second.run_once() == 0
        assert await second.applied_seq() == last + 2
    assert stored == last
    assert found == {"星海心灵驿站"}
