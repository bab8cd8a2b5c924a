"""Referral API (#23): staff refer residents between services (the green channel); the
receiving service accepts and books or declines; the resident picks a time or declines
through their link; planners see counts only. Access is the domain's: staff see
referrals from and to their own services only."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.errors import InvalidInput
from resourcemap.referral.desk import ReferralDesk
from resourcemap.referral.requests import (
    AcceptIn,
    DeclineIn,
    OutcomeIn,
    PickIn,
    ReferralIn,
    SeatsIn,
)
from resourcemap.vocab import Role
from web import auth, clock
from web.api.answers import items, view
from web.params import date_param, int_param, json_body


def desk(request: Request) -> ReferralDesk:
    found: ReferralDesk = request.app.state.referrals
    return found


def _token(request: Request) -> str:
    return request.query_params.get("token", "")


async def list_referrals(request: Request) -> Response:
    """
    summary: Referrals from or to my services (staff, admin)
    description: Newest first; contact details masked. `side` is `out` (we referred) or
      `in` (referred to us); without it, both.
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: side, in: query, schema: {type: string, enum: [in, out]}}
      - {name: status, in: query, schema: {type: string}}
    responses:
      200: {description: "{items: [referral]}"}
      401: {description: Not signed in}
      403: {description: Not staff}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    side = request.query_params.get("side") or None
    if side not in (None, "in", "out"):
        raise InvalidInput("side is in or out", field="side")
    found = await desk(request).listed(
        actor, side=side, status=request.query_params.get("status") or None
    )
    return items(found)


async def create_referral(request: Request) -> Response:
    """
    summary: Refer a resident to another service, with their consent (staff, admin)
    description: From one of my services. The contact is the minimum needed and stored
      encrypted; an urgent referral answers with numbers to call now (`call_now`).
    security: [{bearer: []}, {session: []}]
    body: ReferralIn
    responses:
      201: {description: "The referral, masked"}
      400: {description: "Invalid field (need not served by that service, no contact)"}
      404: {description: Not one of my services}
    """
    actor, data = await auth.staff_with_body(request, ReferralIn)
    made = await desk(request).create(actor, data, now=clock.now(request))
    return view(made, status_code=201)


async def candidates(request: Request) -> Response:
    """
    summary: Services to refer to for a need, those the resident can use first (staff, admin)
    description: Services whose kind, services and audiences answer the need. The nearest
      few whose kind the need names (a minors' guidance centre for `school_refusal`) lead,
      then the others nearest first (straight-line metres from the referring service,
      `distance_m`; phone services and area teams as if 2 km away), within 30 km. Places
      only for their own members (a school's students) are left out and counted as far as
      the list reaches (`members_only_left_out`); with `eligible=all` the nearest of them
      follow, marked `members_only`, with their `eligibility` and its note.
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: from, in: query, required: true, schema: {type: integer}}
      - {name: need, in: query, schema: {type: string}}
      - {name: eligible, in: query, schema: {type: string, enum: [all]}}
    responses:
      200: {description: "{items: [candidate], members_only_left_out}"}
      400: {description: Unknown need}
      404: {description: Not one of my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    from_id = int_param(request, "from", 0, 1, 2**31 - 1)
    if not from_id:
        raise InvalidInput("from: the service you refer from", field="from")
    eligible = request.query_params.get("eligible", "")
    if eligible not in ("", "all"):
        raise InvalidInput("eligible is all, or left out", field="eligible")
    found = await desk(request).candidates(
        actor, from_id, request.query_params.get("need", ""), members_only=eligible == "all"
    )
    return view(found)


async def get_referral(request: Request) -> Response:
    """
    summary: One referral (staff of either service, admin)
    description: The referring service sees the status and the answer, never the visit.
    security: [{bearer: []}, {session: []}]
    responses:
      200: {description: "The referral, masked"}
      404: {description: Not a referral of my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    found = await desk(request).get(actor, request.path_params["id"])
    return view(found)


async def accept(request: Request) -> Response:
    """
    summary: Accept a referral; book a referral seat or ask the resident to pick one
    description: With `starts_at`, books that slot's referral seat at once; without it, the
      resident gets one message with a link to pick a time (receiving staff, admin).
    security: [{bearer: []}, {session: []}]
    optional_body: AcceptIn
    responses:
      200: {description: The referral}
      404: {description: Not a referral to my services}
      409: {description: "Not sent any more (accepted or declined first), or no referral seat"}
    """
    actor, data = await auth.staff_with_body(request, AcceptIn)
    found = await desk(request).accept(
        actor, request.path_params["id"], data, now=clock.now(request)
    )
    return view(found)


async def book(request: Request) -> Response:
    """
    summary: Book an accepted referral into a referral seat (receiving staff, admin)
    security: [{bearer: []}, {session: []}]
    body: PickIn
    responses:
      200: {description: The referral}
      404: {description: Not a referral to my services}
      409: {description: "Not accepted, or the slot's referral seats are taken"}
    """
    actor, data = await auth.staff_with_body(request, PickIn)
    found = await desk(request).book(
        actor, request.path_params["id"], data.starts_at, now=clock.now(request)
    )
    return view(found)


async def decline(request: Request) -> Response:
    """
    summary: Decline a referral with a reason and a suggestion (receiving staff, admin)
    security: [{bearer: []}, {session: []}]
    body: DeclineIn
    responses:
      200: {description: The referral}
      404: {description: Not a referral to my services}
      409: {description: Accepted or declined already}
    """
    actor, data = await auth.staff_with_body(request, DeclineIn)
    found = await desk(request).decline(
        actor, request.path_params["id"], data, now=clock.now(request)
    )
    return view(found)


async def outcome(request: Request) -> Response:
    """
    summary: Record whether the resident came (receiving staff, admin)
    security: [{bearer: []}, {session: []}]
    body: OutcomeIn
    responses:
      200: {description: The referral}
      409: {description: "Not booked, or the visit has not begun"}
    """
    actor, data = await auth.staff_with_body(request, OutcomeIn)
    found = await desk(request).outcome(
        actor, request.path_params["id"], data.attended, now=clock.now(request)
    )
    return view(found)


async def close(request: Request) -> Response:
    """
    summary: Close a referral that has an outcome or was declined (staff of either service)
    security: [{bearer: []}, {session: []}]
    responses:
      200: {description: The referral}
      409: {description: "No outcome yet, or closed already"}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    found = await desk(request).close(actor, request.path_params["id"], now=clock.now(request))
    return view(found)


async def reveal(request: Request) -> Response:
    """
    summary: Show a referral's contact details and reason in full (receiving staff; audited)
    security: [{bearer: []}, {session: []}]
    responses:
      200: {description: "{id, nickname, phone, email, reason}"}
      404: {description: Not a referral to my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    shown = await desk(request).reveal(actor, request.path_params["id"])
    return view(shown)  # never cached, like every answer (web.middleware)


async def put_seats(request: Request) -> Response:
    """
    summary: Referral seats per slot of a bookable resource (staff, admin)
    description: Seats only a referral can take, on top of the public seats.
    security: [{bearer: []}, {session: []}]
    body: SeatsIn
    responses:
      200: {description: "{referral_seats}"}
      404: {description: Not one of my services}
      409: {description: The resource takes no bookings}
    """
    actor, data = await auth.staff_with_body(request, SeatsIn)
    count = await desk(request).set_seats(actor, request.path_params["id"], data.referral_seats)
    return JSONResponse({"referral_seats": count})


async def referral_slots(request: Request) -> Response:
    """
    summary: Slots with a free referral seat (staff, admin)
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: days, in: query, schema: {type: integer, minimum: 1, maximum: 31, default: 7}}
    responses:
      200: {description: "{items: [{starts_at, ends_at, free}]}"}
    """
    await auth.require(request, Role.STAFF, Role.ADMIN)
    d = desk(request)
    now = clock.now(request)
    first = date_param(request, "from", now.astimezone(d.ledger.tz).date())
    days = int_param(request, "days", 7, 1, 31)
    found = await d.slots(request.path_params["id"], first, days, now=now)
    return items(found)


async def referral_counts(request: Request) -> Response:
    """
    summary: Referral counts for planners (planner, admin)
    description: Per pair of service kinds and districts, counts and times from sent to
      attended; nothing under k = 5 referrals. Scoped to an area with `area`.
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: area, in: query, schema: {type: string}}
      - {name: days, in: query, schema: {type: integer, minimum: 1, maximum: 366, default: 90}}
    responses:
      200: {description: "{k, since, pairs, withheld}"}
      403: {description: Not a planner}
    """
    actor = await auth.require(request, Role.PLANNER, Role.ADMIN)
    days = int_param(request, "days", 90, 1, 366)
    since = clock.now(request) - dt.timedelta(days=days)
    found = await desk(request).counts(
        actor, since=since, area=request.query_params.get("area") or None
    )
    return view(found)


# ---------------------------------------------------------------------------- residents


async def resident_referral(request: Request) -> Response:
    """
    summary: My referral, through the link I was sent (code and token)
    parameters:
      - {name: token, in: query, required: true, schema: {type: string}}
    responses:
      200: {description: "Where I am referred, and whether I can pick a time or decline"}
      404: {description: No referral with this code and token}
    """
    found = await desk(request).resident_view(request.path_params["code"], _token(request))
    return view(found)  # never cached, like every answer (web.middleware)


async def resident_pick(request: Request) -> Response:
    """
    summary: Pick a time for my referral
    parameters:
      - {name: token, in: query, required: true, schema: {type: string}}
    body: PickIn
    responses:
      200: {description: "The referral, booked"}
      409: {description: "Nothing to pick, or the slot's referral seats are taken"}
    """
    data = PickIn.model_validate(await json_body(request))
    found = await desk(request).resident_pick(
        request.path_params["code"],
        _token(request),
        data.starts_at,
        now=clock.now(request),
        lang=data.lang or "",
    )
    return view(found)


async def resident_decline(request: Request) -> Response:
    """
    summary: Decline my referral
    parameters:
      - {name: token, in: query, required: true, schema: {type: string}}
    responses:
      200: {description: "The referral, declined"}
      409: {description: Booked or closed already}
    """
    found = await desk(request).resident_decline(
        request.path_params["code"], _token(request), now=clock.now(request)
    )
    return view(found)
