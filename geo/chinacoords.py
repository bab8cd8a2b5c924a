"""Converting the coordinates Chinese web maps publish (GCJ-02, BD-09) to WGS-84.

AMap/Gaode, Tencent and Google's China tiles publish GCJ-02; Baidu publishes BD-09, a further
shift of GCJ-02. Both are hundreds of metres off WGS-84, so every bulk import goes through
:func:`to_wgs84`. The forward formulas are the widely published ones (as in eviltransform and
wandergis/coordtransform). Their inverses have no closed form, so ours are solved by fixed-point
iteration to ~1e-11° instead of the common one-step approximation (off by up to ~5 m).

No PyPI package was adopted: none is widely used, and those maintained either loop in Python
per point, cross an FFI call per point, or invert GCJ-02 in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from geo.crs import FloatArray

# GCJ-02 offsets are computed on the Krasovsky 1940 ellipsoid.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_PI = np.pi * 3000.0 / 180.0

# The usual mainland bounding box (eviltransform's): outside it GCJ-02 is WGS-84.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

# Each fixed-point step shrinks the error ~100-fold; 1e-11° is ~1 µm.
_TOLERANCE = 1e-11
_MAX_ITERATIONS = 20


class CoordSystem(StrEnum):
    """The coordinate systems that sources publish longitudes/latitudes in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = np.broadcast_arrays(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    return np.array(x, np.float64), np.array(y, np.float64)  # writable copies


def _in_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    # NaN compares False, so NaN points count as outside and pass through unchanged.
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 minus WGS-84 offset, in degrees, at WGS-84 points (no bounding-box test)."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    # The offsets above are metres-like; scale by the meridian and parallel radii.
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift WGS-84 longitudes/latitudes to GCJ-02; points outside China are unchanged.

    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(float(lon), 8), round(float(lat), 8)
    (116.4102445, 39.91640428)
    """
    lon, lat = _as_arrays(lon, lat)
    inside = _in_china(lon, lat)
    dlon, dlat = _gcj_offset(lon[inside], lat[inside])
    lon[inside] += dlon
    lat[inside] += dlat
    return lon, lat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Invert :func:`wgs84_to_gcj02` exactly (to ~1e-11°) by fixed-point iteration.

    >>> lon, lat = gcj02_to_wgs84(116.4102445, 39.91640428)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.404, 39.915)
    """
    gcj_lon, gcj_lat = _as_arrays(lon, lat)
    wgs_lon, wgs_lat = gcj_lon.copy(), gcj_lat.copy()
    inside = _in_china(gcj_lon, gcj_lat)
    target_lon, target_lat = gcj_lon[inside], gcj_lat[inside]
    wgs_lon[inside], wgs_lat[inside] = _invert(
        _gcj_shift, target_lon, target_lat, target_lon.copy(), target_lat.copy()
    )
    return wgs_lon, wgs_lat


def _gcj_shift(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    target_lon: FloatArray,
    target_lat: FloatArray,
    lon: FloatArray,
    lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """The points that ``forward`` takes to the targets, by fixed-point iteration from a
    first guess (``lon``, ``lat``)."""
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(lon, lat)
        err_lon, err_lat = fx - target_lon, fy - target_lat
        lon, lat = lon - err_lon, lat - err_lat
        # nanmax: NaN points never converge, and must not keep the loop going.
        worst = np.nanmax(np.abs(np.concatenate([err_lon.ravel(), err_lat.ravel()])), initial=0)
        if worst < _TOLERANCE:
            break
    return lon, lat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift GCJ-02 longitudes/latitudes to Baidu's BD-09 (applied everywhere, as Baidu does).

    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 8), round(float(lat), 8)
    (116.41036949, 39.92133699)
    """
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_PI)
    return np.asarray(z * np.cos(theta) + 0.0065), np.asarray(z * np.sin(theta) + 0.006)


def _bd09_to_gcj02_step(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    # The widely copied one-step inverse: off by up to ~2e-6° (0.2 m), so only a first guess.
    x, y = x - 0.0065, y - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_PI)
    return np.asarray(z * np.cos(theta)), np.asarray(z * np.sin(theta))


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Invert :func:`gcj02_to_bd09` exactly (to ~1e-11°) by fixed-point iteration.

    >>> lon, lat = bd09_to_gcj02(116.41036949, 39.92133699)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.404, 39.915)
    """
    bd_lon, bd_lat = _as_arrays(lon, lat)
    x, y = _invert(gcj02_to_bd09, bd_lon, bd_lat, *_bd09_to_gcj02_step(bd_lon, bd_lat))
    return np.asarray(x, np.float64), np.asarray(y, np.float64)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS-84 to BD-09, through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 to WGS-84, through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, system: CoordSystem | str
) -> tuple[FloatArray, FloatArray]:
    """Convert longitudes/latitudes published in ``system`` to WGS-84 float arrays.

    The one entry point for importers. Scalars give 0-d arrays; NaN gives NaN; an unknown
    ``system`` name raises ``ValueError``.

    >>> lon, lat = to_wgs84([113.93, 113.94], [22.75, 22.76], CoordSystem.GCJ02)
    >>> lon.shape, bool(lon[0] < 113.93 and lat[0] > 22.75)
    ((2,), True)
    """
    system = CoordSystem(system)
    if system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if system is CoordSystem.BD09:
        return bd09_to_wgs84(lon, lat)
    return _as_arrays(lon, lat)
