"""Planners' background jobs (#22): start coverage of the demand dataset, watch it run, read
its table. The page refreshes itself while the job runs (no script needed)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resourcemap.planning import jobs
from resourcemap.planning.coverage import CoverageQuery
from resourcemap.scope import scope_of
from web import clock, i18n
from web.api.planning import PLANNING
from web.pages.planning import text as planning_text
from web.pages.shell import Audience, page, render, switch_links

# Seconds between the page's own refreshes while its job runs.
REFRESH_SECONDS = 3


def _context(request: Request) -> dict[str, object]:
    return {
        "lang_links": switch_links(request, request.url_for("planning.jobs").path),
        "number": planning_text.number,
        "percent": planning_text.percent,
        "metres": planning_text.metres,
        "when": planning_text.when,
        "lang_qs": urlencode([("lang", i18n.current().tag)]),
    }


@page(Audience.PLANNING, *PLANNING)
async def jobs_page(request: Request) -> Response:
    settings = request.app.state.settings
    scope = await scope_of(request.state.principal)
    return await render(
        request,
        "planning/jobs.html",
        {
            **_context(request),
            "files": jobs.dataset_files(settings),
            "directory": jobs.dataset_directory(settings),
            "recent": [j.within(scope) for j in await jobs.recent()],
            "scope": scope,
            "tz": settings.tz,
        },
    )


@page(Audience.PLANNING, *PLANNING)
async def start_job(request: Request) -> Response:
    form = await request.form()
    principal = request.state.principal
    query = CoverageQuery.model_validate({k: form[k] for k in ("radius_m", "level") if form.get(k)})
    scope = await scope_of(principal)
    if scope is not None:
        scope.check_level(query.level)
    found = await jobs.submit(
        request.app.state.settings, query, by=principal.username, now=clock.now(request)
    )
    where = request.url_for("planning.job", id=found.id).path
    return RedirectResponse(f"{where}?{urlencode([('lang', i18n.current().tag)])}", 303)


@page(Audience.PLANNING, *PLANNING)
async def job_page(request: Request) -> Response:
    scope = await scope_of(request.state.principal)
    found = (await jobs.job(request.path_params["id"])).within(scope)
    rows = (
        sorted(found.outcome.rows, key=lambda r: r.covered - r.population) if found.outcome else []
    )
    return await render(
        request,
        "planning/job.html",
        {
            **_context(request),
            "job": found,
            "scope": scope,
            "rows": rows,
            "refresh": 0 if found.finished else REFRESH_SECONDS,
            "tz": request.app.state.settings.tz,
        },
    )
