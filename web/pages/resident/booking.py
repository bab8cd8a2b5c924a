# Over 400 lines: one thin handler per step a resident takes.
"""Residents' booking pages: pick a slot, book, manage (cancel, reschedule), the waitlist.

Plain POST forms that work without JavaScript, each with the browser's CSRF token
(``web.auth.csrf_ok``) and answered by a redirect (Post/Redirect/Get). The manage token is
in the URL of exactly one page per booking, the one residents bookmark and messages link to
(``/bookings/{code}?token=…``, as ``resourcemap.booking.desk`` writes it); every form that
acts on a booking carries it in a hidden field instead, and every page says
``Referrer-Policy: no-referrer``. Residents' details are never logged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resourcemap.booking.desk import Desk, Issued
from resourcemap.booking.requests import MOBILE_EXAMPLE, BookingIn, RescheduleIn
from resourcemap.booking.views import PlaceView
from resourcemap.errors import Conflict, InvalidInput, TooManyRequests
from resourcemap.feedback import invites
from resourcemap.vocab import SEAT_HOLDING, BookingStatus
from web import clock, forms, i18n
from web.i18n import _
from web.limits import admitted, client_address
from web.pages.resident import confirmation, phone_check
from web.pages.resident import view as resident_view
from web.pages.resident.search import back_query
from web.pages.shell import Audience, checked_form, page, render
from web.pages.shell import form_text as _text
from web.params import date_param

PICK_DAYS = 14
# The furthest a booking horizon reaches (staff set up to a year).
HORIZON_MAX_DAYS = 366
CONTACT = ("nickname", "phone", "email", "note")


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _moved_by_service() -> str:
    """Why a referral's booking is not moved online (its seat is a green-channel seat)."""
    return _(
        "This time was arranged through a referral, so only the service can move it. "
        "Please call the service."
    )


def _refusal(exc: Conflict) -> str:
    """Why a time cannot be booked, in the resident's language (by the desk's code)."""
    reasons = {
        "full": _("Sorry, this time has just been taken. Please choose another time."),
        "too_soon": _(
            "This time is too soon to book online. Please choose a later time or call the service."
        ),
        "too_far": _("Bookings for this time are not open yet. Please choose an earlier time."),
        "closed": _("The service is closed at this time. Please choose another time."),
        "overlap": _("This time overlaps another session. Please choose another time."),
        "change_window": _(
            "It is too close to the start to change online. Please call the service."
        ),
        "not_bookable": _("This service does not take bookings online. Please call it."),
        "referral": _moved_by_service(),
    }
    return reasons.get(
        exc.code or "",
        _("Sorry, this time cannot be booked now. Please choose another time."),
    )


def _too_many(exc: TooManyRequests) -> str:
    """Why a request was refused as one too many, and what helps: waiting a minute helps
    with a burst of requests, not with a cap on upcoming bookings (that lasts until one of
    them is cancelled or has passed: days)."""
    if exc.code == "booking_cap":
        return _(
            "This phone number or e-mail address already has as many upcoming bookings of "
            "this service as one person may hold. To book another time, cancel one of them "
            "on its booking page, or call the service."
        )
    if exc.code == "address_cap":
        return _(
            "Many upcoming bookings of this service were already made from this network. "
            "To book another time, cancel one of them on its booking page, or call the service."
        )
    # When it may succeed again, as the limit says (up to an hour for one contact's
    # requests): "wait a minute" sent a resident back to fail again and again.
    minutes = max(1, math.ceil(exc.retry_after / 60))
    return _(
        "Too many booking requests in a short time. Please try again in %(wait)s, or call "
        "the service.",
        wait=i18n.duration(minutes),
    )


def _phone_error(typed: str) -> str:
    """A refused phone number: the field, what was typed and what would do."""
    return _(
        "Mobile phone: “%(typed)s” cannot receive texts. Enter an 11-digit mobile number "
        "such as %(example)s; a Hong Kong or Macau number starts with +852 or +853. Texts "
        "go to these numbers only: with another, leave this empty and give an e-mail.",
        typed=typed.strip(),
        example=MOBILE_EXAMPLE,
    )


def _field_errors(exc: ValidationError, values: dict[str, str]) -> dict[str, str]:
    """Per-field messages from the catalogue, never the validator's English wording."""
    messages = {
        "phone": _phone_error(values.get("phone", "")),
        "email": _("Enter an e-mail address like name@example.com, or leave it empty."),
        "nickname": _("At most 40 characters."),
        "note": _("At most 500 characters."),
        "starts_at": _("Choose a time."),
    }
    return forms.field_errors(exc, messages)


def _with_start(path: str, start: str, day: str = "") -> str:
    """The GET form page for the chosen start or the day shown (where a language switch
    goes)."""
    query = {k: v for k, v in (("start", start), ("day", day)) if v}
    return f"{path}?{urlencode(query)}" if query else path


def _manage_url(kind: str, issued: Issued) -> str:
    # In the language it was made in: the address is what a resident bookmarks, and opened
    # later without the language cookie it came up in Chinese.
    query = urlencode({"token": issued.token, "lang": i18n.current().tag})
    return f"/{kind}/{issued.code}?{query}"


# --- picking a slot and booking -----------------------------------------------------------


async def _book_page(
    request: Request,
    resource: PlaceView,
    *,
    day: dt.date | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
    day_chosen: bool = False,
    problem_link: tuple[str, str] | None = None,
) -> Response:
    desk = _desk(request)
    now = clock.now(request)
    chosen_start = values.get("starts_at", "")
    if chosen_start:
        # The chosen time's day, over the day the form was showing (they are one, unless
        # a day's link was followed with a time kept in the address).
        with contextlib.suppress(ValueError, OverflowError):
            day = dt.datetime.fromisoformat(chosen_start).astimezone(desk.tz).date()
    window = await _window(desk, resource, day, now)
    days = window.days
    if day is None or not any(d.day == day for d in days):
        day = next((d.day for d in days if d.free), days[0].day if days else None)
    shown = next((d for d in days if d.day == day), None)
    values["day"] = shown.day.isoformat() if shown else ""
    context = {
        "resource": resource,
        "days": days,
        "window": window,
        "day": shown,
        "day_chosen": day_chosen,
        "values": values,
        "errors": errors or {},
        "problem": problem,
        "problem_link": problem_link,
        "just_booked": None if problem_link else await _just_booked(request, resource.id),
        "retention_days": request.app.state.settings.booking_retention_days,
        "policy": confirmation.policy(resource),
        "session": confirmation.session(resource, _minutes(days)),
        "phone_example": MOBILE_EXAMPLE,
        "get_url": _with_start(request.url.path, chosen_start, values["day"]),
        "verify_by_sms": request.app.state.settings.booking_verify == "sms",
    }
    return await _page(request, "resident/book.html", context, status)


@dataclass(frozen=True)
class SlotWindow:
    """Two weeks of a service's times, and where the weeks before and after begin: a
    booking horizon of 90 days showed only its first two weeks, and a make-up Saturday in
    February could not be booked until two weeks before."""

    days: list[resident_view.SlotDay]
    first: dt.date
    earlier: dt.date | None  # the window before (None: this one starts today)
    later: dt.date | None  # the first day after this window with a time, if any


async def _window(
    desk: Desk, resource: PlaceView, wanted: dt.date | None, now: dt.datetime
) -> SlotWindow:
    """The window of ``PICK_DAYS`` days from today that holds ``wanted`` (the first one
    without it)."""
    today = now.astimezone(desk.tz).date()
    ahead = None if wanted is None else (wanted - today).days
    # A day before today or beyond any horizon (9999-12-31 typed in): the first window.
    k = ahead // PICK_DAYS if ahead is not None and 0 <= ahead <= HORIZON_MAX_DAYS else 0
    first = today + dt.timedelta(days=k * PICK_DAYS)
    end = first + dt.timedelta(days=PICK_DAYS)
    # This window and the next: the next says whether there are later dates (a fortnight
    # with no time at all, such as a long closure, ends the dates offered).
    listed = await desk.slot_list(resource.id, first, 2 * PICK_DAYS, now=now)
    every = resident_view.slot_days(
        listed, desk.tz, now=now, change_notice_minutes=resource.change_notice_minutes
    )
    return SlotWindow(
        days=[d for d in every if d.day < end],
        first=first,
        earlier=first - dt.timedelta(days=PICK_DAYS) if k else None,
        later=next((d.day for d in every if d.day >= end), None),
    )


def _minutes(days: list[resident_view.SlotDay]) -> int | None:
    """How long a session is: its slots' length (one per service)."""
    first = next((s for d in days for s in d.slots), None)
    return None if first is None else int((first.ends - first.starts).total_seconds() // 60)


async def _page(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    """A page about one booking or seat: the crisis lines of the service's area first."""
    codes = frozenset(context["resource"].area_codes)
    return await render(request, name, context, status, area_codes=codes)


async def _resource(request: Request) -> PlaceView:
    return await _desk(request).place(request.path_params["id"])


@page(Audience.RESIDENT)
async def book_form(request: Request) -> Response:
    resource = await _resource(request)
    today = clock.now(request).astimezone(_desk(request).tz).date()
    day = date_param(request, "day", today) if request.query_params.get("day") else None
    values = dict.fromkeys(CONTACT, "") | {
        "starts_at": request.query_params.get("start", ""),
        "key": secrets.token_urlsafe(16),
        "back": back_query(request.query_params.get("back", "")),
    }
    return await _book_page(request, resource, day=day, values=values)


@page(Audience.RESIDENT)
async def book(request: Request) -> Response:
    form = await checked_form(request)
    resource = await _resource(request)
    values = {name: _text(form, name) for name in (*CONTACT, "starts_at", "key")}
    values["back"] = back_query(_text(form, "back"))  # the search it came from, kept
    # The day whose times the resident was looking at: an answer shows it again.
    day = resident_view.form_day(_text(form, "day"))
    if "show_day" in form:
        # A day's tab: that day's times, with what was typed kept (a link lost it), and
        # nothing booked. A time chosen on the day left is not carried over to it.
        values["starts_at"] = ""
        other_day = resident_view.form_day(_text(form, "show_day"))
        return await _book_page(request, resource, day=other_day, values=values, day_chosen=True)
    try:
        data = BookingIn.model_validate(
            {
                "resource_id": resource.id,
                "lang": i18n.current().tag,
                **{k: values[k] for k in (*CONTACT, "starts_at")},
            }
        )
    except ValidationError as exc:
        # Every field's error at once, in the form's order (the error summary lists them).
        found = _field_errors(exc, values)
        if not values["starts_at"]:
            found["starts_at"] = _("Choose a time.")
        order = ("starts_at", *CONTACT)
        errors = {
            k: found[k] for k in sorted(found, key=lambda k: order.index(k) if k in order else 99)
        }
        return await _book_page(
            request, resource, day=day, values=values, errors=errors, status=400
        )
    desk = _desk(request)
    key = values["key"] or None
    try:
        # The form's key makes a double click or a resent form the same booking, also when
        # the limits would refuse the resent one.
        issued = await admitted(request, data, lambda: desk.earlier_booking(data, key))
        issued = issued or await desk.book(
            data, now=clock.now(request), idempotency_key=key, address=client_address(request)
        )
    except TooManyRequests as exc:
        response = await _book_page(
            request, resource, day=day, values=values, problem=_too_many(exc), status=429
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Conflict as exc:
        problem = _refusal(exc)
        return await _book_page(
            request, resource, day=day, values=values, problem=problem, status=409
        )
    except InvalidInput as exc:
        made = await desk.booked_with(key) if key and exc.field == "Idempotency-Key" else None
        if made is not None:
            # This form booked already and came back with another time (the browser's
            # Back): say what it booked, and book another only when asked again.
            values["key"] = secrets.token_urlsafe(16)
            issued, starts = made
            problem = _(
                "This form already booked %(when)s. To book another time as well, choose it "
                "and confirm again.",
                when=f"{i18n.day_label(starts.date())} {i18n.clock(starts)}",
            )
            return await _book_page(
                request, resource, day=day, values=values, problem=problem, status=409,
                problem_link=(_manage_url("bookings", issued), _("See that booking")),
            )  # fmt: skip
        if exc.field == "phone":
            errors = {
                "phone": _("Enter your phone number: we text you a code to confirm the booking.")
            }
            return await _book_page(
                request, resource, day=day, values=values, errors=errors, status=400
            )
        values["key"] = secrets.token_urlsafe(16)
        problem = _("Please check your input.")
        return await _book_page(
            request, resource, day=day, values=values, problem=problem, status=400
        )
    request.session["flash"] = "booked"
    # Back from the booking brings this page anew (it is never cached, so its form has a
    # new key): it says what was just booked here, rather than nothing.
    # The booking's code alone (no token, no service, no time: the page reads them, and
    # says nothing once it is cancelled).
    request.session[JUST_BOOKED] = {"code": issued.code, "at": clock.now(request).isoformat()}
    return RedirectResponse(_manage_url("bookings", issued), status_code=303)


# How long the booking page says what this browser just booked there.
JUST_BOOKED = "just_booked"
JUST_BOOKED_FOR = dt.timedelta(hours=2)


async def _just_booked(request: Request, resource_id: int) -> str | None:
    """When the time this browser booked at ``resource_id`` in the last
    :data:`JUST_BOOKED_FOR` starts, while it holds its seat, said as the page says times."""
    made = request.session.get(JUST_BOOKED)
    if not isinstance(made, dict):
        return None
    try:
        at = dt.datetime.fromisoformat(str(made["at"]))
    except (KeyError, ValueError):
        return None
    if clock.now(request) - at > JUST_BOOKED_FOR:
        del request.session[JUST_BOOKED]  # kept no longer than it is said
        return None
    starts = await _desk(request).holding(str(made.get("code", "")), resource_id)
    return None if starts is None else f"{i18n.day_label(starts.date())} {i18n.clock(starts)}"


# --- the manage page ----------------------------------------------------------------------


def _token(request: Request, form: FormData | None = None) -> str:
    if form is not None:
        return _text(form, "token")
    return request.query_params.get("token", "")


async def _held_form(request: Request) -> tuple[FormData, str, str]:
    """A resident's form about a booking or a place in line: the form, once its CSRF token
    is checked, the code in the path and the manage token the form carries."""
    form = await checked_form(request)
    return form, request.path_params["code"], _token(request, form)


async def _booking_context(request: Request, code: str, token: str) -> dict[str, Any]:
    booking = await _desk(request).booking(code, token, now=clock.now(request))
    status = booking.status
    now = clock.now(request)
    return {
        "booking": booking,
        "resource": booking.resource,
        "token": token,
        "starts": booking.starts_at,
        "ends": booking.ends_at,
        "status": status,
        "active": status in SEAT_HOLDING and booking.ends_at > now,
        "offered": status is BookingStatus.OFFERED,
        "changes": confirmation.changes(booking, now),
        "policy": confirmation.policy(booking.resource),
        "sent_to": confirmation.sent_to(booking),
        "directions": confirmation.directions(booking.resource),
        "modes": confirmation.modes(booking.resource),
        "mode_choice": len(booking.resource.modes) > 1,
        "minutes": int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        "ics_url": f"/api/v1/bookings/{booking.code}.ics?"
        + urlencode({"token": token, "lang": i18n.current().tag}),
        "manage_url": f"/bookings/{booking.code}?{urlencode({'token': token})}",
        # Only after a visit: every other view of the page reads nothing more for it.
        "feedback_here": status is BookingStatus.ATTENDED
        and await invites.may_ask_here(booking.code, now=now),
        "feedback_sent": status is BookingStatus.ATTENDED and await invites.sent(booking.code),
    }


@page(Audience.RESIDENT)
async def feedback(request: Request) -> Response:
    """A feedback link for the visit, asked for on its page: the form it leads to."""
    _, code, token = await _held_form(request)
    desk = _desk(request)
    await desk.booking(code, token, now=clock.now(request))  # the booking's own link only
    given = await invites.ask_here(desk.ledger, code, now=clock.now(request))
    if given is None:  # given already (or not a visit to ask about): back to its page
        return RedirectResponse(f"/bookings/{code}?{urlencode({'token': token})}", 303)
    return RedirectResponse(f"/feedback/{given}?{urlencode({'lang': i18n.current().tag})}", 303)


@page(Audience.RESIDENT)
async def manage(request: Request) -> Response:
    context = await _booking_context(request, request.path_params["code"], _token(request))
    if request.session.get("flash") == "moved":
        # The panel says it ("✓ Booking time changed"), not a second message above a
        # "✓ Booking confirmed" panel.
        del request.session["flash"]
        context["moved"] = True
        context["sent_to"] = confirmation.sent_to(context["booking"], moved=True)
    if context["status"] is BookingStatus.PENDING:
        # Held until the resident types the texted code: that is all there is to do here.
        return await phone_check.page_of(request, context)
    return await _page(request, "resident/booking.html", context)


@page(Audience.RESIDENT)
async def cancel(request: Request) -> Response:
    """First POST shows "are you sure?"; the second, with ``confirm``, cancels."""
    form, code, token = await _held_form(request)
    context = await _booking_context(request, code, token)
    if _text(form, "confirm") != "yes":
        return await _page(request, "resident/cancel.html", context)
    try:
        await _desk(request).cancel(code, token, now=clock.now(request))
    except Conflict:
        context["problem"] = _(
            "It is too close to the start to cancel online. Please call the service."
        )
        context["changes"] = confirmation.Changes(False, context["changes"].until)
        return await _page(request, "resident/booking.html", context, 409)
    request.session["flash"] = "cancelled"
    return RedirectResponse(context["manage_url"], status_code=303)


@page(Audience.RESIDENT)
async def reschedule(request: Request) -> Response:
    """Without ``starts_at`` shows the slots (of ``day``); with it, moves the booking."""
    form, code, token = await _held_form(request)
    context = await _booking_context(request, code, token)
    desk = _desk(request)
    if not context["changes"].movable:
        # A referral's time: the booking page says whom to call, not a picker that can
        # only refuse.
        context["problem"] = _moved_by_service()
        return await _page(request, "resident/booking.html", context, 409)
    chosen = _text(form, "starts_at")
    status = 200
    no_time = {"starts_at": _("Choose a time.")}  # the error summary links to the times
    if not chosen and _text(form, "move") == "yes":
        # "Move my booking" with no time chosen: said, not the same page again in silence.
        context["errors"], status = no_time, 400
    elif chosen:
        try:
            starts_at = RescheduleIn.model_validate({"starts_at": chosen}).starts_at
            await desk.reschedule(code, token, starts_at, now=clock.now(request))
        except ValidationError:
            context["errors"], status = no_time, 400
        except Conflict as exc:
            context["problem"], status = _refusal(exc), 409
        else:
            request.session["flash"] = "moved"
            return RedirectResponse(context["manage_url"], status_code=303)
    # The day of the tab followed, or the one the form showed (an answer shows it again);
    # at first the booking's own day (its time is marked there, beside the times it can
    # move to), not today's.
    booked_day = context["starts"].astimezone(desk.tz).date().isoformat()
    wanted = _text(form, "day") or _text(form, "shown_day") or booked_day
    window = await _window(
        desk, context["resource"], resident_view.form_day(wanted), clock.now(request)
    )
    days = window.days
    day = next((d for d in days if d.day.isoformat() == wanted), None)
    day = day or next((d for d in days if d.free), None)
    # A day's tab pressed: the page comes back with the focus there, by the times.
    context |= {"days": days, "day": day, "window": window, "day_chosen": bool(_text(form, "day"))}
    return await _page(request, "resident/reschedule.html", context, status)


@page(Audience.RESIDENT)
async def verify(request: Request) -> Response:
    """The code texted for a booking held for its phone check (``phone_check``)."""
    form, code, token = await _held_form(request)
    typed = _text(form, phone_check.FIELD)
    try:
        issued = await _desk(request).verify(code, token, typed, now=clock.now(request))
    except InvalidInput as exc:
        context = await _booking_context(request, code, token)
        left = context["booking"].verify_tries_left or 0
        message = phone_check.wrong_code(exc.code == "shape", left)
        return await phone_check.page_of(
            request, context, errors={phone_check.FIELD: message}, status=400
        )
    except TooManyRequests as exc:
        context = await _booking_context(request, code, token)
        context["problem"] = phone_check.released()
        response = await _page(request, "resident/booking.html", context, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Conflict:
        context = await _booking_context(request, code, token)
        context["problem"] = phone_check.ran_out()
        return await _page(request, "resident/booking.html", context, 409)
    request.session["flash"] = "booked"
    return RedirectResponse(_manage_url("bookings", issued), status_code=303)


# --- the waitlist -------------------------------------------------------------------------


@page(Audience.RESIDENT)
async def waitlist_form(request: Request) -> Response:
    resource = await _resource(request)
    values = dict.fromkeys(CONTACT, "") | {
        "starts_at": request.query_params.get("start", ""),
        "key": secrets.token_urlsafe(16),
    }
    return await _waitlist_page(request, resource, values)


async def _waitlist_page(
    request: Request,
    resource: PlaceView,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    starts = None
    try:
        starts = dt.datetime.fromisoformat(values["starts_at"]).astimezone(_desk(request).tz)
    except (ValueError, OverflowError):
        problem = problem or _("Choose a time.")
    context = {
        "resource": resource,
        "values": values,
        "starts": starts,
        "errors": errors or {},
        "problem": problem,
        "get_url": _with_start(request.url.path, values.get("starts_at", "")),
        "offer_minutes": request.app.state.settings.waitlist_offer_minutes,
        "phone_example": MOBILE_EXAMPLE,
    }
    return await _page(request, "resident/waitlist_join.html", context, status)


@page(Audience.RESIDENT)
async def join_waitlist(request: Request) -> Response:
    form = await checked_form(request)
    resource = await _resource(request)
    values = {name: _text(form, name) for name in (*CONTACT, "starts_at", "key")}
    if not values["phone"] and not values["email"]:
        errors = {"phone": _("Give a phone number or an e-mail address so we can tell you.")}
        return await _waitlist_page(request, resource, values, errors, status=400)
    try:
        data = BookingIn.model_validate(
            {
                "resource_id": resource.id,
                "lang": i18n.current().tag,
                **{k: values[k] for k in (*CONTACT, "starts_at")},
            }
        )
        desk = _desk(request)
        key = values["key"] or None
        # The form's key makes a double click or a resent form the same place in line.
        issued = await admitted(request, data, lambda: desk.earlier_place(data, key))
        issued = issued or await desk.join_waitlist(
            data, now=clock.now(request), idempotency_key=key
        )
    except ValidationError as exc:
        errors = _field_errors(exc, values)
        return await _waitlist_page(request, resource, values, errors, status=400)
    except TooManyRequests as exc:
        problem = _too_many(exc)
        response = await _waitlist_page(request, resource, values, problem=problem, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except InvalidInput:
        # The form's key was used for other details (sent back and changed): a new one.
        values["key"] = secrets.token_urlsafe(16)
        problem = _("Please check your input.")
        return await _waitlist_page(request, resource, values, problem=problem, status=400)
    except Conflict:
        problem = _("This time has free seats again, or no longer exists: book it instead.")
        return await _waitlist_page(request, resource, values, problem=problem, status=409)
    request.session["flash"] = "waiting"
    return RedirectResponse(_manage_url("waitlist", issued), status_code=303)


async def _entry_context(request: Request, code: str, token: str) -> dict[str, Any]:
    desk = _desk(request)
    await desk.expire_offers(clock.now(request))
    entry = await desk.waitlist_view(code, token)
    return {
        "entry": entry,
        "code_display": entry.code_display,
        "status": entry.status,
        "resource": entry.resource,
        "starts": entry.starts_at,
        "token": token,
        "manage_url": f"/waitlist/{entry.code}?{urlencode({'token': token})}",
        "offer_minutes": request.app.state.settings.waitlist_offer_minutes,
    }


@page(Audience.RESIDENT)
async def waitlist_entry(request: Request) -> Response:
    context = await _entry_context(request, request.path_params["code"], _token(request))
    return await _page(request, "resident/waitlist.html", context)


@page(Audience.RESIDENT)
async def accept_offer(request: Request) -> Response:
    _form, code, token = await _held_form(request)
    try:
        issued = await _desk(request).accept_offer(code, token, now=clock.now(request))
    except Conflict:
        context = await _entry_context(request, code, token)
        context["problem"] = _("The offer has expired or the seat is gone.")
        return await _page(request, "resident/waitlist.html", context, 409)
    request.session["flash"] = "booked"
    return RedirectResponse(_manage_url("bookings", issued), status_code=303)


@page(Audience.RESIDENT)
async def leave_waitlist(request: Request) -> Response:
    _form, code, token = await _held_form(request)
    await _desk(request).leave_waitlist(code, token, now=clock.now(request))
    request.session["flash"] = "left"
    return RedirectResponse(f"/waitlist/{code}?{urlencode({'token': token})}", status_code=303)
