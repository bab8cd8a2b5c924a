"""Projecting shapely geometries (single or arrays) between WGS-84 and a metric CRS."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from geo.crs import to_metric, to_wgs84

FloatArray = npt.NDArray[np.float64]


def geoms_to_metric(geoms: Any, crs: pyproj.CRS) -> Any:
    """``geoms`` (WGS-84 lon/lat) in ``crs`` metres; one vectorised transform call."""

    def apply(xy: FloatArray) -> FloatArray:
        x, y = to_metric(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geoms, apply)


def geoms_to_wgs84(geoms: Any, crs: pyproj.CRS) -> Any:
    """``geoms`` in ``crs`` metres back to WGS-84 lon/lat."""

    def apply(xy: FloatArray) -> FloatArray:
        x, y = to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geoms, apply)


def object_array(items: list[Any]) -> npt.NDArray[np.object_]:
    """A 1-d object array of geometries (numpy would otherwise try to unpack them)."""
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


# A mended boundary may differ from the given one by this share of its area at most: more,
# and the mending decided what the area is.
MENDED_AREA_SHARE = 0.001


def mended(geom: Any) -> Any | None:
    """A polygon that crosses itself made valid (GEOS's "structure" method), its polygons
    only, if that keeps its area within :data:`MENDED_AREA_SHARE`; else None. Published
    boundaries cross themselves now and then (DataV's Guangdong file: three cities).

    >>> loop = shapely.Polygon([(0, 0), (4, 0), (4, 4), (2, 4), (2.2, 4.2), (1.8, 4.2),
    ...                         (2, 4), (0, 4)])
    >>> bool(shapely.is_valid(loop)), round(mended(loop).area, 2)
    (False, 16.04)
    """
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    polygonal = shapely.union_all(parts)
    given = shapely.area(shapely.make_valid(geom))
    if shapely.is_empty(polygonal) or not given:
        return None
    if abs(shapely.area(polygonal) - given) > MENDED_AREA_SHARE * given:
        return None
    return polygonal
