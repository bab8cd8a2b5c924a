"""The phone check of a resident's booking (#15, ``RESOURCEMAP_BOOKING_VERIFY=sms``).

With it on, ``reserve.book`` takes the seat as usual, in the one seat statement, but the
booking is ``pending`` until ``offer_expires_at`` (``RESOURCEMAP_BOOKING_VERIFY_HOLD_MINUTES``)
and its first message is a 6-digit code texted to its phone. Typing the code confirms it,
exactly as an unchecked booking is confirmed: the confirmation message follows. A hold that
runs out, or ``MAX_ATTEMPTS`` wrong codes, ends the booking and passes its seat on
(``Ledger.end``), like a waitlist offer nobody accepted: the slot is bookable again.

The code is kept only as a keyed digest (``Vault.digest``) bound to the booking's code, so
a digest read from the database names no code without the data keys, and is never logged;
the queued text message that carries it is encrypted like every message and emptied once
the hold ends either way.
"""

from __future__ import annotations

import datetime as dt
import re

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from resourcemap.booking import seats
from resourcemap.booking.idempotency import Issued
from resourcemap.booking.ledger import Ledger, forget_code
from resourcemap.booking.requests import SMS_CODE_DIGITS
from resourcemap.errors import Conflict, InvalidInput, TooManyRequests
from resourcemap.models import Booking, Resource
from resourcemap.vocab import BookingStatus, NotificationKind

MAX_ATTEMPTS = 5
FIELD = "verification_code"
TYPED = re.compile(rf"^[0-9]{{{SMS_CODE_DIGITS}}}$")


def digest(ledger: Ledger, booking_code: str, sms_code: str) -> str:
    """What a pending booking stores of its texted code."""
    return ledger.vault.digest(f"verify:{booking_code}:{sms_code}")


def normalise(typed: str) -> str:
    """A code as people type or paste it: ``123 456``, ``123-456`` and full-width digits."""
    text = re.sub(r"[\s-]", "", typed or "")
    return "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" else c for c in text)


async def confirm(ledger: Ledger, code: str, token: str, typed: str, *, now: dt.datetime) -> Issued:
    """Confirm the pending booking ``code`` with the ``typed`` code. Confirming twice is
    harmless.

    Raises ``InvalidInput`` (field ``verification_code``) for a code of the wrong shape or a
    wrong code while tries remain, ``TooManyRequests`` (``verify_attempts``) when the last
    try was wrong and the seat was released, and ``Conflict`` (``hold_expired``) when the hold
    ran out or ended otherwise."""
    booking = await ledger.booking(code, token)
    if booking.status is BookingStatus.CONFIRMED and not booking.verify_digest:
        return Issued(code=booking.code, token=token)
    if booking.status is not BookingStatus.PENDING:
        raise hold_ended()
    if await ledger.lapsed(booking, now):
        raise hold_ended()
    typed = normalise(typed)
    if not TYPED.match(typed):
        raise InvalidInput(
            f"type the {SMS_CODE_DIGITS} digits of the code we texted", field=FIELD, code="shape"
        )
    if ledger.vault.digest_matches(f"verify:{booking.code}:{typed}", booking.verify_digest):
        return await _confirmed(ledger, booking, token, now=now)
    return await _wrong(ledger, booking, now=now)


async def _confirmed(ledger: Ledger, booking: Booking, token: str, *, now: dt.datetime) -> Issued:
    async with in_transaction(Booking._meta.default_connection) as conn:
        await seats.lock(conn, booking.resource_id)
        confirmed = await ledger.confirm_hold(
            booking.id, BookingStatus.PENDING, now=now, verify_digest="", verify_attempts=0
        )
        if not confirmed:
            raise hold_ended()
        await forget_code(booking.id)
        held = await Booking.get(id=booking.id)
        resource = await Resource.get(id=held.resource_id)
        await ledger.tell(NotificationKind.CONFIRMATION, held, resource, token, now=now)
    return Issued(code=held.code, token=token)


async def _wrong(ledger: Ledger, booking: Booking, *, now: dt.datetime) -> Issued:
    # Counted in the database, so that parallel guesses cannot share one try.
    await Booking.filter(id=booking.id, status=BookingStatus.PENDING).update(
        verify_attempts=F("verify_attempts") + 1
    )
    attempts = (await Booking.get(id=booking.id)).verify_attempts
    left = MAX_ATTEMPTS - attempts
    if left > 0:
        raise InvalidInput(
            f"that is not the code we texted; {left} tries left", field=FIELD, code="wrong_code"
        )
    await release(ledger, booking, now=now)
    raise TooManyRequests(
        f"{MAX_ATTEMPTS} wrong codes: the seat was released; book again to get a new code",
        retry_after=60,
        field=FIELD,
        code="verify_attempts",
    )


async def release(ledger: Ledger, booking: Booking, *, now: dt.datetime) -> None:
    """End a pending booking and pass its seat on (no message: the resident is told here);
    ``Ledger.end`` forgets the code."""
    await ledger.end(
        booking,
        BookingStatus.EXPIRED,
        by="",
        reason="",
        now=now,
        only=(BookingStatus.PENDING,),
    )


def hold_ended() -> Conflict:
    return Conflict(
        "this booking is no longer held for you (the code was not typed in time); book again",
        code="hold_expired",
    )
