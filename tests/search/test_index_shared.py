"""The app processes of a machine share one large index (#22): the first to need it builds
it in a file named after what it was built from, the others map that file; other listings
get a file of their own, a broken file is built again, and a directory another user could
write is never read."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from resourcemap.search import embedded, index_build, index_shared
from resourcemap.search.embedded import EmbeddedBackend
from resourcemap.search.embedded_index import Columns
from resourcemap.search.typos import TYPOS, TypoTolerance
from tests.search.test_edits import QUERIES, answer, documents, loaded, shown
from tests.search.test_index_apart import _mapped

pytestmark = pytest.mark.skipif(not index_build.CAN_FORK, reason="the system cannot fork")
BUILT = "search index built in"
FOUND = "built by another process"


@pytest.fixture(autouse=True)
def apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build in a process of its own from one document up (a province's, in small)."""
    monkeypatch.setattr(embedded, "APART_AT", 1)


def _columns(*backends: EmbeddedBackend) -> list[Columns]:
    async def build() -> list[Columns]:
        return list(await asyncio.gather(*(b.columns() for b in backends)))

    return asyncio.run(build())


def _backend(docs: list[Any], shared: Path) -> EmbeddedBackend:
    backend = EmbeddedBackend(shared_dir=shared)
    asyncio.run(backend.replace_all(docs))
    return backend


def _said(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return sum(words in r.getMessage() for r in caplog.records)


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{index_shared.SUFFIX}"))


def test_processes_with_the_same_listings_build_one_index_and_all_map_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="resourcemap.search")
    docs = documents(300)
    # Two workers after the same import: both ask at once, one builds, one waits and maps.
    first, second = _backend(docs, tmp_path), _backend(docs, tmp_path)
    built = _columns(first, second)
    assert (_said(caplog, BUILT), _said(caplog, FOUND)) == (1, 1)
    assert len(_files(tmp_path)) == 1
    assert all(_mapped(cols.ids) and _mapped(cols.fields["name"].grams.ids) for cols in built)
    here = loaded(docs)  # built in this process, nothing shared
    for params in QUERIES:
        assert isinstance(params, dict)
        asked: dict[str, Any] = params
        assert shown(answer(first, asked)) == shown(answer(here, asked))
        assert shown(answer(second, asked)) == shown(answer(here, asked))


def test_a_process_started_later_maps_the_file_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = documents(120)
    _columns(_backend(docs, tmp_path))
    expected = shown(answer(loaded(docs), {"q": "心理"}))

    def no_fork() -> int:
        raise AssertionError("built again")

    monkeypatch.setattr(os, "fork", no_fork)
    later = _backend(docs, tmp_path)
    (cols,) = _columns(later)
    assert _mapped(cols.ids)
    assert shown(answer(later, {"q": "心理"})) == expected


def test_other_listings_get_an_index_of_their_own(tmp_path: Path) -> None:
    docs = documents(120)
    renamed = [replace(d, name_zh="星海心灵驿站") if d.id == 7 else d for d in docs]
    before, after = _backend(docs, tmp_path), _backend(renamed, tmp_path)
    _columns(before, after)
    assert len(_files(tmp_path)) == 2
    assert answer(before, {"q": "星海"}).total == 0
    assert [h.id for h in answer(after, {"q": "星海"}).hits] == [7]


def test_an_index_is_named_after_its_listings_settings_and_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = documents(50)
    name = index_shared.key(docs, TYPOS, True)
    # Equal documents loaded again (other objects, sharing nothing): the same name.
    assert index_shared.key(documents(50), TYPOS, True) == name
    assert index_shared.key(docs[:-1], TYPOS, True) != name
    assert index_shared.key([replace(docs[0], phone="110"), *docs[1:]], TYPOS, True) != name
    assert index_shared.key(docs, TypoTolerance(4, 8), True) != name
    assert index_shared.key(docs, TYPOS, False) != name
    monkeypatch.setattr(index_shared, "_code", lambda: b"another deploy")
    assert index_shared.key(docs, TYPOS, True) != name


def test_a_broken_file_is_built_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="resourcemap.search")
    docs = documents(120)
    path = index_shared.path_for(tmp_path, index_shared.key(docs, TYPOS, False))
    path.write_bytes(b"RMINDEX2 cut short by a full disk")
    backend = _backend(docs, tmp_path)
    (cols,) = _columns(backend)
    assert _said(caplog, BUILT) == 1
    assert _mapped(cols.ids) and path.stat().st_size > 10_000
    assert shown(answer(backend, {"q": "东湖 咨询"})) == shown(
        answer(loaded(docs), {"q": "东湖 咨询"})
    )


def test_a_directory_others_may_write_is_never_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    docs = documents(120)
    shared = tmp_path / "open"
    shared.mkdir()
    shared.chmod(0o777)
    planted = index_shared.path_for(shared, index_shared.key(docs, TYPOS, False))
    planted.write_bytes(b"anyone's pickle")
    backend = _backend(docs, shared)
    (cols,) = _columns(backend)
    assert "may be written by other users" in caplog.text
    assert planted.read_bytes() == b"anyone's pickle"  # neither read nor replaced
    assert _mapped(cols.ids)  # still built apart, in a file of its own
    assert answer(backend, {"q": "心理"}).total == answer(loaded(docs), {"q": "心理"}).total


def test_the_default_directory_is_this_users_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    made = index_shared.private_dir(index_shared.default_dir())
    assert made.parent == tmp_path and str(os.getuid()) in made.name
    assert made.stat().st_mode & 0o777 == 0o700


def test_files_nobody_mapped_lately_go_when_the_next_index_is_built(tmp_path: Path) -> None:
    now = time.time()
    old = tmp_path / f"{'0' * 40}{index_shared.SUFFIX}"
    recent = tmp_path / f"{'1' * 40}{index_shared.SUFFIX}"
    half = tmp_path / f"{'2' * 40}{index_shared.SUFFIX}.99.partial"
    for path in (old, recent, half):
        path.write_bytes(b"x")
    os.utime(old, (now - index_shared.UNUSED_S - 60, now - index_shared.UNUSED_S - 60))
    docs = documents(60)
    _columns(_backend(docs, tmp_path))
    new = index_shared.path_for(tmp_path, index_shared.key(docs, TYPOS, False))
    assert _files(tmp_path) == sorted([recent, new])
    assert not half.exists()


def test_the_apps_processes_share_the_index_in_the_directory_they_are_given(
    demo_url: str,
    make_client: Callable[..., Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="resourcemap.search")
    answers = []
    for _ in range(2):  # two app processes of one machine, one after the other
        with make_client(demo_url, search_index_dir=tmp_path) as client:
            got = client.get("/api/v1/search", params={"q": "焦虑", "limit": 50})
            assert got.status_code == 200
            answers.append([item["id"] for item in got.json()["items"]])
    assert (_said(caplog, BUILT), _said(caplog, FOUND)) == (1, 1)
    assert len(_files(tmp_path)) == 1
    assert answers[0] and answers[0] == answers[1]
