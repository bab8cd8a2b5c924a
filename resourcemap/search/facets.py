"""Facets of a search: how many matches of each kind and service, over every match."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from resourcemap.search.embedded_index import Columns
from resourcemap.search.substrings import DENSE_SHARE


def sum_facets(parts: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    if len(parts) == 1:
        return parts[0]
    total: dict[str, dict[str, int]] = {"kind": {}, "service": {}}
    for part in parts:
        for facet, counts in part.items():
            for value, count in counts.items():
                total[facet][value] = total[facet].get(value, 0) + count
    return {facet: dict(sorted(counts.items())) for facet, counts in total.items()}


def count_facets(cols: Columns, rows: npt.NDArray[np.intp]) -> dict[str, dict[str, int]]:
    kinds = np.bincount(cols.kind_code[rows], minlength=len(cols.kinds))
    n = len(cols.docs)
    if rows.size * DENSE_SHARE < n:  # few: look up each one; many: one pass over each column
        services = {name: int(np.count_nonzero(column[rows]))
                    for name, column in cols.tags["services"].items()}  # fmt: skip
    else:
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        services = {name: int(np.count_nonzero(column & mask))
                    for name, column in cols.tags["services"].items()}  # fmt: skip
    return {
        "kind": {k: int(c) for k, c in zip(cols.kinds, kinds.tolist(), strict=True) if c},
        "service": {k: v for k, v in sorted(services.items()) if v},
    }
