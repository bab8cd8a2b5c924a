"""``/api/v1/jobs``: planners' background jobs (#22) — ask for one (coverage of the demand
dataset at ``/api/v1/jobs``, any kind at ``/api/v1/planning/jobs``), follow it, fetch its
table. Planners and admins only; an account kept to an area sees only that area's rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.accounts import Principal
from resourcemap.errors import NotFound
from resourcemap.planning import jobs
from resourcemap.planning.coverage import CoverageQuery
from resourcemap.scope import scope_of
from web import clock
from web.api.answers import csv_file
from web.api.planning import PLANNING
from web.auth import require
from web.params import json_body

# What a job's CSV is called, by kind.
FILES = {
    jobs.JobKind.DATASET_COVERAGE: "coverage",
    jobs.JobKind.ACCESS: "access",
    jobs.JobKind.SITING: "sites",
}


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
    return await _submitted(request, _dataset_coverage)


def _dataset_coverage(body: dict[str, Any]) -> tuple[jobs.JobKind, CoverageQuery]:
    return jobs.JobKind.DATASET_COVERAGE, CoverageQuery.model_validate(body)


class JobAsk(BaseModel):
    """A job of any kind, as ``POST /api/v1/planning/jobs`` asks for it."""

    model_config = ConfigDict(extra="forbid")
    kind: jobs.JobKind
    query: dict[str, object] = Field(default_factory=dict)


async def submit_kind(request: Request) -> Response:
    """
    summary: Start a planner job of any kind in the background (planner or admin)
    description: >
      `kind` is `dataset_coverage` (coverage of the demand dataset; `query` as for
      `POST /api/v1/jobs`), `access` (E2SFCA access per area; `query` as for
      `GET /api/v1/access`, without waiting times) or `siting` (recommended sites; `query` as
      for `POST /api/v1/siting`, planned in the area the account is kept to). The answer
      comes at once with the job's address; asking again for the same job on the same data
      returns the same job. Its result: `GET` the address; its table: `/result.csv` after it.
    body:
      type: object
      required: [kind]
      properties:
        kind: {type: string, enum: [dataset_coverage, access, siting]}
        query: {type: object, description: "the job's request, by kind (above)"}
    responses:
      202: {description: "The job, with its address in Location (its result once done)"}
      400:
        description: "An unknown kind, or a query that is not its kind's, with a reason"
      401: {description: Not signed in}
      403: {description: "Not a planner or admin, or a level above the account's area"}
    """
    return await _submitted(request, _any_kind)


def _any_kind(body: dict[str, Any]) -> tuple[jobs.JobKind, CoverageQuery]:
    ask = JobAsk.model_validate(body)
    return ask.kind, jobs.job_query(ask.kind, ask.query)


async def ask_for(
    request: Request, principal: Principal, kind: jobs.JobKind, query: CoverageQuery
) -> jobs.JobView:
    """Queue the job (or find the one that answers it) as the account sees it: the API's
    and the pages' one way in."""
    scope = await scope_of(principal)
    found = await jobs.submit(
        request.app.state.settings,
        query,
        by=principal.username,
        now=clock.now(request),
        kind=kind,
        scope=scope,
    )
    return found.within(scope)


async def _submitted(
    request: Request, read: Callable[[dict[str, Any]], tuple[jobs.JobKind, CoverageQuery]]
) -> Response:
    """Sign-in first, then the body (``read`` gives the kind and query), then the job."""
    principal = await require(request, *PLANNING)
    kind, query = read(await json_body(request))
    found = await ask_for(request, principal, kind, query)
    location = str(request.url_for("api.job", id=found.id))
    return JSONResponse(found.as_json(), status_code=202, headers={"Location": location})


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
      Its state (queued, running, done, failed), progress (steps done of all: files of the
      dataset, stages of access and siting; null until known) and, when done, its result:
      the totals and one row per area, or the recommended sites.
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
      200: {description: "One row per area, or per site", content: {text/csv: {}}}
      401: {description: Not signed in}
      403: {description: Not a planner or admin}
      404: {description: "No such job, or it has not finished"}
    """
    scope = await scope_of(await require(request, *PLANNING))
    found = (await jobs.job(request.path_params["id"])).within(scope)
    if found.outcome is None:
        raise NotFound(f"job {found.id} has no result yet ({found.state.value})")
    return csv_file(found.outcome.csv(), f"{FILES[found.kind]}-job-{found.id}.csv")
