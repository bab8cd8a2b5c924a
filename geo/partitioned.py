"""Coverage partitioned by area, on Dask when a province's grid outgrows one process.

Demand is split into partitions of whole areas (every point of an area in one partition,
in its original order), each partition's per-area sums are computed where it runs, and
the sums are joined. Because one area's points are summed in the same order either way,
the result equals :func:`geo.coverage.coverage` exactly, to the last bit, whatever the
number of partitions or workers.

On Dask (the optional ``dask`` extra: ``pip install 'resourcemap[dask]'``, which brings
dask-geopandas and dask.distributed) the demand is a dask-geopandas GeoDataFrame indexed by
area code whose divisions fall on area boundaries (:func:`demand_frame`), the supply is
broadcast to the workers once and ``map_partitions`` computes each partition's sums there.
Without a client the same partitions run one after another in this process, and nothing
of Dask is imported.

>>> from geo.areatree import AreaNode, AreaTree
>>> from geo.coverage import Supply, coverage
>>> from geo.demand import Demand
>>> tree = AreaTree.build([AreaNode("c1", "community", None), AreaNode("c2", "community", None)])
>>> d = Demand.of([113.93, 113.95, 113.931], [22.75, 22.75, 22.75], [1, 2, 3],
...               method="points", source="t", area=["c1", "c2", "c1"])
>>> s = Supply.of([113.931], [22.75])
>>> a, b = coverage_partitioned(d, s, tree, parts=2).sums, coverage(d, s, tree).sums
>>> all((getattr(a, f) == getattr(b, f)).all() for f in ("codes", "population", "covered"))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj

from geo.areatree import AreaTree
from geo.codes import AreaIndex
from geo.coverage import (
    AreaSums,
    CoverageResult,
    Supply,
    check_radius,
    metric_crs_of,
    rim_slack,
    within_radius,
)
from geo.demand import Demand

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Partition:
    """What one task needs: its demand points and the shared supply and settings."""

    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    area: npt.NDArray[np.str_]
    served_codes: npt.NDArray[np.str_]


def partition_by_area(area: npt.NDArray[np.str_], parts: int) -> list[IntArray]:
    """Point indices for up to ``parts`` partitions of whole areas, about equal in size.

    >>> [p.tolist() for p in partition_by_area(np.array(["b", "a", "b", "c"]), 2)]
    [[0, 1, 2], [3]]
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    codes, inverse, counts = np.unique(area, return_inverse=True, return_counts=True)
    # Areas in code order, cut where the running count passes each 1/parts of the total.
    bounds = np.cumsum(counts)
    cuts = np.searchsorted(bounds, np.arange(1, parts) * area.size / parts, side="left")
    group_of_code = np.zeros(codes.size, dtype=np.int64)
    for cut in np.unique(cuts):
        group_of_code[cut + 1 :] += 1
    group = group_of_code[inverse]
    # Stable sort keeps each area's points in their original order within the partition.
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=int(group.max()) + 1 if group.size else 0)
    return [p for p in np.split(order, np.cumsum(sizes)[:-1]) if p.size]


def partition_sums(
    part: Partition, supply: Supply, radius_m: float, crs: pyproj.CRS, slack: float
) -> AreaSums:
    """Per-area sums of one partition (the task each worker runs)."""
    mask = within_radius(part.lon, part.lat, supply.lon, supply.lat, radius_m, crs=crs, slack=slack)
    index = AreaIndex.of(part.area)  # for the area-served resources and for the sums
    mask |= index.within(part.served_codes.tolist())
    return AreaSums.indexed(index, part.weight, mask)


def coverage_partitioned(
    demand: Demand,
    supply: Supply,
    tree: AreaTree,
    radius_m: float = 500.0,
    *,
    parts: int = 8,
    client: Any = None,
) -> CoverageResult:
    """:func:`geo.coverage.coverage` computed in area partitions. Returns sums only
    (``covered`` is ``None``).

    Without ``client`` the partitions run one after another in this process. With a
    ``dask.distributed.Client`` the demand becomes a dask-geopandas GeoDataFrame
    (:func:`demand_frame`), the supply is broadcast to every worker once and each
    partition's sums are computed with ``map_partitions`` on the cluster.
    """
    radius = check_radius(radius_m)
    located = demand.located(tree)
    served: set[str] = set()
    for code in supply.served_areas:
        if code in tree:
            served |= tree.descendants(code)
    served_codes = np.array(sorted(served), dtype="<U12")
    all_lon = np.concatenate([located.lon, supply.lon])
    # One CRS and one rim band for every partition, as the single-process run uses.
    crs = metric_crs_of(supply.lon) if supply.size else metric_crs_of(all_lon)
    slack = rim_slack(all_lon, crs)
    if client is None:
        sums = [
            partition_sums(
                Partition(
                    located.lon[i], located.lat[i], located.weight[i], located.area[i], served_codes
                ),
                supply,
                radius,
                crs,
                slack,
            )
            for i in partition_by_area(located.area, parts)
        ]
    elif located.size == 0:
        sums = []
    else:
        sums = [_sums_on_dask(located, supply, radius, crs, slack, served_codes, parts, client)]
    return CoverageResult(
        radius_m=radius,
        mode="straight",
        demand_method=demand.method,
        demand_source=demand.source,
        sums=AreaSums.concat(sums),
    )


def demand_frame(demand: Demand, parts: int, client: Any = None) -> Any:
    """``demand`` as a dask-geopandas GeoDataFrame of whole-area partitions.

    Rows are indexed by area code, each area's points in their original order, and the
    divisions are cut at the area boundaries of :func:`partition_by_area`, so every area
    lies in exactly one partition. Columns: ``weight`` and the point ``geometry`` (WGS-84).
    With a ``dask.distributed.Client`` the coordinates and weights are scattered to its
    workers straight away rather than carried in the task graph, and each worker builds its
    partition's points. Needs the ``dask`` extra (dask-geopandas).
    """
    import dask.dataframe as dd
    import dask_geopandas
    import pandas as pd
    from dask.delayed import delayed

    if demand.size == 0:
        raise ValueError("no demand points to partition")
    sizes = np.array([p.size for p in partition_by_area(demand.area, parts)], dtype=np.int64)
    # Areas sorted by code; a stable sort keeps each area's points in their original order.
    order = np.argsort(demand.area, kind="stable")
    area = demand.area[order]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    divisions = (*area[starts].tolist(), str(area[-1]))
    table = pd.DataFrame(
        {"lon": demand.lon[order], "lat": demand.lat[order], "weight": demand.weight[order]},
        index=pd.Index(area, name="area"),
    )
    pieces = [table.iloc[a : a + n] for a, n in zip(starts.tolist(), sizes.tolist(), strict=True)]
    # Keys of their own (hash=False): a second run over the same demand would otherwise reuse
    # keys the scheduler is releasing from the first (distributed#8576).
    held = (
        client.scatter(pieces, hash=False) if client is not None else [delayed(p) for p in pieces]
    )
    columns = dd.from_delayed(held, meta=table.iloc[:0], divisions=divisions)
    points = dask_geopandas.points_from_xy(columns, "lon", "lat", crs="EPSG:4326")
    return dask_geopandas.from_dask_dataframe(columns[["weight"]], geometry=points)


def frame_sums(
    frame: Any,
    supply: Supply,
    radius_m: float,
    crs: pyproj.CRS,
    slack: float,
    served_codes: npt.NDArray[np.str_],
) -> Any:
    """Per-area sums of one partition of :func:`demand_frame` as a pandas DataFrame indexed
    by area code (the task each Dask worker runs)."""
    import pandas as pd

    sums = partition_sums(
        Partition(
            frame.geometry.x.to_numpy(dtype=np.float64),
            frame.geometry.y.to_numpy(dtype=np.float64),
            frame["weight"].to_numpy(dtype=np.float64),
            frame.index.to_numpy(dtype=str),
            served_codes,
        ),
        supply,
        radius_m,
        crs,
        slack,
    )
    return pd.DataFrame(
        {"population": sums.population, "covered": sums.covered, "points": sums.points},
        index=pd.Index(sums.codes, name="area"),
    )


def _sums_on_dask(
    located: Demand,
    supply: Supply,
    radius_m: float,
    crs: pyproj.CRS,
    slack: float,
    served_codes: npt.NDArray[np.str_],
    parts: int,
    client: Any,
) -> AreaSums:
    """All areas' sums, each partition's computed on the cluster behind ``client``."""
    try:
        import pandas as pd

        frame = demand_frame(located, parts, client)
    except ImportError as exc:
        raise ImportError(
            "coverage on Dask needs the dask extra: pip install 'resourcemap[dask]'"
        ) from exc
    meta = pd.DataFrame(
        {
            "population": np.zeros(0, dtype=np.float64),
            "covered": np.zeros(0, dtype=np.float64),
            "points": np.zeros(0, dtype=np.int64),
        },
        index=pd.Index([], dtype=frame.index.dtype, name="area"),
    )
    # The supply goes to every worker once, not once per partition, under a key of its own
    # (see geo.parquet_coverage: a content-hashed key collides with the last run's).
    shared = client.scatter(supply, broadcast=True, hash=False)
    per_partition = frame.map_partitions(
        frame_sums, shared, radius_m, crs, slack, served_codes, meta=meta
    )
    # The partitions' sums, joined in partition order (their areas are disjoint).
    sums = client.compute(per_partition).result()
    return AreaSums(
        sums.index.to_numpy(dtype=str).astype(located.area.dtype),
        sums["population"].to_numpy(dtype=np.float64),
        sums["covered"].to_numpy(dtype=np.float64),
        sums["points"].to_numpy(dtype=np.int64),
    )
