# Over 400 lines: each move of one referral's life, side by side.
"""The referral use cases: staff refer, the receiving service accepts and books or
declines, the resident picks a time or declines, staff record the outcome and close.

Every move is one conditional update (``status IN`` the statuses it may come from, see
``vocab.REFERRAL_MOVES``): of two requests racing to move one referral, one wins and the
other is told what happened; nothing skips a status or goes back. Seats are the seat
ledger's (``referral.seats``). Access is checked here, on the server: staff see referrals
from and to their own organisation's services only; planners see counts (``counts``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from resourcemap import audit
from resourcemap.accounts import Principal
from resourcemap.booking import reserve, seats, slots
from resourcemap.booking import staff as booking_staff
from resourcemap.booking.ledger import Ledger, schedule_changed, unused_code
from resourcemap.booking.outbox import (
    SUBJECTS,
    enqueue_text,
    in_both,
    place_name,
    resident_locale,
    subject_of,
)
from resourcemap.booking.requests import new_token
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.feedback import invites
from resourcemap.listings.edits import located
from resourcemap.models import Booking, BookingPolicy, Referral, Resource, Slot
from resourcemap.referral import directory
from resourcemap.referral import seats as referral_seats
from resourcemap.referral.requests import AcceptIn, DeclineIn, ReferralIn
from resourcemap.referral.views import (
    ContactView,
    ReferralSlot,
    ReferralView,
    Side,
    referral_view,
)
from resourcemap.said import N_
from resourcemap.search.needs import NEEDS
from resourcemap.translations import read
from resourcemap.vocab import (
    REFERRAL_MOVES,
    REFERRAL_STATUS_LABELS,
    BookingStatus,
    Channel,
    DeclineReason,
    NotificationKind,
    ReferralStatus,
    Role,
    Status,
)

CRISIS_LINES = 3
MAX_CANDIDATES = 20
S = ReferralStatus


def _from_statuses(to: ReferralStatus) -> list[str]:
    return [s.value for s, moves in REFERRAL_MOVES.items() if to in moves]


async def move(
    referral_id: int,
    to: ReferralStatus,
    *,
    only: tuple[ReferralStatus, ...] | None = None,
    **values: Any,
) -> None:
    """Move a referral to ``to`` if it is in a status that may move there (of those, only
    the ``only`` ones); else say where it stands (the winner of a race, or a skipped or
    backward move)."""
    allowed = _from_statuses(to)
    if only is not None:
        allowed = [s for s in allowed if s in only]
    moved = await Referral.filter(id=referral_id, status__in=allowed).update(status=to, **values)
    if not moved:
        now_is = await Referral.get(id=referral_id)
        raise Conflict(
            N_(
                "this referral cannot become “%(to)s” (its status: %(now)s)",
                now=REFERRAL_STATUS_LABELS[now_is.status],
                to=REFERRAL_STATUS_LABELS[to],
            )
        )


# ---------------------------------------------------------------------------- access


def _runs(actor: Principal, resource: Resource) -> bool:
    """Whether the actor manages ``resource``: their organisation's, inside the area their
    account is kept to, if any (#20)."""
    return actor.may_edit_listings_of(resource.organisation_id) and actor.in_area(located(resource))


def _side(actor: Principal, referral: Referral) -> Side | None:
    if actor.role is Role.ADMIN:
        return "both"
    out = _runs(actor, referral.from_resource)
    into = _runs(actor, referral.to_resource)
    if out and into:
        return "both"
    return "out" if out else "in" if into else None


async def _for(actor: Principal, referral_id: int, *, need: Side | None = None) -> Referral:
    """The referral if the actor's services are one of its two ends (``need``: that end),
    else 404: no hint that it exists."""
    actor.require(Role.STAFF, Role.ADMIN)
    referral = await Referral.get_or_none(id=referral_id).prefetch_related(
        "from_resource", "to_resource"
    )
    side = None if referral is None else _side(actor, referral)
    if referral is None or side is None:
        raise NotFound(N_("no referral %(id)s among your services", id=referral_id))
    if need is not None and side not in (need, "both"):
        raise NotFound(
            N_("no referral %(id)s that your service receives", id=referral_id)
            if need == "in"
            else N_("no referral %(id)s that your service sent", id=referral_id)
        )
    return referral


async def _view(ledger: Ledger, actor: Principal, referral: Referral) -> ReferralView:
    side = _side(actor, referral) or "out"
    booking = await Booking.get_or_none(id=referral.booking_id) if referral.booking_id else None
    suggested = (
        await Resource.get_or_none(id=referral.suggested_resource_id)
        if referral.suggested_resource_id
        else None
    )
    return referral_view(
        ledger.vault,
        ledger.tz,
        referral,
        side,
        booking=booking,
        suggested=suggested,
        lines=await directory.crisis_lines(),
    )


# ---------------------------------------------------------------------------- referring


async def create(
    ledger: Ledger, actor: Principal, data: ReferralIn, *, now: dt.datetime
) -> ReferralView:
    actor.require(Role.STAFF, Role.ADMIN)
    await booking_staff.managed_resource(actor, data.from_resource_id)
    to = await Resource.get_or_none(id=data.to_resource_id, status=Status.ACTIVE)
    if to is None:
        raise InvalidInput(N_("no such service to refer to"), field="to_resource_id")
    if to.id == data.from_resource_id:
        raise InvalidInput(N_("refer to another service"), field="to_resource_id")
    if data.need:
        need = NEEDS.needs.get(data.need)
        if need is None:
            raise InvalidInput(N_("not a need of the needs vocabulary"), field="need")
        if not need.serves(to.kind, to.services, to.audiences, NEEDS.specialist_kinds):
            raise InvalidInput(
                N_("that service does not offer help for this need"), field="to_resource_id"
            )
    if not (data.phone or data.email):
        raise InvalidInput(N_("one way to reach the resident: a phone or an e-mail"), field="phone")
    vault = ledger.vault
    referral = await Referral.create(
        code=await unused_code(Referral),
        token_enc=vault.seal(new_token()),
        from_resource_id=data.from_resource_id,
        to_resource_id=to.id,
        need=data.need,
        urgency=data.urgency,
        status=S.SENT,
        consent=data.consent,
        consent_at=now,
        reason_enc=vault.seal_optional(data.reason),
        nickname_enc=vault.seal_optional(data.nickname),
        phone_enc=vault.seal_optional(data.phone),
        email_enc=vault.seal_optional(data.email),
        created_by_id=actor.id,
        sent_at=now,
        lang=data.lang or "",
    )
    return await get(ledger, actor, referral.id)


async def get(ledger: Ledger, actor: Principal, referral_id: int) -> ReferralView:
    return await _view(ledger, actor, await _for(actor, referral_id))


async def listed(
    ledger: Ledger, actor: Principal, *, side: str | None = None, status: str | None = None
) -> list[ReferralView]:
    """Referrals from (``side="out"``) or to (``"in"``) the actor's services, newest first."""
    actor.require(Role.STAFF, Role.ADMIN)
    qs = Referral.all()
    if actor.role is not Role.ADMIN:
        org = actor.organisation_id
        if org is None:
            # Staff of no organisation run no service (a NULL filter would match
            # services that belong to none).
            return []
        out, into = Q(from_resource__organisation_id=org), Q(to_resource__organisation_id=org)
        qs = qs.filter(out if side == "out" else into if side == "in" else out | into)
    if status is not None:
        if status not in {s.value for s in S}:
            raise InvalidInput("not a referral status", field="status")
        qs = qs.filter(status=status)
    rows = (
        await qs.order_by("-sent_at", "-id")
        .limit(200)
        .prefetch_related("from_resource", "to_resource")
    )
    # The end that is the actor's organisation's may lie outside the area they are kept to.
    return [await _view(ledger, actor, r) for r in rows if _side(actor, r) is not None]


async def close(
    ledger: Ledger, actor: Principal, referral_id: int, *, now: dt.datetime
) -> ReferralView:
    """Either end closes a referral once it has an outcome; a declined one, the referring
    end, once it has found the resident other help (the receiving end closing it would end
    the referring service's notice of the decline)."""
    referral = await _for(actor, referral_id)
    if referral.status is S.DECLINED and _side(actor, referral) == "in":
        raise Conflict(
            N_("the referring service closes a declined referral, once the resident has help"),
            code="status",
        )
    await move(referral.id, S.CLOSED, closed_at=now)
    return await get(ledger, actor, referral_id)


async def reveal(ledger: Ledger, actor: Principal, referral_id: int) -> ContactView:
    """The receiving service's staff see the contact details in full, to call the resident.
    Audited (who, which referral, which fields; never the details)."""
    referral = await _for(actor, referral_id, need="in")
    vault = ledger.vault
    shown = ContactView(
        id=referral.id,
        nickname=vault.open_optional(referral.nickname_enc),
        phone=vault.open_optional(referral.phone_enc),
        email=vault.open_optional(referral.email_enc),
        reason=vault.open_optional(referral.reason_enc),
    )
    fields = sorted(k for k, v in shown.model_dump().items() if v and k != "id")
    await audit.record(actor, "reveal_referral_contact", referral, after={"fields": fields})
    return shown


# ---------------------------------------------------------------------------- receiving


async def accept(
    ledger: Ledger, actor: Principal, referral_id: int, data: AcceptIn, *, now: dt.datetime
) -> ReferralView:
    """Accept; book ``data.starts_at`` at once (a referral seat), or, without it, send the
    resident one message with a link to pick a time."""
    referral = await _for(actor, referral_id, need="in")
    if data.starts_at is not None:
        await book_seat(ledger, referral, data.starts_at, now=now, accepting=True, actor=actor)
        return await get(ledger, actor, referral_id)
    await move(referral.id, S.ACCEPTED, accepted_at=now)
    await _invite(ledger, referral, now=now)
    return await get(ledger, actor, referral_id)


# A resident's link is sent again at most this often (a lost text; not a way to spam).
RESEND_AFTER = dt.timedelta(minutes=10)


async def resend(
    ledger: Ledger, actor: Principal, referral_id: int, *, now: dt.datetime
) -> ReferralView:
    """Send the resident their link to pick a time again (they lost the message)."""
    referral = await _for(actor, referral_id, need="in")
    if referral.status is not S.ACCEPTED:
        raise Conflict(
            N_(
                "no time to pick for this referral (its status: %(now)s)",
                now=REFERRAL_STATUS_LABELS[referral.status],
            ),
            code="status",
        )
    if referral.invited_at is not None and now - referral.invited_at < RESEND_AFTER:
        raise Conflict(N_("the link was sent less than 10 minutes ago"), code="too_soon")
    await _invite(ledger, referral, now=now)
    return await get(ledger, actor, referral_id)


async def book(
    ledger: Ledger, actor: Principal, referral_id: int, starts_at: dt.datetime, *, now: dt.datetime
) -> ReferralView:
    """Book an accepted referral into a referral seat."""
    referral = await _for(actor, referral_id, need="in")
    await book_seat(ledger, referral, starts_at, now=now, accepting=False, actor=actor)
    return await get(ledger, actor, referral_id)


async def decline(
    ledger: Ledger, actor: Principal, referral_id: int, data: DeclineIn, *, now: dt.datetime
) -> ReferralView:
    referral = await _for(actor, referral_id, need="in")
    if data.reason is DeclineReason.OTHER and not data.note.strip():
        raise InvalidInput(N_("say why the referral is declined"), field="note")
    if data.suggested_resource_id is not None and not await Resource.exists(
        id=data.suggested_resource_id, status=Status.ACTIVE
    ):
        raise InvalidInput(N_("no such service to suggest"), field="suggested_resource_id")
    # Staff decide on a referral as sent: once they accepted it, only the resident's own
    # "no" (told to them, or through the link) declines it. So an accept and a decline
    # racing each other have one winner.
    resident = data.reason is DeclineReason.RESIDENT_DECLINED
    await move(
        referral.id,
        S.DECLINED,
        only=(S.SENT, S.ACCEPTED) if resident else (S.SENT,),
        declined_at=now,
        decline_reason=data.reason.value,
        decline_note=data.note.strip(),
        suggested_resource_id=data.suggested_resource_id,
    )
    return await get(ledger, actor, referral_id)


async def outcome(
    ledger: Ledger, actor: Principal, referral_id: int, attended: bool, *, now: dt.datetime
) -> ReferralView:
    """The resident came or did not: marks the booking too; after a visit the resident may
    be invited to give feedback."""
    referral = await _for(actor, referral_id, need="in")
    if referral.status is not S.BOOKED or referral.booking_id is None:
        raise Conflict(
            N_(
                "book this referral first (its status: %(now)s)",
                now=REFERRAL_STATUS_LABELS[referral.status],
            )
        )
    status = BookingStatus.ATTENDED if attended else BookingStatus.NO_SHOW
    # The referral follows its booking (``booking.referred``), as from the bookings page.
    await booking_staff.mark(ledger, actor, referral.booking_id, status, now=now)
    if attended:
        await invites.invite(ledger, referral.booking_id, now=now)
    return await get(ledger, actor, referral_id)


async def set_seats(actor: Principal, resource_id: int, count: int) -> int:
    """How many referral seats each slot of a bookable resource holds."""
    await booking_staff.managed_resource(actor, resource_id)
    changed = await BookingPolicy.filter(resource_id=resource_id).update(referral_seats=count)
    if not changed:
        raise seats.not_bookable()
    return count


async def referral_slots(
    ledger: Ledger,
    resource_id: int,
    first_day: dt.date,
    days: int,
    *,
    now: dt.datetime,
    notice: bool = False,
) -> list[ReferralSlot]:
    """The slots with a free referral seat. Staff of the service book them without its
    minimum notice (the green channel: they know whether they can see someone in an hour);
    with ``notice`` (a resident picking for themselves) it applies, as on the public form."""
    if not 1 <= days <= 31:
        raise InvalidInput("days must be between 1 and 31", field="days")
    policy = await BookingPolicy.get_or_none(resource_id=resource_id, enabled=True)
    if policy is None:
        raise seats.not_bookable()
    if policy.referral_seats < 1:
        return []
    grid = await reserve.slot_list(ledger, resource_id, first_day, days, now=now, notice=notice)
    if not len(grid):
        return []
    start, end = slots.as_utc(int(grid.starts[0])), slots.as_utc(int(grid.ends[-1]))
    rows = await Slot.filter(
        resource_id=resource_id, starts_at__gte=start, starts_at__lte=end
    ).values_list("starts_at", "referral_taken")
    taken = {slots.epoch(s): int(n) for s, n in rows}
    out = []
    for s, e in zip(grid.starts, grid.ends, strict=True):
        free = policy.referral_seats - taken.get(int(s), 0)
        if free > 0:
            out.append(
                ReferralSlot(
                    starts_at=slots.as_utc(int(s)).astimezone(ledger.tz),
                    ends_at=slots.as_utc(int(e)).astimezone(ledger.tz),
                    free=free,
                )
            )
    return out


async def book_seat(
    ledger: Ledger,
    referral: Referral,
    starts_at: dt.datetime,
    *,
    now: dt.datetime,
    accepting: bool,
    actor: Principal | None,
    lang: str = "",
    notice: bool = False,
) -> Booking:
    """Take a referral seat and book it, moving the referral to booked (through accepted
    when ``accepting``), all in one transaction: a full slot changes nothing. ``lang``: the
    page's language when the resident picked the time, else the one staff recorded for
    them (neither: Chinese). ``notice``: the service's minimum notice applies (a resident
    picking; see ``referral_slots``)."""
    rid = referral.to_resource_id
    token = new_token()
    for _ in range(3):
        schedule = await ledger.schedule_at(rid, starts_at)
        start, end = ledger.slot_in(schedule, starts_at, now=now, notice=notice)
        try:
            async with in_transaction(Referral._meta.default_connection) as conn:
                if accepting:
                    await move(referral.id, S.ACCEPTED, accepted_at=now)
                else:
                    fresh = await Referral.get(id=referral.id)
                    if fresh.status is not S.ACCEPTED:
                        raise Conflict(
                            N_(
                                "this referral cannot be booked (its status: %(now)s)",
                                now=REFERRAL_STATUS_LABELS[fresh.status],
                            )
                        )
                slot_id = await referral_seats.take(conn, rid, start, end, version=schedule.version)
                booking = await Booking.create(
                    using_db=conn,
                    code=await unused_code(Booking),
                    token_enc=ledger.vault.seal(token),
                    resource_id=rid,
                    slot_id=slot_id,
                    starts_at=slots.as_utc(start),
                    ends_at=slots.as_utc(end),
                    status=BookingStatus.CONFIRMED,
                    channel=Channel.REFERRAL,
                    lang=lang or referral.lang,
                    nickname_enc=referral.nickname_enc,
                    phone_enc=referral.phone_enc,
                    email_enc=referral.email_enc,
                    created_by_id=None if actor is None else actor.id,
                )
                await move(referral.id, S.BOOKED, booked_at=now, booking_id=booking.id)
                await ledger.tell(
                    NotificationKind.CONFIRMATION,
                    booking,
                    referral.to_resource,
                    token,
                    now=now,
                    referred_by=referral.from_resource,
                )
            return booking
        except seats.Stale:
            continue
    raise schedule_changed()


# The invitation to book a referral (the link follows on a line of its own).
REFERRED = N_("%(sender)s referred you to %(place)s. Choose a time through the link, or decline.")


async def _invite(ledger: Ledger, referral: Referral, *, now: dt.datetime) -> None:
    """One message to the resident with the link to pick a time (or decline): in their
    language when staff recorded it, else in Chinese, then English."""
    vault = ledger.vault
    lang = referral.lang
    url = ledger.links.referral(referral.code, vault.open(referral.token_enc), lang)
    sender, to = referral.from_resource, referral.to_resource
    kind = NotificationKind.REFERRAL_INVITE

    def said(locale: str) -> str:
        names = {
            "sender": place_name(sender.name_zh, sender.name_en, locale),
            "place": place_name(to.name_zh, to.name_en, locale),
        }
        return read(N_(REFERRED.message, **names), locale)

    if lang:
        text, subject = f"{said(resident_locale(lang))}\n{url}", subject_of(kind, lang)
    else:
        text, subject = f"{said('zh_CN')}\n{said('en')}\n{url}", in_both(SUBJECTS[kind])
    await enqueue_text(
        vault,
        kind,
        text,
        subject=subject,
        booking_id=None,
        phone=vault.open_optional(referral.phone_enc),
        email=vault.open_optional(referral.email_enc),
        now=now,
    )
    await Referral.filter(id=referral.id).update(invited_at=now)
