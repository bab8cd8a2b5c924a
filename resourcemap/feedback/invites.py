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
from resourcemap.models import Booking, FeedbackInvite, FeedbackToken, Notification, Resource
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
    token = await _link(ledger, booking, now=now)
    if token is None:
        return False  # invited already
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


async def _link(ledger: Ledger, booking: Booking, *, now: dt.datetime) -> str | None:
    """A new feedback link's token for ``booking``'s visit, or None if it had one."""
    try:
        await FeedbackInvite.create(booking_id=booking.id, booked_visit=booking.id)
    except IntegrityError:
        return None
    token = new_token()
    # Week-grained, like the answers: the day of the visit is not kept with the token.
    expires = week_of(now.astimezone(ledger.tz).date()) + dt.timedelta(days=VALID_DAYS + 7)
    await FeedbackToken.create(
        digest=ledger.vault.digest(token), resource_id=booking.resource_id, expires_on=expires
    )
    return token


async def may_ask_here(booking_code: str, *, now: dt.datetime) -> bool:
    """Whether the page of this visit may offer a feedback link: attended in the last
    :data:`VALID_DAYS` days, and none was given (by text, e-mail or this page)."""
    return await _askable(booking_code, now=now) is not None


async def _askable(booking_code: str, *, now: dt.datetime) -> Booking | None:
    """The visit of :func:`may_ask_here`, read once for the check and the link."""
    booking = await Booking.get_or_none(code=booking_code)
    if (
        booking is None
        or booking.status is not BookingStatus.ATTENDED
        or now - booking.starts_at > dt.timedelta(days=VALID_DAYS)
        or await FeedbackInvite.exists(booking_id=booking.id)
    ):
        return None
    return booking


async def sent(booking_code: str) -> bool:
    """Whether the visit's feedback link went to the resident by text or e-mail (its page
    then says so, rather than nothing once it stops offering one)."""
    return await Notification.exists(
        booking__code=booking_code, kind=NotificationKind.FEEDBACK_INVITE
    )


async def ask_here(ledger: Ledger, booking_code: str, *, now: dt.datetime) -> str | None:
    """A feedback link's token asked for on the visit's own page, once (a resident who booked
    with no phone or e-mail was never asked at all); None where :func:`may_ask_here` is not."""
    booking = await _askable(booking_code, now=now)
    return None if booking is None else await _link(ledger, booking, now=now)


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
