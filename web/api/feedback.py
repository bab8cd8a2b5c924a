"""Feedback API (#23): the anonymous form after a visit, a service's own aggregates, and
planners' aggregates (nothing under k = 5 answers)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.feedback.answers import FeedbackIn
from resourcemap.vocab import Role
from web import auth, clock
from web.api.referral import desk
from web.params import json_body


async def form(request: Request) -> Response:
    """
    summary: The feedback form behind a link (the service's name only)
    responses:
      200: {description: "{name_zh, name_en}"}
      404: {description: Used already or expired}
    """
    found = await desk(request).feedback_form(request.path_params["token"], now=clock.now(request))
    return JSONResponse(found.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


async def submit(request: Request) -> Response:
    """
    summary: Answer the feedback form, anonymously (once per visit)
    body: FeedbackIn
    responses:
      204: {description: Thank you}
      400: {description: A score outside 1-5}
      404: {description: Used already or expired}
    """
    data = FeedbackIn.model_validate(await json_body(request))
    await desk(request).feedback_submit(request.path_params["token"], data, now=clock.now(request))
    return Response(status_code=204)


async def for_service(request: Request) -> Response:
    """
    summary: A service's own feedback (its staff, admin)
    description: Averages of every answer and the comments released (weekly batches of at
      least five; smaller batches are dropped).
    security: [{bearer: []}, {session: []}]
    responses:
      200: {description: "{resource_id, scores, comments}"}
      404: {description: Not one of my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    found = await desk(request).feedback_for_service(actor, request.path_params["id"])
    return JSONResponse(found.model_dump(mode="json"))


async def for_planners(request: Request) -> Response:
    """
    summary: Feedback per district and kind of service (planner, admin)
    description: Averages with the number of answers; groups under k = 5 answers withheld.
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: area, in: query, schema: {type: string}}
    responses:
      200: {description: "{k, groups, withheld}"}
      403: {description: Not a planner}
    """
    actor = await auth.require(request, Role.PLANNER, Role.ADMIN)
    found = await desk(request).feedback_for_planners(
        actor, area=request.query_params.get("area") or None
    )
    return JSONResponse(found.model_dump(mode="json"))
