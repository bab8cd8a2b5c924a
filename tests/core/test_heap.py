"""Memory a large build freed goes back to the system (#22: a worker ≤ 1 GB at 200,000)."""

from __future__ import annotations

import gc
import platform
import threading
import weakref

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


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> tuple[_Node, weakref.ref[_Node]]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


def _in_collected_generations(obj: object) -> bool:
    return any(o is obj for generation in range(3) for o in gc.get_objects(generation))


def test_settle_frees_what_came_before_and_leaves_the_survivors_out_of_collections() -> None:
    gc.disable()  # only settle collects here
    try:
        garbage, dropped = _cycle()
        del garbage
        kept, alive = _cycle()  # as a large index: lives on after the build
        assert heap.settle() > 0
        # A reload's replaced index, in cycles, was collected; the one in use was not...
        assert dropped() is None and alive() is kept
        # ...and no later collection walks it: it is in the permanent generation.
        assert not _in_collected_generations(kept)
        # The next settle (the next reload) gives it back first: frozen, it never leaks.
        del kept
        assert alive() is not None  # a cycle: only a collection frees it
        heap.settle()
        assert alive() is None
    finally:
        gc.unfreeze()
        gc.enable()
