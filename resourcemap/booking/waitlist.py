"""Waiting for a full slot: join, see one's place, take an offered seat, leave.

A seat freed in a full slot goes to the first resident waiting as an offer that holds the
seat until it expires (``RESOURCEMAP_WAITLIST_OFFER_MINUTES``), then to the next
(``Ledger.release`` and ``Ledger.expire_offers``).
"""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from resourcemap.booking import seats, slots
from resourcemap.booking.idempotency import Issued, replay
from resourcemap.booking.ledger import CODE_ATTEMPTS, Ledger, resource_or_404, service_offered
from resourcemap.booking.requests import BookingIn, digest, new_code, new_token
from resourcemap.booking.reserve import slot_list
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.models import Booking, Resource, WaitlistEntry
from resourcemap.said import N_
from resourcemap.vocab import RESIDENT_CHANNELS, BookingStatus, NotificationKind, WaitlistStatus


async def join(
    ledger: Ledger, data: BookingIn, *, now: dt.datetime, idempotency_key: str | None = None
) -> Issued:
    """Wait for a seat in a full slot; an open slot should be booked instead. Replaying an
    idempotency key returns the place it made."""
    if data.channel not in RESIDENT_CHANNELS:
        raise InvalidInput(f"channel {data.channel} is for staff", field="channel")
    if not data.phone and not data.email:
        raise InvalidInput(
            "give a phone number or e-mail address so we can tell you when a seat frees up",
            field="phone",
        )
    key = None if idempotency_key is None else digest(idempotency_key)
    fingerprint = data.fingerprint()
    try:
        return await _join(ledger, data, key, fingerprint, now=now)
    except (Conflict, NotFound):
        # As for bookings: a replay finds its place even after the slot freed up.
        if key is not None and (made := await replay(ledger, WaitlistEntry, key, fingerprint)):
            return made
        raise


async def _join(
    ledger: Ledger, data: BookingIn, key: str | None, fingerprint: str, *, now: dt.datetime
) -> Issued:
    resource = await resource_or_404(data.resource_id)
    service_offered(resource.services, data.service)
    listed = await slot_list(
        ledger, data.resource_id, data.starts_at.astimezone(ledger.tz).date(), 1, now=now
    )
    i = listed.find(slots.epoch(data.starts_at))
    if i is None:
        raise Conflict(N_("there is no such slot to wait for"))
    if int(listed.remaining[i]) > 0:
        raise Conflict(N_("this slot still has free seats: book it instead"))
    token = new_token()
    for _ in range(CODE_ATTEMPTS):
        code = new_code()
        try:
            await WaitlistEntry.create(
                code=code,
                token_enc=ledger.vault.seal(token),
                resource_id=data.resource_id,
                starts_at=slots.as_utc(int(listed.starts[i])),
                status=WaitlistStatus.WAITING,
                service=data.service or "",
                channel=data.channel,
                idempotency_key=key,
                request_hash=ledger.vault.digest(fingerprint),
                lang=data.lang or "",
                **ledger.sealed(data),
            )
        except IntegrityError:
            # The same key sent twice at once, or (rarely) the code was taken.
            if key is not None and (made := await replay(ledger, WaitlistEntry, key, fingerprint)):
                return made
            continue
        return Issued(code=code, token=token)
    raise Conflict("could not allocate a waitlist code; try again")


async def position(entry: WaitlistEntry) -> int | None:
    """The place in line of a resident still waiting (1 is next)."""
    if entry.status is not WaitlistStatus.WAITING:
        return None
    ahead = await WaitlistEntry.filter(
        resource_id=entry.resource_id,
        starts_at=entry.starts_at,
        status=WaitlistStatus.WAITING,
        id__lt=entry.id,
    ).count()
    return 1 + ahead


async def offered(entry: WaitlistEntry) -> Booking | None:
    """The booking holding the seat on offer to this entry, if one is."""
    if entry.status is not WaitlistStatus.OFFERED or entry.booking_id is None:
        return None
    return await Booking.get(id=entry.booking_id)


async def accept_offer(ledger: Ledger, code: str, token: str, *, now: dt.datetime) -> Issued:
    """Take the seat held for this waitlist entry; returns the booking and its token."""
    entry = await ledger.entry(code, token)
    await ledger.expire_offers(now, resource_id=entry.resource_id)
    entry = await WaitlistEntry.get(id=entry.id)
    if entry.status is not WaitlistStatus.OFFERED or entry.booking_id is None:
        raise Conflict(N_("there is no seat on offer for this entry any more"))
    async with in_transaction(Booking._meta.default_connection) as conn:
        await seats.lock(conn, entry.resource_id)
        if not await ledger.confirm_hold(entry.booking_id, BookingStatus.OFFERED, now=now):
            raise Conflict(N_("the offer has expired"), code="offer_expired")
        await WaitlistEntry.filter(id=entry.id).update(status=WaitlistStatus.BOOKED)
        booking = await Booking.get(id=entry.booking_id)
        resource = await Resource.get(id=booking.resource_id)
        booking_token = ledger.vault.open(booking.token_enc)
        await ledger.tell(NotificationKind.CONFIRMATION, booking, resource, booking_token, now=now)
    return Issued(code=booking.code, token=booking_token)


async def leave(ledger: Ledger, code: str, token: str, *, now: dt.datetime) -> None:
    entry = await ledger.entry(code, token)
    if entry.status is WaitlistStatus.WAITING:
        await WaitlistEntry.filter(id=entry.id, status=WaitlistStatus.WAITING).update(
            status=WaitlistStatus.LEFT
        )
        return
    booking = await offered(entry)
    # Only the offer: if the resident accepted it meanwhile, that booking stands.
    if booking is not None and await ledger.end(
        booking,
        BookingStatus.CANCELLED,
        by="resident",
        reason="",
        now=now,
        only=(BookingStatus.OFFERED,),
    ):
        await WaitlistEntry.filter(id=entry.id, status=WaitlistStatus.OFFERED).update(
            status=WaitlistStatus.LEFT
        )
