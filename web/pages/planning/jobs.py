"""Planners' background jobs (#22): start coverage of the demand dataset (here), E2SFCA
access or siting (from their pages), watch a job run, read its table. The page refreshes
itself while the job runs (no script needed); a long table (a province's communities) is
read a page of rows at a time, worst first, and its CSV holds every row."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from resourcemap.errors import InvalidInput
from resourcemap.planning import jobs
from resourcemap.planning.access import AccessQuery
from resourcemap.planning.area_places import above_shared, shared_parents
from resourcemap.planning.job_outcomes import AccessOutcome, CoverageOutcome
from resourcemap.scope import scope_of
from resourcemap.vocab import AreaLevel
from web import i18n
from web.api.planning import PLANNING
from web.i18n import _
from web.pages.planning import text as planning_text
from web.pages.planning.workspace import level_labels, render_planning, submit_job, supply_label
from web.pages.shell import Audience, page
from web.params import int_param

# Seconds between the page's own refreshes while its job runs.
REFRESH_SECONDS = 3
# Rows of a job's table on one page (the CSV holds them all).
PAGE_ROWS = 50


def _context() -> dict[str, object]:
    """What the jobs pages show besides every planning page's."""
    return {"when": planning_text.when}


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
            "titles": kind_titles(),
            "levels": level_labels(None, list(AreaLevel)),
            # The provinces' tables read best by district; a street account starts at its own.
            "default_level": min(
                level_labels(scope, list(AreaLevel)), key=lambda lv: abs(lv.depth - 1)
            ),
            "tz": settings.tz,
        },
        scope,
    )


# The fields of the forms that start a job: coverage's (this page's) and access's (its page's).
FIELDS: dict[str, tuple[str, ...]] = {
    jobs.JobKind.DATASET_COVERAGE: ("radius_m", "level"),
    jobs.JobKind.ACCESS: ("radius_m", "level", "catchment_m", "supply", "demand", "mode"),
}
REPEATABLE = ("kind", "service")


@page(Audience.PLANNING, *PLANNING)
async def start_job(request: Request) -> Response:
    form = await request.form()
    kind = str(form.get("job_kind") or jobs.JobKind.DATASET_COVERAGE)
    if kind not in FIELDS:
        raise InvalidInput(_("Start this job from its own page."), field="job_kind")
    job_kind = jobs.JobKind(kind)
    values: dict[str, object] = {k: form[k] for k in FIELDS[job_kind] if form.get(k)}
    values |= {k: form.getlist(k) for k in REPEATABLE if form.getlist(k)}
    return await submit_job(request, job_kind, jobs.job_query(job_kind, values))


@page(Audience.PLANNING, *PLANNING)
async def job_page(request: Request) -> Response:
    scope = await scope_of(request.state.principal)
    found = (await jobs.job(request.path_params["id"])).within(scope)
    rows: list[Any] = []
    if isinstance(found.outcome, CoverageOutcome):
        # Most residents outside the circle first.
        rows = sorted(found.outcome.rows, key=lambda r: r.covered - r.population)
    elif isinstance(found.outcome, AccessOutcome):
        # Least access first; areas where nobody lives last.
        rows = sorted(found.outcome.rows, key=lambda r: (r.access is None, r.access or 0.0))
    elif found.outcome is not None:
        rows = list(found.outcome.rows)
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    number = min(int_param(request, "page", 1, 1, 10**6), pages)
    first = (number - 1) * PAGE_ROWS
    shared = shared_parents(rows)
    return await render_planning(
        request,
        "planning/job.html",
        {
            **_context(),
            "job": found,
            "level_label": level_labels(None, list(AreaLevel))[found.query.level],
            "rows": rows[first : first + PAGE_ROWS],
            "paging": {
                "page": number,
                "pages": pages,
                "first": first + 1,
                "last": min(first + PAGE_ROWS, len(rows)),
                "total": len(rows),
                "url": lambda n: f"?{urlencode([('page', n), ('lang', i18n.current().tag)])}",
            },
            # What every row shares is said once above the table; each row names the rest.
            "shared": shared,
            "above": functools.partial(above_shared, shared=shared),
            "refresh": 0 if found.finished else REFRESH_SECONDS,
            "titles": kind_titles(),
            "unit": _unit(found.query),
            "tz": request.app.state.settings.tz,
        },
        scope,
    )


def _unit(query: object) -> str:
    """What an access job's (or an access siting job's) services offer, in words."""
    return supply_label(query.supply) if isinstance(query, AccessQuery) else ""


def kind_titles() -> dict[str, str]:
    """What each kind of job is called on the pages."""
    return {
        jobs.JobKind.DATASET_COVERAGE.value: _("coverage of the demand dataset"),
        jobs.JobKind.ACCESS.value: _("access by E2SFCA"),
        jobs.JobKind.SITING.value: _("where to open new services"),
    }
