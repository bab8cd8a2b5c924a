"""``/api/v1/areas``: administrative areas with boundaries and population."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import areas
from resourcemap.dataset import synthetic_label
from web.compressed import compressed
from web.params import query_dict


async def list_areas(request: Request) -> Response:
    """
    summary: Administrative areas as GeoJSON
    parameters:
      - {name: level, in: query, schema: {type: string, enum: [city, district, street, community]}}
      - {name: parent, in: query, schema: {type: string}, description: parent area code}
      - {name: geometry, in: query, schema: {type: boolean, default: true}}
      - name: bbox
        in: query
        schema: {type: string}
        description: >
          west,south,east,north: only the areas in this view; without `level`, those of the
          finest level with at most 300 areas in it (a map's outlines)
    responses:
      200: {description: GeoJSON FeatureCollection of areas with population}
      400: {description: "Invalid filter, with a reason"}
    """
    query = areas.AreaQuery.model_validate(query_dict(request))
    collection = (await areas.list_areas(query)).model_dump(mode="json")
    collection["dataset"] = await synthetic_label()
    # Boundaries are most of a map's bytes: a district's communities compress to a quarter.
    return await compressed(request, orjson.dumps(collection), "application/geo+json", {})


async def get_area(request: Request) -> Response:
    """
    summary: One administrative area
    responses:
      200: {description: GeoJSON Feature with population and child codes}
      404: {description: No such area}
    """
    feature = await areas.get_area(request.path_params["code"])
    return JSONResponse(feature.model_dump(mode="json"), media_type="application/geo+json")
