"""The embedded index is built before the first search needs it (#22): a province's takes
about a minute, which the first resident after a start would otherwise wait for; and what a
search would work out on its first run is worked out with the index."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from resourcemap.search import embedded, embedded_index
from resourcemap.search.base import Criteria, SearchQuery
from resourcemap.search.embedded import EmbeddedBackend
from tests.factories import run_in_db, small_city
from tests.search.test_edits import documents
from web.api import health


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
    started, release = threading.Event(), threading.Event()
    built = embedded._build

    def slow_build(*args: Any) -> Any:
        started.set()
        release.wait(timeout=60)  # a province's build, until the test lets it finish
        return built(*args)

    monkeypatch.setattr(embedded, "_build", slow_build)
    monkeypatch.setattr(health, "READY_LIMIT_SECONDS", 0.2)
    with make_client(database_url) as client:
        search = client.app.state.search.embedded
        # Nobody has asked anything yet: the build started with the process.
        assert started.wait(timeout=30)
        building = client.get("/readyz")
        alive = client.get("/healthz")
        release.set()
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
