"""A referral's booking that ends moves its referral on at once, stamped with the time of
the change (the injected clock): cancelled closes it, attended or not its outcome. Before,
the referral followed its booking only when read, stamped with the booking's row time, which
is the wall clock's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from resourcemap.models import Referral
from resourcemap.vocab import BookingStatus, ReferralStatus

# What a referral becomes when its booking becomes the key.
FOLLOWS = {
    BookingStatus.CANCELLED: ReferralStatus.CLOSED,
    BookingStatus.ATTENDED: ReferralStatus.ATTENDED,
    BookingStatus.NO_SHOW: ReferralStatus.DID_NOT_ATTEND,
}


async def follow(booking_id: int, status: BookingStatus, *, now: dt.datetime) -> None:
    """Move the booked referral of ``booking_id``, if any, as its booking moved to ``status``
    (called in the transaction that moved it)."""
    to = FOLLOWS.get(status)
    if to is None:
        return
    stamp: dict[str, Any] = {"closed_at": now}
    if to is not ReferralStatus.CLOSED:
        stamp = {"outcome_at": now, "attended": to is ReferralStatus.ATTENDED}
    await Referral.filter(booking_id=booking_id, status=ReferralStatus.BOOKED).update(
        status=to, **stamp
    )
