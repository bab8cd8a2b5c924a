"""Coverage partitioned by area, on Dask when a province's grid outgrows one process.

Demand is split into partitions of whole areas (every point of an area in one partition,
in its original order), each partition's per-area sums are computed where it runs, and
the sums are joined. Because one area's points are summed in the same order either way,
the result equals :func:`geo.coverage.coverage` exactly, to the last bit, whatever the
number of partitions or workers.

Dask is an optional extra (``pip install 'resourcemap[dask]'``); without a client the
partitions run one after another in this process.

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
    mask |= np.isin(part.area, part.served_codes)
    return AreaSums.of(part.area, part.weight, mask)


def coverage_partitioned(
    demand: Demand,
    supply: Supply,
    tree: AreaTree,
    radius_m: float = 500.0,
    *,
    parts: int = 8,
    client: Any = None,
) -> CoverageResult:
    """:func:`geo.coverage.coverage` computed in area partitions, on ``client`` (a
    ``dask.distributed.Client``) when given. Returns sums only (``covered`` is ``None``)."""
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
    partitions = [
        Partition(located.lon[i], located.lat[i], located.weight[i], located.area[i], served_codes)
        for i in partition_by_area(located.area, parts)
    ]
    if client is None:
        sums = [partition_sums(p, supply, radius, crs, slack) for p in partitions]
    else:
        shared = client.scatter(supply, broadcast=True)
        futures = client.map(
            partition_sums, partitions, supply=shared, radius_m=radius, crs=crs, slack=slack
        )
        sums = client.gather(futures)
    return CoverageResult(
        radius_m=radius,
        mode="straight",
        demand_method=demand.method,
        demand_source=demand.source,
        sums=AreaSums.concat(sums),
    )
