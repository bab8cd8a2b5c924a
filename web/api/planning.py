# Over 400 lines: one thin endpoint per planner report.
"""``/api/v1/coverage``, gaps, heatmap, indicators and siting: planners and admins only.

An account kept to an area (#20) gets every answer cut to it: the endpoints pass the
account's scope to the domain, which cuts (:mod:`resourcemap.planning.area_cut`)."""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.dataset import synthetic_label
from resourcemap.planning import access_export as access_mod
from resourcemap.planning import siting as siting_mod
from resourcemap.planning.access import AccessQuery, AccessReport, AccessService
from resourcemap.planning.coverage import CoverageQuery, CoverageService, HeatQuery, coverage_csv
from resourcemap.planning.indicator_export import Wording, indicators_csv, indicators_xlsx
from resourcemap.planning.indicators import DEFINITIONS, Targets
from resourcemap.planning.jobs import demand_dataset
from resourcemap.planning.report import report_html
from resourcemap.scope import AreaScope, scope_of
from resourcemap.vocab import Role
from web import clock
from web.api.answers import csv_file
from web.auth import require
from web.pages.planning import text as planning_text
from web.pages.shell import dataset_text
from web.params import json_body, query_dict

REPEATABLE = ("kind", "service")
PLANNING = (Role.PLANNER, Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Map documents and reports run their own scripts, in an opaque origin: no cookies, no
# same-origin requests, whatever text an area name smuggles in.
SANDBOX = "sandbox allow-scripts allow-downloads allow-popups allow-modals"


def service_of(request: Request) -> CoverageService:
    """The app's coverage service, made on first use (its cache lives as long as the app)."""
    found = getattr(request.app.state, "coverage", None)
    if not isinstance(found, CoverageService):
        settings = request.app.state.settings
        found = CoverageService(
            streets_file=settings.streets_file,
            dataset=demand_dataset(settings),
        )
        request.app.state.coverage = found
    return found


def access_of(request: Request) -> AccessService:
    found = getattr(request.app.state, "access", None)
    if not isinstance(found, AccessService):
        found = AccessService(service_of(request))
        request.app.state.access = found
    return found


def access_query(request: Request) -> AccessQuery:
    return AccessQuery.model_validate(query_dict(request, repeatable=REPEATABLE))


async def access_report(
    request: Request, query: AccessQuery, scope: AreaScope | None
) -> AccessReport:
    """The access figures ``query`` asks for, cut to ``scope``, on the app's clock and zone."""
    settings = request.app.state.settings
    return await access_of(request).report(
        query, now=clock.now(request), tz=settings.tz, scope=scope
    )


def targets_of(request: Request) -> Targets:
    """Indicator targets: ``app.state.targets`` when the app was given some, else read once
    from ``RESOURCEMAP_TARGET_*`` (defaults from the pilot documents)."""
    found = getattr(request.app.state, "targets", None)
    if not isinstance(found, Targets):
        found = Targets()
        request.app.state.targets = found
    return found


async def _scope(request: Request) -> AreaScope | None:
    """Planners and admins only; the area the account is kept to, if any (#20), which every
    answer is cut to."""
    return await scope_of(await require(request, *PLANNING))


def coverage_query(request: Request) -> CoverageQuery:
    return coverage_query_without(request)


def _geojson(body: dict[str, object]) -> Response:
    return JSONResponse(body, media_type="application/geo+json")


async def coverage(request: Request) -> Response:
    """
    summary: Coverage of the service circle per area (planner or admin)
    description: >
      Per area of `level`: population, covered and uncovered population, and covered share
      (null where nobody lives), within `radius_m` straight-line metres (exact at the rim,
      geodesic) of the chosen resources. Area-served resources (volunteer teams), when asked for,
      cover their areas. Every answer names the demand data and method it came from.
    parameters:
      - {name: radius_m, in: query, schema: {type: number, default: 500, maximum: 50000}}
      - {name: level, in: query, schema: {type: string, enum: [city, district, street, community]}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true,
         description: "resource kinds that count (default: every service point, not
           hotlines or volunteer teams)"}
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
      400: {description: "Invalid parameter, with a reason"}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
      404: {description: No demand data loaded}
    """
    scope = await _scope(request)
    body = await service_of(request).coverage_geojson(coverage_query(request), scope)
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
    scope = await _scope(request)
    analysis = await service_of(request).analyse(coverage_query(request), scope=scope)
    # Areas named as on the page it came from (its lang).
    names = await planning_text.area_names()
    return csv_file(coverage_csv(analysis, names), "coverage.csv")


async def coverage_report(request: Request) -> Response:
    """
    summary: Standalone HTML coverage report (planner or admin)
    description: >
      One file with the map (Leaflet inlined, no tiles) beside the table, dated, with the
      demand source, the resources counted, the radius and the software version; opens in
      the browser (inline), or downloads with `download=1`.
    parameters:
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
      - {name: level, in: query, schema: {type: string}}
      - {name: download, in: query, schema: {type: string}, description: any value downloads}
    responses:
      200: {description: HTML document}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    scope = await _scope(request)
    settings = request.app.state.settings
    query = coverage_query_without(request, "download")
    here = [(k, v) for k, v in request.query_params.multi_items() if k != "download"]
    names = await planning_text.area_names()
    page = await report_html(
        service_of(request),
        query,
        dataset_label=dataset_text(await synthetic_label()),
        now=clock.now(request),
        tz=settings.tz,
        text=planning_text.report_text(names),
        map_text=planning_text.map_text(names),
        download_url="?" + urlencode([*here, ("download", "1")]),
        scope=scope,
        prefix=settings.map_attribution_prefix,
    )
    how = "attachment" if request.query_params.get("download") else "inline"
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'{how}; filename="coverage-report.html"',
            "Content-Security-Policy": SANDBOX,
            "Cache-Control": "no-store",
        },
    )


def coverage_query_without(request: Request, *names: str) -> CoverageQuery:
    """The query's coverage parameters but ``names`` (the page's own)."""
    params = query_dict(request, repeatable=REPEATABLE)
    return CoverageQuery.model_validate({k: v for k, v in params.items() if k not in names})


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
    scope = await _scope(request)
    return _geojson(await service_of(request).gaps_geojson(coverage_query(request), scope))


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
    scope = await _scope(request)
    query = HeatQuery.model_validate(query_dict(request, repeatable=REPEATABLE))
    return _geojson(await service_of(request).heatmap_geojson(query, scope))


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
    scope = await _scope(request)
    query = coverage_query(request)
    targets = targets_of(request)
    found = await service_of(request).indicators(query.level, targets, query, scope)
    areas = [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "indicators": [asdict(i) | {"met": i.met, "status": i.status} for i in a.indicators],
        }
        for a in found
    ]
    return JSONResponse(
        {
            "level": str(query.level),
            "targets": targets.model_dump(),
            "definitions": DEFINITIONS,
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
    optional_body:
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
      400: {description: "Invalid request, with a reason"}
      401: {description: Not signed in}
      403: {description: "Not a planner or admin, or missing CSRF token"}
    """
    result = await _siting(request)
    return JSONResponse(result.as_json())


async def _siting(request: Request) -> siting_mod.SitingResult:
    scope = await _scope(request)
    body = siting_mod.SitingRequest.model_validate(await json_body(request))
    return await siting_mod.plan(service_of(request), access_of(request), body, scope)


async def siting_export(request: Request) -> Response:
    """
    summary: Recommended sites as GeoJSON or CSV (planner or admin)
    description: The same request body as `POST /api/v1/siting`; the sites as a file.
    responses:
      200: {description: "GeoJSON points (rank, adds, community) or CSV rows"}
      400: {description: "Invalid request, with a reason"}
      401: {description: Not signed in}
      403: {description: "Not a planner or admin, or missing CSRF token"}
    """
    result = await _siting(request)
    return siting_file(result, "csv" if request.url.path.endswith(".csv") else "geojson")


def siting_file(result: siting_mod.SitingResult, fmt: str) -> Response:
    if fmt == "csv":
        return csv_file(siting_mod.sites_csv(result), "sites.csv")
    return JSONResponse(
        siting_mod.sites_geojson(result),
        media_type="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="sites.geojson"'},
    )


async def access(request: Request) -> Response:
    """
    summary: Access beyond distance per area (planner or admin)
    description: >
      Per area of `level`: capacity-weighted access by E2SFCA (Luo & Qi 2009; supply per
      1,000 residents, with supply = weekly open hours, listed capacity or bookable seats a
      week; straight-line catchment `catchment_m` with step weights 1, 0.68, 0.22 on its
      thirds), the share of residents with no supply in reach, the share within `radius_m`
      of a service open after 18:00 or at weekends, and the median days to the next free
      slot of bookable services (counts only), from the server's clock.
    parameters:
      - {name: level, in: query, schema: {type: string, enum: [city, district, street, community]}}
      - {name: supply, in: query, schema: {type: string, enum: [hours, capacity, seats]}}
      - {name: catchment_m, in: query, schema: {type: number, default: 1000, maximum: 20000}}
      - {name: radius_m, in: query, schema: {type: number, default: 500}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
    responses:
      200: {description: "{level, supply, unit, catchment_m, totals, areas: [...]}"}
      400: {description: "Invalid parameter, with a reason"}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    scope = await _scope(request)
    found = await access_report(request, access_query(request), scope)
    return JSONResponse({**access_mod.report_json(found), "dataset": await synthetic_label()})


async def access_cells(request: Request) -> Response:
    """
    summary: E2SFCA access per demand point (grid cell) as CSV (planner or admin)
    parameters:
      - {name: supply, in: query, schema: {type: string, enum: [hours, capacity, seats]}}
      - {name: catchment_m, in: query, schema: {type: number, default: 1000}}
    responses:
      200: {description: "CSV: lon, lat, area, population, access per 1,000 residents"}
      400: {description: Invalid parameter}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    scope = await _scope(request)
    found = await access_report(request, access_query(request), scope)
    return csv_file(access_mod.cells_csv(found), "access-cells.csv")


async def indicators_export(request: Request) -> Response:
    """
    summary: The indicator matrix as CSV or XLSX (planner or admin)
    parameters:
      - {name: level, in: query, schema: {type: string, enum: [city, district, street, community]}}
    responses:
      200: {description: "CSV: one row per area and indicator; XLSX: matrix, detail, sources"}
      400: {description: Invalid parameter}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    scope = await _scope(request)
    query = coverage_query(request)
    found = await service_of(request).indicators(query.level, targets_of(request), query, scope)
    name = f"indicators-{query.level.value}"
    title = planning_text.indicators_title(query.level)
    if scope is not None:  # whose areas the file holds
        name, title = f"{name}-{scope.code}", f"{title} · {scope.name} {scope.code}"
    # Worded as the page it was downloaded from (its lang): labels, definitions, areas.
    texts = planning_text.indicator_texts()
    wording = Wording(
        labels={k: t["label"] for k, t in texts.items()},
        definitions={k: t["definition"] for k, t in texts.items()},
        area_names=await planning_text.area_names(),
        words=planning_text.export_words(),
    )
    if request.url.path.endswith(".xlsx"):
        return Response(
            indicators_xlsx(found, title=title, wording=wording),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return csv_file(indicators_csv(found, wording), f"{name}.csv")
