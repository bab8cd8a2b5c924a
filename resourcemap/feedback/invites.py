"""Inviting a resident to give feedback after an attended visit: one message, one link.

Unlinkable by construction: ``FeedbackInvite`` records only that a visit was invited (so it
is invited once); the link's token is stored as a keyed digest in ``FeedbackToken`` with
the service and an expiry week and nothing else, no key sequence, no time of day. The
answer deletes the token row and keeps the service and week only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise.exceptions import IntegrityError

from resourcemap.booking.ledger import Ledger
from resourcemap.booking.outbox import enqueue_text, place_name, resident_locale, subject_of
from resourcemap.booking.requests import new_token
from resourcemap.models import Booking, FeedbackInvite, FeedbackToken, Resource
from resourcemap.said import N_
from resourcemap.translations import read
from resourcemap.vocab import BookingStatus, NotificationKind

VALID_DAYS = 14


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


async def invite(ledger: Ledger, booking_id: int, *, now: dt.datetime) -> bool:
    """Invite the resident of an attended booking, once; ``False`` if there is no address or
    they were invited already."""
    booking = await Booking.get_or_none(id=booking_id)
    if booking is None or booking.status is not BookingStatus.ATTENDED:
        return False
    vault = ledger.vault
    phone, email = vault.open_optional(booking.phone_enc), vault.open_optional(booking.email_enc)
    if not phone and not email:
        return False
    try:
        await FeedbackInvite.create(booking_id=booking.id, booked_visit=booking.id)
    except IntegrityError:
        return False  # invited already
    token = new_token()
    # Week-grained, like the answers: the day of the visit is not kept with the token.
    expires = week_of(now.astimezone(ledger.tz).date()) + dt.timedelta(days=VALID_DAYS + 7)
    await FeedbackToken.create(
        digest=vault.digest(token), resource_id=booking.resource_id, expires_on=expires
    )
    resource = await Resource.get(id=booking.resource_id)
    locale = resident_locale(booking.lang)
    said = N_(
        "Thank you for visiting %(place)s. Tell us anonymously how it went (1 minute):",
        place=place_name(resource.name_zh, resource.name_en, locale),
    )
    text = f"{read(said, locale)}\n{ledger.links.feedback(token, booking.lang)}"
    await enqueue_text(
        vault,
        NotificationKind.FEEDBACK_INVITE,
        text,
        subject=subject_of(NotificationKind.FEEDBACK_INVITE, booking.lang),
        booking_id=booking.id,
        phone=phone,
        email=email,
        now=now,
    )
    return True


async def invite_attended(ledger: Ledger, *, now: dt.datetime, days: int = 7) -> int:
    """Invite the residents of every visit attended in the last ``days`` days not yet
    invited (the worker's sweep); how many were invited."""
    since = (now - dt.timedelta(days=days)).astimezone(dt.UTC)
    ids: list[Any] = await Booking.filter(
        status=BookingStatus.ATTENDED,
        starts_at__gte=since,
        starts_at__lte=now.astimezone(dt.UTC),
        feedback_invites__id__isnull=True,
    ).values_list("id", flat=True)
    count = 0
    for booking_id in ids:
        if await invite(ledger, booking_id, now=now):
            count += 1
    return count


async def expire(ledger: Ledger, *, now: dt.datetime) -> int:
    """Delete links past their expiry."""
    today = now.astimezone(ledger.tz).date()
    return await FeedbackToken.filter(expires_on__lt=today).delete()
