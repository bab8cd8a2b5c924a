"""Building a large search index off the event loop: in a thread of its own, or in a
forked process that hands the index back in a file (:mod:`.index_file`).

A province's index takes about a minute to build. In a thread, the build shares the
interpreter's lock with the searches it must not hold up, and its temporaries (~0.3 GB)
come on top of the index still answering. On Linux a large build therefore runs in a
process of its own (:func:`build_apart`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from resourcemap import heap
from resourcemap.search import facets, index_file, index_shared, intent
from resourcemap.search.base import SearchDocument
from resourcemap.search.embedded_index import Columns, build_columns
from resourcemap.search.typos import TypoTolerance

log = logging.getLogger("resourcemap.search")
P = ParamSpec("P")
T = TypeVar("T")
# Linux only: macOS's system libraries are not safe to use in a forked copy of a process
# with threads, and Windows cannot fork; there the build stays in a thread.
CAN_FORK = sys.platform.startswith("linux")


async def in_own_thread(build: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``build`` run in a daemon thread of its own: asyncio's worker threads are waited for
    when the loop closes, so a process told to stop while it built a province's index (up to
    a minute) did not stop until the build was done; an index being built is worth nothing
    to a process that stops."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = build(*args, **kwargs)
        except BaseException as exc:  # handed to the awaiting task, as to_thread would
            settle = functools.partial(_failed, done, exc)
        else:
            settle = functools.partial(_succeeded, done, result)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=run, name="search-index-build", daemon=True).start()
    return await done


def _succeeded(done: asyncio.Future[T], result: T) -> None:
    if not done.done():  # not when the search waiting for it was cancelled
        done.set_result(result)


def _failed(done: asyncio.Future[T], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)


def build(docs: list[SearchDocument], typos: TypoTolerance, ahead: bool) -> Columns:
    """The large index, ready to answer (run in a worker thread): what a search would
    otherwise work out on its first run is worked out here (facet numbers and, ``ahead``,
    every need's matches and the sounds of known words)."""
    built = _indexed(docs, typos, ahead)
    if ahead:
        intent.prepare()
    heap.trim()  # the build's temporaries (~0.3 GB at 200,000 documents) go back
    return built


def _indexed(docs: list[SearchDocument], typos: TypoTolerance, ahead: bool) -> Columns:
    """The index with what its first searches would work out on it: its facet numbers and,
    ``ahead``, every need's matches (kept on the index, so they go through its file)."""
    built = build_columns(docs, typos)
    facets.prepare(built)
    if ahead:
        built.prepare_needs()
    return built


class IndexBuildFailed(RuntimeError):
    """The process building the index ended without handing it over."""


class IndexBuildStopped(IndexBuildFailed):
    """The process building the index was told to stop, as its worker was (a Ctrl-C or a
    SIGTERM to their process group): nothing to build again."""


# Exit codes of a build process stopped by a signal meant for its worker too.
STOPPED = (-signal.SIGINT, -signal.SIGTERM)
# A build process still at it after this long is stuck (a province's takes about a minute,
# several on a machine its workers keep busy): it is killed and the worker builds instead.
BUILD_LIMIT_S = 900.0
_POLL_S = 0.2
# Looked up before any fork: loading a library in the forked copy could take a lock
# another thread held at the fork (the dynamic loader's).
try:
    _prctl: Callable[..., int] | None = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux's C library
    _prctl = None
_PR_SET_PDEATHSIG = 1


def build_apart(
    docs: list[SearchDocument], typos: TypoTolerance, ahead: bool, shared: Path | None = None
) -> Columns:
    """:func:`build` in a forked process, the index handed back through a file
    (:mod:`.index_file`) and mapped here (run in a thread of its own, which waits for it).
    With ``shared``, the file is the machine's one for these documents
    (:mod:`.index_shared`): built by whichever process needs it first, mapped by all.

    A province's build holds ~0.3 GB of temporaries for a minute, and the index answering
    meanwhile stays: in the worker, a reload or a compaction took it from ~0.9 to 1.15 GB.
    Apart, the worker's memory does not grow during the build and its searches do not
    share the interpreter's lock with it; the new index's pages come in from the file as
    they are read, while the old index goes. The forked process holds what the build
    needs (its copy of the documents, the temporaries) and ends with the build."""
    try:
        if shared is None:
            built = _built_in_a_process(docs, typos, ahead)
        else:
            built = _shared(docs, typos, ahead, shared)
    except IndexBuildStopped as exc:
        log.warning("search index build stopped: %s; the next search builds it again", exc)
        raise
    except (OSError, IndexBuildFailed, index_file.IndexFileError) as exc:
        # No room for the file or for a process, or the process died (killed when memory
        # ran out, say) or hung: an index built here is better than none.
        log.warning("search index built in the worker itself: %s", exc)
        return build(docs, typos, ahead)
    if ahead:
        intent.prepare()  # this process's own sounds of known words
    return built


def _built_in_a_process(docs: list[SearchDocument], typos: TypoTolerance, ahead: bool) -> Columns:
    with tempfile.TemporaryFile(prefix="resourcemap-index-") as out:
        _forked(lambda: index_file.dump(_indexed(docs, typos, ahead), out))
        return index_file.load(out, docs, typos)


def _shared(docs: list[SearchDocument], typos: TypoTolerance, ahead: bool, where: Path) -> Columns:
    """The machine's index for ``docs`` in ``where``: mapped if a process built it, else
    built in a process of this one's once no other build runs. Whatever fails on the way
    (the directory, the disk, the lock), the index is built apart for this worker alone."""
    try:
        directory = index_shared.private_dir(where)
        path = index_shared.path_for(directory, index_shared.key(docs, typos, ahead))
        heap.trim()  # what reading the documents for the key left in the heap goes back
        return _mapped_or_built(docs, typos, ahead, path)
    except IndexBuildStopped:
        raise
    except (OSError, IndexBuildFailed, index_file.IndexFileError, index_shared.NotPrivate) as exc:
        log.warning("search index not shared with the other processes: %s", exc)
        return _built_in_a_process(docs, typos, ahead)


def _mapped_or_built(
    docs: list[SearchDocument], typos: TypoTolerance, ahead: bool, path: Path
) -> Columns:
    mapped = _mapped(path, docs, typos)
    if mapped is None:
        # Waited for here, not in the build's process: forked early, it would hold a copy
        # of the worker's pages while it waits; this thread lets go of the interpreter.
        with index_shared.locked(path.parent):
            mapped = _mapped(path, docs, typos)  # built while this process waited
            if mapped is None:
                index_shared.prune(path.parent, keep=path)
                _forked(functools.partial(_written, docs, typos, ahead, path))
                mapped = _mapped(path, docs, typos)
                if mapped is None:
                    raise IndexBuildFailed("its build process left no index file")
                log.info("search index built in %s", path)
                return mapped
    log.info("search index mapped from %s, built by another process", path)
    return mapped


def _mapped(path: Path, docs: list[SearchDocument], typos: TypoTolerance) -> Columns | None:
    """The index in ``path`` for ``docs``, or None when there is none (or a broken one,
    which the next build replaces)."""
    source = index_shared.opened(path)
    if source is None:
        return None
    with source:
        try:
            cols = index_file.load(source, docs, typos)
        except index_file.IndexFileError:
            return None
        index_shared.used(source)
    return cols


def _written(docs: list[SearchDocument], typos: TypoTolerance, ahead: bool, path: Path) -> None:
    """In the forked process: build the index and write it to ``path``."""
    index_shared.write(path, functools.partial(index_file.dump, _indexed(docs, typos, ahead)))


def _forked(work: Callable[[], None]) -> None:
    """Run ``work`` in a forked process, which must end without an error."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the build's process: only this thread, nothing of the loop's
        _run_and_exit(work, parent)
    code = _wait(pid, time.monotonic() + BUILD_LIMIT_S)
    if code in STOPPED:
        raise IndexBuildStopped(f"its build process was stopped ({code})")
    if code != 0:
        raise IndexBuildFailed(f"its build process ended with {code}")


def _wait(pid: int, deadline: float) -> int:
    """The exit code of ``pid``, killed if it is still running at ``deadline``."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise IndexBuildFailed(f"its build process did not finish within {BUILD_LIMIT_S:.0f} s")
        time.sleep(_POLL_S)


def _run_and_exit(work: Callable[[], None], parent: int) -> None:
    """In the forked process: do ``work`` and end (0 when it did), without running anything
    the parent set up (no atexit, no finalizers closing its connections)."""
    code = 1
    try:
        _die_with_parent(parent)
        _own_signals()
        work()
        code = 0
    except BaseException as exc:
        # Not logging: a lock another thread of the parent held at the fork stays held here.
        with contextlib.suppress(OSError):
            os.write(2, f"search index build failed: {exc!r}\n".encode())
    finally:
        os._exit(code)


def _own_signals() -> None:
    """Default signal handling here: the parent's handlers write to its event loop's wakeup
    pipe, which this process shares, so a Ctrl-C or a SIGTERM to the process group seen here
    would be read by the parent a second time."""
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to stop this process when the thread that forked it ends (the worker
    stopped, or was killed): a build nobody waits for is worth nothing."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent was gone before that took hold
        os._exit(1)
