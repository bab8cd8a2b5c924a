"""A search index in a file: how a build made in a process of its own is handed over.

A province's index (~0.3 GB of arrays) built beside the one still answering, with the
build's temporaries, took a worker to 1.3 GB for the minute of a reload or a compaction.
Built in a forked process instead (:mod:`.embedded`), it comes back as this file: its
arrays are written raw (pickle's out-of-band buffers) and read back memory-mapped, so the
worker holds none of the build and takes the new index's pages as searches read them,
while the old index is let go. Documents are not in the file: the worker has them already
(the same objects, or equal ones: :mod:`.index_shared`), in the order the build was given
(the index puts them in its own order, and keeps where each came from).

The mapping is private (copy on write): retiring an edited document writes its status bits
in this process's copy of a page, never in the file.
"""

from __future__ import annotations

import mmap
import pickle
import struct
from collections import OrderedDict
from collections.abc import Sequence
from typing import IO, Any

from geo.crs import WGS84, central_meridian, metric_crs_for
from geo.crs import transformer as crs_transformer
from resourcemap.search.base import SearchDocument
from resourcemap.search.embedded_index import Columns
from resourcemap.search.typos import TypoTolerance

_HEAD = struct.Struct("<8sQQQ")  # magic, documents, pickle length, buffer count
_MAGIC = b"RMINDEX2"
_SPAN = struct.Struct("<QQ")  # a buffer's offset and length
# Buffers start on this boundary: numpy reads aligned arrays at full speed.
_ALIGN = 64
# What a build leaves in an index that is this process's own only (ids of its objects).
_NOT_KEPT = ("_sets", "_boosts")


class IndexFileError(Exception):
    """The file does not hold an index (a build that died half-way)."""


def dump(cols: Columns, out: IO[bytes]) -> None:
    """Write ``cols`` without its documents to ``out`` (a file open for writing)."""
    state = dict(cols.__dict__)
    state["docs"] = None
    # Its zone's central meridian, not the transformer: the reader takes the process's
    # shared one (geo.crs.transformer), which PROJ has already set up for its threads.
    target = cols.to_metric.target_crs
    if target is None:
        raise ValueError("the index's projection has no target CRS")
    state["to_metric"] = central_meridian(target)
    for name in _NOT_KEPT:
        state[name] = OrderedDict()
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(state, protocol=5, buffer_callback=buffers.append)
    out.write(_HEAD.pack(_MAGIC, len(cols.docs), len(payload), len(buffers)))
    table_at = out.tell()
    out.write(b"\0" * (_SPAN.size * len(buffers)))
    out.write(payload)
    spans = []
    for buffer in buffers:
        raw = buffer.raw()
        at = _aligned(out.tell())
        out.write(b"\0" * (at - out.tell()))
        out.write(raw)
        spans.append(_SPAN.pack(at, raw.nbytes))
    out.seek(table_at)
    out.write(b"".join(spans))
    out.flush()


def load(source: IO[bytes], docs: Sequence[SearchDocument], typos: TypoTolerance) -> Columns:
    """The index in ``source`` for ``docs`` (the documents its build was given, in the same
    order), its arrays mapped from the file. ``typos`` is this process's own settings."""
    source.seek(0)
    try:
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_COPY)
    except ValueError as exc:  # an empty file
        raise IndexFileError("no index in the file") from exc
    try:
        spans, start, size = _contents(mapped, len(docs))
    except IndexFileError:
        mapped.close()  # nothing of it handed out yet: the file goes at once
        raise
    whole = memoryview(mapped)
    buffers = [whole[at : at + length] for at, length in spans]
    try:
        state: dict[str, Any] = pickle.loads(whole[start : start + size], buffers=buffers)
    except Exception as exc:  # lengths right, contents not (a disk's error, say)
        raise IndexFileError(f"the index in the file does not load ({exc!r})") from exc
    state["docs"] = [docs[i] for i in state["given"].tolist()]  # in the index's order
    state["typos"] = typos
    state["to_metric"] = crs_transformer(WGS84, metric_crs_for(state["to_metric"]))
    cols = Columns.__new__(Columns)
    cols.__dict__.update(state)  # frozen: set as pickle itself would
    return cols


def _contents(mapped: mmap.mmap, documents: int) -> tuple[list[tuple[int, int]], int, int]:
    """Where each buffer lies, and where the pickle starts and how long it is, once the
    file is checked to hold a whole index of ``documents``."""
    try:
        magic, held, size, count = _HEAD.unpack_from(mapped)
    except struct.error as exc:
        raise IndexFileError("no index in the file") from exc
    if magic != _MAGIC:
        raise IndexFileError("no index in the file")
    if held != documents:
        raise IndexFileError(f"the index holds {held} documents, not {documents}")
    start = _HEAD.size + count * _SPAN.size
    if start + size > len(mapped):
        raise IndexFileError("the index in the file is cut short")
    spans = [_SPAN.unpack_from(mapped, _HEAD.size + k * _SPAN.size) for k in range(count)]
    if any(at + length > len(mapped) for at, length in spans):
        raise IndexFileError("the index in the file is cut short")
    return spans, start, size


def _aligned(at: int) -> int:
    return -(-at // _ALIGN) * _ALIGN
