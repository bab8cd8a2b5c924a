"""Listing free slots and taking a seat.

A new booking (the hot path) is one call, ``seats.book``: lock, seat, booking and its
confirmation, all or nothing. The slot is checked before, against the resource's schedule
as this process read it last; the call refuses the booking when ``schedule_version`` (bumped
by database triggers on every change to hours, exceptions, closures, blocked time, rules or
the listing) moved on since, and the slot is checked again on a fresh read. So a booking is
never let into time that staff closed meanwhile, and a warm process books in one round trip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from resourcemap import db
from resourcemap.accounts import Principal
from resourcemap.booking import outbox, schedules, seats, slots, verify
from resourcemap.booking.idempotency import Issued, replay
from resourcemap.booking.ledger import (
    CODE_ATTEMPTS,
    Ledger,
    resource_or_404,
    schedule_changed,
    service_offered,
)
from resourcemap.booking.requests import BookingIn, digest, new_code, new_sms_code, new_token
from resourcemap.contact import identities
from resourcemap.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from resourcemap.models import Booking, Notification
from resourcemap.said import N_
from resourcemap.vault import Vault
from resourcemap.vocab import (
    RESIDENT_CHANNELS,
    SEAT_HOLDING,
    STAFF_CHANNELS,
    BookingStatus,
    NotificationKind,
    Role,
)


async def slot_list(
    ledger: Ledger,
    resource_id: int,
    first_day: dt.date,
    days: int,
    *,
    now: dt.datetime,
    notice: bool = True,
) -> slots.SlotList:
    """Slots of ``days`` local days; ``notice=False`` lists those staff may still book
    (no minimum notice, as in ``book(..., actor=...)``)."""
    start, end = slots.window(first_day, days, ledger.tz)
    schedule = (await schedules.load_schedules([resource_id], start=start, end=end, now=now)).get(
        resource_id
    )
    if schedule is not None and schedule.offers_due:
        # Seats held for offers that ran out are passed on before anyone sees the list.
        await ledger.expire_offers(now, resource_id=resource_id)
        schedule = (await schedules.load_schedules([resource_id], start=start, end=end)).get(
            resource_id
        )
    if schedule is None:
        await resource_or_404(resource_id)
        raise seats.not_bookable()
    if not notice:
        schedule = replace(schedule, rules=replace(schedule.rules, min_notice_minutes=0))
    return slots.generate(schedule, first_day, days, ledger.tz, now=now)


async def next_free(
    ledger: Ledger, resource_ids: list[int], *, now: dt.datetime
) -> dict[int, tuple[int, int]]:
    """The first slot with a free seat of each bookable resource, as (start, end) epochs.

    Looks one week ahead first, then to each resource's horizon.
    """
    today = now.astimezone(ledger.tz).date()
    found: dict[int, tuple[int, int]] = {}
    todo = list(resource_ids)
    for first, days in ((today, 7), (today + dt.timedelta(days=7), 84)):
        if not todo:
            break
        start, end = slots.window(first, days, ledger.tz)
        read = await schedules.load_schedules(todo, start=start, end=end)
        for rid, schedule in read.items():
            listed = slots.generate(schedule, first, days, ledger.tz, now=now)
            free = listed.remaining > 0
            if free.any():
                i = int(free.argmax())
                found[rid] = (int(listed.starts[i]), int(listed.ends[i]))
        todo = [rid for rid in todo if rid in read and rid not in found]
    return found


async def book(
    ledger: Ledger,
    data: BookingIn,
    *,
    now: dt.datetime,
    idempotency_key: str | None = None,
    actor: Principal | None = None,
    address: str | None = None,
) -> Issued:
    """Take a seat. Replaying an idempotency key returns the booking it made.

    A resident's booking (no ``actor``) counts against the caps on one holder's active
    future bookings of the resource: naming the same phone number or e-mail address, or
    sent from the same network ``address`` (``TooManyRequests`` at a cap)."""
    if actor is None and data.channel not in RESIDENT_CHANNELS:
        raise InvalidInput(f"channel {data.channel} is for bookings staff enter", field="channel")
    if actor is not None:
        actor.require(Role.STAFF, Role.ADMIN)
        if data.channel not in STAFF_CHANNELS:
            raise InvalidInput(
                "staff enter bookings taken by phone or from walk-in visitors", field="channel"
            )
    if actor is None and ledger.verify_by_sms and not data.phone:
        raise InvalidInput(
            "bookings are checked by a code texted to the phone: give a phone number",
            field="phone",
            code="phone_required",
        )
    key = None if idempotency_key is None else digest(idempotency_key)
    fingerprint = data.fingerprint()
    holder = holder_keys(ledger, data, address)
    caps = seats.NO_CAPS
    if actor is None:
        caps = seats.Caps(ledger.cap_per_contact, ledger.cap_per_address, now)
    try:
        # A schedule read (if any) and the seat call share one pooled connection.
        async with db.one_connection(Booking._meta.db) as conn:
            return await _book(
                ledger, conn, data, key, fingerprint, now=now, actor=actor, holder=holder, caps=caps
            )
    except seats.Capped as capped:
        if key is not None and (made := await replay(ledger, Booking, key, fingerprint)):
            return made
        raise await _cap_refusal(capped.which, caps, holder, data.resource_id) from None
    except (Conflict, NotFound) as exc:
        # A replay is looked up only when the request cannot be booked afresh (the unique
        # key refuses a second booking otherwise): it finds its booking even after the slot
        # filled up or passed, at no cost to first requests.
        if key is not None and (made := await replay(ledger, Booking, key, fingerprint)):
            return made
        # A full slot may be full of holds that ran out (offers, unchecked bookings) that
        # no worker round or slot list has passed on yet: once they are, try again.
        if getattr(exc, "code", None) == "full" and await ledger.expire_offers(
            now, resource_id=data.resource_id
        ):
            return await book(
                ledger, data, now=now, idempotency_key=idempotency_key, actor=actor, address=address
            )
        raise


async def _book(
    ledger: Ledger,
    conn: BaseDBAsyncClient,
    data: BookingIn,
    key: str | None,
    fingerprint: str,
    *,
    now: dt.datetime,
    actor: Principal | None,
    holder: dict[str, str],
    caps: seats.Caps,
) -> Issued:
    token = new_token()
    sealed: dict[str, Any] = {}
    # First against the schedule as last read (cached): the seat call refuses the booking
    # if staff changed the schedule since (Stale), and a check fails only on a fresh read.
    # Then against a fresh read.
    for attempt in range(3):
        schedule = None if attempt else ledger.cached_schedule(data.resource_id, data.starts_at)
        cached = schedule is not None
        if schedule is None:
            schedule = await ledger.schedule_at(data.resource_id, data.starts_at)
        try:
            start, end = _checked(ledger, schedule, data, now=now, actor=actor)
        except (Conflict, InvalidInput, NotFound):
            if cached:
                continue
            raise
        # Sealed before the seat is taken: the resource's lock is held as briefly as can be.
        sealed = sealed or {"token_enc": ledger.vault.seal(token), **ledger.sealed(data)}
        values: dict[str, Any] = {
            **sealed,
            "resource_id": data.resource_id,
            "starts_at": slots.as_utc(start),
            "ends_at": slots.as_utc(end),
            "status": BookingStatus.CONFIRMED,
            "service": data.service or "",
            "channel": data.channel,
            "created_by_id": None if actor is None else actor.id,
            "idempotency_key": key,
            "request_hash": ledger.vault.digest(fingerprint),
            "lang": data.lang or "",
            **holder,
        }
        if actor is None and ledger.verify_by_sms:
            # Held, not confirmed, until the resident types the texted code (``verify``).
            hold = min(now + dt.timedelta(minutes=ledger.hold_minutes), slots.as_utc(start))
            values |= {"status": BookingStatus.PENDING, "offer_expires_at": hold}
        try:
            return await _issue(
                ledger, conn, values, schedule, token, key, fingerprint, now=now, caps=caps
            )
        except seats.Stale:
            continue
    raise schedule_changed()


def _checked(
    ledger: Ledger,
    schedule: slots.Schedule,
    data: BookingIn,
    *,
    now: dt.datetime,
    actor: Principal | None,
) -> tuple[int, int]:
    """The slot ``data`` asks for as (start, end) epochs, if ``schedule`` lets the resident
    (or ``actor``, staff) book it now."""
    listing = schedule.listing
    if actor is not None and not actor.may_edit_listings_of(listing.organisation_id):
        raise NotFound(N_("no resource %(id)s among your services", id=data.resource_id))
    service_offered(listing.services, data.service)
    # Staff book callers and visitors in front of them: no minimum notice.
    return ledger.slot_in(schedule, data.starts_at, now=now, notice=actor is None)


async def _issue(
    ledger: Ledger,
    conn: BaseDBAsyncClient,
    values: dict[str, Any],
    schedule: slots.Schedule,
    token: str,
    key: str | None,
    fingerprint: str,
    *,
    now: dt.datetime,
    caps: seats.Caps,
) -> Issued:
    """Write the booking ``values`` with a new code, and its confirmation (or, for a
    booking held until its phone is checked, the texted code)."""
    pending = values["status"] is BookingStatus.PENDING
    for _ in range(CODE_ATTEMPTS):
        code = new_code()
        secret = new_sms_code() if pending else ""
        message = ledger.message(
            NotificationKind.VERIFY_CODE if pending else NotificationKind.CONFIRMATION,
            code,
            values["starts_at"],
            schedule.listing.name_zh,
            token,
            lang=values["lang"],
            name_en=schedule.listing.name_en,
            secret=secret,
            expires_at=values.get("offer_expires_at"),
        )
        # The booking's sealed phone and e-mail address the messages too; the code goes to
        # the phone only.
        queued = outbox.rows(
            ledger.vault,
            ledger.tz,
            message,
            phone_enc=values["phone_enc"],
            email_enc=None if pending else values["email_enc"],
            now=now,
        )
        row = {**values, "code": code}
        if pending:
            row["verify_digest"] = verify.digest(ledger, code, secret)
        elif queued:
            # The confirmation is the reminder of a booking for today or tomorrow.
            row["reminder_queued"] = ledger.reminds(values["starts_at"], now)
        try:
            await seats.book(
                conn,
                seats.row(Booking, row, now, later="slot_id"),
                [seats.row(Notification, m, now, later="booking_id") for m in queued],
                version=schedule.version,
                caps=caps,
            )
        except IntegrityError:
            # Another request with the same key won the race, or (rarely) the code was
            # taken: nothing was written, seat included.
            if key is not None and (made := await replay(ledger, Booking, key, fingerprint)):
                return made
            continue
        return Issued(
            code=code,
            token=token,
            written=Booking(**row),
            change_notice_minutes=schedule.rules.change_notice_minutes,
        )
    raise Conflict("could not allocate a booking code; try again")


def holder_keys(ledger: Ledger, data: BookingIn, address: str | None) -> dict[str, str]:
    """Who asks for the seat, as the keyed digests the caps count (``''``: not given). The
    same person however the number or address is spelled (``contact.identities``)."""
    keys = contact_keys(ledger.vault, data.phone, data.email)
    keys["address_key"] = ledger.vault.digest("address:" + address) if address else ""
    return keys


def contact_keys(vault: Vault, phone: str | None, email: str | None) -> dict[str, str]:
    """``phone_key`` and ``email_key``: the keyed digests of a phone number and an e-mail
    address as the per-contact cap counts them (``''``: not given); key rotation makes them
    anew with this."""
    keys = {"phone_key": "", "email_key": ""}
    for identity in identities(phone, email):
        keys[identity.split(":", 1)[0] + "_key"] = vault.digest(identity)
    return keys


async def _cap_refusal(
    which: str, caps: seats.Caps, holder: dict[str, str], resource_id: int
) -> TooManyRequests:
    """429 at a cap, with ``Retry-After`` until the holder's first upcoming booking starts
    (then it no longer counts)."""
    held = Booking.filter(
        resource_id=resource_id, status__in=list(SEAT_HOLDING), starts_at__gt=caps.now
    )
    if which == "contact":
        given = [Q(**{k: v}) for k, v in holder.items() if v and k != "address_key"]
        held = held.filter(Q(*given, join_type=Q.OR))
        cap = caps.contact
        reason = (
            f"this phone number or e-mail address already holds {cap} upcoming bookings of "
            "this service; cancel one or call the service"
        )
    else:
        held = held.filter(address_key=holder["address_key"])
        cap = caps.address
        reason = (
            f"{cap} upcoming bookings of this service were already made from this network "
            "address; cancel one or call the service"
        )
    first = await held.order_by("starts_at").first()
    wait = (first.starts_at - caps.now).total_seconds() if first else 60
    # The code says whose cap it is (the contact's or the network address's): a page tells
    # the resident what to do, which waiting a minute is not.
    code = "booking_cap" if which == "contact" else "address_cap"
    return TooManyRequests(reason, retry_after=int(wait) + 1, code=code)
