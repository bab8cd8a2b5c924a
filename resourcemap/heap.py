"""The heap after a large build: its freed memory given back, what it keeps left alone.

glibc's allocator keeps freed memory for reuse, and after a build that made and dropped
hundreds of megabytes of temporaries (the search index at 200,000 listings, in a worker
thread's own arena) a process stays that much larger for the rest of its life. ``trim``
asks glibc to return every free page of every arena (``malloc_trim``); elsewhere (musl,
macOS) it does nothing.

``settle`` keeps Python's cyclic garbage collector off what a large build keeps. At 200,000
listings the search index, documents and timetable are ~520,000 tracked objects that live
until the next reload, and every full collection walked them all (~0.2 s each): one search
in seven paid for one, ~0.24 ms a search on average (#22, measured in docs/scale.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
try:
    _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc: nothing to ask
    _trim = None


def trim() -> bool:
    """Return free heap pages to the system; whether the allocator could be asked."""
    if _trim is None:
        return False
    _trim(0)
    return True


def settle() -> int:
    """Collect what is garbage now (the index a reload replaced, if it held cycles), then
    move every surviving object to the permanent generation, which collections skip: a
    large index is never walked again until the next ``settle`` (a reload or compaction),
    which first gives the permanent generation back so that nothing frozen leaks. One full
    collection, ~0.2 s at 200,000 listings. Returns the objects frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
