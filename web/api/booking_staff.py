"""Staff booking API: bookings of their own services, booking rules, blocked time; counts
for planners."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.booking import staff
from resourcemap.booking.desk import Desk
from resourcemap.booking.requests import BookingIn, CancelIn
from resourcemap.errors import InvalidInput
from resourcemap.vocab import BookingStatus, Role
from web import auth, clock
from web.params import date_param, int_param, json_body


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


async def list_bookings(request: Request) -> Response:
    """
    summary: Bookings of my services (staff, admin)
    description: A day or week list; contact details masked.
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: days, in: query, schema: {type: integer, minimum: 1, maximum: 31, default: 1}}
      - {name: resource, in: query, schema: {type: integer}}
    responses:
      200: {description: "{items}"}
      401: {description: Not signed in}
      403: {description: Not staff}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    desk = _desk(request)
    first = date_param(request, "from", clock.now(request).astimezone(desk.tz).date())
    days = int_param(request, "days", 1, 1, staff.MAX_LIST_DAYS)
    raw = request.query_params.get("resource")
    resource_id = int_param(request, "resource", 0, 1, 999_999_999) if raw else None
    items = await desk.staff_list(actor, first_day=first, days=days, resource_id=resource_id)
    return JSONResponse(
        {
            "from": first.isoformat(),
            "days": days,
            "items": [item.model_dump(mode="json") for item in items],
        }
    )


async def create_booking(request: Request) -> Response:
    """
    summary: Book for a caller or a walk-in visitor (staff, admin)
    description: Channel `phone` or `walk_in`; no minimum notice.
    security: [{bearer: []}, {session: []}]
    body: BookingIn
    responses:
      201: {description: "{code, token, booking}"}
      400: {description: Invalid field}
      404: {description: Not one of my services}
      409: {description: Slot full or closed}
    """
    actor, data = await auth.staff_with_body(request, BookingIn)
    desk = _desk(request)
    issued = await desk.staff_book(actor, data, now=clock.now(request))
    return JSONResponse(
        {
            "code": issued.code,
            "token": issued.token,
            "booking": (await desk.staff_receipt(actor, issued)).model_dump(mode="json"),
        },
        status_code=201,
    )


async def cancel_booking(request: Request) -> Response:
    """
    summary: Cancel a booking with a reason the resident is told (staff, admin)
    security: [{bearer: []}, {session: []}]
    body: CancelIn
    responses:
      200: {description: "The booking, masked"}
      404: {description: Not a booking of my services}
      409: {description: Already cancelled}
    """
    actor, data = await auth.staff_with_body(request, CancelIn)
    desk = _desk(request)
    booking = await desk.staff_cancel(
        actor, request.path_params["id"], data.reason, now=clock.now(request)
    )
    return JSONResponse(booking.model_dump(mode="json"))


async def mark_booking(request: Request) -> Response:
    """
    summary: Mark a booking attended or no-show (staff, admin)
    security: [{bearer: []}, {session: []}]
    body:
      type: object
      required: [status]
      properties: {status: {type: string, enum: [attended, no_show]}}
    responses:
      200: {description: "The booking, masked"}
      404: {description: Not a booking of my services}
      409: {description: "Not started yet, or cancelled"}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    body = await json_body(request)
    value = body.get("status")
    if value not in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise InvalidInput("status must be attended or no_show", field="status")
    desk = _desk(request)
    booking = await desk.mark(
        actor, request.path_params["id"], BookingStatus(value), now=clock.now(request)
    )
    return JSONResponse(booking.model_dump(mode="json"))


async def reveal_contact(request: Request) -> Response:
    """
    summary: Show one booking's contact details in full (staff, admin; audited)
    security: [{bearer: []}, {session: []}]
    responses:
      200: {description: "{id, nickname, phone, email, note}"}
      404: {description: Not a booking of my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    shown = await _desk(request).reveal(actor, request.path_params["id"])
    return JSONResponse(
        shown.model_dump(mode="json")
    )  # never cached, like every answer (web.middleware)


async def get_policy(request: Request) -> Response:
    """
    summary: A resource's booking rules (staff, admin)
    security: [{bearer: []}, {session: []}]
    responses:
      200: {description: The rules; enabled false when it takes no bookings}
      404: {description: Not one of my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    policy = await staff.get_policy(actor, request.path_params["id"])
    return JSONResponse(policy.model_dump(mode="json"))


async def put_policy(request: Request) -> Response:
    """
    summary: Set a resource's booking rules (staff, admin)
    security: [{bearer: []}, {session: []}]
    body: PolicyIn
    responses:
      200: {description: The rules}
      400: {description: Invalid field}
      404: {description: Not one of my services}
    """
    actor, data = await auth.staff_with_body(request, staff.PolicyIn)
    policy = await staff.set_policy(actor, request.path_params["id"], data)
    return JSONResponse(policy.model_dump(mode="json"))


async def add_block(request: Request) -> Response:
    """
    summary: Block time so that no slot in it can be booked (staff, admin)
    security: [{bearer: []}, {session: []}]
    body: BlockIn
    responses:
      201: {description: The block}
      400: {description: Invalid field}
      404: {description: Not one of my services}
    """
    actor, data = await auth.staff_with_body(request, staff.BlockIn)
    block = await staff.add_block(actor, request.path_params["id"], data)
    return JSONResponse(block.model_dump(mode="json"), status_code=201)


async def remove_block(request: Request) -> Response:
    """
    summary: Remove blocked time (staff, admin)
    security: [{bearer: []}, {session: []}]
    responses:
      204: {description: Removed}
      404: {description: No such block among my services}
    """
    actor = await auth.require(request, Role.STAFF, Role.ADMIN)
    await staff.remove_block(actor, request.path_params["id"])
    return Response(status_code=204)


async def booking_stats(request: Request) -> Response:
    """
    summary: Booking counts per resource by status and channel (planner, admin, staff)
    description: Counts only, never who booked. Staff see their own services.
    security: [{bearer: []}, {session: []}]
    parameters:
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: days, in: query, schema: {type: integer, minimum: 1, maximum: 366, default: 30}}
    responses:
      200: {description: "{total, resources: [{resource_id, by_status, by_channel}]}"}
      401: {description: Not signed in}
    """
    actor = await auth.require(request, Role.PLANNER, Role.ADMIN, Role.STAFF)
    desk = _desk(request)
    first = date_param(request, "from", clock.now(request).astimezone(desk.tz).date())
    days = int_param(request, "days", 30, 1, 366)
    counts = await desk.stats(actor, first_day=first, days=days)
    return JSONResponse(counts.model_dump(mode="json"))
