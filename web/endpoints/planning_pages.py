"""Planner pages: the coverage map and table, the indicator dashboard, and siting.

Server-rendered like the staff pages (same layout and sign-in); the map is a folium
document that loads Leaflet from this app's ``/static`` only, shown in a frame.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from geo.maps import SHARE_STEPS, Assets, share_colour
from resourcemap.coverage import DEFAULT_KINDS, CoverageQuery, SitingRequest, coverage_geojson
from resourcemap.coverage_report import map_html
from resourcemap.dataset import synthetic_label
from resourcemap.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from resourcemap.vocab import KIND_INFO, AreaLevel, ResourceKind
from web import auth
from web.endpoints.coverage import PLANNING, coverage_query, service_of, targets_of

Endpoint = Callable[[Request], Awaitable[Response]]
LEVEL_LABELS = {
    AreaLevel.CITY: "市 City",
    AreaLevel.DISTRICT: "区 District",
    AreaLevel.STREET: "街道 Street",
    AreaLevel.COMMUNITY: "社区 Community",
}


def planner_page(handler: Endpoint) -> Endpoint:
    """Sign-in first (redirect), planners and admins only (403 page), bad input → 400 page."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            form_csrf = None
            if request.method == "POST":
                # Forms carry the session's CSRF token, like every staff form; the parsed
                # form is kept on the request for the handler.
                form_csrf = str((await request.form()).get(auth.CSRF_FIELD) or "")
            principal = await auth.require(request, form_csrf=form_csrf)
            request.state.principal = principal
            principal.require(*PLANNING)
            return await handler(request)
        except Unauthenticated:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        except Forbidden as exc:
            return await _render(request, "planning/problem.html", {"reason": exc.reason}, 403)
        except NotFound as exc:
            return await _render(request, "planning/problem.html", {"reason": exc.reason}, 404)
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            return await _render(request, "planning/problem.html", {"reason": reason}, 400)
        except DomainError as exc:
            return await _render(request, "planning/problem.html", {"reason": exc.reason}, 400)

    return wrapped


async def _render(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    base = {
        "principal": getattr(request.state, "principal", None),
        "role_labels": {"admin": "管理员", "staff": "工作人员", "planner": "规划人员"},
        "csrf_token": auth.csrf_token(request),
        "dataset_label": await synthetic_label(),
        "flash": None,
        "level_labels": LEVEL_LABELS,
        "kinds": [(k.value, KIND_INFO[k].label_zh) for k in ResourceKind],
    }
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _query_string(query: CoverageQuery) -> str:
    params: list[tuple[str, str]] = [
        ("radius_m", f"{query.radius_m:g}"),
        ("level", query.level.value),
    ]
    params += [("kind", k.value) for k in query.kind or ()]
    params += [("service", s.value) for s in query.service or ()]
    if query.demand:
        params.append(("demand", query.demand))
    return urlencode(params)


@planner_page
async def coverage_page(request: Request) -> Response:
    query = coverage_query(request)
    analysis = await service_of(request).analyse(query)
    fc = coverage_geojson(analysis)
    rows = [f["properties"] for f in fc["features"]]
    for row in rows:
        row["colour"] = share_colour(row["share"])
    qs = _query_string(query)
    return await _render(
        request,
        "planning/coverage.html",
        {
            "query": query,
            "chosen_kinds": {k.value for k in (query.kind or DEFAULT_KINDS)},
            "rows": rows,
            "totals": fc["totals"],
            "method": fc["method"],
            "qs": qs,
            "steps": SHARE_STEPS,
        },
    )


@planner_page
async def coverage_map_page(request: Request) -> Response:
    settings = request.app.state.settings
    page, _ = await map_html(
        service_of(request),
        coverage_query(request),
        Assets(),
        tile_url=settings.tile_url,
        attribution=settings.tile_attribution,
    )
    return HTMLResponse(page, headers={"X-Frame-Options": "SAMEORIGIN"})


@planner_page
async def indicators_page(request: Request) -> Response:
    query = coverage_query(request)
    targets = targets_of(request)
    found = await service_of(request).indicators(query.level, targets, query)
    return await _render(
        request,
        "planning/indicators.html",
        {"query": query, "areas": found, "targets": targets},
    )


@planner_page
async def siting_form(request: Request) -> Response:
    return await _render(
        request, "planning/siting.html", {"form": {"sites": 3, "radius_m": 500}, "plan": None}
    )


@planner_page
async def siting_run(request: Request) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != auth.CSRF_FIELD and str(v) != ""}
    try:
        body = SitingRequest.model_validate(values)
    except ValidationError as exc:
        reason = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        context = {"form": values, "plan": None, "error": reason}
        return await _render(request, "planning/siting.html", context, 400)
    service = service_of(request)
    try:
        plan = await service.siting(body)
    except InvalidInput as exc:
        context = {"form": values, "plan": None, "error": exc.reason}
        return await _render(request, "planning/siting.html", context, 400)
    settings = request.app.state.settings
    page, _ = await map_html(
        service,
        body,
        Assets(),
        tile_url=settings.tile_url,
        attribution=settings.tile_attribution,
        sites=plan["sites"],
    )
    return await _render(
        request, "planning/siting.html", {"form": values, "plan": plan, "map_doc": page}
    )
