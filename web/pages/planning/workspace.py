"""Planner pages: the coverage map and table, access, the indicator matrix, and siting.

Server-rendered like the staff pages (same layout and sign-in), in the planner's language
(gettext). The map is a folium document that loads Leaflet from this app's ``/static``
only, shown in a sandboxed frame.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from geo.maps import SHARE_CLASSES, Assets, share_colour
from geo.siting import MAX_SITES
from resourcemap.errors import InvalidInput
from resourcemap.planning import siting as siting_mod
from resourcemap.planning.access import UNITS, SupplyMeasure
from resourcemap.planning.area_places import (
    Place,
    PlacedArea,
    above_shared,
    area_places,
    shared_parents,
)
from resourcemap.planning.coverage import DEFAULT_KINDS, CoverageQuery
from resourcemap.planning.jobs import JobKind
from resourcemap.planning.levels import area_levels, table_level
from resourcemap.planning.report import counts_teams, map_html, summarise
from resourcemap.scope import AreaScope, scope_of
from resourcemap.vocab import AreaLevel, ResourceKind
from web import auth, i18n
from web.api.jobs import ask_for
from web.api.planning import (
    PLANNING,
    SANDBOX,
    access_of,
    access_query,
    access_report,
    coverage_query,
    coverage_query_without,
    service_of,
    siting_file,
    targets_of,
)
from web.compressed import compressed
from web.i18n import _
from web.pages.planning import text as planning_text
from web.pages.shell import Audience, page, render


async def _scope(request: Request) -> AreaScope | None:
    """The area the signed-in account is kept to (#20): every figure on these pages is cut
    to it by the domain."""
    return await scope_of(request.state.principal)


Query = TypeVar("Query", bound=CoverageQuery)


async def _where(codes: Iterable[str]) -> dict[str, Any]:
    """Where a table's areas are, in the reader's language: a province repeats community
    names. What every row shares is said once above the table; each row names the rest."""
    places = await area_places()
    placed = {c: PlacedArea(c, places[c]) for c in codes if c in places}
    shared = shared_parents(list(placed.values()))

    def place(code: str, name: str) -> PlacedArea:
        return placed.get(code) or PlacedArea(code, Place(name))

    return {
        "place": place,
        "shared": shared,
        "above": functools.partial(above_shared, shared=shared),
    }


async def _opened(request: Request, query: Query, scope: AreaScope | None) -> Query:
    """A page opened without a level shows one a planner can read down: a province's
    streets or districts, not its 22,000 communities (``levels.table_level``)."""
    if "level" in request.query_params:
        return query
    return query.model_copy(update={"level": await table_level(scope)})


async def render_planning(
    request: Request,
    name: str,
    context: dict[str, Any],
    scope: AreaScope | None,
    status: int = 200,
) -> Response:
    """``shell.render`` with what every planning page shows (the jobs pages too)."""
    extras = {
        # A page answering a form switches language at the siting page it belongs to.
        "get_url": request.url_for("planning.siting").path,
        "level_labels": level_labels(scope, await area_levels()),
        "scope": scope,
        "kinds": [(k.value, planning_text.kind_label(k)) for k in ResourceKind],
        "percent": planning_text.percent,
        "share": planning_text.share,
        "metres": planning_text.metres,
        # Links to exports and other pages carry the page's language.
        "lang_qs": urlencode([("lang", i18n.current().tag)]),
    }
    return await render(request, name, {**extras, **context}, status)


async def submit_job(request: Request, kind: JobKind, query: CoverageQuery) -> Response:
    """Queue a planner job (or find the one that already answers it) and go to its page."""
    found = await ask_for(request, request.state.principal, kind, query)
    where = request.url_for("planning.job", id=found.id).path
    return RedirectResponse(f"{where}?{urlencode([('lang', i18n.current().tag)])}", 303)


def level_labels(scope: AreaScope | None, present: list[AreaLevel]) -> dict[AreaLevel, str]:
    """The levels to choose from: those the stored areas have (a city loaded from district
    boundaries has no streets), and for an account kept to an area, its level and below."""
    labels = {
        AreaLevel.CITY: _("City"),
        AreaLevel.DISTRICT: _("District"),
        AreaLevel.STREET: _("Street"),
        AreaLevel.COMMUNITY: _("Community"),
    }
    top = 0 if scope is None else scope.level.depth
    return {
        level: label
        for level, label in labels.items()
        if level.depth >= top and (level in present or not present)
    }


def _query_string(query: CoverageQuery, **extra: str) -> str:
    params: list[tuple[str, str]] = [
        ("radius_m", f"{query.radius_m:g}"),
        ("level", query.level.value),
    ]
    params += [("kind", k.value) for k in query.kind or ()]
    params += [("service", s.value) for s in query.service or ()]
    if query.demand:
        params.append(("demand", query.demand))
    if query.mode != "straight":
        params.append(("mode", query.mode))
    params += [(k, v) for k, v in extra.items()]
    return urlencode(params)


@page(Audience.PLANNING, *PLANNING)
async def coverage_page(request: Request) -> Response:
    scope = await _scope(request)
    query = await _opened(request, coverage_query(request), scope)
    service = service_of(request)
    analysis = await service.analyse(query, scope=scope)
    # Most residents outside the circle first: where a planner looks. The rows are the
    # analysis's own, exact (the API's GeoJSON rounds them for a file): the page rounds
    # each figure once, as the report and the map do.
    rows = sorted(analysis.table(), key=lambda r: -r.uncovered)
    mode = _("walking") if query.mode == "walking" else _("straight-line")
    return await render_planning(
        request,
        "planning/coverage.html",
        {
            "query": query,
            "chosen_kinds": {k.value for k in (query.kind or DEFAULT_KINDS)},
            "rows": rows,
            **await _where(r.code for r in rows),
            "summary": summarise(analysis),
            "covered_means": planning_text.covered_means(counts_teams(query))
            % {"radius": planning_text.metres(query.radius_m), "mode": mode},
            "counted": planning_text.counted_points(analysis.resources, query.eligibility),
            "qs": _query_string(query),
            "walking_ready": bool(request.app.state.settings.streets_file),
            "classes": SHARE_CLASSES,
            "colour": share_colour,
        },
        scope,
    )


@page(Audience.PLANNING, *PLANNING)
async def coverage_map_page(request: Request) -> Response:
    return await _map_document(request, coverage_query(request), await _scope(request))


async def _map_document(
    request: Request,
    query: CoverageQuery,
    scope: AreaScope | None,
    sites: list[dict[str, Any]] | None = None,
) -> Response:
    """A folium map as a document of its own, under the sandbox policy: a frame's
    ``srcdoc`` would inherit its page's policy, which refuses folium's inline scripts."""
    settings = request.app.state.settings
    page, _analysis = await map_html(
        service_of(request),
        query,
        Assets(),
        text=planning_text.map_text(await planning_text.area_names()),
        tile_url=settings.tile_url,
        attribution=settings.tile_attribution,
        prefix=settings.map_attribution_prefix,
        sites=sites,
        scope=scope,
    )
    # Compressed: a province's map is megabytes, and it carries no token for BREACH to read.
    return await compressed(
        request,
        page.encode(),
        "text/html; charset=utf-8",
        {"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": SANDBOX},
    )


@page(Audience.PLANNING, *PLANNING)
async def indicators_page(request: Request) -> Response:
    scope = await _scope(request)
    query = await _opened(request, coverage_query(request), scope)
    targets = targets_of(request)
    found = await service_of(request).indicators(query.level, targets, query, scope)
    keys = [i.key for i in found[0].indicators] if found else []
    met = {k: sum(1 for a in found for i in a.indicators if i.key == k and i.met) for k in keys}
    # A share of one thing is "yes" or "no" (the district's hotline, seen from a street):
    # said so only where the whole column is, lest "yes" stand beside "100%".
    yes_no = {
        k
        for k in keys
        if all(i.unit == "share" and i.denominator <= 1 for a in found for i in a.indicators
               if i.key == k)
    }  # fmt: skip
    return await render_planning(
        request,
        "planning/indicators.html",
        {
            "query": query,
            "areas": found,
            **await _where(a.code for a in found),
            "keys": keys,
            "met": met,
            "yes_no": yes_no,
            "texts": planning_text.indicator_texts(),
            "status_words": planning_text.status_words(),
            "qs": _query_string(query),
        },
        scope,
    )


@page(Audience.PLANNING, *PLANNING)
async def access_page(request: Request) -> Response:
    scope = await _scope(request)
    query = await _opened(request, access_query(request), scope)
    report = await access_report(request, query, scope)
    return await render_planning(
        request,
        "planning/access.html",
        {
            "query": query,
            "report": report,
            **await _where(r.code for r in report.rows),
            "measures": [(m.value, supply_label(m)) for m in SupplyMeasure],
            "unit": supply_label(query.supply),
            "counted": planning_text.counted_points(report.services, query.eligibility),
            "now_label": planning_text.when(report.now.astimezone(request.app.state.settings.tz)),
            "qs": urlencode(
                [
                    ("level", query.level.value),
                    ("supply", query.supply.value),
                    ("catchment_m", f"{query.catchment_m:g}"),
                    ("radius_m", f"{query.radius_m:g}"),
                ]
            ),
        },
        scope,
    )


def supply_label(measure: SupplyMeasure) -> str:
    assert measure in UNITS
    return {
        SupplyMeasure.HOURS: _("weekly open hours"),
        SupplyMeasure.CAPACITY: _("places (listed capacity)"),
        SupplyMeasure.SEATS: _("bookable seats a week"),
    }[measure]


SITING_DEFAULTS = {"sites": 3, "radius_m": 500, "objective": "circle", "candidates": "communities"}


@page(Audience.PLANNING, *PLANNING)
async def siting_form(request: Request) -> Response:
    form: dict[str, Any] = dict(SITING_DEFAULTS)
    if AreaLevel.COMMUNITY not in await area_levels():
        form["candidates"] = "grid"  # no community centres to offer where areas stop above
    return await render_planning(
        request, "planning/siting.html", {"form": form, "plan": None}, await _scope(request)
    )


@page(Audience.PLANNING, *PLANNING)
async def siting_run(request: Request) -> Response:
    scope = await _scope(request)
    async with request.form(max_files=1, max_fields=40) as form:  # closes the upload
        return await _siting_run(request, form, scope)


async def _siting_run(request: Request, form: FormData, scope: AreaScope | None) -> Response:
    skip = (auth.CSRF_FIELD, "candidate_file", "candidate_sites", "export", "lang", "background")
    values: dict[str, Any] = {
        k: str(v) for k, v in form.items() if k not in skip and isinstance(v, str) and v
    }
    context: dict[str, Any] = {"form": {**SITING_DEFAULTS, **values}, "plan": None}
    upload = form.get("candidate_file")
    kept = str(form.get("candidate_sites") or "")
    try:
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read(siting_mod.MAX_UPLOAD_BYTES + 1)
            values["candidates"] = siting_mod.parse_candidates(data, upload.filename)
        elif kept:  # sites uploaded earlier, sent back by the export buttons
            values["candidates"] = siting_mod.parse_candidates(kept.encode(), "sites.json")
        elif values.get("candidates") in ("upload", "given"):
            raise InvalidInput(_("Choose a file of candidate sites."), field="candidate_file")
        if isinstance(values.get("candidates"), list):
            context["form"]["candidates"] = "upload"
            context["candidate_json"] = json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(p)}}
                        for p in values["candidates"]
                    ],
                }
            )
        body = siting_mod.SitingRequest.model_validate(values)
        if form.get("background"):
            return await submit_job(request, JobKind.SITING, body)
        plan = await siting_mod.plan(service_of(request), access_of(request), body, scope)
    except ValidationError as exc:
        context["error"] = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        return await render_planning(request, "planning/siting.html", context, scope, 400)
    except InvalidInput as exc:
        # In the page's language where it is said in it; else as the domain said it: a
        # file's row and column are worth more to a planner than "please check".
        context["error"] = i18n.sentence(i18n.said(exc.said))
        return await render_planning(request, "planning/siting.html", context, scope, 400)
    export = str(form.get("export") or "")
    if export in ("geojson", "csv"):
        return siting_file(plan, export)
    # The map is its own document (GET, with the sites in its address) so that it gets the
    # sandbox's policy: a srcdoc frame inherits this page's, which refuses folium's scripts.
    sites = [
        MapSite(rank=s.rank, lon=s.lon, lat=s.lat, adds=s.adds, community_name=s.community_name)
        for s in plan.sites
    ]
    fields = set(CoverageQuery.model_fields)
    # The map of the areas at the level the coverage page opens at: the default
    # (communities) drew nothing, and failed, where the areas stop at districts.
    coverage = CoverageQuery.model_validate(body.model_dump(include=fields)).model_copy(
        update={"level": await table_level(scope)}
    )
    map_url = "/planning/siting/map?" + _query_string(
        coverage, sites=SITES.dump_json(sites).decode(), lang=i18n.current().tag
    )
    context.update(plan=plan, map_url=map_url)
    return await render_planning(request, "planning/siting.html", context, scope)


class MapSite(BaseModel):
    """A recommended site as the siting map draws it."""

    model_config = ConfigDict(extra="forbid")
    rank: int = Field(ge=1, le=MAX_SITES)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    adds: float = Field(ge=0)
    community_name: str | None = Field(None, max_length=200)


SITES = TypeAdapter(list[MapSite])


@page(Audience.PLANNING, *PLANNING)
async def siting_map_page(request: Request) -> Response:
    """The siting map alone, for the siting page's frame: the coverage of the query with the
    recommended sites it is given drawn over it."""
    try:
        sites = SITES.validate_json(request.query_params.get("sites") or "[]")
    except ValidationError:
        raise InvalidInput(_("The sites to draw are not readable."), field="sites") from None
    if len(sites) > MAX_SITES:
        raise InvalidInput(_("Too many sites to draw."), field="sites")
    query = coverage_query_without(request, "sites")
    sites_drawn = [site.model_dump() for site in sites]
    return await _map_document(request, query, await _scope(request), sites_drawn)
