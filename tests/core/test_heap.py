"""Memory a large build freed goes back to the system (#22: a worker ≤ 1 GB at 200,000)."""

from __future__ import annotations

import platform
import threading

import pytest

from resourcemap import heap


def _resident_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_what_a_thread_freed_is_returned() -> None:
    # As the index build does: many buffers made and dropped in a worker thread's own arena,
    # a few kept (the index); glibc keeps the pages between them unless asked to give them back.
    kept_chunks: list[bytes] = []

    def build() -> None:
        garbage = [bytes(4000) for _ in range(60_000)]  # ~240 MB, each from malloc
        kept_chunks.extend(garbage[::100])
        del garbage

    worker = threading.Thread(target=build)
    worker.start()
    worker.join()
    kept = _resident_kb()
    assert heap.trim()
    assert _resident_kb() < kept - 50_000  # at least 50 MB of the freed memory went back
