"""The listing change log that search indexes follow (see ``models.SearchChange``).

Numbers are handed out when a change is written, not when its transaction commits: a long
import may take numbers 100–5,000 and commit after a staff edit took 5,001 and committed.
A follower that had read up to 5,001 and then asked only for numbers above it would never
see the import. So a follower keeps the numbers it has not seen below the last one it read
(:class:`Gaps`) and asks for them again, until they come or are old enough to be given up
(a rolled-back transaction leaves its numbers unused for good).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from resourcemap.models import SearchChange

UPSERT, DELETE, REBUILD = "upsert", "delete", "rebuild"


async def record(resource_ids: Iterable[int], op: str = UPSERT) -> None:
    """Log changed resources; call inside the transaction that changes them."""
    await SearchChange.bulk_create([SearchChange(resource_id=i, op=op) for i in resource_ids])


async def record_rebuild() -> None:
    """Log that everything changed (after a bulk load): followers reload all documents."""
    await SearchChange.create(resource_id=None, op=REBUILD)


async def latest_seq() -> int:
    """The change log's last entry (0 when empty): every change to a listing or an area
    adds one, so whatever is worked out from them is current while this stays."""
    last: list[Any] = (
        await SearchChange.all().order_by("-seq").limit(1).values_list("seq", flat=True)
    )
    return int(last[0]) if last else 0


# How long a number not seen is asked for again: longer than an import's transaction.
GAP_WAIT_S = 600.0
# Runs of numbers not seen that are asked for at most (the newest): a query stays short.
MAX_GAP_RUNS = 100


class Gaps:
    """Numbers below the last one read that were not there: a transaction still open, or
    one rolled back. ``clock`` is monotonic seconds."""

    def __init__(self, wait_s: float = GAP_WAIT_S, clock: Callable[[], float] = time.monotonic):
        self.wait_s = wait_s
        self.clock = clock
        self._since: dict[int, float] = {}  # number → when it was first missed

    def __len__(self) -> int:
        return len(self._since)

    def runs(self) -> list[tuple[int, int]]:
        """The numbers still waited for, as runs ``(first, last)``, newest last."""
        now = self.clock()
        self._since = {n: t for n, t in self._since.items() if now - t <= self.wait_s}
        runs: list[tuple[int, int]] = []
        for n in sorted(self._since):
            if runs and runs[-1][1] == n - 1:
                runs[-1] = (runs[-1][0], n)
            else:
                runs.append((n, n))
        return runs[-MAX_GAP_RUNS:]

    def missed(self, numbers: Iterable[int]) -> None:
        now = self.clock()
        for n in numbers:
            self._since.setdefault(n, now)

    def found(self, numbers: Iterable[int]) -> None:
        for n in numbers:
            self._since.pop(n, None)


async def missing_below(seq: int, window: int = 10_000) -> list[int]:
    """Numbers up to ``seq`` (the last ``window`` of them) with no change: what a follower
    that loads everything as of ``seq`` must still ask for."""
    first = max(1, seq - window + 1)
    rows: list[Any] = await SearchChange.filter(seq__gte=first, seq__lte=seq).values_list(
        "seq", flat=True
    )
    held = {int(n) for n in rows}
    return [n for n in range(first, seq + 1) if n not in held]


@dataclass(frozen=True)
class Pending:
    """What changed after a sequence number: a full rebuild, or some upserts and deletes."""

    seq: int
    rebuild: bool
    upserts: frozenset[int]
    deletes: frozenset[int]

    @property
    def anything(self) -> bool:
        return self.rebuild or bool(self.upserts or self.deletes)


async def since(seq: int, gaps: Gaps | None = None) -> Pending:
    """What changed after ``seq``, and in ``gaps``' numbers (which it then updates: those
    found are closed, those skipped above ``seq`` opened)."""
    wanted = Q(seq__gt=seq)
    for first, last in gaps.runs() if gaps is not None else []:
        wanted |= Q(seq__gte=first, seq__lte=last)
    rows = await SearchChange.filter(wanted).order_by("seq").values_list("seq", "resource_id", "op")
    last, rebuild = seq, False
    upserts: set[int] = set()
    deletes: set[int] = set()
    for row_seq, resource_id, op in rows:
        last = max(last, int(row_seq))
        if op == REBUILD:
            rebuild = True
        elif resource_id is None:
            continue
        elif op == DELETE:
            deletes.add(resource_id)
            upserts.discard(resource_id)
        else:
            upserts.add(resource_id)
            deletes.discard(resource_id)
    if gaps is not None:
        read = {int(row[0]) for row in rows}
        gaps.found(read)
        gaps.missed(n for n in range(seq + 1, last) if n not in read)
    return Pending(last, rebuild, frozenset(upserts), frozenset(deletes))
