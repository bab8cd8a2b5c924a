"""What the residents' map shows for one view: the search's matches in the bounding box,
as points when few, else as H3 clusters (``geo.clusters``).

The matches are those of the embedded engine for the same query the list asks, so the map
and the list describe the same set; only the rows inside the view leave the process, so a
view of a whole province is a few hundred clusters, not 200,000 points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from geo.clusters import Cluster, cluster_view
from resourcemap.bbox import BBox
from resourcemap.search.base import SearchQuery
from resourcemap.search.matching import joined, match_rows
from resourcemap.search.service import SearchService
from resourcemap.vocab import Eligibility

POINT_FIELDS = (
    *("id", "lat", "lon", "kind", "name_zh", "name_en", "free", "always_open", "bookable"),
    "public",
)


class ViewParams(BaseModel):
    """The view: ``bbox=west,south,east,north`` in degrees and the web-map ``zoom``."""

    model_config = ConfigDict(frozen=True)

    bbox: BBox
    zoom: float = Field(ge=0, le=22)


@dataclass(frozen=True)
class MapView:
    """``rows`` follow :data:`POINT_FIELDS` (as ``/map/points``); ``total`` counts the
    matches inside the view, clustered or not."""

    zoom: float
    resolution: int | None
    total: int
    clusters: list[Cluster]
    rows: list[list[object]]


async def map_view(
    service: SearchService,
    query: SearchQuery,
    bbox: tuple[float, float, float, float],
    zoom: float,
    *,
    now: dt.datetime,
) -> MapView:
    """The matches of ``query`` inside ``bbox`` (west, south, east, north) at ``zoom``."""
    await service.follow()
    at = query.at or now
    criteria = service.criteria(await service.as_answered(query, at), at)
    found = [f for f in match_rows(await service.embedded.segments(), criteria) if f.rows.size]
    if not found:
        return MapView(zoom, None, 0, [], [])
    lat = joined([f.cols.lat[f.rows] for f in found])
    lon = joined([f.cols.lon[f.rows] for f in found])
    cells = joined([f.cols.cells[f.rows] for f in found])
    view = cluster_view(lat, lon, cells, bbox, zoom)
    segment = joined([np.full(f.rows.size, k, dtype=np.intp) for k, f in enumerate(found)])
    row = joined([f.rows for f in found])
    bookable = criteria.bookable_ids
    rows: list[list[object]] = []
    for i in view.points.tolist():
        doc = found[int(segment[i])].cols.docs[int(row[i])]
        rows.append(
            [
                doc.id,
                round(float(lat[i]), 5),
                round(float(lon[i]), 5),
                doc.kind,
                doc.name_zh,
                doc.name_en,
                int(doc.fee == "free"),
                int(doc.always_open),
                int(doc.id in bookable),
                int(doc.eligibility == Eligibility.PUBLIC.value),
            ]
        )
    rows.sort(key=lambda r: int(str(r[0])))
    return MapView(zoom, view.resolution, view.total, view.clusters, rows)
