"""Points in a map view, clustered on H3 cells whose size follows the zoom.

A province has 200,000 service points; a phone cannot take them all (26 MB). The server
answers one view: the points inside its bounding box, as themselves when few, else as
clusters — one per H3 cell of a resolution chosen from the zoom (about 80 screen pixels
across), placed at the mean of its points and carrying their count.

Why H3 rather than a grid or vector tiles: every point's cell is computed once, at the
finest resolution used (:data:`FINEST`), when the index is built; a coarser cell is then a
bit mask of that 64-bit id (:func:`parents`), so a view of the whole province is a few
vectorised passes over the arrays already in memory, with no database round trip (PostGIS
``ST_AsMVT`` would need PostGIS on every deployment, and SQLite has none). Cells are fixed
on the globe, so a cluster does not change when the view pans, and the same cell ids can
key caches and planning summaries.

>>> import numpy as np
>>> cells = finest_cells(np.array([22.75, 22.7501, 23.5]), np.array([113.93, 113.9301, 114.5]))
>>> view = cluster_view(np.array([22.75, 22.7501, 23.5]), np.array([113.93, 113.9301, 114.5]),
...                     cells, (113.0, 22.0, 115.0, 24.0), zoom=8, max_points=1)
>>> [c.count for c in view.clusters], view.points.size
([2, 1], 0)
>>> cluster_view(np.array([22.75]), np.array([113.93]), cells[:1],
...              (113.0, 22.0, 115.0, 24.0), zoom=8).points.tolist()
[0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from h3.api import basic_int as h3

FloatArray = npt.NDArray[np.float64]
CellArray = npt.NDArray[np.uint64]
IntpArray = npt.NDArray[np.intp]

FINEST = 9  # cells ~0.1 km² (edge ~170 m): finer than any cluster a map draws
_RES_SHIFT = 52
_RES_MASK = np.uint64(0xF << _RES_SHIFT)
MAX_POINTS = 500  # a view with at most this many points sends them, not clusters
MAX_ZOOM_CLUSTERED = 17  # from here on points are always sent (a street's worth)


def finest_cells(lat: FloatArray, lon: FloatArray) -> CellArray:
    """Every point's H3 cell at :data:`FINEST` (0 where a coordinate is NaN)."""
    out = np.zeros(lat.size, dtype=np.uint64)
    ok = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    pairs = zip(lat[ok].tolist(), lon[ok].tolist(), strict=True)
    out[ok] = np.fromiter(
        (h3.latlng_to_cell(a, b, FINEST) for a, b in pairs),
        dtype=np.uint64,
        count=ok.size,
    )
    return out


def parents(cells: CellArray, resolution: int) -> CellArray:
    """The cells containing ``cells`` at a coarser ``resolution``: H3's own bit layout (the
    resolution field, then digits below it set to 7), vectorised; equals ``cell_to_parent``.
    """
    if not 0 <= resolution <= FINEST:
        raise ValueError(f"resolution must be 0…{FINEST}")
    below = np.uint64((1 << ((15 - resolution) * 3)) - 1)
    parent: CellArray = (cells & ~_RES_MASK) | np.uint64(resolution << _RES_SHIFT) | below
    return parent


def resolution_for(zoom: float) -> int:
    """H3 resolution whose cells are ~80 px across at web-map ``zoom`` near 23°N: a cell
    is ~2 × 1,281 km / 2.6457^res wide, a pixel 144 km / 2^zoom, so res ≈ 0.712·zoom − 1.5.

    >>> [resolution_for(z) for z in (5, 8, 11, 14, 16)]
    [2, 4, 6, 8, 9]
    """
    return int(min(FINEST, max(0, round(0.712 * zoom - 1.545))))


@dataclass(frozen=True)
class Cluster:
    cell: int
    lat: float
    lon: float
    count: int


@dataclass(frozen=True)
class View:
    """What a map view shows: ``points`` (indices into the arrays given) or ``clusters``."""

    resolution: int | None
    points: IntpArray
    clusters: list[Cluster]
    total: int


def in_bbox(lat: FloatArray, lon: FloatArray, bbox: tuple[float, float, float, float]) -> IntpArray:
    west, south, east, north = bbox
    inside = (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)
    rows: IntpArray = np.flatnonzero(inside)  # NaN compares False: unlocated never inside
    return rows


def cluster_view(
    lat: FloatArray,
    lon: FloatArray,
    cells: CellArray,
    bbox: tuple[float, float, float, float],
    zoom: float,
    *,
    max_points: int = MAX_POINTS,
) -> View:
    """Points inside ``bbox`` (west, south, east, north), clustered unless few or zoomed in."""
    rows = in_bbox(lat, lon, bbox)
    if rows.size <= max_points or zoom >= MAX_ZOOM_CLUSTERED:
        return View(None, rows, [], int(rows.size))
    resolution = resolution_for(zoom)
    groups, inverse, counts = np.unique(
        parents(cells[rows], resolution), return_inverse=True, return_counts=True
    )
    mean_lat = np.bincount(inverse, weights=lat[rows]) / counts
    mean_lon = np.bincount(inverse, weights=lon[rows]) / counts
    clusters = [
        Cluster(int(cell), round(float(a), 5), round(float(b), 5), int(n))
        for cell, a, b, n in zip(groups, mean_lat, mean_lon, counts, strict=True)
    ]
    return View(resolution, np.zeros(0, dtype=np.intp), clusters, int(rows.size))
