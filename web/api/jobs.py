"""``/api/v1/jobs``: planners' background jobs (#22) — ask for one, follow it, fetch its
table. Planners and admins only; an account kept to an area sees only that area's rows."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from resourcemap.errors import NotFound
from resourcemap.planning import jobs
from resourcemap.planning.coverage import CoverageQuery
from resourcemap.scope import scope_of
from web import clock
from web.api.planning import PLANNING
from web.auth import require
from web.params import json_body


async def submit(request: Request) -> Response:
    """
    summary: Start coverage of the demand dataset in the background (planner or admin)
    description: >
      Coverage of the GeoParquet demand dataset (`RESOURCEMAP_DEMAND_DATASET`, e.g. a
      province's tens of millions of points) takes minutes: it runs as a job. The answer comes
      at once with the job's address; asking again while it is queued or running, or after it
      finished on the same data, returns the same job.
    optional_body:
      type: object
      properties:
        radius_m: {type: number, default: 500}
        level: {type: string, enum: [city, district, street, community]}
        kind: {type: array, items: {type: string}}
        eligibility: {type: string, enum: [public, all]}
    responses:
      202: {description: "The job (queued, running or done), with its address in Location"}
      400: {description: "Invalid request or no dataset, with a reason"}
      401: {description: Not signed in}
      403: {description: "Not a planner or admin, or a level above the account's area"}
    """
    principal = await require(request, *PLANNING)
    query = CoverageQuery.model_validate(await json_body(request))
    scope = await scope_of(principal)
    if scope is not None:
        scope.check_level(query.level)
    found = await jobs.submit(
        request.app.state.settings, query, by=principal.username, now=clock.now(request)
    )
    location = str(request.url_for("api.job", id=found.id))
    return JSONResponse(
        found.within(scope).as_json(), status_code=202, headers={"Location": location}
    )


async def recent(request: Request) -> Response:
    """
    summary: Recent background jobs (planner or admin)
    responses:
      200: {description: "The newest jobs first, each with state and progress"}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
    """
    scope = await scope_of(await require(request, *PLANNING))
    found = await jobs.recent(scope)
    return JSONResponse({"items": [j.within(scope).as_json() for j in found]})


async def job(request: Request) -> Response:
    """
    summary: One background job (planner or admin)
    description: >
      Its state (queued, running, done, failed), progress (files summed of all; null until
      known) and, when done, the totals and one row per area.
    responses:
      200: {description: The job}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
      404: {description: No such job}
    """
    scope = await scope_of(await require(request, *PLANNING))
    found = await jobs.job(request.path_params["id"])
    return JSONResponse(found.within(scope).as_json())


async def result_csv(request: Request) -> Response:
    """
    summary: A finished job's table as CSV (planner or admin)
    responses:
      200: {description: "One row per area", content: {text/csv: {}}}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
      404: {description: "No such job, or it has not finished"}
    """
    scope = await scope_of(await require(request, *PLANNING))
    found = (await jobs.job(request.path_params["id"])).within(scope)
    if found.outcome is None:
        raise NotFound(f"job {found.id} has no result yet ({found.state.value})")
    return PlainTextResponse(
        found.outcome.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="coverage-job-{found.id}.csv"'},
    )
