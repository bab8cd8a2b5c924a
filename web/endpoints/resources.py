"""``/api/v1/resources``: listings for lists and maps."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import listings
from resourcemap.dataset import synthetic_label
from resourcemap.errors import InvalidInput
from web.params import query_dict

REPEATABLE = ("kind",)


async def list_resources(request: Request) -> Response:
    """
    summary: List service resources
    description: >
      Paged (keyset cursor) list of resources. Filters combine with AND; several `kind`
      values (repeated or comma-separated) mean any of them. `area` matches resources located
      in the area and area-served resources (volunteer teams, hotlines) that serve it.
    parameters:
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
      - {name: bbox, in: query, schema: {type: string, example: "113.85,22.70,114.00,22.80"},
         description: "minlon,minlat,maxlon,maxlat (WGS-84)"}
      - {name: area, in: query, schema: {type: string}, description: administrative area code}
      - {name: status, in: query, schema: {type: string, enum: [active, suspended, closed]}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500}}
      - {name: cursor, in: query, schema: {type: string}}
    responses:
      200: {description: "A page: {items, next_cursor, limit, dataset}"}
      400: {description: Invalid filter, with a reason}
    """
    query = listings.ResourceQuery.model_validate(query_dict(request, repeatable=REPEATABLE))
    if query.limit > listings.MAX_PAGE:
        raise InvalidInput(f"limit must be at most {listings.MAX_PAGE}", field="limit")
    page = await listings.list_resources(query)
    body = page.model_dump(mode="json")
    body["dataset"] = await synthetic_label()
    return JSONResponse(body)


async def resources_geojson(request: Request) -> Response:
    """
    summary: Point resources as GeoJSON
    description: >
      A FeatureCollection of the point resources matching the same filters as
      `/api/v1/resources` (default limit 10000). Area-served resources have no point and
      are listed by `/api/v1/resources` only.
    parameters:
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
      - {name: bbox, in: query, schema: {type: string}}
      - {name: area, in: query, schema: {type: string}}
      - {name: status, in: query, schema: {type: string}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 20000}}
      - {name: cursor, in: query, schema: {type: string}}
    responses:
      200: {description: GeoJSON FeatureCollection, content: {application/geo+json: {}}}
      400: {description: Invalid filter, with a reason}
    """
    params = query_dict(request, repeatable=REPEATABLE)
    params.setdefault("limit", "10000")
    query = listings.ResourceQuery.model_validate(params)
    collection = await listings.resources_geojson(query)
    collection["dataset"] = await synthetic_label()
    return JSONResponse(collection, media_type="application/geo+json")


async def get_resource(request: Request) -> Response:
    """
    summary: One resource in full
    description: Hours, exceptions, qualifications, service area and contact.
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    responses:
      200: {description: The resource}
      404: {description: No such resource}
    """
    detail = await listings.get_resource(request.path_params["id"])
    body = detail.model_dump(mode="json")
    body["dataset"] = await synthetic_label()
    return JSONResponse(body)
