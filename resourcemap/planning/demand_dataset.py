"""The GeoParquet demand dataset as the planner pages' demand (#22).

A province's residents live in a demand dataset (``geo.demand_parquet``: the province demo
writes one, ``RESOURCEMAP_DEMAND_DATASET`` names another), not in the database. Background
coverage jobs read it on the Dask cluster; this module lets the pages and jobs that compute
in one process (service circle, access, indicators, siting) read it too, where the database
holds no demand of its own, so a planner on a province is not told there is no one to count.

A page computes in a web worker's memory, so a dataset of more than
:data:`PAGE_POINTS_MAX` points is read with the points of each area in each square cell
combined into one (100 m, then 200 m, … until it fits): every area keeps its total, a
resident moves less than a cell's diagonal, and the source says the cell size. Background
coverage jobs still count every point.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from geo.demand import Demand
from geo.demand_parquet import (
    DemandColumns,
    dataset_rows,
    demand_files,
    read_demand,
    read_demand_cells,
)

# About 150 MB of columns, and a coverage pass of a second or two on this machine's cores.
PAGE_POINTS_MAX = 2_000_000
FIRST_CELL_M = 100.0
PREFIX = "dataset:"


def files_version(files: list[Path]) -> str:
    """Changes whenever a file of the dataset is written, added or removed."""
    stats = [(f.name, (s := f.stat()).st_size, s.st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]


class DemandDataset:
    """One dataset directory, read once per version of its files."""

    def __init__(self, directory: Path, *, max_points: int = PAGE_POINTS_MAX) -> None:
        self.directory = directory
        self.max_points = max_points
        self._loaded: tuple[str, Demand] | None = None
        self._lock = asyncio.Lock()

    @property
    def source(self) -> str:
        """The name a query's ``demand`` gives to ask for this dataset."""
        return PREFIX + self.directory.name

    def files(self) -> list[Path]:
        try:
            return demand_files(self.directory)
        except FileNotFoundError:
            return []

    def version(self) -> str:
        files = self.files()
        return files_version(files) if files else ""

    async def load(self) -> Demand:
        """The dataset's demand; read again only when its files change."""
        version = self.version()
        async with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                self._loaded = (version, await asyncio.to_thread(self._read))
            return self._loaded[1]

    def _read(self) -> Demand:
        columns, cell_m = self._columns()
        source = self.source if cell_m is None else f"{self.source}, {cell_m:g} m cells"
        return Demand.of(
            columns.lon, columns.lat, columns.weight,
            method="dataset", source=source, area=columns.area,
        )  # fmt: skip

    def _columns(self) -> tuple[DemandColumns, float | None]:
        if dataset_rows(self.directory) <= self.max_points:
            return read_demand(self.directory), None
        cell_m = FIRST_CELL_M
        while True:
            columns = read_demand_cells(self.directory, cell_m)
            if columns.size <= self.max_points:
                return columns, cell_m
            cell_m *= 2
