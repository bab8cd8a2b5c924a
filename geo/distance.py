"""Geodesic distances on the WGS-84 ellipsoid, vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyproj

_GEOD = pyproj.Geod(ellps="WGS84")

FloatArray = npt.NDArray[np.float64]


def geodesic_m(lat: float, lon: float, lats: npt.ArrayLike, lons: npt.ArrayLike) -> FloatArray:
    """Metres from one point to many along the ellipsoid (Karney's algorithm via PROJ).

    >>> round(float(geodesic_m(22.75, 113.93, [22.75], [113.93 + 0.01])[0]), 1)
    1027.1
    """
    lats_a = np.asarray(lats, dtype=np.float64)
    lons_a = np.asarray(lons, dtype=np.float64)
    if lats_a.size == 0:
        return np.empty(0, dtype=np.float64)
    _, _, dist = _GEOD.inv(np.full_like(lons_a, lon), np.full_like(lats_a, lat), lons_a, lats_a)
    return np.asarray(dist, dtype=np.float64)
