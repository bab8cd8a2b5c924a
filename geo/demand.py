"""Demand: where people live, as weighted points, and how we know it.

Three ways in, each recorded on the result as ``method`` so a planner can tell a census
grid from a guess:

- ``raster``: a population raster (e.g. a WorldPop 100 m GeoTIFF), one point per populated
  cell centre, read with rasterio;
- ``points``: weighted points from CSV (``lon``/``lat`` and ``weight`` or ``population``
  columns) or GeoJSON (Point features with a ``weight`` or ``population`` property);
- ``spread-uniform`` / ``spread-buildings``: only area totals are known; each total is spread
  over a regular grid inside the area, or over building footprints in proportion to floor
  area when footprints are supplied (see :func:`spread_totals`).

Every reader raises :class:`DemandError` with a message fit to show a person.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from shapely.geometry import shape

from geo.areatree import AreaTree
from geo.codes import area_in
from geo.crs import WGS84, metric_crs_for, to_wgs84
from geo.encodings import decoded
from geo.shapes import geoms_to_metric, object_array

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

# "dataset": read from a GeoParquet demand dataset (``geo.demand_parquet``).
METHODS = ("raster", "points", "spread-uniform", "spread-buildings", "grid", "dataset")
WEIGHT_COLUMNS = ("weight", "population", "pop")
DEFAULT_SPREAD_CELL_M = 100.0


class DemandError(ValueError):
    """Input that cannot be read as demand; the message says why."""


@dataclass(frozen=True)
class Demand:
    """Weighted demand points in WGS-84.

    ``area`` is the code of the lowest area holding each point ("" when unknown, fill it
    with :meth:`located`); ``method`` is one of ``METHODS`` and ``source`` names the data.
    """

    lon: FloatArray
    lat: FloatArray
    weight: FloatArray
    area: StrArray
    method: str
    source: str

    def __post_init__(self) -> None:
        n = self.lon.size
        if not (self.lat.size == self.weight.size == self.area.size == n):
            raise DemandError("demand arrays differ in length")
        if self.method not in METHODS:
            raise DemandError(f"unknown demand method {self.method!r}")

    @classmethod
    def of(
        cls,
        lon: npt.ArrayLike,
        lat: npt.ArrayLike,
        weight: npt.ArrayLike,
        *,
        method: str,
        source: str,
        area: Sequence[str] | StrArray | None = None,
    ) -> Demand:
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        w = np.asarray(weight, dtype=np.float64).ravel()
        codes = np.full(x.size, "", dtype="<U12") if area is None else np.asarray(area, dtype=str)
        _check_values(x, y, w)
        return cls(x, y, w, codes, method, source)

    @property
    def size(self) -> int:
        return int(self.lon.size)

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    def located(self, tree: AreaTree) -> Demand:
        """The same points with ``area`` filled from the area boundaries where it is empty."""
        missing = self.area == ""
        if not missing.any():
            return self
        codes = self.area.astype(f"<U{max(12, self.area.dtype.itemsize // 4)}")
        codes[missing] = tree.locate(self.lon[missing], self.lat[missing])
        return replace(self, area=codes)

    def rows_in(self, codes: Iterable[str]) -> npt.NDArray[np.int64]:
        """The indices of the points whose area is one of ``codes``."""
        return np.flatnonzero(area_in(self.area, set(codes))).astype(np.int64)

    def take(self, index: npt.NDArray[np.int64]) -> Demand:
        return replace(
            self,
            lon=self.lon[index],
            lat=self.lat[index],
            weight=self.weight[index],
            area=self.area[index],
        )


def _check_values(lon: FloatArray, lat: FloatArray, weight: FloatArray) -> None:
    if not (lon.size == lat.size == weight.size):
        raise DemandError("lon, lat and weight differ in length")
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & np.isfinite(weight))
    bad |= (np.abs(lat) > 90) | (np.abs(lon) > 180) | (weight < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DemandError(
            f"point {i + 1}: lon {lon[i]}, lat {lat[i]}, weight {weight[i]} is not a valid "
            "WGS-84 position with a non-negative weight"
        )


# --- rasters ------------------------------------------------------------------------------


def read_raster(path: str | Path, *, band: int = 1) -> Demand:
    """One demand point per populated cell centre of a population raster (GeoTIFF).

    Cells that are nodata, NaN or not above zero are skipped; cell centres are projected
    from the raster's CRS to WGS-84.

    >>> import tempfile, os, numpy as np, rasterio
    >>> from affine import Affine
    >>> path = os.path.join(tempfile.mkdtemp(), "pop.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="float32", crs="EPSG:4326",
    ...                    transform=Affine(0.001, 0, 113.9, 0, -0.001, 22.8)) as dst:
    ...     dst.write(np.array([[5.0, 0.0]], dtype="float32"), 1)
    >>> d = read_raster(path)
    >>> d.size, d.total, round(float(d.lon[0]), 4), d.method
    (1, 5.0, 113.9005, 'raster')
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as src:
            if band < 1 or band > src.count:
                raise DemandError(f"{Path(path).name} has {src.count} band(s), not band {band}")
            data = src.read(band, masked=True)
            transform, crs = src.transform, src.crs
    except RasterioIOError as exc:
        raise DemandError(f"cannot read {Path(path).name} as a raster: {exc}") from None
    if crs is None:
        raise DemandError(f"{Path(path).name} has no coordinate reference system")
    values = np.ma.filled(data.astype(np.float64), np.nan)
    rows, cols = np.nonzero(np.isfinite(values) & (values > 0))
    # Cell centres through the affine transform, written out: vectorised, and free of the
    # deprecated ``Affine * tuple`` that rasterio's own helpers still use.
    t = transform
    col, row = cols + 0.5, rows + 0.5
    x = t.a * col + t.b * row + t.c
    y = t.d * col + t.e * row + t.f
    src_crs = pyproj.CRS.from_user_input(crs.to_wkt())
    if not src_crs.equals(WGS84):
        transformer = pyproj.Transformer.from_crs(src_crs, WGS84, always_xy=True)
        x, y = (np.asarray(a, dtype=np.float64) for a in transformer.transform(x, y))
    return Demand.of(x, y, values[rows, cols], method="raster", source=Path(path).name)


# --- weighted points ----------------------------------------------------------------------


def read_points(data: bytes, name: str) -> Demand:
    """Weighted points from a CSV or GeoJSON file's bytes; ``name`` picks the format."""
    suffix = Path(name).suffix.lower()
    if suffix in (".geojson", ".json"):
        return _points_geojson(data, name)
    if suffix == ".csv":
        return _points_csv(data, name)
    raise DemandError(f"{name}: demand points must be .csv or .geojson")


def csv_table(data: bytes, name: str) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's header (trimmed, lower case) and its rows keyed by it, cells trimmed;
    cells past the header are left out. UTF-8 (with or without BOM), else GB18030."""
    text = decoded(data)  # Excel in Chinese saves "CSV" as GBK: read as listings are
    if text is None:
        raise DemandError(f"{name} is neither UTF-8 nor GB18030 (GBK) text: save it as CSV (UTF-8)")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    return header, rows


def _points_csv(data: bytes, name: str) -> Demand:
    header, rows = csv_table(data, name)
    lon_col = next((h for h in ("lon", "lng", "longitude", "x") if h in header), None)
    lat_col = next((h for h in ("lat", "latitude", "y") if h in header), None)
    w_col = next((h for h in WEIGHT_COLUMNS if h in header), None)
    if lon_col is None or lat_col is None or w_col is None:
        raise DemandError(
            f"{name}: needs columns lon, lat and one of {', '.join(WEIGHT_COLUMNS)}; "
            f"found {', '.join(header) or 'none'}"
        )
    area_col = "area" if "area" in header else None
    table: dict[str, list[float]] = {"lon": [], "lat": [], "w": []}
    for i, row in enumerate(rows, start=2):
        try:
            table["lon"].append(float(row[lon_col]))
            table["lat"].append(float(row[lat_col]))
            table["w"].append(float(row[w_col]))
        except ValueError:
            raise DemandError(f"{name} line {i}: lon, lat and {w_col} must be numbers") from None
    area = [row.get(area_col, "") for row in rows] if area_col else None
    return _points(table["lon"], table["lat"], table["w"], name, area)


def _points_geojson(data: bytes, name: str) -> Demand:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise DemandError(f"{name} is not valid JSON") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise DemandError(f"{name}: expected a GeoJSON FeatureCollection")
    lon, lat, w, area = [], [], [], []
    for i, f in enumerate(features, start=1):
        geom = f.get("geometry") if isinstance(f, dict) else None
        props = (f.get("properties") or {}) if isinstance(f, dict) else {}
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise DemandError(f"{name} feature {i}: demand features must be Points")
        weight = next((props[k] for k in WEIGHT_COLUMNS if k in props), None)
        try:
            x, y = (float(v) for v in geom["coordinates"][:2])
            lon.append(x)
            lat.append(y)
            w.append(float(weight))  # type: ignore[arg-type]
        except (TypeError, ValueError, KeyError):
            raise DemandError(
                f"{name} feature {i}: needs coordinates and a numeric "
                f"{' or '.join(WEIGHT_COLUMNS)} property"
            ) from None
        area.append(str(props.get("area") or ""))
    return _points(lon, lat, w, name, area)


def _points(
    lon: list[float], lat: list[float], w: list[float], name: str, area: list[str] | None
) -> Demand:
    if not lon:
        raise DemandError(f"{name} holds no demand points")
    try:
        return Demand.of(lon, lat, w, method="points", source=Path(name).name, area=area)
    except DemandError as exc:
        raise DemandError(f"{name}: {exc}") from None


# --- spreading area totals ----------------------------------------------------------------


def spread_totals(
    tree: AreaTree,
    totals: Mapping[str, float],
    *,
    buildings: Sequence[Mapping[str, Any]] | None = None,
    cell_m: float = DEFAULT_SPREAD_CELL_M,
    source: str = "area totals",
) -> Demand:
    """Spread each area's total over the area: uniformly on a ``cell_m`` grid, or over
    building footprints (GeoJSON geometries, optional ``floors`` property) in proportion
    to footprint area × floors.

    An area without grid points inside (smaller than a cell) or without buildings gets
    its total on a grid (or at one interior point), so no resident is lost: the totals
    of the result equal the totals given. The method is ``spread-buildings`` when
    footprints were used, else ``spread-uniform``.

    >>> sq = {"type": "Polygon", "coordinates": [[[113.9, 22.7], [113.91, 22.7],
    ...       [113.91, 22.71], [113.9, 22.71], [113.9, 22.7]]]}
    >>> from geo.areatree import AreaNode
    >>> t = AreaTree.build([AreaNode("c1", "community", None, boundary=sq)])
    >>> d = spread_totals(t, {"c1": 1000.0})
    >>> round(d.total), d.method, d.size > 100, set(d.area.tolist())
    (1000, 'spread-uniform', True, {'c1'})
    """
    if cell_m <= 0 or not math.isfinite(cell_m):
        raise DemandError("cell size must be a positive number of metres")
    codes = [c for c in sorted(totals) if totals[c] > 0]
    for code in codes:
        if code not in tree or tree.geoms[tree.index[code]] is None:
            raise DemandError(f"area {code} has no boundary to spread its total over")
    if not codes:
        raise DemandError("no area has a positive total to spread")
    polys = np.array([tree.geoms[tree.index[c]] for c in codes], dtype=object)
    lon0 = float(np.mean([shapely.bounds(p)[0] for p in polys]))
    crs = metric_crs_for(lon0)
    polys_m = geoms_to_metric(polys, crs)
    parts_x: list[FloatArray] = []
    parts_y: list[FloatArray] = []
    parts_w: list[FloatArray] = []
    parts_a: list[StrArray] = []
    method = "spread-uniform"
    by_area: dict[int, tuple[FloatArray, FloatArray, FloatArray]] = {}
    if buildings:
        by_area = _building_shares(polys_m, buildings, crs)
        if by_area:
            method = "spread-buildings"
    for i, (code, poly) in enumerate(zip(codes, polys_m, strict=True)):
        if i in by_area:
            x, y, share = by_area[i]
        else:
            x, y = _grid_in(poly, cell_m)
            share = np.full(x.size, 1.0 / x.size)
        parts_x.append(x)
        parts_y.append(y)
        parts_w.append(share * float(totals[code]))
        parts_a.append(np.full(x.size, code, dtype="<U12"))
    lon, lat = to_wgs84(np.concatenate(parts_x), np.concatenate(parts_y), crs)
    return Demand.of(
        lon,
        lat,
        np.concatenate(parts_w),
        method=method,
        source=source,
        area=np.concatenate(parts_a),
    )


def _grid_in(poly: Any, cell_m: float) -> tuple[FloatArray, FloatArray]:
    xmin, ymin, xmax, ymax = shapely.bounds(poly)
    gx = np.arange(xmin + cell_m / 2, xmax, cell_m)
    gy = np.arange(ymin + cell_m / 2, ymax, cell_m)
    xx, yy = np.meshgrid(gx, gy)
    x, y = xx.ravel(), yy.ravel()
    inside = shapely.contains_xy(poly, x, y)
    if not inside.any():
        p = shapely.point_on_surface(poly)
        return np.array([shapely.get_x(p)]), np.array([shapely.get_y(p)])
    return x[inside], y[inside]


def _building_shares(
    polys_m: npt.NDArray[np.object_], buildings: Sequence[Mapping[str, Any]], crs: pyproj.CRS
) -> dict[int, tuple[FloatArray, FloatArray, FloatArray]]:
    """Per area index: building centroids (metric) and their share of the area's total."""
    geoms, floors = [], []
    for i, b in enumerate(buildings, start=1):
        try:
            geom = shape(b.get("geometry", b))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise DemandError(f"building {i} is not a GeoJSON geometry") from None
        props = b.get("properties") or {}
        try:
            floors.append(max(1.0, float(props.get("floors") or 1)))
        except (TypeError, ValueError):
            raise DemandError(f"building {i}: floors must be a number") from None
        geoms.append(geom)
    arr = object_array(geoms)
    arr_m = geoms_to_metric(arr, crs)
    centre = shapely.point_on_surface(arr_m)
    size = shapely.area(arr_m) * np.asarray(floors)
    b_idx, a_idx = shapely.STRtree(polys_m).query(centre, predicate="within")
    order = np.lexsort((a_idx, b_idx))  # one area per building: the first by index
    b_idx, a_idx = b_idx[order], a_idx[order]
    first = np.ones(b_idx.size, dtype=bool)
    first[1:] = b_idx[1:] != b_idx[:-1]
    b_idx, a_idx = b_idx[first], a_idx[first]
    result = {}
    for area in np.unique(a_idx):
        mine = b_idx[a_idx == area]
        weight = size[mine]
        if weight.sum() <= 0:
            continue
        result[int(area)] = (
            shapely.get_x(centre[mine]),
            shapely.get_y(centre[mine]),
            weight / weight.sum(),
        )
    return result
