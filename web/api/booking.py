"""Residents' booking API: slots, bookings, waitlist. No account needed.

A booking is managed with its code and the secret token returned when it was made, sent as
the ``X-Booking-Token`` header or the ``token`` query parameter (the link in messages).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap.booking import slots
from resourcemap.booking.desk import Desk, Issued
from resourcemap.booking.requests import BookingIn, RescheduleIn, VerifyIn, normalise_code
from resourcemap.errors import InvalidInput
from web import clock
from web.limits import admitted, client_address
from web.params import date_param, int_param, json_body

MAX_DAYS = 92
IDEMPOTENCY_KEY_MAX = 200


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _token(request: Request) -> str:
    token = request.headers.get("x-booking-token") or request.query_params.get("token", "")
    if not token:
        raise InvalidInput("send the booking's token (X-Booking-Token header)", field="token")
    return token


async def list_slots(request: Request) -> Response:
    """
    summary: Bookable slots of a resource
    description: >
      Slots from the weekly hours, dated exceptions, public holidays and make-up days,
      closures, blocked time and the resource's booking rules (slot length, buffer, seats,
      minimum notice, horizon). Times carry the configured zone's offset. `remaining` is the
      number of free seats; a full slot (0) can be waited for.
    parameters:
      - {name: from, in: query, schema: {type: string, format: date},
         description: first local day (default today)}
      - {name: days, in: query, schema: {type: integer, minimum: 1, maximum: 92, default: 7}}
    responses:
      200: {description: "{resource_id, timezone, slots: [{starts_at, ends_at, remaining}]}"}
      404: {description: No such resource}
      409: {description: The resource takes no bookings online}
    """
    desk = _desk(request)
    now = clock.now(request)
    first = date_param(request, "from", now.astimezone(desk.tz).date())
    days = int_param(request, "days", 7, 1, MAX_DAYS)
    resource_id = request.path_params["id"]
    listed = await desk.slot_list(resource_id, first, days, now=now)
    return JSONResponse(
        {
            "resource_id": resource_id,
            "timezone": desk.tz.key,
            "from": first.isoformat(),
            "days": days,
            "slots": slots.serialise(listed, desk.tz),
        }
    )


async def create_booking(request: Request) -> Response:
    """
    summary: Book a slot
    description: >
      Send an `Idempotency-Key` header (any unique string, e.g. a UUID) so that a retried
      request returns the same booking instead of making a second one. Contact details are
      optional: a resident may book anonymously. The token in the answer is shown once per
      key; keep it to manage the booking. `lang` (`zh-CN` or `en`) makes the links in the
      resident's messages open the pages in that language.

      With the phone check on (`RESOURCEMAP_BOOKING_VERIFY=sms`) a phone number is required
      (400 naming `phone` without one), and the booking is answered with status `pending`:
      its seat is held until `booking.offer_expires_at` while a 6-digit code is texted to
      the phone; POST it to `/api/v1/bookings/{code}/verify` to confirm the booking. A hold
      that runs out frees the seat.
    parameters:
      - {name: Idempotency-Key, in: header, schema: {type: string, maxLength: 200}}
    body: BookingIn
    responses:
      201: {description: "{code, code_display, token, manage_url, booking}"}
      400: {description: "Invalid field, with a reason per field (`phone` when the phone
        check is on and none was given)"}
      404: {description: No such resource}
      409: {description: "The slot is full, closed, too soon or beyond the horizon"}
      429: {description: "Too many requests from this address or for this phone or e-mail, or
        as many upcoming bookings of this service as one holder may have; Retry-After says
        when to try again"}
    """
    key = _idempotency_key(request)
    data = BookingIn.model_validate(await json_body(request))
    desk = _desk(request)
    issued = await admitted(request, data, lambda: desk.earlier_booking(data, key))
    if issued is None:
        issued = await desk.book(
            data, now=clock.now(request), idempotency_key=key, address=client_address(request)
        )
    return await _booking_answer(desk, issued, status=201)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(
            f"Idempotency-Key must have 1 to {IDEMPOTENCY_KEY_MAX} characters",
            field="Idempotency-Key",
        )
    return key


def _replayed(issued: Issued) -> dict[str, str]:
    return {"Idempotent-Replayed": "true"} if issued.replayed else {}


async def _booking_answer(desk: Desk, issued: Issued, *, status: int) -> Response:
    receipt = await desk.receipt(issued)
    return JSONResponse(
        receipt.model_dump(mode="json"), status_code=status, headers=_replayed(issued)
    )


async def verify_booking(request: Request) -> Response:
    """
    summary: Confirm a booking with the code texted to its phone
    description: >
      Only with the phone check on (`RESOURCEMAP_BOOKING_VERIFY=sms`): a resident's new
      booking is `pending` and holds its seat until `booking.offer_expires_at`. Send the 6
      digits texted to its phone; the booking is then confirmed and its confirmation message
      sent. Each wrong code uses one of 5 tries; the 5th wrong code releases the seat (429,
      code `verify_attempts`). Confirming twice is harmless.
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    body: VerifyIn
    responses:
      200: {description: "The confirmed booking: {code, code_display, token, manage_url,
        booking}"}
      400: {description: "`verification_code` is not 6 digits, or not the code texted (the
        reason says how many tries are left)"}
      404: {description: No booking with this code and token}
      409: {description: "The hold ran out (code `hold_expired`): the seat is free again;
        book again"}
      429: {description: "The 5th wrong code: the seat was released (code
        `verify_attempts`); Retry-After says when to book again"}
    """
    token = _token(request)
    data = VerifyIn.model_validate(await json_body(request))
    desk = _desk(request)
    issued = await desk.verify(
        request.path_params["code"], token, data.verification_code, now=clock.now(request)
    )
    return await _booking_answer(desk, issued, status=200)


async def get_booking(request: Request) -> Response:
    """
    summary: A booking, for its holder
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    responses:
      200: {description: The booking}
      404: {description: No booking with this code and token}
    """
    booking = await _desk(request).booking(
        request.path_params["code"], _token(request), now=clock.now(request)
    )
    return JSONResponse(booking.model_dump(mode="json"))


async def cancel_booking(request: Request) -> Response:
    """
    summary: Cancel a booking
    description: Allowed until the resource's notice window; cancelling twice is harmless.
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    responses:
      200: {description: The cancelled booking}
      404: {description: No booking with this code and token}
      409: {description: Too close to the start to cancel online}
    """
    desk = _desk(request)
    booking = await desk.cancel(
        request.path_params["code"], _token(request), now=clock.now(request)
    )
    return JSONResponse(booking.model_dump(mode="json"))


async def reschedule_booking(request: Request) -> Response:
    """
    summary: Move a booking to another slot
    description: The old seat is freed only if the new one was taken, in one transaction.
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    body: RescheduleIn
    responses:
      200: {description: The moved booking}
      404: {description: No booking with this code and token}
      409: {description: "The new slot is full or closed, or too close to the start"}
    """
    token = _token(request)
    data = RescheduleIn.model_validate(await json_body(request))
    desk = _desk(request)
    booking = await desk.reschedule(
        request.path_params["code"], token, data.starts_at, now=clock.now(request)
    )
    return JSONResponse(booking.model_dump(mode="json"))


async def booking_ics(request: Request) -> Response:
    """
    summary: A booking as a calendar file
    description: An iCalendar event with a stable UID, so re-importing updates it.
    parameters:
      - {name: token, in: query, schema: {type: string}}
      - {name: lang, in: query, schema: {type: string, enum: [zh-CN, en]}}
    responses:
      200: {description: text/calendar, content: {text/calendar: {}}}
      404: {description: No booking with this code and token}
    """
    code = normalise_code(request.path_params["code"])
    english = request.query_params.get("lang", "").lower().startswith("en")
    body = await _desk(request).calendar(
        code, _token(request), now=clock.now(request), english=english
    )
    return Response(
        body,
        media_type="text/calendar",
        # It holds the manage link with its token: like every answer, never cached.
        headers={"Content-Disposition": f'attachment; filename="booking-{code}.ics"'},
    )


async def join_waitlist(request: Request) -> Response:
    """
    summary: Wait for a seat in a full slot
    description: >
      When a seat frees up it is held for the first resident waiting, who is told by text or
      e-mail (so one of them is required) and can accept it until the offer expires. Send an
      `Idempotency-Key` header so that a retried request returns the same place in line.
    parameters:
      - {name: Idempotency-Key, in: header, schema: {type: string, maxLength: 200}}
    body: BookingIn
    responses:
      201: {description: "{code, code_display, token, manage_url, entry}"}
      400: {description: Invalid field}
      409: {description: "No such slot, or it still has free seats"}
      429: {description: Too many requests from this address or for this phone or e-mail}
    """
    key = _idempotency_key(request)
    data = BookingIn.model_validate(await json_body(request))
    desk = _desk(request)
    issued = await admitted(request, data, lambda: desk.earlier_place(data, key))
    if issued is None:
        issued = await desk.join_waitlist(data, now=clock.now(request), idempotency_key=key)
    place = await desk.place_in_line(issued)
    return JSONResponse(place.model_dump(mode="json"), status_code=201, headers=_replayed(issued))


async def get_waitlist_entry(request: Request) -> Response:
    """
    summary: A waitlist entry, for its holder
    description: Position in line, or the seat on offer and until when.
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    responses:
      200: {description: The entry}
      404: {description: No entry with this code and token}
    """
    desk = _desk(request)
    await desk.expire_offers(clock.now(request))
    entry = await desk.waitlist_view(request.path_params["code"], _token(request))
    return JSONResponse(entry.model_dump(mode="json"))


async def accept_offer(request: Request) -> Response:
    """
    summary: Accept the seat offered to a waitlist entry
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    responses:
      201: {description: "The booking: {code, token, manage_url, booking}"}
      404: {description: No entry with this code and token}
      409: {description: "No seat on offer, or the offer expired"}
    """
    desk = _desk(request)
    issued = await desk.accept_offer(
        request.path_params["code"], _token(request), now=clock.now(request)
    )
    return await _booking_answer(desk, issued, status=201)


async def leave_waitlist(request: Request) -> Response:
    """
    summary: Leave the waitlist (declining any seat on offer)
    parameters:
      - {name: X-Booking-Token, in: header, schema: {type: string}}
      - {name: token, in: query, schema: {type: string}}
    responses:
      204: {description: Left}
      404: {description: No entry with this code and token}
    """
    desk = _desk(request)
    await desk.leave_waitlist(request.path_params["code"], _token(request), now=clock.now(request))
    return Response(status_code=204)
