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

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]
# Partition on the city part of a 12-digit area code: a city's areas stay together.
CITY_DIGITS = 4


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

    table = pq.read_table(path, columns=["geometry", "weight", "area"])
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
