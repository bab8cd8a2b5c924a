"""Idempotency keys: a retried request (a double click, a resent form, a client's retry after
a lost answer) returns what the first one made instead of making a second booking or place.

The key is stored as a plain SHA-256 (it is random, chosen by the client); the request it
came with as a keyed digest (``Vault.digest``), since it names the resident's contact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from resourcemap.booking.ledger import Ledger
from resourcemap.booking.requests import BookingIn, digest
from resourcemap.errors import InvalidInput
from resourcemap.models import Booking, WaitlistEntry


@dataclass(frozen=True)
class Issued:
    """A booking (or waitlist place) with its manage token, shown to its holder only."""

    code: str
    token: str
    replayed: bool = False
    # A booking this request just wrote, as written, with its policy's change notice: its
    # receipt needs no second read of what the request already holds (#22).
    written: Booking | None = field(default=None, repr=False, compare=False)
    change_notice_minutes: int | None = None


async def replay(
    ledger: Ledger, model: type[Booking] | type[WaitlistEntry], key: str, fingerprint: str
) -> Issued | None:
    """The booking (or waitlist place) an Idempotency-Key made, if it made one for this same
    request; a different request with the same key is refused."""
    made = await model.get_or_none(idempotency_key=key)
    if made is None:
        return None
    # No digest: made before digests were keyed (migration 0009 cleared them) or purged.
    if made.request_hash and not ledger.vault.digest_matches(fingerprint, made.request_hash):
        what = "booking" if model is Booking else "waitlist"
        raise InvalidInput(
            f"this Idempotency-Key was already used for a different {what} request",
            field="Idempotency-Key",
        )
    return _again(ledger, made)


async def booked_with(ledger: Ledger, idempotency_key: str) -> tuple[Issued, dt.datetime] | None:
    """The booking this key made and when it starts, whatever the request: a form sent
    again after its booking, with another time chosen (the browser's Back), is shown what
    it booked rather than booking a second time unasked."""
    made = await Booking.get_or_none(idempotency_key=digest(idempotency_key))
    if made is None:
        return None
    return _again(ledger, made), made.starts_at.astimezone(ledger.tz)


def _again(ledger: Ledger, made: Booking | WaitlistEntry) -> Issued:
    """What a key made, given again: its code and manage token."""
    return Issued(code=made.code, token=ledger.vault.open(made.token_enc), replayed=True)


async def earlier(
    ledger: Ledger,
    model: type[Booking] | type[WaitlistEntry],
    idempotency_key: str | None,
    data: BookingIn,
) -> Issued | None:
    """What an earlier request with this Idempotency-Key made, if it made something: a retry
    refused by a limit (#16) is answered with it rather than with 429."""
    if idempotency_key is None:
        return None
    return await replay(ledger, model, digest(idempotency_key), data.fingerprint())
