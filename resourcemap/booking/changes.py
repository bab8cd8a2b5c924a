"""A resident changes their mind: cancel, or move to another time.

Rescheduling takes the new seat before freeing the old one, in one transaction: if the new
slot is full nothing changes. A freed seat goes to the first resident waiting for that slot
(``Ledger.release``).
"""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from resourcemap.booking import seats, slots
from resourcemap.booking.ledger import Ledger, check_change_window, rules_of, schedule_changed
from resourcemap.errors import Conflict
from resourcemap.models import Booking, Resource
from resourcemap.said import N_
from resourcemap.vocab import (
    BOOKING_STATUS_LABELS,
    SEAT_HOLDING,
    BookingStatus,
    Channel,
    NotificationKind,
)


async def cancel(ledger: Ledger, code: str, token: str, *, now: dt.datetime) -> Booking:
    """The resident cancels (or declines a waitlist offer). Cancelling twice is harmless."""
    booking = await ledger.booking(code, token)
    if booking.status not in SEAT_HOLDING:
        return booking
    rules = await rules_of(booking.resource_id)
    if booking.status is BookingStatus.CONFIRMED:
        check_change_window(booking, rules, now)
    await ledger.end(booking, BookingStatus.CANCELLED, by="resident", reason="", now=now)
    return await Booking.get(id=booking.id)


async def reschedule(
    ledger: Ledger, code: str, token: str, new_start: dt.datetime, *, now: dt.datetime
) -> Booking:
    """Move to another slot of the same resource: the old seat is freed only if the new one
    was taken."""
    booking = await ledger.booking(code, token)
    if booking.status is not BookingStatus.CONFIRMED:
        raise Conflict(
            N_(
                "this booking cannot be moved (its status: %(status)s)",
                status=BOOKING_STATUS_LABELS[booking.status],
            )
        )
    if booking.channel is Channel.REFERRAL:
        # Its seat is a green-channel seat, which only the receiving service can move.
        raise Conflict(
            "a referral's booking is moved by the service; please call it", code="referral"
        )
    resource_id = booking.resource_id
    rules = await rules_of(resource_id)
    check_change_window(booking, rules, now)
    schedule = await ledger.schedule_at(resource_id, new_start)
    start, end = ledger.slot_in(schedule, new_start, now=now)
    if start == slots.epoch(booking.starts_at):
        raise Conflict(N_("the booking is already in that slot"))
    resource = await Resource.get(id=resource_id)
    async with in_transaction(Booking._meta.default_connection) as conn:
        locked = await seats.lock(conn, resource_id)
        if locked.version != schedule.version:
            raise schedule_changed()
        fresh = await Booking.get(id=booking.id)
        if fresh.status is not BookingStatus.CONFIRMED:
            raise Conflict(
                N_(
                    "this booking cannot be moved (its status: %(status)s)",
                    status=BOOKING_STATUS_LABELS[fresh.status],
                )
            )
        old_slot_id = fresh.slot_id
        slot_id = await seats.take(
            conn, resource_id, start, end, locked.rules.seats, moving=old_slot_id
        )
        await Booking.filter(id=booking.id).update(
            slot_id=slot_id,
            starts_at=slots.as_utc(start),
            ends_at=slots.as_utc(end),
            reminder_queued=False,
        )
        await ledger.release(old_slot_id, now=now)
        moved = await Booking.get(id=booking.id)
        await ledger.tell(NotificationKind.RESCHEDULED, moved, resource, token, now=now)
    return moved
