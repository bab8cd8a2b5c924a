"""Which administrative areas contain a point: a bulk-loaded STRtree over boundaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape


@dataclass(frozen=True)
class AreaRecord:
    code: str
    parent: str | None
    boundary: Mapping[str, Any] | None


class AreaLocator:
    """Answers "which areas (every level) contain this point" from area boundaries.

    Areas without a boundary are still found through their children: a point inside a
    community is inside its street, district and city.

    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    >>> locator = AreaLocator([AreaRecord("c1", "s1", square), AreaRecord("s1", None, None)])
    >>> sorted(locator.codes_at(lat=0.5, lon=0.5))
    ['c1', 's1']
    """

    def __init__(self, areas: Iterable[AreaRecord]) -> None:
        records = list(areas)
        self._parent = {a.code: a.parent for a in records}
        shaped = [(a.code, shape(a.boundary)) for a in records if a.boundary]
        self._codes = [code for code, _ in shaped]
        self._geoms = [geom for _, geom in shaped]
        self._tree = shapely.STRtree(self._geoms) if self._geoms else None

    def codes_at(self, *, lat: float, lon: float) -> frozenset[str]:
        if self._tree is None:
            return frozenset()
        # "covers" counts the boundary line as inside, so a point on a shared edge
        # belongs to both neighbours rather than to neither.
        hits = self._tree.query(shapely.Point(lon, lat), predicate="covered_by")
        found: set[str] = set()
        for i in hits:
            code: str | None = self._codes[int(i)]
            while code is not None and code not in found:
                found.add(code)
                code = self._parent.get(code)
        return frozenset(found)
