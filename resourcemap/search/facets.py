"""Facets of a search: how many matches of each kind and service, over every match."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from resourcemap.search.embedded_index import BoolArray, Columns

IntArray = npt.NDArray[np.intp]
# Indexes whose service sets are kept: the large one, the edits', and a few retired ones.
KEPT_INDEXES = 8
_sets: dict[int, tuple[dict[str, BoolArray], list[str], IntArray, IntArray]] = {}


def sum_facets(parts: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    if len(parts) == 1:
        return parts[0]
    total: dict[str, dict[str, int]] = {"kind": {}, "service": {}}
    for part in parts:
        for facet, counts in part.items():
            for value, count in counts.items():
                total[facet][value] = total[facet].get(value, 0) + count
    return {facet: dict(sorted(counts.items())) for facet, counts in total.items()}


def _service_sets(cols: Columns) -> tuple[list[str], IntArray, IntArray]:
    """The index's service names (sorted), each document's set of services as a number,
    and which services each set holds: a province's listings have a few hundred distinct
    sets, so a search counts its matches per set (one ``bincount``) and not per service."""
    columns = cols.tags["services"]
    kept = _sets.get(id(columns))
    if kept is None or kept[0] is not columns:
        if len(_sets) >= KEPT_INDEXES:
            _sets.clear()
        names = sorted(columns)
        held = np.zeros((len(cols.docs), len(names)), dtype=bool)
        for k, name in enumerate(names):
            held[:, k] = columns[name]
        packed = np.packbits(held, axis=1)
        sets, which = np.unique(packed, axis=0, return_inverse=True)
        members = np.unpackbits(sets, axis=1, count=len(names)).astype(np.int64)
        kept = _sets[id(columns)] = (columns, names, which.reshape(-1), members)
    return kept[1], kept[2], kept[3]


def count_facets(cols: Columns, rows: npt.NDArray[np.intp]) -> dict[str, dict[str, int]]:
    kinds = np.bincount(cols.kind_code[rows], minlength=len(cols.kinds))
    names, which, members = _service_sets(cols)
    services = (np.bincount(which[rows], minlength=members.shape[0]) @ members).tolist()
    return {
        "kind": {k: int(c) for k, c in zip(cols.kinds, kinds.tolist(), strict=True) if c},
        "service": {k: v for k, v in zip(names, services, strict=True) if v},
    }
