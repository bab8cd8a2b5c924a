"""Walking distance over a street network given as GeoJSON lines.

The graph is built without a per-edge Python loop: every line's vertices are projected to
the metric CRS, consecutive vertices of one line become an edge weighted by its length, and
vertices that round to the same ``SNAP_M`` (1 cm) are merged into one node. Lines therefore connect
where they share a vertex, as OpenStreetMap ways do at junctions (a bridge crossing a
street without a shared vertex stays unconnected); ``node_crossings=True`` splits lines at
every crossing instead, for sources drawn without junction vertices.

Walking distance from the nearest service is one multi-source Dijkstra
(``scipy.sparse.csgraph.dijkstra``) from a virtual source joined to every service's
nearest node by the service's distance to that node. Demand points walk straight to
their nearest node first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import shape

from geo.areatree import AreaTree
from geo.codes import AreaIndex
from geo.coverage import (
    TOLERANCE_M,
    CoverageResult,
    Supply,
    check_radius,
    served_by_area,
)
from geo.crs import metric_crs_for, to_metric
from geo.demand import Demand
from geo.shapes import geoms_to_metric, object_array

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SNAP_M = 0.01
# csgraph drops explicit zeros from sparse matrices: zero-length links get this instead.
_EPSILON_M = 1e-9


class NetworkError(ValueError):
    """A street network that cannot be used; the message says why."""


@dataclass(frozen=True)
class StreetGraph:
    """Nodes (metric ``x``/``y`` in ``crs``) and an undirected, length-weighted graph."""

    crs: pyproj.CRS
    x: FloatArray
    y: FloatArray
    graph: csr_matrix
    length_m: float

    @property
    def nodes(self) -> int:
        return int(self.x.size)

    def snap(self, lon: FloatArray, lat: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Nearest node of each WGS-84 point and the straight distance to it (metres)."""
        px, py = to_metric(lon, lat, self.crs)
        dist, node = cKDTree(np.column_stack([self.x, self.y])).query(
            np.column_stack([px, py]), k=1, workers=-1
        )
        return np.asarray(node, dtype=np.int64), np.asarray(dist, dtype=np.float64)


def graph_from_geojson(doc: Mapping[str, Any], *, node_crossings: bool = False) -> StreetGraph:
    """A :class:`StreetGraph` from a FeatureCollection of LineString/MultiLineString.

    >>> line = {"type": "LineString", "coordinates": [[113.93, 22.75], [113.94, 22.75]]}
    >>> g = graph_from_geojson({"type": "FeatureCollection",
    ...                         "features": [{"type": "Feature", "geometry": line}]})
    >>> g.nodes, round(g.length_m)
    (2, 1027)
    """
    features = doc.get("features") if isinstance(doc, Mapping) else None
    if not isinstance(features, list) or not features:
        raise NetworkError("the street network must be a GeoJSON FeatureCollection of lines")
    geoms = []
    for i, f in enumerate(features, start=1):
        try:
            geom = shape(f["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise NetworkError(f"street feature {i} has no valid geometry") from None
        if geom.geom_type not in ("LineString", "MultiLineString"):
            raise NetworkError(f"street feature {i} is a {geom.geom_type}, not a line")
        geoms.append(geom)
    lines = shapely.get_parts(object_array(geoms))
    first = shapely.get_coordinates(lines[:1])
    crs = metric_crs_for(float(first[0, 0]))
    lines_m = geoms_to_metric(lines, crs)
    if node_crossings:
        lines_m = shapely.get_parts(shapely.node(shapely.multilinestrings(lines_m)))
    return _build(lines_m, crs)


def _build(lines_m: npt.NDArray[np.object_], crs: pyproj.CRS) -> StreetGraph:
    coords, which = shapely.get_coordinates(lines_m, return_index=True)
    if coords.shape[0] < 2:
        raise NetworkError("the street network has no line with two points")
    keys = np.round(coords / SNAP_M).astype(np.int64)
    unique, first_seen, node = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    node = node.ravel()
    same_line = which[1:] == which[:-1]
    a, b = node[:-1][same_line], node[1:][same_line]
    seg = np.hypot(*(coords[1:][same_line] - coords[:-1][same_line]).T)
    keep = a != b
    a, b, seg = a[keep], b[keep], np.maximum(seg[keep], _EPSILON_M)
    n = unique.shape[0]
    # csr_matrix sums duplicate edges: keep only the shortest link between two nodes.
    order = np.lexsort((seg, np.minimum(a, b), np.maximum(a, b)))
    a, b, seg = a[order], b[order], seg[order]
    pair = np.minimum(a, b) * n + np.maximum(a, b)
    first = np.ones(pair.size, dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    a, b, seg = a[first], b[first], seg[first]
    rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
    graph = csr_matrix((np.concatenate([seg, seg]), (rows, cols)), shape=(n, n))
    # Nodes sit where their first vertex is, not on the rounding grid: snapping distances
    # stay exact.
    xy = coords[first_seen]
    return StreetGraph(crs, xy[:, 0].copy(), xy[:, 1].copy(), graph, float(seg.sum()))


def node_distance(graph: StreetGraph, supply: Supply, limit_m: float) -> FloatArray:
    """Walking metres from the nearest service to every node (``inf`` beyond ``limit_m``)."""
    n = graph.nodes
    if supply.size == 0:
        return np.full(n, np.inf)
    nodes, offset = graph.snap(supply.lon, supply.lat)
    # A virtual source (index n) with one link to every node that has a service, as long
    # as the walk from the nearest such service to the node.
    best = np.full(n, np.inf)
    np.minimum.at(best, nodes, np.maximum(offset, _EPSILON_M))
    has = np.flatnonzero(np.isfinite(best))
    g = graph.graph.tocoo()
    rows = np.concatenate([g.row, np.full(has.size, n)])
    cols = np.concatenate([g.col, has])
    full = csr_matrix((np.concatenate([g.data, best[has]]), (rows, cols)), shape=(n + 1, n + 1))
    dist = dijkstra(full, directed=True, indices=n, limit=limit_m + TOLERANCE_M)
    return np.asarray(dist[:n], dtype=np.float64)


def walking_within(
    graph: StreetGraph, demand: Demand, supply: Supply, radius_m: float
) -> BoolArray:
    """Whether each demand point can walk to a service within ``radius_m``."""
    radius = check_radius(radius_m)
    if demand.size == 0:
        return np.zeros(0, dtype=bool)
    reach = node_distance(graph, supply, radius)
    node, offset = graph.snap(demand.lon, demand.lat)
    covered: BoolArray = offset + reach[node] <= radius + TOLERANCE_M
    return covered


def walking_coverage(
    graph: StreetGraph,
    demand: Demand,
    supply: Supply,
    tree: AreaTree,
    radius_m: float,
) -> CoverageResult:
    """Like :func:`geo.coverage.coverage`, with walking distance over ``graph``."""
    located = demand.located(tree)
    index = AreaIndex.of(located.area)  # for the area-served resources and for the sums
    mask = walking_within(graph, located, supply, radius_m)
    mask |= served_by_area(index, supply.served_areas, tree)
    return CoverageResult.per_point(located, mask, radius_m, "walking", index)
