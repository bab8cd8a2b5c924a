"""Deleting residents' contact details once their booking is long past (``resourcemap purge``).

Bookings and waitlist entries whose slot ended more than ``booking_retention_days`` ago lose
nickname, phone, e-mail and note (set NULL, ``purged_at`` set), and the notifications about
them lose address and text. The rows themselves stay, so planners' counts (bookings, no-shows,
waitlist demand per service and day) do not change. A waitlist entry is dated by its slot's
start, hours at most from its end. Run it daily (cron, a systemd timer); running it again
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from resourcemap.models import Booking, Notification, WaitlistEntry

BATCH = 500
CONTACT_FIELDS = ("nickname_enc", "phone_enc", "email_enc", "note_enc")


@dataclass(frozen=True)
class Purged:
    cutoff: dt.datetime
    bookings: int
    waitlist_entries: int
    notifications: int


def _bookings(cutoff: dt.datetime) -> Q:
    return Q(ends_at__lt=cutoff, purged_at__isnull=True)


def _waitlist(cutoff: dt.datetime) -> Q:
    return Q(starts_at__lt=cutoff, purged_at__isnull=True)


def _notifications(cutoff: dt.datetime) -> Q:
    # A notification whose booking was deleted is dated by its own creation.
    return Q(
        Q(address_enc__isnull=False) | Q(body_enc__isnull=False),
        Q(booking__ends_at__lt=cutoff) | Q(booking_id__isnull=True, created_at__lt=cutoff),
    )


async def purge(now: dt.datetime, retention_days: int, *, dry_run: bool = False) -> Purged:
    """Clear contact details of slots that ended before ``now - retention_days``."""
    cutoff = now - dt.timedelta(days=retention_days)
    if dry_run:
        return Purged(
            cutoff=cutoff,
            bookings=await Booking.filter(_bookings(cutoff)).count(),
            waitlist_entries=await WaitlistEntry.filter(_waitlist(cutoff)).count(),
            notifications=await Notification.filter(_notifications(cutoff)).count(),
        )
    cleared = {field: None for field in CONTACT_FIELDS}
    connection = Booking._meta.default_connection
    bookings = waitlist = notifications = 0
    # Batches keep each transaction (and SQLite's write lock) short on a large backlog.
    while ids := await Booking.filter(_bookings(cutoff)).limit(BATCH).values_list("id", flat=True):
        async with in_transaction(connection):
            # Staff's cancellation reason is free text that may name the resident.
            bookings += await Booking.filter(_bookings(cutoff), id__in=ids).update(
                **cleared,
                request_hash="",
                phone_key="",
                email_key="",
                address_key="",
                cancel_reason="",
                purged_at=now,
            )
            notifications += await Notification.filter(
                Q(address_enc__isnull=False) | Q(body_enc__isnull=False), booking_id__in=ids
            ).update(address_enc=None, body_enc=None)
    while (
        ids := await WaitlistEntry.filter(_waitlist(cutoff))
        .limit(BATCH)
        .values_list("id", flat=True)
    ):
        waitlist += await WaitlistEntry.filter(_waitlist(cutoff), id__in=ids).update(
            **cleared, request_hash="", purged_at=now
        )
    while (
        ids := await Notification.filter(_notifications(cutoff))
        .limit(BATCH)
        .values_list("id", flat=True)
    ):
        notifications += await Notification.filter(id__in=ids).update(
            address_enc=None, body_enc=None
        )
    return Purged(
        cutoff=cutoff, bookings=bookings, waitlist_entries=waitlist, notifications=notifications
    )
