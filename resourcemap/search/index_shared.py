"""One index file for every app process of a machine: built once, mapped by all.

Each worker process of a deployment loads the same documents and, at a start or after an
import, built the same large index: with N workers, N builds of about a minute each ran
at once on the same cores, and each worker held its own copy of the index's arrays
(~0.3 GB at 200,000 listings). The index files of :mod:`.index_file` are now named after
what they were built from (:func:`key`: the documents in order, the typo settings, and
the code and libraries that build them) in one directory. The first process to need an
index builds it there under the directory's lock; the others wait for that lock, find the
file and map it, so the machine holds one copy of its pages, shared by every worker.

The files are pickles: whoever can write the directory can run code in the workers.
It must be a directory of this user's own that nobody else may write
(:func:`private_dir`), as the database file is. A file no process has mapped for
:data:`UNUSED_S` goes when the next index is built (a process still mapping it keeps its
pages until it lets them go).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import io
import operator
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from resourcemap.search.base import SearchDocument
from resourcemap.search.typos import TypoTolerance

SUFFIX = ".rmindex"
# Not mapped by any process for this long (its mtime is set when one does): removed at
# the next build. An import every few minutes leaves a few files; the temp dir may be
# memory (tmpfs).
UNUSED_S = 600.0
_LOCK = ".lock"
_PARTIAL = ".partial"  # a file being written; one left by a build that died is removed
# The code that decides what an index holds: a deploy of other code builds its own.
_PACKAGES = ("resourcemap", "geo")
_LIBRARIES = ("numpy", "pypinyin", "pyproj", "h3", "shapely")


class UnsafeDirectory(Exception):
    """The directory could be written by someone else: its files are not to be loaded."""


def default_dir() -> Path:
    """This user's directory in the system's temp dir (local to the machine, as the
    workers that share it are)."""
    user = os.getuid() if hasattr(os, "getuid") else "user"  # only Linux shares (it forks)
    return Path(tempfile.gettempdir()) / f"resourcemap-search-{user}"


def private_dir(path: Path) -> Path:
    """``path``, made if missing (mode 0700), once it is known to be a directory (not a
    link) owned by this user that nobody else may write."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    held = os.lstat(path)
    if not stat.S_ISDIR(held.st_mode):
        raise UnsafeDirectory(f"{path} is not a directory")
    if held.st_uid != os.getuid():
        raise UnsafeDirectory(f"{path} belongs to another user")
    if held.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeDirectory(f"{path} may be written by other users")
    return path


def key(docs: Sequence[SearchDocument], typos: TypoTolerance, ahead: bool) -> str:
    """What an index built from ``docs`` (in this order) is named after: equal documents,
    settings and code give the same name in every process, anything else another one."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(_code())
    digest.update(repr((typos, ahead, len(docs))).encode())
    for field in dataclasses.fields(SearchDocument):
        values = list(map(operator.attrgetter(field.name), docs))
        digest.update(field.name.encode())
        if field.type == "str":
            # Encoded as one text: encoding each str object (as pickle does) keeps its
            # UTF-8 copy on it for good, ~90 MB on 200,000 documents.
            digest.update(repr(list(map(len, values))).encode())
            digest.update("".join(values).encode("utf-8", "surrogatepass"))
        else:
            digest.update(repr(values).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@functools.cache
def _code() -> bytes:
    """A digest of this code and the libraries' versions (once per process)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(sys.version.encode())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name} {metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(name.encode())
    for package in _PACKAGES:
        root = Path(importlib.import_module(package).__file__ or "").parent
        for source in sorted(root.rglob("*")):
            if source.suffix in (".py", ".toml") and "__pycache__" not in source.parts:
                digest.update(str(source.relative_to(root)).encode())
                digest.update(source.read_bytes())
    return digest.digest()


def path_for(directory: Path, name: str) -> Path:
    return directory / f"{name}{SUFFIX}"


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """The directory's lock: one build at a time on the machine (two would hold twice the
    build's memory, and the second is usually the same index). A process that dies lets it
    go with its file descriptors."""
    import fcntl  # POSIX only: where processes cannot fork, they share no index

    fd = os.open(directory / _LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write(path: Path, dump: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` through ``dump`` so that no reader ever sees half of it: into a file
    of its own first, then renamed (hold :func:`locked`)."""
    partial = path.with_name(f"{path.name}.{os.getpid()}{_PARTIAL}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            dump(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def used(path: Path) -> None:
    """Mark ``path`` as mapped now (kept :data:`UNUSED_S` from here)."""
    os.utime(path)


def prune(directory: Path, keep: Path, now: float | None = None) -> list[Path]:
    """Remove the index files nobody mapped for :data:`UNUSED_S` but ``keep``, and files
    left half-written (hold :func:`locked`: nobody else is writing). Returns them."""
    now = time.time() if now is None else now
    gone = []
    for entry in directory.iterdir():
        stale = entry.name.endswith(_PARTIAL) or (
            entry.suffix == SUFFIX and entry != keep and entry.stat().st_mtime < now - UNUSED_S
        )
        if stale:
            entry.unlink(missing_ok=True)
            gone.append(entry)
    return gone
