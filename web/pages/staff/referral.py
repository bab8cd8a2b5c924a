# Over 400 lines: one thin handler per referral page and form, both sides of a referral.
"""Staff pages of the green channel (#23): referrals from and to my services, a new
referral (a need, then the services that answer it, then consent and the minimum contact),
one referral with what its receiving service can do (accept and book a referral seat, ask
the resident to pick, decline with a reason and a suggestion, record the visit), and a
service's own feedback.

Same conventions as the other staff pages: plain forms with the session's CSRF token,
Post/Redirect/Get, labels in the staff member's language; the work is the referral desk's
(``app.state.referrals``), which enforces who sees what. Contact details stay masked except on the
audited "show contact details" page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from resourcemap.errors import Conflict, InvalidInput
from resourcemap.feedback.answers import K as FEEDBACK_K
from resourcemap.referral.desk import ReferralDesk
from resourcemap.referral.directory import MAX_CANDIDATES
from resourcemap.referral.requests import AcceptIn, DeclineIn, ReferralIn
from resourcemap.referral.views import Candidate, Candidates, ReferralView
from resourcemap.said import N_
from resourcemap.search.needs import NEEDS
from resourcemap.vocab import (
    DECLINE_LABELS,
    Consent,
    DeclineReason,
    Eligibility,
    ReferralStatus,
    ResourceKind,
    Role,
    Urgency,
)
from web import clock, forms, i18n
from web.i18n import _
from web.pages.shell import Audience, page, redirect, render
from web.pages.staff import booking_form
from web.pages.staff.listing_form import text

MANAGERS = (Role.ADMIN, Role.STAFF)
LIST = "/staff/referrals"
NEW = "staff.referral_new"  # the new-referral page's route
PICK_DAYS = 14
# The languages a resident's messages and page can be in, each named in itself (as the
# resident would look for it, whatever the staff page's language).
LANGUAGES = (("zh-CN", "中文"), ("en", "English"))
# The longest name staff look a service up by.
NAMED_MAX = 40
FIELDS = (
    "from_resource_id",
    "need",
    "to_resource_id",
    "urgency",
    "consent",
    "nickname",
    "phone",
    "email",
    "lang",
    "reason",
)
S = ReferralStatus
# The statuses in order, for the progress line every referral shows.
STEPS = (S.SENT, S.ACCEPTED, S.BOOKED, S.ATTENDED, S.CLOSED)


def _desk(request: Request) -> ReferralDesk:
    desk: ReferralDesk = request.app.state.referrals
    return desk


def _id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


def _kind(kind_of: ResourceKind, name_zh: str = "", name_en: str = "") -> str:
    """The kind of service beside its name, unless the name shown already says it
    (东湖社区心理咨询室 needs no "(社区心理咨询室)")."""
    kind = i18n.vocab(kind_of)
    shown = name_en if i18n.current() is i18n.EN and name_en else name_zh
    # Some kinds name two ("社区心理咨询室/社会工作室"): either one in the name says it.
    said = any(part.strip().casefold() in shown.casefold() for part in kind.split("/"))
    return "" if said else kind


def row(r: ReferralView) -> dict[str, Any]:
    """A referral with its labels, as lists and the detail page show it."""
    reached = {
        S.SENT: r.sent_at,
        S.ACCEPTED: r.accepted_at,
        S.BOOKED: r.booked_at,
        S.ATTENDED: r.outcome_at,
        S.CLOSED: r.closed_at,
    }
    return {
        "r": r,
        "status_label": i18n.vocab(r.status),
        # The outcome buttons say what the status will then say (已到场 / 未到场).
        "outcome_labels": [("yes", i18n.vocab(S.ATTENDED)), ("no", i18n.vocab(S.DID_NOT_ATTEND))],
        "urgency_label": i18n.vocab(r.urgency),
        "consent_label": i18n.vocab(r.consent),
        "from_kind": _kind(r.from_service.kind, r.from_service.name_zh, r.from_service.name_en),
        "to_kind": _kind(r.to_service.kind, r.to_service.name_zh, r.to_service.name_en),
        "decline_label": i18n.vocab(r.decline_reason, DECLINE_LABELS),
        "steps": [
            {
                "label": i18n.vocab(
                    S.DID_NOT_ATTEND if s is S.ATTENDED and r.status is S.DID_NOT_ATTEND else s
                ),
                "at": reached[s],
                "current": s is r.status or (s is S.ATTENDED and r.status is S.DID_NOT_ATTEND),
            }
            for s in STEPS
        ],
    }


@page(Audience.STAFF, *MANAGERS)
async def referral_list(request: Request) -> Response:
    principal = request.state.principal
    side = request.query_params.get("side")
    side = side if side in ("in", "out") else None
    try:
        status: ReferralStatus | None = S(request.query_params.get("status", ""))
    except ValueError:  # none asked, or none such: all of them
        status = None
    items = await _desk(request).listed(
        principal, side=side, status=None if status is None else status.value
    )
    context = {
        "side": side,
        "status": status,
        "status_label": "" if status is None else i18n.vocab(status),
        "rows": [row(r) for r in items],
        "count": len(items),
    }
    return await render(request, "staff/referrals.html", context)


# --- a new referral -----------------------------------------------------------------------


async def _new_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    principal = request.state.principal
    desk = _desk(request)
    own = await desk.own_services(principal)
    if not values.get("from_resource_id") and own:
        values["from_resource_id"] = str(own[0].id)
    found = Candidates(items=[], members_only_left_out=0)
    from_id = _id(values.get("from_resource_id", ""))
    if from_id is not None and values.get("need"):
        found = await desk.candidates(
            principal,
            from_id,
            values["need"],
            members_only=values.get("eligible") == "all",
            named=values.get("named", ""),
        )
    origin = next((o for o in own if o.id == from_id), None)
    shown_too = {
        "from_resource_id": values.get("from_resource_id", ""),
        "need": values["need"],
        "named": values.get("named", ""),
    }
    context = {
        "values": values,
        "errors": errors or {},
        "own": own,
        # Needs are data (search/needs.toml, both languages), not vocabulary labels.
        "needs": [(n.code, (n.label_zh, n.label_en)) for n in NEEDS],
        "candidates": [_candidate(c) for c in found.items],
        "members_only_left_out": found.members_only_left_out,
        "most_candidates": MAX_CANDIDATES,
        "origin": origin,
        "members_only_link": f"{request.url_for(NEW).path}?"
        + urlencode({**shown_too, "eligible": "all"}),
        "urgencies": [(u, i18n.vocab(u)) for u in Urgency],
        "consents": [(c, i18n.vocab(c)) for c in Consent],
        "languages": LANGUAGES,
    }
    return await render(request, "staff/referral_new.html", context, status)


def _candidate(c: Candidate) -> dict[str, Any]:
    """A service to refer to with what the referring staff weigh: how far, and who may use
    it (a members-only place's own note, in the reader's language, else its label)."""
    if c.reach == "walk":
        reach = i18n.distance(c.distance_m)
    else:
        reach = _("Phone service") if c.reach == "phone" else _("Serves its area")
    note = c.eligibility_note_en if i18n.current() is i18n.EN else c.eligibility_note_zh
    return {
        "c": c,
        "kind": _kind(c.kind, c.name_zh, c.name_en),
        "reach": reach,
        "eligibility": (c.eligibility is not Eligibility.PUBLIC and note)
        or i18n.vocab(c.eligibility),
    }


@page(Audience.STAFF, *MANAGERS)
async def new_referral(request: Request) -> Response:
    values = {k: request.query_params.get(k, "").strip() for k in FIELDS}
    values["eligible"] = request.query_params.get("eligible", "").strip()
    values["named"] = request.query_params.get("named", "").strip()[:NAMED_MAX]
    values["urgency"] = values["urgency"] or Urgency.ROUTINE.value
    return await _new_page(request, values)


@page(Audience.STAFF, *MANAGERS)
async def create_referral(request: Request) -> Response:
    form = await request.form()
    values = {k: text(form, k).strip() for k in FIELDS}
    values["eligible"] = text(form, "eligible").strip()
    values["named"] = text(form, "named").strip()[:NAMED_MAX]
    errors: dict[str, str] = {}
    payload: dict[str, Any] = {k: values[k] or None for k in FIELDS}
    payload["need"] = values["need"]
    for key, words in (
        ("to_resource_id", _("Choose the service to refer to.")),
        ("consent", _("Record how the resident agreed.")),
    ):
        if not values[key]:
            errors[key] = words
    if not (values["phone"] or values["email"]):
        errors["phone"] = _("Give a mobile number or an e-mail address: the link goes there.")
    try:
        data = ReferralIn.model_validate(payload)
    except ValidationError as exc:
        # Said with the missing ones: the form's first answer names everything wrong (a
        # bad e-mail came only once the consent was given).
        errors = booking_form.errors_of(exc) | errors
    if errors:
        return await _new_page(request, values, errors, 400)
    try:
        made = await _desk(request).create(request.state.principal, data, now=clock.now(request))
    except InvalidInput as exc:
        field = exc.field if exc.field in FIELDS else "_form"
        return await _new_page(request, values, {field: forms.reason(exc)}, 400)
    flash = _("Referral sent")
    return redirect(request, f"{LIST}/{made.id}", flash)


# --- one referral -------------------------------------------------------------------------


async def _detail_page(
    request: Request,
    referral_id: int,
    errors: dict[str, str] | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    principal = request.state.principal
    desk, now = _desk(request), clock.now(request)
    found = await desk.get(principal, referral_id)
    receiving = found.side in ("in", "both")
    slots = []
    if receiving and found.status in (S.SENT, S.ACCEPTED):
        try:
            listed = await desk.slots(
                found.to_service.id, now.astimezone(desk.ledger.tz).date(), PICK_DAYS, now=now
            )
        except Conflict:
            listed = []
        slots = [
            (
                s.starts_at.isoformat(),
                f"{booking_form.day_label(s.starts_at.date())} "
                f"{s.starts_at:%H:%M}–{s.ends_at:%H:%M}",
                s.free,
            )
            for s in listed
        ]
    context = {
        **row(found),
        "receiving": receiving,
        "referring": found.side in ("out", "both"),
        "slots": slots,
        "errors": errors or {},
        "values": values or {},
        "declines": [(d, i18n.vocab(d)) for d in DeclineReason],
        "can_outcome": receiving
        and found.status is S.BOOKED
        and found.starts_at is not None
        and found.starts_at <= now,
        "can_close": found.status in (S.ATTENDED, S.DID_NOT_ATTEND)
        or (found.status is S.DECLINED and found.side in ("out", "both")),
    }
    return await render(request, "staff/referral.html", context, status)


@page(Audience.STAFF, *MANAGERS)
async def referral_detail(request: Request) -> Response:
    return await _detail_page(request, request.path_params["id"])


@page(Audience.STAFF, *MANAGERS)
async def accept(request: Request) -> Response:
    """Accept (``…/accept``, with a time or for the resident to pick one) or book an
    accepted referral (``…/book``)."""
    form = await request.form()
    referral_id = request.path_params["id"]
    starts = text(form, "starts_at").strip()
    desk, now = _desk(request), clock.now(request)
    try:
        data = AcceptIn.model_validate({"starts_at": starts or None})
        if request.url.path.endswith("/book"):
            if data.starts_at is None:
                raise InvalidInput(N_("choose a time"), field="starts_at")
            done = await desk.book(request.state.principal, referral_id, data.starts_at, now=now)
        else:
            done = await desk.accept(request.state.principal, referral_id, data, now=now)
    except Conflict:
        words = _("The referral seats at this time are taken or closed; choose another.")
        return await _detail_page(request, referral_id, {"starts_at": words}, 409)
    flash = (
        _("Accepted and booked")
        if done.status is S.BOOKED
        else _("Accepted; the resident was asked to pick a time")
    )
    return redirect(request, f"{LIST}/{referral_id}", flash)


@page(Audience.STAFF, *MANAGERS)
async def resend(request: Request) -> Response:
    """Send the resident their link again (the text was lost)."""
    referral_id = request.path_params["id"]
    try:
        done = await _desk(request).resend(
            request.state.principal, referral_id, now=clock.now(request)
        )
    except Conflict as exc:
        words = (
            _("The link was sent less than 10 minutes ago. Please wait before sending it again.")
            if exc.code == "too_soon"
            else _("Only a referral waiting for the resident's time has a link to send.")
        )
        return await _detail_page(request, referral_id, {"resend": words}, 409)
    to = done.phone or done.email
    return redirect(request, f"{LIST}/{referral_id}", _("Link sent again to %(to)s", to=to))


@page(Audience.STAFF, *MANAGERS)
async def decline(request: Request) -> Response:
    form = await request.form()
    referral_id = request.path_params["id"]
    suggested = _id(text(form, "suggested_resource_id").strip())
    try:
        data = DeclineIn.model_validate(
            {
                "reason": text(form, "reason"),
                "note": text(form, "note"),
                "suggested_resource_id": suggested,
            }
        )
        await _desk(request).decline(
            request.state.principal, referral_id, data, now=clock.now(request)
        )
    except (ValidationError, InvalidInput):
        words = _("Choose why you decline; with “other”, say why.")
        typed = {"reason": text(form, "reason"), "note": text(form, "note")}  # kept, not lost
        return await _detail_page(request, referral_id, {"decline": words}, 400, typed)
    return redirect(request, f"{LIST}/{referral_id}", _("Declined"))


@page(Audience.STAFF, *MANAGERS)
async def outcome(request: Request) -> Response:
    form = await request.form()
    referral_id = request.path_params["id"]
    attended = text(form, "attended") == "yes"
    await _desk(request).outcome(
        request.state.principal, referral_id, attended, now=clock.now(request)
    )
    flash = _("Recorded: attended") if attended else _("Recorded: did not attend")
    return redirect(request, f"{LIST}/{referral_id}", flash)


@page(Audience.STAFF, *MANAGERS)
async def close(request: Request) -> Response:
    referral_id = request.path_params["id"]
    await _desk(request).close(request.state.principal, referral_id, now=clock.now(request))
    return redirect(request, f"{LIST}/{referral_id}", _("Referral closed"))


@page(Audience.STAFF, *MANAGERS)
async def reveal(request: Request) -> Response:
    referral_id = request.path_params["id"]
    desk = _desk(request)
    shown = await desk.reveal(request.state.principal, referral_id)
    found = await desk.get(request.state.principal, referral_id)
    response = await render(request, "staff/referral_contact.html", {**row(found), "shown": shown})
    response.headers["Cache-Control"] = "no-store"
    return response


@page(Audience.STAFF, *MANAGERS)
async def feedback(request: Request) -> Response:
    found = await _desk(request).feedback_for_service(
        request.state.principal, request.path_params["id"]
    )
    return await render(request, "staff/feedback.html", {"feedback": found, "k": FEEDBACK_K})


@page(Audience.STAFF, *MANAGERS)
async def save_seats(request: Request) -> Response:
    form = await request.form()
    raw = text(form, "referral_seats").strip()
    count = int(raw) if raw.isdigit() and len(raw) <= 3 else -1
    if not 0 <= count <= 50:
        raise InvalidInput(
            N_("referral seats: a whole number from 0 to 50"), field="referral_seats"
        )
    resource_id = request.path_params["id"]
    await _desk(request).set_seats(request.state.principal, resource_id, count)
    flash = _("Referral seats per slot: %(count)s", count=count)
    return redirect(request, f"/staff/resources/{resource_id}/booking", flash)
