"""Giving the memory a large build freed back to the system.

glibc's allocator keeps freed memory for reuse, and after a build that made and dropped
hundreds of megabytes of temporaries (the search index at 200,000 listings, in a worker
thread's own arena) a process stays that much larger for the rest of its life. ``trim``
asks glibc to return every free page of every arena (``malloc_trim``); elsewhere (musl,
macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
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
