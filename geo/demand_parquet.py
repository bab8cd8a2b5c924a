"""Weighted demand points as a GeoParquet dataset, one file per partition of whole areas.

A province's demand (tens of millions of points) does not belong in the database or in a
request's memory: it is written once as GeoParquet (geometry in GeoArrow's native point
encoding, so x and y are plain float columns), one file per group of areas, each file's
rows in area-code order with every area's points in their original order. Readers that
only sum (coverage) take ``geometry.x``/``geometry.y`` straight from the columns and never
build a geometry object; any GeoParquet reader (GeoPandas, dask-geopandas, GDAL) sees
ordinary points in EPSG:4326.

>>> import tempfile, numpy as np
>>> with tempfile.TemporaryDirectory() as d:
...     files = write_demand(d, [113.9, 114.0, 113.95], [22.7, 22.8, 22.75], [1.0, 2.0, 3.0],
...                          ["447101001001", "447201001001", "447101001002"], key_digits=4)
...     [f.name for f in files], read_demand(d).weight.tolist()
(['4471.parquet', '4472.parquet'], [1.0, 3.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.crs import M_PER_DEGREE

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]
# Partition on the city part of a 12-digit area code: a city's areas stay together.
CITY_DIGITS = 4
# Metres per degree of latitude (and of longitude at the equator), for square cells.
# Rows read at a time when points are combined into cells: memory stays bounded by this,
# not by a city's file (tens of millions of points at the benchmark's densest).
_BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class DemandColumns:
    """Demand points as columns, in file order."""

    lon: FloatArray
    lat: FloatArray
    weight: FloatArray
    area: StrArray

    @property
    def size(self) -> int:
        return int(self.weight.size)


def write_demand(
    directory: str | Path,
    lon: Sequence[float] | FloatArray,
    lat: Sequence[float] | FloatArray,
    weight: Sequence[float] | FloatArray,
    area: Sequence[str] | StrArray,
    *,
    key_digits: int = CITY_DIGITS,
) -> list[Path]:
    """Write one GeoParquet file per ``area[:key_digits]``; return the files in order."""
    import geopandas as gpd

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    lon_a, lat_a = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    weight_a, area_a = np.asarray(weight, dtype=np.float64), np.asarray(area, dtype=np.str_)
    # Stable: points of one area keep their order, so sums per area are bit-identical.
    order = np.argsort(area_a, kind="stable")
    keys = np.strings.slice(area_a[order], 0, key_digits)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], keys.size]
    files: list[Path] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        rows = order[start:end]
        frame = gpd.GeoDataFrame(
            {"weight": weight_a[rows], "area": area_a[rows]},
            geometry=gpd.points_from_xy(lon_a[rows], lat_a[rows]),
            crs="EPSG:4326",
        )
        path = out / f"{keys[start]}.parquet"
        frame.to_parquet(path, index=False, geometry_encoding="geoarrow")
        files.append(path)
    return files


def demand_files(directory: str | Path) -> list[Path]:
    files = sorted(Path(directory).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no GeoParquet demand files in {directory}")
    return files


def read_demand_file(path: str | Path) -> DemandColumns:
    """One file's points from the coordinate columns: no geometry objects are built."""
    import pyarrow.parquet as pq

    return _columns(pq.read_table(path, columns=["geometry", "weight", "area"]))


def _columns(table: Any) -> DemandColumns:
    geometry = table.column("geometry").combine_chunks()
    return DemandColumns(
        lon=geometry.field("x").to_numpy(zero_copy_only=False).astype(np.float64),
        lat=geometry.field("y").to_numpy(zero_copy_only=False).astype(np.float64),
        weight=table.column("weight").to_numpy().astype(np.float64),
        area=_strings(table.column("area")),
    )


def _strings(column: Any) -> StrArray:
    """A string column as a numpy array, through its few distinct values: converting each
    of millions of strings to a Python object first was most of reading a file (#22)."""
    encoded = column.combine_chunks().dictionary_encode()
    values = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=np.str_)
    if encoded.null_count:
        raise ValueError("the demand file has points without an area code")
    return values[encoded.indices.to_numpy()] if len(values) else values


def read_demand(directory: str | Path) -> DemandColumns:
    """Every file of the dataset, in file order (the order :func:`write_demand` chose)."""
    parts = [read_demand_file(f) for f in demand_files(directory)]
    return DemandColumns(
        lon=np.concatenate([p.lon for p in parts]),
        lat=np.concatenate([p.lat for p in parts]),
        weight=np.concatenate([p.weight for p in parts]),
        area=np.concatenate([p.area for p in parts]),
    )


def dataset_rows(directory: str | Path) -> int:
    """How many points the dataset holds, from the files' footers (nothing else is read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in demand_files(directory))


def read_demand_cells(directory: str | Path, cell_m: float) -> DemandColumns:
    """The dataset with the points of each area in each square cell of ``cell_m`` metres
    combined into one: at their weighted centre (their plain centre where they weigh
    nothing), weighing their sum. Each area keeps its total; a point moves less than a
    cell's diagonal. Files are read ``_BATCH_ROWS`` at a time, so memory follows the
    cells, not the points."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts: list[_CellSums] = []
    for path in demand_files(directory):
        for batch in pq.ParquetFile(path).iter_batches(
            batch_size=_BATCH_ROWS, columns=["geometry", "weight", "area"]
        ):
            parts.append(_CellSums.of(_columns(pa.Table.from_batches([batch])), cell_m))
    return _CellSums.combined(parts).points()


# A key is (area index << 42) | (column << 21) | row: cells of 100 m or more number below
# 2**21 in each direction around the globe.
_CELL_BITS = 21
_CELL_MASK = (1 << 2 * _CELL_BITS) - 1


@dataclass(frozen=True)
class _CellSums:
    """Sums per (area, cell): partial sums of batches add up to the file's and dataset's."""

    cell: npt.NDArray[np.int64]
    area: StrArray
    n: FloatArray
    w: FloatArray
    x: FloatArray  # Σ lon
    y: FloatArray  # Σ lat
    wx: FloatArray  # Σ weight·lon
    wy: FloatArray  # Σ weight·lat

    @classmethod
    def of(cls, part: DemandColumns, cell_m: float) -> _CellSums:
        # Cells fixed to the globe: rows of cell_m in latitude, each row cut in longitude
        # at its own latitude's scale, so every batch cuts the same cells.
        y_deg = cell_m / M_PER_DEGREE
        row = np.floor((part.lat + 90.0) / y_deg).astype(np.int64)
        x_deg = y_deg / np.maximum(np.cos(np.radians((row + 0.5) * y_deg - 90.0)), 1e-3)
        column = np.floor((part.lon + 180.0) / x_deg).astype(np.int64)
        cell = (column << _CELL_BITS) | row
        ones = np.ones(part.size)
        return cls._summed(
            cell, part.area, ones, part.weight, part.lon, part.lat,
            part.weight * part.lon, part.weight * part.lat,
        )  # fmt: skip

    @classmethod
    def combined(cls, parts: list[_CellSums]) -> _CellSums:
        def cat(name: str) -> npt.NDArray[Any]:
            return np.concatenate([getattr(p, name) for p in parts])

        return cls._summed(
            cat("cell"), cat("area"), cat("n"), cat("w"), cat("x"), cat("y"), cat("wx"), cat("wy")
        )

    @classmethod
    def _summed(cls, cell: npt.NDArray[np.int64], area: StrArray, *values: FloatArray) -> _CellSums:
        names, area_i = np.unique(area, return_inverse=True)
        key = (area_i.astype(np.int64) << 2 * _CELL_BITS) | cell
        unique, at = np.unique(key, return_inverse=True)
        sums = [
            np.bincount(at, weights=v, minlength=unique.size).astype(np.float64) for v in values
        ]
        return cls(unique & _CELL_MASK, names[unique >> 2 * _CELL_BITS], *sums)

    def points(self) -> DemandColumns:
        weighed = self.w > 0
        lon = np.where(weighed, self.wx / np.where(weighed, self.w, 1.0), self.x / self.n)
        lat = np.where(weighed, self.wy / np.where(weighed, self.w, 1.0), self.y / self.n)
        return DemandColumns(lon=lon, lat=lat, weight=self.w, area=self.area)
