"""The residents' map data: every point once (slim), and which of them match a search.

The map loads ``/api/v1/map/points`` once and clusters it; when the resident filters, it
asks ``/api/v1/map/matches`` for the ids of every match (not only a page of them) and shows
just those, so map and list always describe the same set. For a province, where every
point is too much, ``/api/v1/map/view`` answers one view: the matches inside its bounding
box, clustered on the server by zoom (#22).
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.listings.map_points import map_points
from resourcemap.search.base import SearchQuery
from resourcemap.search.map_view import POINT_FIELDS, ViewParams, map_view
from resourcemap.search.service import SearchService
from web import clock
from web.compressed import compressed
from web.params import query_dict

# Every resource of a large city; the search port pages at 100, the map wants them all.
MATCH_LIMIT = 100_000
MATCH_PARAMS = {
    "q",
    "lat",
    "lon",
    "radius_m",
    "kind",
    "service",
    "audience",
    "language",
    "fee",
    "mode",
    "open_now",
    "eligible",
}


async def points(request: Request) -> Response:
    """
    summary: Every active service point, slim, for the residents' map
    description: >
      `{"fields": [...], "rows": [[id, lat, lon, kind, name_zh, name_en, free,
      always_open, bookable, public], ...]}`; flags are 0 or 1 (public: open to anyone;
      members-only places are shown only when a search asks for them).
    responses:
      200: {description: "{fields, rows}"}
    """
    # 10,000 rows are about 1.3 MB of JSON and a fifth of that compressed.
    body = orjson.dumps(await map_points())
    return await compressed(
        request, body, "application/json", {"Cache-Control": "public, max-age=60"}
    )


async def matches(request: Request) -> Response:
    """
    summary: Ids of every resource matching a search, for the map
    description: The parameters of `/api/v1/search` (without paging and sorting).
    responses:
      200: {description: "{ids, total}"}
      400: {description: "Invalid parameter, with a reason per field"}
    """
    params = {
        k: v
        for k, v in query_dict(request, repeatable=("kind", "eligible")).items()
        if k in MATCH_PARAMS
    }
    query = SearchQuery.model_validate(params)
    service: SearchService = request.app.state.search
    await service.follow()
    now = clock.now(request)
    query = await service.as_answered(query, query.at or now)
    # The embedded engine follows every listing change whichever backend is primary, and is
    # the only one that answers "all matches" without paging through a server.
    criteria = service.criteria(
        query.model_copy(update={"limit": MATCH_LIMIT, "offset": 0, "sort": "relevance"}),
        now,
        wanted="hits",
    )
    result = await service.embedded.search(criteria)
    return JSONResponse({"ids": sorted(h.id for h in result.hits), "total": result.total})


async def view(request: Request) -> Response:
    """
    summary: The matches inside one map view, clustered by zoom
    description: >
      `bbox=west,south,east,north` and `zoom` (0–22), plus the parameters of
      `/api/v1/search` (without paging and sorting). At most 500 matches in view (or from
      zoom 17) come as `rows` like `/api/v1/map/points`; more come as `clusters`
      `[[lat, lon, count, h3_cell], ...]` on H3 cells of `resolution`. `total` counts every
      match in view.
    responses:
      200: {description: "{zoom, resolution, total, clusters, fields, rows}"}
      400: {description: "Invalid parameter, with a reason per field"}
    """
    raw = query_dict(request, repeatable=("kind", "eligible"))
    where = ViewParams.model_validate({k: raw.get(k) for k in ("bbox", "zoom")})
    query = SearchQuery.model_validate({k: v for k, v in raw.items() if k in MATCH_PARAMS})
    service: SearchService = request.app.state.search
    shown = await map_view(service, query, where.bbox, where.zoom, now=clock.now(request))
    body = orjson.dumps(
        {
            "zoom": shown.zoom,
            "resolution": shown.resolution,
            "total": shown.total,
            "clusters": [[c.lat, c.lon, c.count, f"{c.cell:x}"] for c in shown.clusters],
            "fields": list(POINT_FIELDS),
            "rows": shown.rows,
        }
    )
    headers = {"Cache-Control": "no-store" if query.open_now else "public, max-age=60"}
    return await compressed(request, body, "application/json", headers)
