"""Facets of a search: how many matches of each kind and service, over every match."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from resourcemap.search.embedded_index import Columns

IntArray = npt.NDArray[np.intp]


def sum_facets(parts: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    if len(parts) == 1:
        return parts[0]
    total: dict[str, dict[str, int]] = {"kind": {}, "service": {}}
    for part in parts:
        for facet, counts in part.items():
            for value, count in counts.items():
                total[facet][value] = total[facet].get(value, 0) + count
    return {facet: dict(sorted(counts.items())) for facet, counts in total.items()}


def prepare(cols: Columns) -> None:
    """Work out the index's facet numbers now (in the build's thread), not in a search."""
    _facet_sets(cols)


def _facet_sets(cols: Columns) -> tuple[list[str], IntArray, IntArray]:
    """The index's service names (sorted), each document's kind and set of services as one
    number, and what each number stands for (a row per number: its kind as one of
    ``cols.kinds`` columns, then its services): a province's listings have a few thousand
    distinct ones, so a search counts its matches per number (one ``bincount``) and not
    per kind and service."""
    if not cols._facets:
        columns = cols.tags["services"]
        names = sorted(columns)
        n, k = len(cols.docs), len(cols.kinds)
        held = np.zeros((n, k + len(names)), dtype=bool)
        held[np.arange(n), cols.kind_code] = True
        for j, name in enumerate(names):
            held[:, k + j] = columns[name]
        packed = np.packbits(held, axis=1)
        sets, which = np.unique(packed, axis=0, return_inverse=True)
        # As floats: the product below runs in BLAS (integer products do not: 17 against
        # 5 µs for a province's sets); counts are exact in float64 far beyond any index.
        members = np.unpackbits(sets, axis=1, count=held.shape[1]).astype(np.float64)
        cols._facets[:] = [names, which.reshape(-1), members]
    names, which, members = cols._facets
    return names, which, members


def count_facets(cols: Columns, rows: npt.NDArray[np.intp]) -> dict[str, dict[str, int]]:
    names, which, members = _facet_sets(cols)
    counts = (np.bincount(which[rows], minlength=members.shape[0]) @ members).astype(int).tolist()
    k = len(cols.kinds)
    return {
        "kind": {name: c for name, c in zip(cols.kinds, counts[:k], strict=True) if c},
        "service": {name: c for name, c in zip(names, counts[k:], strict=True) if c},
    }
