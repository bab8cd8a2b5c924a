"""Choosing a metric CRS for a city and projecting coordinates to and from it.

Distances and areas are computed in the CGCS2000 3-degree Gauss–Krüger zone whose central
meridian is nearest the data: within 1.5° of the central meridian its scale error is small
enough that 500 m coverage decisions match true geodesic distance (see shared/FINDINGS.md).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyproj

WGS84 = pyproj.CRS.from_epsg(4326)

# EPSG:4534 … 4554 are "CGCS2000 / 3-degree Gauss-Kruger CM 75E" … "CM 135E", 3° apart,
# with a 500 km false easting and no zone prefix.
_FIRST_EPSG = 4534
_FIRST_CM = 75
_LAST_CM = 135
_ZONE_WIDTH = 3

FloatArray = npt.NDArray[np.float64]


def central_meridian(crs: pyproj.CRS) -> float:
    """The longitude of natural origin of a transverse Mercator CRS."""
    return _parameter(crs, "Longitude of natural origin")


def easting_and_scale(crs: pyproj.CRS) -> tuple[float, float]:
    """A transverse Mercator CRS's false easting (metres; the central meridian's easting)
    and its scale factor on the central meridian.

    >>> easting_and_scale(metric_crs_for(113.93))
    (500000.0, 1.0)
    """
    return _parameter(crs, "False easting"), _parameter(crs, "Scale factor at natural origin")


def _parameter(crs: pyproj.CRS, name: str) -> float:
    op = crs.coordinate_operation
    if op is None:
        raise ValueError(f"{crs.name} is not a projected CRS")
    for param in op.params:
        if param.name == name:
            return float(param.value)
    raise ValueError(f"{crs.name} has no {name.lower()}")


@lru_cache(maxsize=32)
def _zone_crs(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


def metric_crs_for(lon: float) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss–Krüger CRS whose central meridian is nearest ``lon``.

    Raises ``ValueError`` for longitudes outside the zones that cover China
    (73.5°E to 136.5°E).

    >>> metric_crs_for(113.93).to_epsg()
    4547
    """
    if not math.isfinite(lon):
        raise ValueError(f"longitude {lon!r} is not a finite number")
    # Each zone covers cm ± 1.5°, so the edge zones reach 73.5°E and 136.5°E.
    if not (_FIRST_CM - _ZONE_WIDTH / 2 <= lon < _LAST_CM + _ZONE_WIDTH / 2):
        raise ValueError(
            f"longitude {lon}° is outside China's 3-degree Gauss–Krüger zones "
            f"({_FIRST_CM - _ZONE_WIDTH / 2}°E to {_LAST_CM + _ZONE_WIDTH / 2}°E)"
        )
    # floor(x + 0.5) rather than round(): a longitude on a zone edge goes east, always.
    cm = _ZONE_WIDTH * math.floor(lon / _ZONE_WIDTH + 0.5)
    crs = _zone_crs(_FIRST_EPSG + (cm - _FIRST_CM) // _ZONE_WIDTH)
    # Guard against an EPSG database whose numbering differs from the table above.
    if central_meridian(crs) != cm:
        raise RuntimeError(f"EPSG:{crs.to_epsg()} has central meridian {central_meridian(crs)}")
    return crs


@lru_cache(maxsize=32)
def transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
    """One transformer per pair of CRSs for the process: PROJ sets each up again for every
    thread that first uses it (~75 ms), so a new one per index would cost that again."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def to_metric(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: pyproj.CRS
) -> tuple[FloatArray, FloatArray]:
    """Project WGS-84 longitudes/latitudes to easting/northing metres in ``crs``."""
    x, y = transformer(WGS84, crs).transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_wgs84(x: npt.ArrayLike, y: npt.ArrayLike, crs: pyproj.CRS) -> tuple[FloatArray, FloatArray]:
    """Unproject easting/northing metres in ``crs`` to WGS-84 longitudes/latitudes."""
    lon, lat = transformer(crs, WGS84).transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    )
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


# Metres in a degree of latitude, and of longitude at the equator (near enough for sizes
# on a map and for grid cells).
M_PER_DEGREE = 111_320.0


def extent_km(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[float, float]:
    """Width and height of the WGS-84 points' bounding box in kilometres (near enough for
    choosing a map's detail: degrees scaled at the mean latitude)."""
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if x.size == 0:
        return 0.0, 0.0
    return (
        float(np.ptp(x)) * M_PER_DEGREE / 1000 * float(np.cos(np.radians(np.mean(y)))),
        float(np.ptp(y)) * 110.57,
    )
