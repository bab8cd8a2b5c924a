# Over 400 lines: one thin handler per staff booking page and form.
"""Server-rendered staff booking pages: the day or week list of bookings with small forms to
mark, cancel and reveal one booking, booking for a caller or a walk-in visitor, a resource's
booking rules and blocked time; booking counts for planners.

Same conventions as ``web.pages.staff.listings`` (plain forms with the session's CSRF token,
errors become pages). The work is done by ``resourcemap.booking.staff`` and the desk on
``app.state.desk``. Contact details stay masked on every page except the one a staff member
asks for with "显示联系方式", and that viewing is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from resourcemap.accounts import Principal
from resourcemap.booking import staff
from resourcemap.booking.desk import Desk
from resourcemap.booking.requests import BookingIn, CancelIn
from resourcemap.booking.staff_views import MaskedBooking, MaskedWaiting, PolicyView
from resourcemap.errors import Conflict, InvalidInput
from resourcemap.listings import holidays
from resourcemap.vocab import (
    BOOKING_STATUS_LABELS,
    CHANNEL_LABELS,
    SEAT_HOLDING,
    SERVICE_LABELS,
    STAFF_CHANNELS,
    BookingStatus,
    Role,
)
from web import clock, forms, i18n
from web.i18n import _
from web.pages.shell import Audience, page, posted, problem, redirect, render, safe_next, signed_in
from web.pages.staff import booking_form
from web.pages.staff.listing_form import text

MANAGERS = (Role.ADMIN, Role.STAFF)
LIST = "/staff/bookings"
NEW_BOOKING_DAYS = 14
STATS_DAYS = 30
MARKABLE = frozenset({BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW})
MARKS = (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)
CONTACT_FIELDS = ("nickname", "phone", "email", "note")
NEW_FIELDS = ("resource_id", "starts_at", "channel", "service", "key", *CONTACT_FIELDS)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _values(form: FormData) -> dict[str, str]:
    return {key: text(form, key) for key in form}


def _row(item: MaskedBooking, now: dt.datetime) -> dict[str, Any]:
    """A masked booking as a list row: local times, labels, which actions apply."""
    starts, ends, status = item.starts_at, item.ends_at, item.status
    return {
        **item.model_dump(),
        "day": starts.date(),
        "date_label": booking_form.day_label(starts.date()),
        "time": f"{starts:%H:%M}–{ends:%H:%M}",
        # In the reader's language; a code no vocabulary knows as it is, no service as "".
        "status_label": i18n.vocab(status),
        "channel_label": i18n.vocab(item.channel, CHANNEL_LABELS),
        "service_label": i18n.vocab(item.service, SERVICE_LABELS),
        "can_mark": status in MARKABLE and starts <= now,
        "can_cancel": status in SEAT_HOLDING and ends > now,
    }


# --- the day or week list -----------------------------------------------------------------


def _waiting_by_day(entries: list[MaskedWaiting]) -> dict[dt.date, list[dict[str, Any]]]:
    """The waitlist per day as slots: time, service and who waits, in line order (masked)."""
    slots: dict[tuple[dt.datetime, int], dict[str, Any]] = {}
    for entry in entries:
        starts = entry.starts_at
        slot = slots.setdefault(
            (starts, entry.resource_id),
            {
                "day": starts.date(),
                "time": f"{starts:%H:%M}",
                "resource_name": entry.resource_name,
                "resource_name_en": entry.resource_name_en,
                "people": [],
            },
        )
        slot["people"].append(entry.model_dump())
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for slot in slots.values():
        by_day.setdefault(slot["day"], []).append(slot)
    return by_day


# Bookings no one is coming to: listed apart, below each day's, and not counted with them.
ENDED = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)


def _list_link(first: dt.date, view: str, resource_id: int | None) -> str:
    query = {"from": first.isoformat(), "view": view}
    if resource_id is not None:
        query["resource"] = str(resource_id)
    return f"{LIST}?{urlencode(query)}"


async def _list_page(
    request: Request,
    principal: Principal,
    params: Mapping[str, str],
    *,
    cancel_errors: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    desk, now = _desk(request), clock.now(request)
    today = now.astimezone(desk.tz).date()
    view = "week" if params.get("view") == "week" else "day"
    first = booking_form.parse_day(params.get("from", "")) or today
    if view == "week":
        first -= dt.timedelta(days=first.weekday())  # weeks start on Monday
    raw = params.get("resource", "")
    resource_id = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    days = 7 if view == "week" else 1
    items = await desk.staff_list(principal, first_day=first, days=days, resource_id=resource_id)
    by_day: dict[dt.date, list[dict[str, Any]]] = {
        first + dt.timedelta(days=i): [] for i in range(days)
    }
    blocked = await staff.within_blocks(items)
    for item in items:
        row = _row(item, now) | {"blocked": item.id in blocked}
        by_day.setdefault(row["day"], []).append(row)
    waiting = _waiting_by_day(
        await desk.staff_waitlist(principal, first_day=first, days=days, resource_id=resource_id)
    )
    step = dt.timedelta(days=days)
    shown: list[dict[str, Any]] = [
        {
            "date": d,
            "label": booking_form.day_label(d),
            "today": d == today,
            "items": rows,
            # Who is coming, then apart, below, the bookings no one comes to.
            "coming": [r for r in rows if r["status"] not in ENDED],
            "ended": [r for r in rows if r["status"] in ENDED],
            "waiting": waiting.get(d, []),
        }
        for d, rows in by_day.items()
    ]
    context = {
        "view": view,
        "first": first,
        "last": first + step - dt.timedelta(days=1),
        "days": shown,
        # Who is coming: a cancelled or expired booking is listed apart and not counted.
        "count": sum(len(day["coming"]) for day in shown),
        "ended": sum(len(day["ended"]) for day in shown),
        "links": {
            "prev": _list_link(first - step, view, resource_id),
            "next": _list_link(first + step, view, resource_id),
            "today": _list_link(today, view, resource_id),
            "day": _list_link(first, "day", resource_id),
            "week": _list_link(first, "week", resource_id),
        },
        "resources": await staff.bookable_resources(principal),
        "resource": resource_id,
        "back": _list_link(first, view, resource_id),
        "cancel_errors": cancel_errors or {},
        "marks": [(s, i18n.vocab(s)) for s in MARKS],
    }
    return await render(request, "staff/bookings.html", context, status)


@page(Audience.STAFF)
async def booking_list(request: Request) -> Response:
    principal = await signed_in(request, *MANAGERS)
    return await _list_page(request, principal, request.query_params)


@page(Audience.STAFF)
async def mark_booking(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    value = text(form, "status")
    if value not in MARKS:
        return await problem(request, 400, _("Please check your input"), "mark attended or no_show")
    status = BookingStatus(value)
    booking = await _desk(request).mark(
        principal, request.path_params["id"], status, now=clock.now(request)
    )
    flash = _(
        "Booking %(code)s marked %(status)s",
        code=booking.code_display,
        status=i18n.vocab(status),
    )
    return redirect(request, safe_next(text(form, "back"), LIST), flash)


@page(Audience.STAFF)
async def cancel_booking(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    desk, booking_id = _desk(request), request.path_params["id"]
    back = safe_next(text(form, "back"), LIST)
    reason = text(form, "reason").strip()
    error = None
    if not reason:
        error = _("Give a reason: the resident is told it.")
    else:
        try:
            CancelIn(reason=reason)
        except ValidationError as exc:
            error = booking_form.errors_of(exc).get("reason", _("Please check this."))
    if error is not None:
        await desk.staff_view(principal, booking_id)  # someone else's booking: 404, not a form
        params = dict(parse_qsl(urlsplit(back).query))
        return await _list_page(
            request, principal, params, cancel_errors={booking_id: error}, status=400
        )
    booking = await desk.staff_cancel(
        principal, booking_id, reason, now=clock.now(request), close=bool(text(form, "close"))
    )
    told = bool(booking.phone or booking.email)
    flash = (
        _("Booking %(code)s cancelled; the resident is told why", code=booking.code_display)
        if told
        else _(
            "Booking %(code)s cancelled; no contact details to tell the resident",
            code=booking.code_display,
        )
    )
    return redirect(request, back, flash)


@page(Audience.STAFF)
async def reveal_contact(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    desk, booking_id = _desk(request), request.path_params["id"]
    booking = await desk.staff_view(principal, booking_id)
    shown = await desk.reveal(principal, booking_id)
    context = {
        "booking": _row(booking, clock.now(request)),
        "shown": shown,
        "back": safe_next(text(form, "back"), LIST),
    }
    return await render(request, "staff/booking_contact.html", context)


# --- booking for a caller or a visitor ----------------------------------------------------


async def _new_page(
    request: Request,
    principal: Principal,
    resource_id: int | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    desk, now = _desk(request), clock.now(request)
    today = now.astimezone(desk.tz).date()
    resources = [r for r in await staff.bookable_resources(principal) if r.open]
    if resource_id is None and len(resources) == 1:
        resource_id = resources[0].id
    blank = dict.fromkeys(NEW_FIELDS, "") | {"channel": "phone", "key": secrets.token_urlsafe(16)}
    context: dict[str, Any] = {
        "resources": resources,
        "resource": None,
        "values": blank | (values or {}),
        "errors": errors or {},
        "channels": [(c, i18n.vocab(c)) for c in sorted(STAFF_CHANNELS, reverse=True)],
        "days": NEW_BOOKING_DAYS,
        "today": today.isoformat(),
    }
    if resource_id is not None:
        resource = await staff.managed_resource(principal, resource_id)
        context["resource"] = {"id": resource.id, "name_zh": resource.name_zh}
        context["values"]["resource_id"] = str(resource.id)
        context["services"] = [(s, i18n.vocab(s, SERVICE_LABELS)) for s in resource.services or []]
        policy = await staff.get_policy(principal, resource.id)
        # Two weeks from the day staff ask for, up to the last day residents may book (a
        # caller asks for a day in March): the list stopped at two weeks from today.
        horizon = policy.horizon_days if isinstance(policy, PolicyView) else 0
        last = today + dt.timedelta(days=horizon)
        asked = booking_form.parse_day(request.query_params.get("from", ""))
        first = min(max(asked or today, today), last)
        context |= {"first": first.isoformat(), "last": last.isoformat()}
        try:
            listed = await desk.slot_list(
                resource.id, first, NEW_BOOKING_DAYS, now=now, notice=False
            )
            context["slot_groups"] = booking_form.slot_options(listed, desk.tz)
        except Conflict:
            context["closed"] = _("This service does not take bookings.")
    return await render(request, "staff/booking_new.html", context, status)


@page(Audience.STAFF)
async def new_booking(request: Request) -> Response:
    principal = await signed_in(request, *MANAGERS)
    raw = request.query_params.get("resource", "")
    resource_id = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    return await _new_page(request, principal, resource_id)


@page(Audience.STAFF)
async def create_booking(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    values = {k: text(form, k).strip() for k in NEW_FIELDS}
    raw = values["resource_id"]
    resource_id = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    if resource_id is None:
        return await _new_page(request, principal, None, status=400)
    payload: dict[str, Any] = {k: values[k] or None for k in (*CONTACT_FIELDS, "service")}
    payload |= {"resource_id": resource_id, "channel": values["channel"]}
    errors: dict[str, str] = {}
    if values["starts_at"]:
        payload["starts_at"] = values["starts_at"]
    else:
        errors["starts_at"] = _("Choose a time.")
    try:
        data = BookingIn.model_validate(payload)
    except ValidationError as exc:
        errors = booking_form.errors_of(exc) | errors
    if errors:
        return await _new_page(request, principal, resource_id, values, errors, 400)
    desk = _desk(request)
    try:
        issued = await desk.book(
            data, now=clock.now(request), idempotency_key=values["key"] or None, actor=principal
        )
    except InvalidInput as exc:
        if exc.field == "Idempotency-Key":  # the form was sent again after changes
            values["key"] = ""
            errors["_form"] = _("This form was sent already; check it and send it again.")
        else:
            errors[exc.field if exc.field in NEW_FIELDS else "_form"] = forms.reason(exc)
        return await _new_page(request, principal, resource_id, values, errors, 400)
    except Conflict:
        errors["starts_at"] = _("This time can no longer be booked; choose another.")
        return await _new_page(request, principal, resource_id, values, errors, 409)
    booking = await desk.staff_receipt(principal, issued)
    return redirect(request, f"{LIST}/{booking.id}/booked")


@page(Audience.STAFF)
async def booked(request: Request) -> Response:
    principal = await signed_in(request, *MANAGERS)
    desk = _desk(request)
    row = _row(await desk.staff_view(principal, request.path_params["id"]), clock.now(request))
    context = {
        "booking": row,
        "list_link": _list_link(row["day"], "day", row["resource_id"]),
        "again": f"{LIST}/new?resource={row['resource_id']}",
    }
    return await render(request, "staff/booking_done.html", context)


# --- booking rules and blocked time -------------------------------------------------------


async def _rules_page(
    request: Request,
    principal: Principal,
    resource_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    warning: str | None = None,
) -> Response:
    desk = _desk(request)
    resource = await staff.managed_resource(principal, resource_id)
    policy = await staff.get_policy(principal, resource_id)
    stored = booking_form.policy_values(policy.model_dump())
    blocks = [
        {**b.model_dump(mode="json"), "when": booking_form.span_label(b.starts_at, b.ends_at)}
        for b in await desk.blocks(principal, resource_id, now=clock.now(request))
    ]
    context = {
        "resource": {"id": resource.id, "name_zh": resource.name_zh, "name_en": resource.name_en},
        "values": stored | dict.fromkeys(booking_form.BLOCK_FIELDS, "") | (values or {}),
        "errors": errors or {},
        "rule_labels": booking_form.rule_labels(),
        "blocks": blocks,
        "timezone": desk.tz.key,
        "enabled": policy.enabled,
        "referral_seats": policy.referral_seats if isinstance(policy, PolicyView) else 0,
        "today": clock.now(request).astimezone(desk.tz).date().isoformat(),
        "warning": warning,
        # Days residents may book whose holidays nobody has given: they book as ordinary days.
        "holidays_unknown": holidays.unknown_ahead(
            clock.now(request).astimezone(desk.tz).date(),
            policy.horizon_days if isinstance(policy, PolicyView) else 0,
        ),
    }
    return await render(request, "staff/booking_rules.html", context, status)


@page(Audience.STAFF)
async def booking_rules(request: Request) -> Response:
    principal = await signed_in(request, *MANAGERS)
    return await _rules_page(request, principal, request.path_params["id"])


@page(Audience.STAFF)
async def save_rules(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    resource_id = request.path_params["id"]
    values, data, errors = booking_form.policy_input(_values(form))
    if data is None:
        return await _rules_page(request, principal, resource_id, values, errors, 400)
    stored = await staff.get_policy(principal, resource_id)
    notices = (data.min_notice_minutes, data.change_notice_minutes)
    kept = isinstance(stored, PolicyView) and notices == (
        stored.min_notice_minutes,
        stored.change_notice_minutes,
    )
    trap = data.min_notice_minutes < data.change_notice_minutes
    if trap and not kept and text(form, "understood") != "yes":
        # Times booked inside the change window can never be changed online: said, and
        # saved only once staff confirm they mean it (residents see it beside each time).
        # Asked when staff set it, not again on every save that leaves it as it was.
        warning = _(
            "Residents can book up to %(book)s before the start, but change or cancel online "
            "only until %(change)s before: times booked in between cannot be changed or "
            "cancelled online. Save anyway, or raise the minimum notice.",
            book=i18n.duration(data.min_notice_minutes),
            change=i18n.duration(data.change_notice_minutes),
        )
        return await _rules_page(
            request, principal, resource_id, values | {"understood": "yes"}, warning=warning
        )
    await staff.set_policy(principal, resource_id, data)
    was_open = isinstance(stored, PolicyView) and stored.enabled
    flash = (
        _("Booking rules saved")
        if data.enabled and was_open
        else _("Booking rules saved; bookings are open")
        if data.enabled
        else _("Booking rules saved; bookings are paused")
    )
    return redirect(request, f"/staff/resources/{resource_id}/booking", flash)


@page(Audience.STAFF)
async def add_block(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    resource_id = request.path_params["id"]
    tz = _desk(request).tz
    values, block, errors = booking_form.block_input(
        _values(form), tz, clock.now(request).astimezone(tz).date()
    )
    if block is None:
        return await _rules_page(request, principal, resource_id, values, errors, 400)
    await staff.add_block(principal, resource_id, block)
    kept = await staff.confirmed_within(resource_id, block.starts_at, block.ends_at)
    if kept:
        # Blocking cancels nobody: the day's list, where each is marked and cancelled.
        flash = _(
            "Time blocked: its slots are no longer offered. %(count)s confirmed bookings fall "
            "in it: cancel each below so its resident is told.",
            count=kept,
        )
        day = block.starts_at.astimezone(tz).date().isoformat()
        return redirect(request, f"{LIST}?resource={resource_id}&from={day}", flash)
    flash = _("Time blocked: its slots are no longer offered")
    return redirect(request, f"/staff/resources/{resource_id}/booking", flash)


@page(Audience.STAFF)
async def remove_block(request: Request) -> Response:
    principal, form = await posted(request, *MANAGERS)
    await staff.remove_block(principal, request.path_params["id"])
    flash = _("Blocked time removed")
    return redirect(request, safe_next(text(form, "back"), LIST), flash)


# --- counts for planners ------------------------------------------------------------------


@page(Audience.STAFF)
async def booking_stats(request: Request) -> Response:
    principal = await signed_in(request, Role.PLANNER, Role.ADMIN, Role.STAFF)
    desk = _desk(request)
    today = clock.now(request).astimezone(desk.tz).date()
    recent = today - dt.timedelta(days=STATS_DAYS - 1)
    first = booking_form.parse_day(request.query_params.get("from", "")) or recent
    raw = request.query_params.get("days", "")
    days = int(raw) if raw.isdigit() and 1 <= int(raw) <= 366 else STATS_DAYS
    counts = await desk.stats(principal, first_day=first, days=days)
    names = await staff.resource_names([r.resource_id for r in counts.resources])
    rows = [
        {
            "name": names.get(r.resource_id, f"#{r.resource_id}"),
            "total": sum(r.by_status.values()),
            **r.model_dump(),
        }
        for r in counts.resources
    ]
    context = {
        "first": first,
        "last": first + dt.timedelta(days=days - 1),
        "days": days,
        "total": counts.total,
        "rows": sorted(rows, key=lambda r: (-r["total"], r["name"])),
        "statuses": BOOKING_STATUS_LABELS,
        "channels": CHANNEL_LABELS,
        "links": {
            "past": f"{LIST}/stats?from={recent}&days={STATS_DAYS}",
            "ahead": f"{LIST}/stats?from={today}&days={STATS_DAYS}",
        },
    }
    return await render(request, "staff/booking_stats.html", context)
