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
