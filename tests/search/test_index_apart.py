"""A large index is built in a forked process and handed back in a file (#22): the worker
answers from it as from one built in its own thread, with its arrays mapped from the file,
and an edit made while the build runs is not lost."""

from __future__ import annotations

import asyncio
import gc
import io
import mmap
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from resourcemap.search import embedded, index_build, index_file
from resourcemap.search.base import Criteria, SearchQuery
from resourcemap.search.embedded import EmbeddedBackend
from resourcemap.search.embedded_index import build_columns
from resourcemap.search.typos import TYPOS
from tests.search.test_edits import QUERIES, answer, documents, loaded, shown

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not index_build.CAN_FORK, reason="the system cannot fork")


def _mapped(array: np.ndarray[Any, Any]) -> bool:
    """Whether ``array``'s memory is a file mapping's (and not this process's heap)."""
    base: Any = array
    while base is not None:
        if isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap):
            return True
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    return False


@pytest.fixture
def apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build in a process of its own from one document up (a province's, in small)."""
    monkeypatch.setattr(embedded, "APART_AT", 1)


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: repr(p))
def test_an_index_built_apart_answers_as_one_built_here(
    params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "AHEAD_AT", 1)  # a province's: needs worked out ahead
    here = loaded(documents(400))
    monkeypatch.setattr(embedded, "APART_AT", 1)
    there = loaded(documents(400))
    cols = asyncio.run(there.columns())
    assert _mapped(cols.ids) and _mapped(cols.fields["name"].grams.ids)
    assert cols._needs and all(_mapped(column) for column in cols._needs.values())
    assert cols.to_metric is asyncio.run(here.columns()).to_metric  # the process's own
    assert not _mapped(asyncio.run(here.columns()).ids)
    assert shown(answer(there, params)) == shown(answer(here, params))


@pytest.mark.usefixtures("apart")
def test_an_edit_while_the_build_runs_is_searchable_and_the_old_text_is_not() -> None:
    docs = documents(200)
    backend = EmbeddedBackend()
    asyncio.run(backend.replace_all(docs))
    handing_over = threading.Event()
    go_on = threading.Event()
    load = index_file.load

    def held_load(*args: Any) -> Any:
        handing_over.set()  # built, in the other process: not installed yet
        go_on.wait(timeout=60)
        return load(*args)

    renamed = replace(docs[6], name_zh="星海心灵驿站")
    old_name = docs[6].name_zh

    async def run() -> tuple[list[int], list[int]]:
        building = asyncio.create_task(backend.columns())
        assert await asyncio.to_thread(handing_over.wait, 60)  # built apart, not here
        await backend.upsert([renamed])
        go_on.set()
        await building
        new = await backend.search(_criteria("星海"))
        old = await backend.search(_criteria(old_name))
        return [h.id for h in new.hits], [h.id for h in old.hits]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_file, "load", held_load)
        new, old = asyncio.run(run())
    assert new == [renamed.id]
    assert renamed.id not in old


def _criteria(q: str) -> Criteria:
    return Criteria(SearchQuery.model_validate({"q": q, "limit": 50}))


@pytest.mark.usefixtures("apart")
def test_when_the_build_process_fails_the_worker_builds_the_index_itself(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A build process killed (memory ran out) or unable to write its file: residents
    still get answers, from an index built in the worker as before, and the log says why."""
    here = loaded(documents(120))

    def no_room(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    for broken in ("dump", "fork"):
        backend = EmbeddedBackend()
        asyncio.run(backend.replace_all(documents(120)))
        caplog.clear()
        with pytest.MonkeyPatch.context() as patch:
            if broken == "dump":  # only the build process writes the file
                patch.setattr(index_file, "dump", no_room)
            else:
                patch.setattr(os, "fork", no_room)
            found = answer(backend, {"q": "心理"})
        assert shown(found) == shown(answer(here, {"q": "心理"})) and found.total > 0
        assert not _mapped(asyncio.run(backend.columns()).ids)
        said = [r.getMessage() for r in caplog.records if r.name == "resourcemap.search"]
        reason = "ended with 1" if broken == "dump" else "No space left"
        assert any("built in the worker itself" in m and reason in m for m in said), said


@pytest.mark.usefixtures("apart")
def test_a_build_process_stopped_with_its_worker_is_not_built_again_in_the_worker() -> None:
    """A Ctrl-C or a SIGTERM to the process group stops the worker and its build process:
    the worker then does not start the minute's build itself while it shuts down."""
    backend = EmbeddedBackend()
    asyncio.run(backend.replace_all(documents(120)))

    def stopped(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # in the build process: the one that writes

    # The worker's own handler (uvicorn's) must not be what the build process runs.
    kept = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(index_file, "dump", stopped)
            with pytest.raises(index_build.IndexBuildStopped, match="stopped"):
                answer(backend, {"q": "心理"})
    finally:
        signal.signal(signal.SIGTERM, kept)
    assert backend.work.full_builds == 1
    assert answer(backend, {"q": "心理"}).total > 0  # asked again: built again


@pytest.mark.usefixtures("apart")
def test_a_build_that_fails_everywhere_fails_the_search_and_the_next_one_builds_again() -> None:
    backend = EmbeddedBackend()
    asyncio.run(backend.replace_all(documents(120)))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError("no room for the index")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_build, "build_columns", broken)
        with pytest.raises(MemoryError):
            answer(backend, {"q": "心理"})
    assert answer(backend, {"q": "心理"}).total > 0
    assert backend.work.full_builds == 2


def test_the_index_file_holds_the_whole_index_and_the_documents_stay_ours(
    tmp_path: Path,
) -> None:
    docs = documents(150)
    built = build_columns(docs)
    path = tmp_path / "index"
    with open(path, "wb") as out:
        index_file.dump(built, out)
    with open(path, "rb") as source:
        back = index_file.load(source, docs, built.typos)
    # The same objects, not copies, in the index's order (the grid's, not the given one).
    assert all(a is b for a, b in zip(back.docs, built.docs, strict=True))
    assert back.docs != docs and sorted(back.docs, key=docs.index) == docs
    assert back.to_metric is built.to_metric  # the process's shared transformer
    for name in ("ids", "lat", "lon", "x", "y", "located", "walk", "cells", "kind_code"):
        assert np.array_equal(getattr(back, name), getattr(built, name), equal_nan=True), name
    assert back.pinyin.at == built.pinyin.at
    assert np.array_equal(back.pinyin.rows, built.pinyin.rows)
    for name, column in built.fields.items():
        assert np.array_equal(back.fields[name].values, column.values), name
        assert np.array_equal(back.fields[name].grams.keys, column.grams.keys), name
    row = int(np.flatnonzero(built.tags["status"]["active"])[0])
    back.retire([back.docs[row].id])  # this process's copy of the page, not the file
    with open(path, "rb") as source:
        again = index_file.load(source, docs, built.typos)
    assert not back.tags["status"]["active"][row] and again.tags["status"]["active"][row]


def test_a_file_without_a_whole_index_is_refused(tmp_path: Path) -> None:
    docs = documents(40)
    out = io.BytesIO()
    index_file.dump(build_columns(docs), out)
    whole = out.getvalue()
    for broken in (b"", b"not an index at all", whole[:8], whole[:200], whole[:-100]):
        path = tmp_path / "index"
        path.write_bytes(broken)
        with open(path, "rb") as source, pytest.raises(index_file.IndexFileError):
            index_file.load(source, docs, TYPOS)
    path.write_bytes(whole)
    with open(path, "rb") as source, pytest.raises(index_file.IndexFileError, match="40"):
        index_file.load(source, docs[:30], TYPOS)


@pytest.mark.usefixtures("apart")
def test_a_worker_maps_only_the_index_in_use_after_reloads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each reload's index comes in a file of its own: the old ones (and their files, ~0.3
    GB each on a province) go when their index does, facets counted on them included."""
    files: list[weakref.ref[mmap.mmap]] = []
    load = index_file.load

    def watched(*args: Any) -> Any:
        cols = load(*args)
        files.append(weakref.ref(_mapping(cols.ids)))
        return cols

    monkeypatch.setattr(index_file, "load", watched)
    backend = EmbeddedBackend()
    for seed in (1, 2, 3):
        asyncio.run(backend.replace_all(documents(150, seed=seed)))
        assert answer(backend, {"q": "心理"}).facets["kind"]  # facets counted on it
        gc.collect()
        assert [f() is not None for f in files] == [False] * (seed - 1) + [True]


def _mapping(array: np.ndarray[Any, Any]) -> mmap.mmap:
    base: Any = array
    while not (isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)):
        base = base.obj if isinstance(base, memoryview) else base.base
    return base.obj


@pytest.mark.usefixtures("apart")
def test_a_build_process_that_hangs_is_killed_and_the_worker_builds_instead(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    worker = os.getpid()

    def stuck_apart(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != worker:
            time.sleep(120)  # a lock held at the fork, say
        return build_columns(*args, **kwargs)

    monkeypatch.setattr(index_build, "build_columns", stuck_apart)
    monkeypatch.setattr(index_build, "BUILD_LIMIT_S", 0.5)
    others = {p.pid for p in psutil.Process().children()}  # other tests' (xdist runs many)
    backend = EmbeddedBackend()
    asyncio.run(backend.replace_all(documents(120)))
    assert answer(backend, {"q": "心理"}).total > 0
    assert any("did not finish within" in r.getMessage() for r in caplog.records)
    assert {p.pid for p in psutil.Process().children()} == others  # killed, waited for


KILLED_WORKER = """
import asyncio, sys, time
from resourcemap.search import embedded, index_build
from resourcemap.search.embedded import EmbeddedBackend
from tests.search.test_edits import documents

build_columns = index_build.build_columns
def slow(*args, **kwargs):
    time.sleep(120)
    return build_columns(*args, **kwargs)
index_build.build_columns = slow
embedded.APART_AT = 1
backend = EmbeddedBackend()
asyncio.run(backend.replace_all(documents(50)))
print("building", flush=True)
asyncio.run(backend.columns())
"""


def test_a_build_process_ends_with_its_worker_killed() -> None:
    """A worker killed with ``kill -9`` (its memory, its supervisor) leaves no build process
    running on for minutes with ~0.7 GB of its own."""
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as worker:
        try:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "building"
            builders: list[psutil.Process] = []
            for _ in range(100):
                builders = psutil.Process(worker.pid).children()
                if builders:
                    break
                time.sleep(0.05)
            assert len(builders) == 1
            worker.kill()
            worker.wait(timeout=30)
            gone, alive = psutil.wait_procs(builders, timeout=10)
            assert gone and not alive
        finally:
            worker.kill()
