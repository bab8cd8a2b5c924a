"""Coverage of a province's GeoParquet demand dataset, on a Dask cluster when one is set.

The services and areas come from the database as for every coverage; the demand stays in
its files (``geo.demand_parquet``), read by the Dask workers of
``RESOURCEMAP_DASK_SCHEDULER`` or, without one, by this process, one file at a time
(``geo.parquet_coverage``). Only per-area sums come back, so a 50-million-point province
never sits in the caller's memory.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from geo.areatree import AreaTree
from geo.coverage import CoverageResult
from geo.parquet_coverage import coverage_from_parquet
from resourcemap.cells import guarded_row
from resourcemap.planning.coverage import CoverageQuery, load_supply, load_tree

CSV_COLUMNS = ["code", "name", "level", "population", "covered", "share", "demand_points"]


@dataclass(frozen=True)
class DatasetCoverage:
    query: CoverageQuery
    tree: AreaTree
    result: CoverageResult
    resources: int
    workers: int  # Dask workers that computed it; 0: this process

    def csv(self) -> str:
        """The per-area table at the query's level."""
        return rows_csv(self.result.table(self.tree, str(self.query.level)))


class AreaFigures(Protocol):
    """One area's row of a coverage table."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def population(self) -> float: ...
    @property
    def covered(self) -> float: ...
    @property
    def share(self) -> float | None: ...
    @property
    def points(self) -> int: ...


def rows_csv(rows: Iterable[AreaFigures]) -> str:
    """A coverage table as CSV, one row per area (cells a spreadsheet would run as a
    formula guarded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        share = "" if row.share is None else f"{row.share:.4f}"
        people = f"{row.population:.0f}", f"{row.covered:.0f}"
        writer.writerow(guarded_row([row.code, row.name, row.level, *people, share, row.points]))
    return out.getvalue()


async def dataset_coverage(
    directory: Path,
    query: CoverageQuery,
    scheduler: str = "",
    *,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetCoverage:
    """Straight-line coverage of the demand files in ``directory`` by the listings
    ``query`` counts, computed by the Dask cluster at ``scheduler`` (or here);
    ``progress(files done, files)`` as they are summed."""
    tree = await load_tree()
    supply, counted = await load_supply(query)

    def compute() -> tuple[CoverageResult, int]:
        source = f"geoparquet:{directory.name}"
        if not scheduler:
            result = coverage_from_parquet(
                directory, supply, tree, query.radius_m, source=source, progress=progress
            )
            return result, 0
        from distributed import Client

        with Client(scheduler, timeout=30) as client:  # type: ignore[no-untyped-call]
            workers = len(client.scheduler_info()["workers"])
            result = coverage_from_parquet(
                directory,
                supply,
                tree,
                query.radius_m,
                client=client,
                source=source,
                progress=progress,
            )
            return result, workers

    # Minutes of CPU or of waiting on the cluster: never on the event loop.
    result, workers = await asyncio.to_thread(compute)
    return DatasetCoverage(query, tree, result, sum(counted.values()), workers)
