"""``/api/v1/resources`` and ``/api/v1/organisations``: listings for lists and maps, and the
writes staff and admins make to them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.dataset import synthetic_label
from resourcemap.errors import InvalidInput
from resourcemap.listings import edits, organisations
from resourcemap.listings import views as listings
from resourcemap.vocab import Role, Status
from web import auth, clock
from web.params import json_body, query_dict

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
      400: {description: "Invalid filter, with a reason"}
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
      400: {description: "Invalid filter, with a reason"}
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
    responses:
      200: {description: The resource}
      404: {description: No such resource}
    """
    detail = await listings.get_resource(request.path_params["id"])
    body = detail.model_dump(mode="json")
    body["dataset"] = await synthetic_label()
    return JSONResponse(body)


async def _detail(resource_id: int, status: int = 200) -> Response:
    detail = await listings.get_resource(resource_id)
    return JSONResponse(detail.model_dump(mode="json"), status_code=status)


async def create_resource(request: Request) -> Response:
    """
    summary: Create a resource
    description: Staff create resources of their own organisation; admins of any.
    body: ResourceIn
    responses:
      201: {description: The created resource}
      400: {description: "Invalid field, with a reason per field"}
      401: {description: Not signed in}
      403: {description: Not allowed}
    """
    principal, data = await auth.with_body(request, edits.ResourceIn, Role.ADMIN, Role.STAFF)
    resource = await edits.save_resource(principal, data, now=clock.now(request))
    return await _detail(resource.id, status=201)


async def replace_resource(request: Request) -> Response:
    """
    summary: Replace a resource (all fields)
    body: ResourceIn
    responses:
      200: {description: The saved resource}
      400: {description: Invalid field}
      403: {description: Not allowed}
      404: {description: No such resource}
    """
    principal, data = await auth.with_body(request, edits.ResourceIn, Role.ADMIN, Role.STAFF)
    resource_id = request.path_params["id"]
    await edits.save_resource(principal, data, resource_id=resource_id, now=clock.now(request))
    return await _detail(resource_id)


async def patch_resource(request: Request) -> Response:
    """
    summary: Change some fields of a resource
    body: {type: object}
    responses:
      200: {description: The saved resource}
      400: {description: Invalid field}
      403: {description: Not allowed}
      404: {description: No such resource}
    """
    principal = await auth.require(request, Role.ADMIN, Role.STAFF)
    resource_id = request.path_params["id"]
    await edits.patch_resource(
        principal, resource_id, await json_body(request), now=clock.now(request)
    )
    return await _detail(resource_id)


async def set_status(request: Request) -> Response:
    """
    summary: Suspend, close or reactivate a resource
    body:
      type: object
      properties: {status: {type: string, enum: [active, suspended, closed]}}
    responses:
      200: {description: The saved resource}
      400: {description: Unknown status}
      403: {description: Not allowed}
      404: {description: No such resource}
    """
    principal = await auth.require(request, Role.ADMIN, Role.STAFF)
    body = await json_body(request)
    try:
        status = Status(str(body.get("status")))
    except ValueError:
        raise InvalidInput("status must be active, suspended or closed", field="status") from None
    resource_id = request.path_params["id"]
    await edits.set_status(principal, resource_id, status, now=clock.now(request))
    return await _detail(resource_id)


async def list_organisations(request: Request) -> Response:
    """
    summary: Organisations
    responses:
      200: {description: "{items}"}
    """
    orgs = await organisations.list_organisations()
    return JSONResponse({"items": [o.model_dump(mode="json") for o in orgs]})


async def create_organisation(request: Request) -> Response:
    """
    summary: Create an organisation (admin)
    body: OrganisationIn
    responses:
      201: {description: The organisation}
      400: {description: Invalid field}
      403: {description: Not allowed}
    """
    principal, data = await auth.with_body(request, organisations.OrganisationIn, Role.ADMIN)
    org = await organisations.save_organisation(principal, data)
    return JSONResponse(organisations.view(org).model_dump(mode="json"), status_code=201)
