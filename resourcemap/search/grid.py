"""Located documents bucketed in square cells of the metric CRS: what lies within a
radius, found by reading only the cells that overlap it.

Rows are sorted by cell (row-major), so the cells of one band of the radius's bounding
box are one slice; the points in those slices are then checked against the circle. A
search's cost follows the points near it, and no list of Python integers is built
(what a KD-tree's ball query returns, slow when it holds tens of thousands).

The rows come back in the grid's order: sorted when the rows given are in cell order, as a
search index's are (:func:`.embedded_index.build_columns`), with their planar distances.

>>> grid = PointGrid.of(np.array([0.0, 100.0, 900.0, 5.0]), np.array([0.0, 0.0, 0.0, 400.0]),
...                     np.array([0, 1, 2, 3]), cell_m=250.0)
>>> rows, metres = grid.within(0.0, 0.0, 450.0)
>>> grid.within(0.0, 0.0, 150.0)[0].tolist(), rows.tolist(), metres.round(1).tolist()
([0, 1], [0, 1, 3], [0.0, 100.0, 400.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from resourcemap.search.substrings import ranges

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# A street's walk: a radius of 500 m reads a few cells, one of 3 km a few dozen bands.
CELL_M = 250.0


@dataclass(frozen=True)
class PointGrid:
    keys: IntArray  # cell of each point, row-major, sorted
    rows: IntArray  # the document row of each point, in ``keys`` order
    x: FloatArray  # metric coordinates, in ``keys`` order
    y: FloatArray
    x0: float
    y0: float
    width: int  # cells per band
    cell_m: float
    ordered: bool = False  # whether ``rows`` is 0, 1, 2 …: a point's place is its row

    @classmethod
    def of(cls, x: FloatArray, y: FloatArray, rows: IntArray, cell_m: float = CELL_M) -> PointGrid:
        """Points at ``x``, ``y`` (metres, no NaN) of documents ``rows``."""
        if x.size == 0:
            none = np.empty(0, dtype=np.int64)
            return cls(none, none, np.empty(0), np.empty(0), 0.0, 0.0, 1, cell_m)
        x0, y0 = float(x.min()), float(y.min())
        cx = ((x - x0) // cell_m).astype(np.int64)
        cy = ((y - y0) // cell_m).astype(np.int64)
        width = int(cx.max()) + 1
        keys = cy * width + cx
        order = np.argsort(keys, kind="stable")
        in_order = rows[order].astype(np.int64)
        ordered = bool((in_order == np.arange(in_order.size)).all())
        return cls(keys[order], in_order, x[order], y[order], x0, y0, width, cell_m,
                   ordered)  # fmt: skip

    def within(self, x: float, y: float, radius: float) -> tuple[IntArray, FloatArray]:
        """Rows of the points at most ``radius`` metres from (``x``, ``y``), in the grid's
        order, and their planar distances from it."""
        if self.keys.size == 0:
            return self.rows, self.x
        s = self.cell_m
        first_x = max(int((x - radius - self.x0) // s), 0)
        last_x = min(int((x + radius - self.x0) // s), self.width - 1)
        last_band = int(self.keys[-1]) // self.width
        bands = np.arange(max(int((y - radius - self.y0) // s), 0),
                          min(int((y + radius - self.y0) // s), last_band) + 1)  # fmt: skip
        if first_x > last_x or bands.size == 0:
            return self.rows[:0], self.x[:0]
        lo = np.searchsorted(self.keys, bands * self.width + first_x)
        hi = np.searchsorted(self.keys, bands * self.width + last_x, side="right")
        at = ranges(lo, hi - lo)
        dx, dy = self.x[at] - x, self.y[at] - y
        squared = dx * dx + dy * dy
        inside = np.flatnonzero(squared <= radius * radius)
        # Not np.hypot: several times slower, and these are only bounds (see .distances).
        found = at[inside]
        return found if self.ordered else self.rows[found], np.sqrt(squared[inside])
