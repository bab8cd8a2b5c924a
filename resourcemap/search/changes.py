"""The listing change log that search indexes follow (see ``models.SearchChange``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Pending:
    """What changed after a sequence number: a full rebuild, or some upserts and deletes."""

    seq: int
    rebuild: bool
    upserts: frozenset[int]
    deletes: frozenset[int]


async def since(seq: int) -> Pending:
    rows = (
        await SearchChange.filter(seq__gt=seq)
        .order_by("seq")
        .values_list("seq", "resource_id", "op")
    )
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
    return Pending(last, rebuild, frozenset(upserts), frozenset(deletes))
