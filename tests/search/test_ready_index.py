"""The embedded index is built before the first search needs it (#22): a province's takes
about a minute, which the first resident after a start would otherwise wait for; and what a
search would work out on its first run is worked out with the index."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from resourcemap.models import Resource
from resourcemap.search import changes, embedded, embedded_index, index_build, service
from resourcemap.search.base import Criteria, SearchQuery
from resourcemap.search.documents import load_documents
from resourcemap.search.embedded import EmbeddedBackend
from tests.factories import run_in_db, small_city
from tests.search.test_edits import documents
from web.api import health


@dataclass
class Gate:
    """Builds that wait until the test lets them finish, as a province's takes a minute."""

    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)  # each build's


def gate_builds(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate()
    built = index_build.build

    def gated_build(*args: Any) -> Any:
        gate.threads.append(threading.current_thread())
        gate.started.set()
        gate.release.wait(timeout=60)  # longer than any test: only the test ends it
        return built(*args)

    monkeypatch.setattr(index_build, "build", gated_build)
    return gate


def _search(backend: EmbeddedBackend, q: str) -> list[int]:
    found = asyncio.run(backend.search(Criteria(SearchQuery.model_validate({"q": q}))))
    return [h.id for h in found.hits]


def test_a_residents_first_need_word_reads_what_the_build_worked_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small index works out 焦虑's matches on its first search: the answers to match.
    reference = EmbeddedBackend()
    asyncio.run(reference.replace_all(documents(300)))
    expected = {q: _search(reference, q) for q in ("焦虑", "失眠", "anxiety", "jiaolv")}
    assert all(expected.values())
    monkeypatch.setattr(embedded, "AHEAD_AT", 300)  # a province's, in small
    backend = EmbeddedBackend()
    asyncio.run(backend.replace_all(documents(300)))
    asyncio.run(backend.columns())

    def computed_in_a_search(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a need's matches were worked out in a search")

    monkeypatch.setattr(embedded_index, "_words_matches", computed_in_a_search)
    assert {q: _search(backend, q) for q in expected} == expected


def test_the_index_is_built_at_start_and_readyz_waits_for_it(
    database_url: str, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_in_db(database_url, small_city)
    monkeypatch.setattr(embedded, "AHEAD_AT", 1)  # a province's, in small
    gate = gate_builds(monkeypatch)
    monkeypatch.setattr(health, "READY_LIMIT_SECONDS", 0.2)
    with make_client(database_url) as client:
        search = client.app.state.search.embedded
        # Nobody has asked anything yet: the build started with the process.
        assert gate.started.wait(timeout=30)
        building = client.get("/readyz")
        alive = client.get("/healthz")
        gate.release.set()
        for _ in range(100):
            ready = client.get("/readyz")
            if ready.status_code == 200:
                break
    assert building.status_code == 503
    assert building.json() == {"status": "unavailable", "database": building.json()["database"],
                               "search": "building"}  # fmt: skip
    assert int(building.headers["Retry-After"]) > 0
    assert alive.status_code == 200
    assert ready.status_code == 200 and ready.json()["search"] == "ready"
    assert search.ready and search.work.full_builds == 1


def test_a_small_index_waits_for_its_first_search(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """A district's few hundred listings build in a fraction of a second: no build (and no
    work ahead) for a process that may never be asked, such as one serving staff pages."""
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        search = client.app.state.search.embedded
        client.get("/healthz")
        before = search.work.full_builds
        found = client.get("/api/v1/search", params={"q": "心理"})
        ready = client.get("/readyz")
    assert before == 0
    assert found.status_code == 200 and found.json()["total"] > 0
    assert search.work.full_builds == 1 and ready.json()["search"] == "ready"


def test_a_full_reload_answers_from_the_old_index_until_the_new_one_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bulk import reloads every listing: residents keep their answers (and an edit made
    meanwhile shows at once) until the new index takes over, rather than waiting for it."""
    monkeypatch.setattr(embedded, "AHEAD_AT", 1)  # a province's, in small
    before = documents(60)
    renamed = replace(before[4], name_zh="星海心灵驿站新址")
    after = [renamed if d.id == renamed.id else d for d in before if d.id != before[9].id]
    gone = before[9]

    async def names(backend: EmbeddedBackend, q: str) -> list[int]:
        found = await backend.search(Criteria(SearchQuery.model_validate({"q": q})))
        return [h.id for h in found.hits]

    async def run() -> dict[str, Any]:
        backend = EmbeddedBackend()
        await backend.replace_all(before)
        await backend.columns()
        gate = gate_builds(monkeypatch)
        await backend.replace_all(after)
        seen: dict[str, Any] = {"ready": backend.ready}
        seen["old name"] = await names(backend, before[4].name_zh)
        seen["new name"] = await names(backend, "星海心灵驿站新址")
        seen["gone"] = await names(backend, gone.name_zh)
        # Staff fix a listing during the reload: the old index takes the edit.
        await backend.upsert([replace(before[6], name_zh="云端心理驿站")])
        seen["edited"] = await names(backend, "云端心理驿站")
        seen["edited, old name"] = await names(backend, before[6].name_zh)
        gate.release.set()
        await backend.columns()
        seen["after: new name"] = await names(backend, "星海心灵驿站新址")
        seen["after: gone"] = await names(backend, gone.name_zh)
        seen["after: edited"] = await names(backend, "云端心理驿站")
        return seen

    seen = asyncio.run(run())
    assert seen["ready"]
    assert before[4].id in seen["old name"] and seen["new name"] == []
    assert gone.id in seen["gone"]
    assert seen["edited"] == [before[6].id] and before[6].id not in seen["edited, old name"]
    assert seen["after: new name"] == [renamed.id]
    assert gone.id not in seen["after: gone"]
    assert seen["after: edited"] == [before[6].id]


def test_edits_during_a_build_are_taken_in_without_starting_it_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Staff keep editing while a process builds a province's index (about a minute): the
    build is not started over for each edit (with edits more often than a build takes, it
    never finished), and every edit is searchable once it is done."""
    monkeypatch.setattr(embedded, "AHEAD_AT", 1)
    docs = documents(60)
    renamed = replace(docs[4], name_zh="星海心灵驿站新址")
    gone = docs[9]
    gate = gate_builds(monkeypatch)

    async def run() -> dict[str, Any]:
        backend = EmbeddedBackend(compact_after=10_000)  # no compaction in the way
        await backend.replace_all(docs)
        backend.build_soon()
        await asyncio.to_thread(gate.started.wait, 60)
        await backend.upsert([renamed])
        await backend.delete([gone.id])
        await backend.upsert([replace(docs[6], name_zh="云端心理驿站")])
        gate.release.set()
        assert await backend.wait_ready(60)

        async def ids(q: str) -> list[int]:
            found = await backend.search(Criteria(SearchQuery.model_validate({"q": q})))
            return [h.id for h in found.hits]

        return {
            "builds": backend.work.full_builds,
            "new name": await ids("星海心灵驿站新址"),
            "old name": await ids(docs[4].name_zh),
            "gone": await ids(gone.name_zh),
            "edited": await ids("云端心理驿站"),
            "everyone": sorted(h.id for h in (await backend.search(every())).hits),
        }

    def every() -> Criteria:
        return Criteria(SearchQuery.model_validate({"limit": 100}))

    seen = asyncio.run(run())
    assert seen["builds"] == 1
    assert seen["new name"] == [renamed.id] and renamed.id not in seen["old name"]
    assert gone.id not in seen["gone"] and gone.id not in seen["everyone"]
    assert seen["edited"] == [docs[6].id]
    assert len(seen["everyone"]) == len({d.id for d in docs if d.status == "active"}) - 1


def test_a_process_told_to_stop_while_its_index_builds_stops_without_waiting_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deploy stops workers that may be building a province's index (about a minute):
    the event loop closes at once, and the build, worth nothing to a stopping process, is
    left to end with it (asyncio's own worker threads are waited for)."""
    monkeypatch.setattr(embedded, "AHEAD_AT", 1)
    gate = gate_builds(monkeypatch)

    async def serve_then_stop() -> None:
        backend = EmbeddedBackend()
        await backend.replace_all(documents(20))
        backend.build_soon()
        await asyncio.to_thread(gate.started.wait, 30)
        await backend.stop_building()  # what the app's shutdown does

    asyncio.run(serve_then_stop())  # returns with the build still under way
    try:
        assert not gate.release.is_set() and gate.threads and gate.threads[0].is_alive()
        assert gate.threads[0].daemon  # nor does it keep the interpreter from exiting
    finally:
        gate.release.set()


def test_searches_waiting_for_the_first_build_share_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches queue behind a process's first build: one given up on (its client gone)
    does not take the build from the others, and the edits made meanwhile are indexed
    once, not once per waiting search."""
    docs = documents(40)
    gate = gate_builds(monkeypatch)

    async def run() -> dict[str, Any]:
        backend = EmbeddedBackend(compact_after=10_000)
        await backend.replace_all(docs)

        async def ids(q: str) -> list[int]:
            found = await backend.search(Criteria(SearchQuery.model_validate({"q": q})))
            return [h.id for h in found.hits]

        waiting = [asyncio.create_task(ids("星海心灵驿站新址")) for _ in range(4)]
        await asyncio.to_thread(gate.started.wait, 30)
        await backend.upsert([replace(docs[4], name_zh="星海心灵驿站新址")])
        await backend.upsert([replace(docs[7], name_zh="云端心理驿站")])
        waiting[0].cancel()  # a resident closed the page
        await asyncio.sleep(0)
        gate.release.set()
        answers = await asyncio.gather(*waiting[1:])
        return {
            "answers": answers,
            "cancelled": waiting[0].cancelled(),
            "builds": backend.work.full_builds,
            "indexed": backend.work.documents,
        }

    seen = asyncio.run(run())
    assert seen["cancelled"]
    assert seen["answers"] == [[docs[4].id]] * 3
    assert seen["builds"] == 1
    assert seen["indexed"] == len(docs) + 2  # the build's, then the two edits once


def test_a_bulk_change_is_reloaded_while_searches_answer(
    database_url: str, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an import (a rebuild in the change log), a province's process reads every
    listing again (~30 s at 200,000): the search that notices it answers at once from the
    index as it is, instead of waiting for the reload, and the reloaded listings are
    searchable once it is done."""
    ids = run_in_db(database_url, small_city)
    monkeypatch.setattr(embedded, "AHEAD_AT", 1)  # a province's, in small
    reading, release, read = threading.Event(), threading.Event(), threading.Event()

    async def slow_load(wanted: Any = None, **kw: Any) -> Any:
        if wanted is None:  # every listing: the reload
            reading.set()
            # Until the test lets it go (or 10 s: a search that waits for it gets its answer).
            await asyncio.to_thread(release.wait, 10)
            every = await load_documents(wanted, **kw)
            read.set()
            return every
        return await load_documents(wanted, **kw)

    async def bulk_change() -> None:
        await Resource.filter(id=ids["room"]).update(name_zh="星海心灵驿站")
        await changes.record_rebuild()

    def found(client: Any, q: str) -> list[int]:
        body = client.get("/api/v1/search", params={"q": q}).json()
        return [item["id"] for item in body["items"]]

    with make_client(database_url, search_follow_seconds=0) as client:
        assert found(client, "东湖社区心理咨询室") == [ids["room"]]
        monkeypatch.setattr(service, "load_documents", slow_load)
        client.portal.call(bulk_change)  # as an import in another process would
        during = found(client, "星海心灵驿站")
        waited = read.is_set()  # whether that search waited for the reload
        assert reading.wait(timeout=30)
        release.set()
        after: list[int] = []
        for _ in range(300):
            after = found(client, "星海心灵驿站")
            if after:
                break
            time.sleep(0.05)
    assert not waited and during == []  # answered at once, from the index as it was
    assert after == [ids["room"]]


def test_a_large_index_is_left_out_of_garbage_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 200,000 listings every full collection walked the index's ~520,000 objects:
    once built, a large index is frozen out of them (heap.settle)."""
    monkeypatch.setattr(embedded, "AHEAD_AT", 300)  # a province's, in small
    backend = EmbeddedBackend()
    try:
        asyncio.run(backend.replace_all(documents(300)))
        cols = asyncio.run(backend.columns())
        collected = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
        assert cols.docs and not any(id(d) in collected for d in cols.docs)
        # A small index is not worth a full collection: it stays where it was.
        monkeypatch.setattr(embedded, "AHEAD_AT", 10_000)
        small = EmbeddedBackend()
        asyncio.run(small.replace_all(documents(300)))
        few = asyncio.run(small.columns())
        collected = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
        assert all(id(d) in collected for d in few.docs)
    finally:
        gc.unfreeze()
