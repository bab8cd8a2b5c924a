"""The administrative hierarchy as arrays: which area holds a point, and roll-ups by level.

Pure data, no ORM: the domain layer builds an :class:`AreaTree` from its ``Area`` rows.
Levels are ordered from the top (``city``) to the bottom (``community``); a demand point
belongs to the lowest area whose boundary holds it.

>>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
>>> tree = AreaTree.build([
...     AreaNode("s1", "street", None, "东街道", square),
...     AreaNode("c1", "community", "s1", "东湖社区", square),
... ])
>>> tree.locate([0.5, 5.0], [0.5, 5.0]).tolist()
['c1', '']
>>> tree.ancestor_at(["c1", "s1", ""], "street").tolist()
['s1', 's1', '']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from geo.shapes import object_array

LEVELS: tuple[str, ...] = ("city", "district", "street", "community")

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.int64]
GeomArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class AreaNode:
    """One area: its code, level, parent code, name, GeoJSON boundary (WGS-84) and the
    population the statistics office gives (used for per-capita figures, not coverage)."""

    code: str
    level: str
    parent: str | None
    name: str = ""
    boundary: Mapping[str, Any] | None = None
    population: float = 0.0


@dataclass(frozen=True)
class AreaTree:
    """Areas of every level, indexed by code. Build with :meth:`build`."""

    nodes: tuple[AreaNode, ...]
    index: Mapping[str, int]
    geoms: GeomArray  # shapely geometry (WGS-84) or None, aligned with ``nodes``
    _children: Mapping[str, tuple[str, ...]] = field(repr=False)

    @classmethod
    def build(cls, nodes: Iterable[AreaNode]) -> AreaTree:
        ordered = tuple(sorted(nodes, key=lambda n: n.code))
        for node in ordered:
            if node.level not in LEVELS:
                raise ValueError(f"area {node.code}: unknown level {node.level!r}")
        index = {n.code: i for i, n in enumerate(ordered)}
        if len(index) != len(ordered):
            raise ValueError("area codes must be unique")
        geoms = object_array([shape(n.boundary) if n.boundary else None for n in ordered])
        children: dict[str, list[str]] = {}
        for n in ordered:
            if n.parent is not None:
                children.setdefault(n.parent, []).append(n.code)
        return cls(ordered, index, geoms, {k: tuple(v) for k, v in children.items()})

    def __contains__(self, code: object) -> bool:
        return code in self.index

    def node(self, code: str) -> AreaNode:
        return self.nodes[self.index[code]]

    def codes_at(self, level: str) -> list[str]:
        """Codes of every area of ``level``, sorted."""
        _check_level(level)
        return [n.code for n in self.nodes if n.level == level]

    def within(self, code: str) -> AreaTree:
        """The areas of ``code`` and below it, as a tree of their own (empty for an
        unknown code); the top area keeps its parent's code.

        >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
        >>> tree = AreaTree.build([AreaNode("s1", "street", None), AreaNode("s2", "street", None),
        ...                        AreaNode("c1", "community", "s1", "", square)])
        >>> tree.within("s1").codes_at("community"), tree.within("s1").codes_at("street")
        (['c1'], ['s1'])
        """
        keep = sorted(self.descendants(code)) if code in self.index else []
        rows = [self.index[c] for c in keep]
        kept = set(keep)
        return AreaTree(
            tuple(self.nodes[i] for i in rows),
            {c: i for i, c in enumerate(keep)},
            object_array([self.geoms[i] for i in rows]),
            {k: v for k, v in self._children.items() if k in kept},
        )

    def descendants(self, code: str) -> set[str]:
        """``code`` itself and every area below it."""
        found, todo = set(), [code]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(self._children.get(current, ()))
        return found

    def ancestor_of(self, code: str, level: str) -> str:
        """The area of ``level`` that holds ``code`` ("" when ``code`` sits above it or is
        unknown)."""
        depth = LEVELS.index(level)
        current: str | None = code
        while current is not None and current in self.index:
            node = self.nodes[self.index[current]]
            node_depth = LEVELS.index(node.level)
            if node_depth == depth:
                return current
            if node_depth < depth:
                return ""
            current = node.parent
        return ""

    def ancestor_at(self, codes: Sequence[str] | StrArray, level: str) -> StrArray:
        """:meth:`ancestor_of` for many codes; computed once per distinct code."""
        _check_level(level)
        arr = np.asarray(codes, dtype=str)
        if arr.size == 0:
            return arr
        unique, inverse = np.unique(arr, return_inverse=True)
        mapped = np.array([self.ancestor_of(str(c), level) for c in unique] + [""], dtype=str)
        result: StrArray = mapped[:-1][inverse]
        return result

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> StrArray:
        """Code of the lowest-level area whose boundary holds each point ("" for none).

        One bulk STRtree query; a point on an edge shared by two areas goes to the one
        with the smaller code, so every point is counted exactly once.
        """
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        result = np.full(x.size, "", dtype=f"<U{max([12, *map(len, self.index)])}")
        has = np.flatnonzero(np.array([g is not None for g in self.geoms], dtype=bool))
        if x.size == 0 or has.size == 0:
            return result
        depth = np.array([LEVELS.index(self.nodes[i].level) for i in has])
        tree = shapely.STRtree(self.geoms[has])
        point_idx, geom_idx = tree.query(shapely.points(x, y), predicate="intersects")
        # Deepest level first, then smallest code: sort so the wanted match comes first.
        order = np.lexsort((has[geom_idx], -depth[geom_idx], point_idx))
        point_idx, geom_idx = point_idx[order], geom_idx[order]
        first = np.ones(point_idx.size, dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        codes = np.array([n.code for n in self.nodes], dtype=result.dtype)
        result[point_idx[first]] = codes[has[geom_idx[first]]]
        return result


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown area level {level!r}; use one of {', '.join(LEVELS)}")
