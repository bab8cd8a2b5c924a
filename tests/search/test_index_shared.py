"""The app processes of a machine share one large index (#22): the first to need it builds
it in a file named after what it was built from, the others map that file; other listings
get a file of their own, a broken file is built again, and a directory another user could
write is never read."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from resourcemap.search import embedded, index_build, index_file, index_shared
from resourcemap.search.embedded import EmbeddedBackend
from resourcemap.search.embedded_index import Columns, build_columns
from resourcemap.search.typos import TYPOS, TypoTolerance
from resourcemap.settings import Settings
from tests.search.test_edits import QUERIES, answer, documents, loaded, shown
from tests.search.test_index_apart import _mapped

pytestmark = pytest.mark.skipif(not index_build.CAN_FORK, reason="the system cannot fork")
BUILT = "search index built in /"
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


def _never_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, a build process fails the test (every build forks one)."""

    def no_fork() -> int:
        raise AssertionError("built again")

    monkeypatch.setattr(os, "fork", no_fork)


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
    _never_build(monkeypatch)
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
    # The same characters, cut otherwise between two documents' names.
    first, second = docs[0], docs[1]
    moved = [
        replace(first, name_zh=first.name_zh + second.name_zh[0]),
        replace(second, name_zh=second.name_zh[1:]),
        *docs[2:],
    ]
    assert index_shared.key(moved, TYPOS, True) != name
    assert index_shared.key([docs[1], docs[0], *docs[2:]], TYPOS, True) != name
    monkeypatch.setattr(index_shared, "CODE", b"another deploy")
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


def test_a_directory_is_refused_when_another_user_could_swap_or_fill_it(tmp_path: Path) -> None:
    shared = tmp_path / "index"
    shared.mkdir(mode=0o700)
    assert index_shared.private_dir(shared) == shared.resolve()
    shared.chmod(0o770)
    with pytest.raises(index_shared.NotPrivate, match="written by other users"):
        index_shared.private_dir(shared)
    shared.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(shared)
    with pytest.raises(index_shared.NotPrivate, match="not a directory"):
        index_shared.private_dir(link)
    # A parent others may write (and not sticky, as /tmp is): they could put another
    # directory in this one's place.
    tmp_path.chmod(0o777)
    try:
        with pytest.raises(index_shared.NotPrivate, match="above"):
            index_shared.private_dir(shared)
    finally:
        tmp_path.chmod(0o700)


def test_a_planted_file_is_not_loaded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    docs = documents(120)
    path = index_shared.path_for(tmp_path, index_shared.key(docs, TYPOS, False))
    path.write_bytes(b"anyone's pickle")
    path.chmod(0o666)
    backend = _backend(docs, tmp_path)
    (cols,) = _columns(backend)
    assert "may be written by other users" in caplog.text
    assert path.read_bytes() == b"anyone's pickle"
    assert _mapped(cols.ids)  # built apart for this worker alone
    assert answer(backend, {"q": "心理"}).total == answer(loaded(docs), {"q": "心理"}).total


def test_a_process_waiting_for_the_lock_maps_what_the_builder_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="resourcemap.search")
    docs = documents(120)
    path = index_shared.path_for(tmp_path, index_shared.key(docs, TYPOS, False))
    backend = _backend(docs, tmp_path)

    async def scenario() -> Columns:
        with index_shared.locked(tmp_path):  # another process is building
            waiting = asyncio.create_task(backend.columns())
            await asyncio.sleep(0.3)
            assert not waiting.done()
            index_shared.write(path, functools.partial(index_file.dump, build_columns(docs)))
        return await waiting

    _never_build(monkeypatch)
    cols = asyncio.run(scenario())
    assert _said(caplog, FOUND) == 1 and _mapped(cols.ids)


def test_an_index_is_named_after_the_code_and_libraries_that_build_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = index_shared.code_digest()
    assert code == index_shared.CODE
    version = metadata.version
    monkeypatch.setattr(
        metadata, "version", lambda name: "0.0-other" if name == "opencc" else version(name)
    )
    assert index_shared.code_digest() != code  # its simplified texts could differ


def test_an_empty_setting_means_the_default_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCEMAP_SEARCH_INDEX_DIR", "")
    assert Settings(_env_file=None).search_index_dir is None  # not the working directory


def test_only_unused_index_files_and_half_written_ones_are_pruned(tmp_path: Path) -> None:
    now = time.time()
    old, kept, recent = (tmp_path / f"{c * 40}{index_shared.SUFFIX}" for c in "012")
    half = tmp_path / f"{'3' * 40}{index_shared.SUFFIX}.99.partial"
    other = tmp_path / "notes.partial"  # not ours
    for path in (old, kept, recent, half, other):
        path.write_bytes(b"x")
    for path in (old, kept):
        os.utime(path, (now - index_shared.UNUSED_S - 1, now - index_shared.UNUSED_S - 1))
    gone = index_shared.prune(tmp_path, keep=kept, now=now)
    assert sorted(gone) == sorted([old, half])
    assert sorted(tmp_path.iterdir()) == sorted([kept, recent, other])


def test_files_nobody_loaded_lately_go_when_the_next_index_is_built(tmp_path: Path) -> None:
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
