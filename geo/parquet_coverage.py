"""Coverage of a GeoParquet demand dataset, each file summed where it is read (#22).

A province's demand (tens of millions of points, ``geo.demand_parquet``) never passes
through the caller: each file (one city's whole areas) is one task that reads its
coordinate columns, decides coverage against the services and returns per-area sums. On
a ``dask.distributed`` cluster the workers read the files themselves (the directory must be
reachable from them: a shared disk or object store), the services are broadcast to them
once, and only the sums come back. Without a client the same tasks run in this process.

No geometry object is built for the sum: dask-geopandas' ``read_parquet`` would turn every
point into a shapely geometry first, which is most of the time a sum of 50 million points
would take, so the tasks read ``geometry.x``/``geometry.y`` with pyarrow instead.

The result equals :func:`geo.coverage.coverage` on the same points bit for bit: one metric
CRS and one rim band for every task (the band from the files' longitude range, read from
the Parquet statistics), and each area's points summed in their original order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj

from geo.areatree import AreaTree
from geo.coverage import AreaSums, CoverageResult, Supply, check_radius, metric_crs_of, rim_slack
from geo.demand_parquet import demand_files, read_demand_file
from geo.partitioned import Partition, partition_sums

DEMAND_METHOD = "points"


def lon_range(files: Sequence[Path]) -> tuple[float, float]:
    """Smallest and largest longitude of the dataset, from the files' column statistics."""
    import pyarrow.parquet as pq

    low, high = np.inf, -np.inf
    for path in files:
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                column = group.column(c)
                if column.path_in_schema == "geometry.x" and column.statistics is not None:
                    low = min(low, float(column.statistics.min))
                    high = max(high, float(column.statistics.max))
    if not np.isfinite(low):
        raise ValueError("the demand files carry no longitude statistics")
    return float(low), float(high)


def file_sums(
    path: str,
    supply: Supply,
    radius_m: float,
    crs: pyproj.CRS,
    slack: float,
    served_codes: npt.NDArray[np.str_],
) -> AreaSums:
    """One file's per-area sums (the task a worker runs)."""
    demand = read_demand_file(path)
    if (demand.area == "").any():
        raise ValueError(f"{path}: every demand point needs its area code")
    part = Partition(demand.lon, demand.lat, demand.weight, demand.area, served_codes)
    return partition_sums(part, supply, radius_m, crs, slack)


def coverage_from_parquet(
    directory: str | Path,
    supply: Supply,
    tree: AreaTree,
    radius_m: float = 500.0,
    *,
    client: Any = None,
    source: str = "geoparquet",
    progress: Callable[[int, int], None] | None = None,
) -> CoverageResult:
    """:func:`geo.coverage.coverage` of the dataset in ``directory``, one task per file, on
    the cluster behind ``client`` (a ``dask.distributed.Client``) or here. Sums only.
    ``progress(done, total)`` is called with the files summed so far, first with 0."""
    radius = check_radius(radius_m)
    files = demand_files(directory)
    served: set[str] = set()
    for code in supply.served_areas:
        if code in tree:
            served |= tree.descendants(code)
    served_codes = np.array(sorted(served), dtype="<U12")
    low, high = lon_range(files)
    extremes = np.array([low, high])
    crs = metric_crs_of(supply.lon) if supply.size else metric_crs_of(extremes)
    # The band every point the projection could misjudge falls in, over demand and supply.
    slack = rim_slack(np.concatenate([extremes, supply.lon]), crs)
    report = progress or (lambda done, total: None)
    report(0, len(files))
    sums: list[AreaSums] = []
    if client is None:
        for f in files:
            sums.append(file_sums(str(f), supply, radius, crs, slack, served_codes))
            report(len(sums), len(files))
    else:
        from distributed import as_completed

        # Once, not once per file; under a key of its own: scattered under a key hashed from
        # its content, one job's services were released by the scheduler as the next job
        # scattered the same again, which then failed ("lost dependencies", distributed#8576).
        shared = client.scatter(supply, broadcast=True, hash=False)
        futures = [
            client.submit(file_sums, str(f), shared, radius, crs, slack, served_codes, pure=False)
            for f in files
        ]
        for done, _ in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
            report(done, len(files))
        # In the files' order, whatever order they finished in: the same sums bit for bit.
        sums = client.gather(futures)
    return CoverageResult(
        radius_m=radius,
        mode="straight",
        demand_method=DEMAND_METHOD,
        demand_source=source,
        sums=AreaSums.concat(sums),
    )
