"""Residents' pages of the green channel (#23): the link a referred resident gets, to pick
a time among the receiving service's referral seats or to decline; and the short anonymous
form after a visit.

As the booking pages: plain POST forms with the browser's CSRF token, Post/Redirect/Get,
the token in the URL of one page only (forms carry it hidden), no referrer sent. Words from
the gettext catalogues, like every other page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resourcemap.errors import Conflict, NotFound
from resourcemap.feedback.answers import FeedbackIn
from resourcemap.referral.desk import ReferralDesk
from resourcemap.referral.requests import PickIn
from resourcemap.said import N_
from web import clock, i18n
from web.i18n import _
from web.pages.resident import view as resident_view
from web.pages.shell import Audience, checked_form, page, render
from web.pages.shell import form_text as _text

PICK_DAYS = 14
SCORES = (
    ("reach", N_("Was it easy to get here?")),
    ("wait", N_("Was the wait acceptable?")),
    ("respected", N_("Did you feel respected?")),
    ("helped", N_("Did the visit help you?")),
)
ENDS = (N_("1 not at all"), N_("5 very much"))


def _desk(request: Request) -> ReferralDesk:
    desk: ReferralDesk = request.app.state.referrals
    return desk


def _no_referrer(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


async def _referral_page(
    request: Request,
    code: str,
    token: str,
    *,
    day: dt.date | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    """The referral, and while a time can be picked the referral seats a day at a time,
    as the booking form shows its times (``day``, else the first day with one)."""
    desk, now = _desk(request), clock.now(request)
    found = await desk.resident_view(code, token)
    days: list[resident_view.SlotDay] = []
    if found.can_pick:
        today = now.astimezone(desk.ledger.tz).date()
        seats = await desk.resident_slots(code, token, today, PICK_DAYS, now=now)
        days = resident_view.seat_days(seats, today=today)
    shown = next((d for d in days if d.day == day), days[0] if days else None)

    def on_day(other: dt.date) -> str:
        # The page on another day: the token stays (the address is the resident's key).
        return f"/referrals/{found.code}?{urlencode({'token': token, 'day': other.isoformat()})}"

    context: dict[str, Any] = {
        "referral": found,
        "status_label": i18n.vocab(found.status),
        "days": days,
        "day": shown,
        "token": token,
        "errors": errors or {},
        "problem": problem,
        "day_href": lambda other: f"{on_day(other)}#pick",
        "manage_url": f"/referrals/{found.code}?{urlencode({'token': token})}",
        # A language switch keeps the day shown.
        "get_url": on_day(shown.day) if shown else None,
        "booking_url": None
        if found.booking_token is None or found.booking_code is None
        else f"/bookings/{found.booking_code}?{urlencode({'token': found.booking_token})}",
    }
    return _no_referrer(await render(request, "resident/referral.html", context, status))


@page(Audience.RESIDENT)
async def referral(request: Request) -> Response:
    day = resident_view.form_day(request.query_params.get("day", ""))
    return await _referral_page(
        request, request.path_params["code"], request.query_params.get("token", ""), day=day
    )


@page(Audience.RESIDENT)
async def pick(request: Request) -> Response:
    form = await checked_form(request)
    code, token = request.path_params["code"], _text(form, "token")
    shown_day = resident_view.form_day(_text(form, "day"))
    if not _text(form, "starts_at"):
        errors = {"starts_at": _("Choose a time.")}
        return await _referral_page(request, code, token, day=shown_day, errors=errors, status=400)
    try:
        chosen = PickIn.model_validate(
            {"starts_at": _text(form, "starts_at"), "lang": i18n.current().tag}
        )
        await _desk(request).resident_pick(
            code, token, chosen.starts_at, now=clock.now(request), lang=chosen.lang or ""
        )
    except (ValidationError, Conflict):
        words = _("That time is taken or not open; choose another")
        return await _referral_page(request, code, token, day=shown_day, problem=words, status=409)
    request.session["flash"] = "booked"
    return RedirectResponse(f"/referrals/{code}?{urlencode({'token': token})}", status_code=303)


@page(Audience.RESIDENT)
async def decline(request: Request) -> Response:
    form = await checked_form(request)
    code, token = request.path_params["code"], _text(form, "token")
    await _desk(request).resident_decline(code, token, now=clock.now(request))
    return RedirectResponse(f"/referrals/{code}?{urlencode({'token': token})}", status_code=303)


# --- feedback -----------------------------------------------------------------------------


async def _form_page(
    request: Request,
    token: str,
    *,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    try:
        shown = await _desk(request).feedback_form(token, now=clock.now(request))
    except NotFound:
        return await _gone(request)
    context = {
        "service": shown,
        "token": token,
        "scores": SCORES,
        "ends": ENDS,
        "values": values or {},
        "problem": problem,
        "get_url": f"/feedback/{token}",
    }
    return _no_referrer(await render(request, "resident/feedback.html", context, status))


async def _gone(request: Request) -> Response:
    """A feedback link used or expired: said so (a used link reopened read "not found")."""
    page = await render(request, "resident/feedback_done.html", {"gone": True}, 404)
    return _no_referrer(page)


@page(Audience.RESIDENT)
async def feedback_form(request: Request) -> Response:
    return await _form_page(request, request.path_params["token"])


@page(Audience.RESIDENT)
async def feedback_submit(request: Request) -> Response:
    form = await checked_form(request)
    token = request.path_params["token"]
    values = {name: _text(form, name) for name, _ in SCORES} | {"comment": _text(form, "comment")}
    try:
        data = FeedbackIn.model_validate(values)
    except ValidationError:
        words = _("Please choose a score (1–5) for each question")
        return await _form_page(request, token, values=values, problem=words, status=400)
    try:
        await _desk(request).feedback_submit(token, data, now=clock.now(request))
    except NotFound:
        return await _gone(request)
    return _no_referrer(await render(request, "resident/feedback_done.html", {}))
