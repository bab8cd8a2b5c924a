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
from web.pages.planning.workspace import level_labels, render_planning
from web.pages.shell import Audience, page

# Seconds between the page's own refreshes while its job runs.
REFRESH_SECONDS = 3


def _context() -> dict[str, object]:
    """What the jobs pages show besides every planning page's."""
    return {
        "when": planning_text.when,
        "lang_qs": urlencode([("lang", i18n.current().tag)]),
    }


@page(Audience.PLANNING, *PLANNING)
async def jobs_page(request: Request) -> Response:
    settings = request.app.state.settings
    scope = await scope_of(request.state.principal)
    return await render_planning(
        request,
        "planning/jobs.html",
        {
            **_context(),
            "files": jobs.dataset_files(settings),
            "directory": jobs.dataset_directory(settings),
            "recent": [j.within(scope) for j in await jobs.recent(scope)],
            # The provinces' tables read best by district; a street account starts at its own.
            "default_level": min(level_labels(scope), key=lambda lv: abs(lv.depth - 1)),
            "tz": settings.tz,
        },
        scope,
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
    return await render_planning(
        request,
        "planning/job.html",
        {
            **_context(),
            "job": found,
            "level_label": level_labels(None)[found.query.level],
            "rows": rows,
            "refresh": 0 if found.finished else REFRESH_SECONDS,
            "tz": request.app.state.settings.tz,
        },
        scope,
    )
