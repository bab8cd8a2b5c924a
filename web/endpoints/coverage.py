"""``/api/v1/coverage``, gaps, heatmap, indicators and siting: planners and admins only."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from resourcemap.coverage import (
    CoverageQuery,
    CoverageService,
    HeatQuery,
    SitingRequest,
    coverage_csv,
)
from resourcemap.coverage_report import report_html
from resourcemap.dataset import synthetic_label
from resourcemap.indicators import Targets
from resourcemap.vocab import Role
from web.auth import require
from web.params import json_body, query_dict

REPEATABLE = ("kind", "service")
PLANNING = (Role.PLANNER, Role.ADMIN)


def service_of(request: Request) -> CoverageService:
    """The app's coverage service, made on first use (its cache lives as long as the app)."""
    found = getattr(request.app.state, "coverage", None)
    if not isinstance(found, CoverageService):
        found = CoverageService()
        request.app.state.coverage = found
    return found


def targets_of(request: Request) -> Targets:
    """Indicator targets: ``app.state.targets`` when the app was given some, else read once
    from ``RESOURCEMAP_TARGET_*`` (defaults from the pilot documents)."""
    found = getattr(request.app.state, "targets", None)
    if not isinstance(found, Targets):
        found = Targets()
        request.app.state.targets = found
    return found


def coverage_query(request: Request) -> CoverageQuery:
    return CoverageQuery.model_validate(query_dict(request, repeatable=REPEATABLE))


def _geojson(body: dict[str, object]) -> Response:
    return JSONResponse(body, media_type="application/geo+json")


async def coverage(request: Request) -> Response:
    """
    summary: Coverage of the service circle per area (planner or admin)
    description: >
      Per area of `level`: population, covered and uncovered population, and covered share
      (null where nobody lives), within `radius_m` straight-line metres (exact at the rim,
      geodesic) of the chosen resources. Area-served resources (volunteer teams) cover their
      areas. Every answer names the demand data and method it came from.
    parameters:
      - {name: radius_m, in: query, schema: {type: number, default: 500, maximum: 50000}}
      - {name: level, in: query, schema: {type: string, enum: [city, district, street, community]}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true,
         description: resource kinds that count (default every kind but hotlines)}
      - {name: service, in: query, schema: {type: array, items: {type: string}}, explode: true}
      - {name: status, in: query, schema: {type: string, enum: [active, suspended, closed]}}
      - {name: eligibility, in: query, schema: {type: string, enum: [public, all]},
         description: "public (default): listings open to anyone; all: members-only
           listings (school, workplace rooms) count too. The answer says which."}
      - {name: demand, in: query, schema: {type: string}, description: demand source}
    responses:
      200:
        description: GeoJSON FeatureCollection of areas with totals
        content: {application/geo+json: {}}
      400: {description: Invalid parameter, with a reason}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
      404: {description: No demand data loaded}
    """
    await require(request, *PLANNING)
    body = await service_of(request).coverage_geojson(coverage_query(request))
    body["dataset"] = await synthetic_label()
    return _geojson(body)


async def coverage_csv_export(request: Request) -> Response:
    """
    summary: The coverage table as CSV (planner or admin)
    parameters:
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
      - {name: level, in: query, schema: {type: string}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
    responses:
      200: {description: "CSV: one row per area, with radius, mode and demand method"}
      400: {description: Invalid parameter}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    await require(request, *PLANNING)
    analysis = await service_of(request).analyse(coverage_query(request))
    return PlainTextResponse(
        coverage_csv(analysis),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="coverage.csv"'},
    )


async def coverage_report(request: Request) -> Response:
    """
    summary: Standalone HTML coverage report (planner or admin)
    description: One file with the map (Leaflet inlined, no tiles) and the table; opens offline.
    parameters:
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
      - {name: level, in: query, schema: {type: string}}
    responses:
      200: {description: HTML document}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    await require(request, *PLANNING)
    page = await report_html(
        service_of(request), coverage_query(request), dataset_label=await synthetic_label()
    )
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="coverage-report.html"'},
    )


async def gaps(request: Request) -> Response:
    """
    summary: Gap polygons outside every service circle (planner or admin)
    description: >
      Per area of `level`, its boundary minus the service circles and the areas teams serve,
      with the uncovered population. Polygons are for drawing; coverage is decided by distance.
    parameters:
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
      - {name: level, in: query, schema: {type: string}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
    responses:
      200: {description: GeoJSON FeatureCollection, content: {application/geo+json: {}}}
      400: {description: Invalid parameter}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    await require(request, *PLANNING)
    return _geojson(await service_of(request).gaps_geojson(coverage_query(request)))


async def heatmap(request: Request) -> Response:
    """
    summary: Demand, supply and unmet demand on H3 hexagons (planner or admin)
    parameters:
      - {name: resolution, in: query, schema: {type: integer, minimum: 5, maximum: 11, default: 9}}
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
    responses:
      200:
        description: GeoJSON hexagons with demand, supply and unmet
        content: {application/geo+json: {}}
      400: {description: Invalid parameter}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    await require(request, *PLANNING)
    query = HeatQuery.model_validate(query_dict(request, repeatable=REPEATABLE))
    return _geojson(await service_of(request).heatmap_geojson(query))


async def indicators(request: Request) -> Response:
    """
    summary: Policy indicators per area against targets (planner or admin)
    description: >
      For each area of `level`: the pilot's indicators (communities with a room, hospitals
      with clinics, schools with rooms, professionals per 100,000, county hotlines, community
      rehabilitation, the 500 m circle) with numerator, denominator, target, whether it is
      met, and the data it came from.
    parameters:
      - {name: level, in: query, schema: {type: string, enum: [city, district, street, community]}}
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
    responses:
      200: {description: "{level, targets, areas: [{code, name, indicators: [...]}]}"}
      400: {description: Invalid parameter}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    await require(request, *PLANNING)
    query = coverage_query(request)
    targets = targets_of(request)
    found = await service_of(request).indicators(query.level, targets, query)
    areas = [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "indicators": [asdict(i) | {"met": i.met} for i in a.indicators],
        }
        for a in found
    ]
    return JSONResponse(
        {
            "level": str(query.level),
            "targets": targets.model_dump(),
            "areas": areas,
            "dataset": await synthetic_label(),
        }
    )


async def siting(request: Request) -> Response:
    """
    summary: Recommend new service points (planner or admin)
    description: >
      Maximal covering location: `sites` new points among candidate sites (community centres,
      a grid of `spacing_m`, or a list of [lon, lat]) that cover the most people now outside
      the circle; greedy with marginal gains, checked exactly (HiGHS) when small enough. Each
      site says how many people it adds.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              sites: {type: integer, minimum: 1, maximum: 200, default: 3}
              radius_m: {type: number, default: 500}
              candidates: {oneOf: [{type: string, enum: [communities, grid]}, {type: array}]}
              spacing_m: {type: number, default: 250}
              kind: {type: array, items: {type: string}}
              exact: {type: boolean, default: true}
    responses:
      200: {description: "Sites in pick order with the people each adds, totals, method"}
      400: {description: Invalid request, with a reason}
      401: {description: Not signed in}
      403: {description: Not a planner or admin, or missing CSRF token}
    """
    await require(request, *PLANNING)
    body = SitingRequest.model_validate(await json_body(request))
    return JSONResponse(await service_of(request).siting(body))
