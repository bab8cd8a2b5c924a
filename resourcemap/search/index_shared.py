"""One index file for every app process of a machine: built once, mapped by all.

Each worker process of a deployment loads the same documents and, at a start or after an
import, built the same large index: with N workers, N builds of about a minute each ran
at once on the same cores, and each worker held its own copy of the index's arrays
(~0.3 GB at 200,000 listings). The index files of :mod:`.index_file` are now named after
what they were built from (:func:`key`: the documents in order, the typo settings, and
the code and libraries that build them, read as the process started) in one directory.
The first process to need an index builds it there under the directory's lock; the others
wait for that lock, find the file and map it, so the machine holds one copy of its pages,
shared by every worker.

The files are pickles: whoever can write them or their directory can run code in the
workers. The directory must be this user's own, writable by nobody else, under parents
only root or this user can change (:func:`private_dir`); a file is loaded only if it is
this user's and nobody else may write it (:func:`opened`). A file no process has loaded
for :data:`UNUSED_S` goes when the next index is built (a process still mapping it keeps
its pages until it lets them go; on a temp dir in memory, tmpfs, they stay in memory).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import operator
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import IO

from resourcemap.search.base import SearchDocument
from resourcemap.search.typos import TypoTolerance

try:
    import fcntl
except ImportError:  # not POSIX: processes there cannot fork, and share no index
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".rmindex"
# Not loaded by any process for this long (its mtime is set when one does): removed at
# the next build. An import every few minutes leaves a few files.
UNUSED_S = 600.0
_LOCK = ".lock"
_INDEX = re.compile(r"[0-9a-f]{40}\.rmindex")
_PARTIAL = re.compile(r"[0-9a-f]{40}\.rmindex\.\d+\.partial")  # being written, or left
# The code that decides what an index holds: a deploy of other code builds its own.
_PACKAGES = ("resourcemap", "geo")
_LIBRARIES = ("numpy", "opencc", "pypinyin", "pyproj", "h3", "shapely")
_UNSAFE = stat.S_IWGRP | stat.S_IWOTH
_CHUNK = 2_048  # documents read at once for the key


class NotPrivate(Exception):
    """A directory or file that another user could write: its files are not loaded."""


def default_dir() -> Path:
    """This user's directory in the system's temp dir (local to the machine, as the
    workers that share it are)."""
    user = os.getuid() if hasattr(os, "getuid") else "user"  # only Linux shares (it forks)
    return Path(tempfile.gettempdir()) / f"resourcemap-search-{user}"


def private_dir(path: Path) -> Path:
    """``path`` (made if missing, mode 0700) as an absolute path without links, once it is
    known to be a directory owned by this user that nobody else may write, under parents
    that only root or this user may change (sticky ones, such as /tmp, included): no other
    user can put a file in it or put another directory in its place."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    held = os.lstat(path)
    if not stat.S_ISDIR(held.st_mode):
        raise NotPrivate(f"{path} is not a directory")
    if held.st_uid != os.getuid():
        raise NotPrivate(f"{path} belongs to another user")
    if held.st_mode & _UNSAFE:
        raise NotPrivate(f"{path} may be written by other users")
    real = path.resolve()  # not a link itself; a parent may be
    for parent in real.parents:
        above = os.stat(parent)
        if above.st_uid not in (0, os.getuid()):
            raise NotPrivate(f"{parent}, above {path}, belongs to another user")
        if above.st_mode & _UNSAFE and not above.st_mode & stat.S_ISVTX:
            raise NotPrivate(f"{parent}, above {path}, may be written by other users")
    return real


def opened(path: Path) -> IO[bytes] | None:
    """``path`` open for reading if it is there (None if not), once it is known to be a
    file of this user's that nobody else may write (read through this descriptor only)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    source = os.fdopen(fd, "rb")
    held = os.fstat(fd)
    if not stat.S_ISREG(held.st_mode) or held.st_uid != os.getuid() or held.st_mode & _UNSAFE:
        source.close()
        raise NotPrivate(f"{path} may be written by other users")
    return source


def key(docs: Sequence[SearchDocument], typos: TypoTolerance, ahead: bool) -> str:
    """What an index built from ``docs`` (in this order) is named after: equal documents,
    settings and code give the same name in every process, anything else another one."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(CODE)
    digest.update(repr((typos, ahead, len(docs))).encode())
    fields = dataclasses.fields(SearchDocument)
    digest.update(repr([f.name for f in fields]).encode())
    # A chunk at a time: a field's text for every document at once is ~0.1 GB at 200,000
    # (the worker's peak during a reload).
    for start in range(0, len(docs), _CHUNK):
        chunk = docs[start : start + _CHUNK]
        for field in fields:
            values = list(map(operator.attrgetter(field.name), chunk))
            if field.type == "str":
                # Encoded as one text: encoding each str object (as pickle does) keeps its
                # UTF-8 copy on it for good, ~90 MB on 200,000 documents.
                digest.update(repr(list(map(len, values))).encode())
                digest.update("".join(values).encode("utf-8", "surrogatepass"))
            else:
                digest.update(repr(values).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def code_digest() -> bytes:
    """A digest of this code and the libraries' versions (:data:`CODE`: as the process
    started, not as the files are when an index is first built: a deploy may have replaced
    them meanwhile)."""
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
    go with its file descriptors. The wait lets go of the interpreter's lock."""
    fd = os.open(directory / _LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write(path: Path, dump: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` through ``dump`` so that no reader ever sees half of it: into a file
    of its own first, then renamed (hold :func:`locked`)."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
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


def used(source: IO[bytes]) -> None:
    """Mark the open index file ``source`` as loaded now (kept :data:`UNUSED_S` from here;
    through its descriptor: by name, a prune may have removed it meanwhile)."""
    os.utime(source.fileno())


def prune(directory: Path, keep: Path, now: float | None = None) -> list[Path]:
    """Remove the index files nobody loaded for :data:`UNUSED_S` but ``keep``, and files
    left half-written (hold :func:`locked`: nobody else is writing); nothing else in the
    directory. Returns what went; what could not go is left for the next time."""
    now = time.time() if now is None else now
    gone = []
    for entry in directory.iterdir():
        with suppress(OSError):  # gone meanwhile, or not ours to remove: not worth a build
            left = _PARTIAL.fullmatch(entry.name) is not None
            unused = (
                _INDEX.fullmatch(entry.name) is not None
                and entry != keep
                and entry.stat().st_mtime < now - UNUSED_S
            )
            if left or unused:
                entry.unlink()
                gone.append(entry)
    return gone


CODE = code_digest()
