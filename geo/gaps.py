"""Gap polygons: the part of each area outside every service circle, for drawing.

These polygons are for maps only. Who is covered is decided by distance in
:mod:`geo.coverage`; a polygonal circle is a ring of chords and would misjudge people at
its rim. Circles are drawn with ``QUAD_SEGS`` segments per quarter, so the drawn edge sits
within a few centimetres of the true 500 m circle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import mapping

from geo.areatree import AreaTree
from geo.coverage import Supply, check_radius, metric_crs_of
from geo.crs import to_metric
from geo.shapes import geoms_to_metric, geoms_to_wgs84, object_array

QUAD_SEGS = 32
# Slivers thinner than this along a shared edge are drawing noise, not a gap.
MIN_GAP_M2 = 1.0
# Output coordinates: 6 decimals (~0.1 m), like stored listings.
PRECISION = 6


def circles(supply: Supply, radius_m: float, crs: pyproj.CRS | None = None) -> Any:
    """Service circles of ``radius_m`` around every service point, as WGS-84 polygons."""
    radius = check_radius(radius_m)
    if supply.size == 0:
        return np.array([], dtype=object)
    crs = crs or metric_crs_of(supply.lon)
    x, y = to_metric(supply.lon, supply.lat, crs)
    discs = shapely.buffer(shapely.points(x, y), radius, quad_segs=QUAD_SEGS)
    return geoms_to_wgs84(discs, crs)


def gap_features(
    tree: AreaTree,
    supply: Supply,
    radius_m: float,
    level: str,
    *,
    uncovered: Mapping[str, float] | None = None,
    simplify_m: float = 0.0,
) -> list[dict[str, Any]]:
    """One GeoJSON Feature per area of ``level`` with a gap: its boundary minus the union
    of service circles and of the areas that area-served resources serve.

    ``uncovered`` (area code → uncovered population, e.g. from a coverage table) is copied
    into each feature's properties so the map can say how many people live in the gap.
    ``simplify_m``: outlines drawn to that many metres (a map of a province need not
    carry every chord of every circle); areas and shares are of the exact gap.

    >>> from geo.areatree import AreaNode
    >>> sq = {"type": "Polygon", "coordinates": [[[113.93, 22.75], [113.94, 22.75],
    ...       [113.94, 22.76], [113.93, 22.76], [113.93, 22.75]]]}
    >>> t = AreaTree.build([AreaNode("c1", "community", None, "东湖", sq)])
    >>> [f] = gap_features(t, Supply.of([113.935], [22.755]), 500, "community")
    >>> f["properties"]["code"], 0.2 < f["properties"]["gap_share"] < 0.4
    ('c1', True)
    """
    radius = check_radius(radius_m)
    codes = [c for c in tree.codes_at(level) if tree.geoms[tree.index[c]] is not None]
    if not codes:
        return []
    areas = object_array([tree.geoms[tree.index[c]] for c in codes])
    lon_sample = np.array([shapely.bounds(a)[0] for a in areas])
    crs = metric_crs_of(np.concatenate([lon_sample, supply.lon]))
    areas_m = geoms_to_metric(areas, crs)
    served: set[str] = set()
    for code in supply.served_areas:
        if code in tree:
            served |= tree.descendants(code)
    holes: Sequence[Any] = []
    if supply.size:
        x, y = to_metric(supply.lon, supply.lat, crs)
        holes = shapely.buffer(shapely.points(x, y), radius, quad_segs=QUAD_SEGS)
    discs = shapely.STRtree(holes) if len(holes) else None
    features = []
    for code, area_m in zip(codes, areas_m, strict=True):
        # One area at a time, and only the circles touching it: areas are few, circles many.
        if _served(code, served, tree):
            continue
        near = [] if discs is None else discs.query(area_m, predicate="intersects")
        cut = list(np.asarray(holes)[near]) if len(near) else []
        # Smaller areas inside this one that a team serves are not gaps either.
        inner = sorted((served & tree.descendants(code)) - {code})
        inner_geoms = [tree.geoms[tree.index[c]] for c in inner]
        inner_geoms = [g for g in inner_geoms if g is not None]
        if inner_geoms:
            cut += list(geoms_to_metric(object_array(inner_geoms), crs))
        gap = shapely.difference(area_m, shapely.union_all(cut)) if cut else area_m
        gap_area = float(shapely.area(gap))
        if gap_area < MIN_GAP_M2:
            continue
        node = tree.node(code)
        drawn = shapely.simplify(gap, simplify_m) if simplify_m > 0 else gap
        geometry = shapely.set_precision(geoms_to_wgs84(drawn, crs), 1e-6)
        features.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": mapping(geometry),
                "properties": {
                    "code": code,
                    "name": node.name,
                    "level": level,
                    "gap_km2": round(gap_area / 1e6, 4),
                    "gap_share": round(gap_area / float(shapely.area(area_m)), 4),
                    "uncovered_population": None if uncovered is None else uncovered.get(code),
                },
            }
        )
    return features


def _served(code: str, served: set[str], tree: AreaTree) -> bool:
    """An area is wholly served when it or one of its ancestors is in ``served``."""
    current: str | None = code
    while current is not None:
        if current in served:
            return True
        current = tree.node(current).parent if current in tree else None
    return False
