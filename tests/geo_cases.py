"""Small hand-made geographies in metres, for coverage tests with answers worked out by hand.

Shapes are drawn in the demo city's metric CRS (CGCS2000 / 3-degree GK CM 114E) around an
origin near 22.75°N 113.93°E and handed to the code under test in WGS-84, as real data is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyproj
from numpy.typing import ArrayLike

from geo.areatree import AreaNode, AreaTree
from geo.crs import metric_crs_for, to_metric, to_wgs84

CRS = metric_crs_for(113.93)
X0, Y0 = (float(v) for v in to_metric(113.93, 22.75, CRS))
GEOD = pyproj.Geod(ellps="WGS84")


def lonlat(dx: ArrayLike, dy: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 of points ``dx``/``dy`` metres east/north of the origin (in the metric CRS)."""
    return to_wgs84(X0 + np.asarray(dx, float), Y0 + np.asarray(dy, float), CRS)


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON polygon for the metric rectangle [x0, x1] × [y0, y1] around the origin."""
    lon, lat = lonlat([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
    return {"type": "Polygon", "coordinates": [list(map(list, zip(lon, lat, strict=True)))]}


def geodesic_offsets(
    lon: float, lat: float, distances: Sequence[float], azimuth: float = 90.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points at exactly these geodesic distances from (lon, lat)."""
    n = len(distances)
    x, y, _ = GEOD.fwd([lon] * n, [lat] * n, [azimuth] * n, list(distances))
    return np.asarray(x), np.asarray(y)


def two_communities() -> AreaTree:
    """One street, two 1 km × 1 km communities side by side (west ``c1``, east ``c2``,
    sharing the edge x = 1000 m), and an empty community ``c3`` further east."""
    return AreaTree.build(
        [
            AreaNode("d1", "district", None, "测试区"),
            AreaNode("s1", "street", "d1", "东街道", rect(0, 0, 3000, 1000)),
            AreaNode("s2", "street", "d1", "西街道", rect(-2000, 0, 0, 1000)),
            AreaNode("c1", "community", "s1", "甲社区", rect(0, 0, 1000, 1000)),
            AreaNode("c2", "community", "s1", "乙社区", rect(1000, 0, 2000, 1000)),
            AreaNode("c3", "community", "s1", "丙社区", rect(2000, 0, 3000, 1000)),
            AreaNode("c4", "community", "s2", "丁社区", rect(-2000, 0, 0, 1000)),
        ]
    )
