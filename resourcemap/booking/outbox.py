"""Messages to residents, queued in the same transaction as the change they report.

The dispatcher (``resourcemap.booking.dispatch``) sends them later and retries failures, so
a slow or broken gateway never holds up or undoes a booking. Address and text are
encrypted like every contact detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap.models import Notification
from resourcemap.said import N_, Said, pN_
from resourcemap.translations import locale_of, read
from resourcemap.vault import Vault
from resourcemap.vocab import NotificationKind, NotificationStatus

# One language per message: the resident's (``Message.lang``); in their own context, as a
# subject's words differ from a page's (预约验证码, not 您的预约码).
SUBJECTS: dict[NotificationKind, Said] = {
    NotificationKind.CONFIRMATION: pN_("message subject", "Booking confirmed"),
    NotificationKind.REMINDER: pN_("message subject", "Reminder: your booking tomorrow"),
    NotificationKind.WAITLIST_OFFER: pN_("message subject", "A seat is free for you"),
    NotificationKind.VERIFY_CODE: pN_("message subject", "Your booking code"),
    NotificationKind.CANCELLED_BY_STAFF: pN_("message subject", "Your booking was cancelled"),
    NotificationKind.CANCELLED: pN_("message subject", "Booking cancelled"),
    NotificationKind.RESCHEDULED: pN_("message subject", "Booking moved"),
    NotificationKind.REFERRAL_INVITE: pN_("message subject", "Choose a time for your referral"),
    NotificationKind.FEEDBACK_INVITE: pN_("message subject", "How was your visit?"),
}


def resident_locale(lang: str) -> str:
    """The catalogue a resident's messages are read in: the language they booked in; ''
    (rows from before it was kept) is Chinese."""
    return locale_of(lang or "zh")


def subject_of(kind: NotificationKind, lang: str) -> str:
    """The subject of a ``kind`` message in a booking's ``lang``."""
    return read(SUBJECTS[kind], resident_locale(lang))


def in_both(text: Said) -> str:
    """Chinese, then English: for a resident whose language is not known (a referral)."""
    return f"{read(text, 'zh_CN')} {read(text, 'en')}"


def place_name(name_zh: str, name_en: str | None, locale: str) -> str:
    """A place as a message in ``locale`` names it: in English by its English name if it
    has one."""
    return (locale == "en" and name_en) or name_zh


@dataclass(frozen=True)
class Message:
    kind: NotificationKind
    code: str
    resource_name: str  # the listing's Chinese name
    starts_at: dt.datetime
    manage_url: str
    reason: str = ""
    offer_expires_at: dt.datetime | None = None
    offer_minutes: int | None = None
    # The texted code of a ``VERIFY_CODE`` message: never logged, stored only sealed.
    secret: str = field(default="", repr=False)
    # The language the resident booked in ('' for rows from before it was kept: Chinese).
    lang: str = ""
    resource_name_en: str = ""  # read instead of the Chinese name in English, if any
    # A referral's booking: the service that referred the resident (Chinese and English
    # names), so the confirmation says why a booking they did not make arrived.
    referred_by: str = ""
    referred_by_en: str = ""

    @property
    def locale(self) -> str:
        return resident_locale(self.lang)

    @property
    def subject(self) -> str:
        return subject_of(self.kind, self.lang)

    def text(self, tz: ZoneInfo) -> str:
        """The message in the resident's language, with its link on a line of its own."""
        place = place_name(self.resource_name, self.resource_name_en, self.locale)
        return f"{read(self.said(tz, place), self.locale)}\n{self.manage_url}"

    def said(self, tz: ZoneInfo, place: str) -> Said:
        """The sentence of the message, naming ``place``."""
        at = {"place": place, "when": self.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")}
        code = f"{self.code[:4]} {self.code[4:]}"
        until = (
            self.offer_expires_at.astimezone(tz).strftime("%H:%M") if self.offer_expires_at else ""
        )
        kind = self.kind
        if kind is NotificationKind.CONFIRMATION and self.referred_by:
            sender = place_name(self.referred_by, self.referred_by_en, self.locale)
            return N_(
                "%(sender)s referred you to %(place)s. Your time: %(when)s. Booking code %(code)s.",
                sender=sender,
                code=code,
                **at,
            )
        if kind is NotificationKind.CONFIRMATION:
            return N_(
                "You have booked %(place)s, %(when)s. Booking code %(code)s.", code=code, **at
            )
        if kind is NotificationKind.REMINDER:
            return N_(
                "Reminder: you have a booking at %(place)s tomorrow, %(when)s. "
                "Booking code %(code)s.",
                code=code,
                **at,
            )
        if kind is NotificationKind.RESCHEDULED:
            return N_(
                "Your booking is moved to %(place)s, %(when)s. Booking code %(code)s.",
                code=code,
                **at,
            )
        if kind is NotificationKind.WAITLIST_OFFER:
            # The hold's length and deadline are said when known (they always are, today).
            held = N_(" for %(minutes)s minutes", minutes=self.offer_minutes)
            return N_(
                "A seat at %(place)s, %(when)s, is held for you%(held)s%(until)s. Please "
                "confirm before then; after that it goes to the next person. "
                "Waitlist code %(code)s.",
                held=held if self.offer_minutes else "",
                until=N_(" (until %(time)s)", time=until) if until else "",
                code=code,
                **at,
            )
        if kind is NotificationKind.VERIFY_CODE:
            if until:
                return N_(
                    "Code %(secret)s confirms your booking at %(place)s, %(when)s; enter it "
                    "before %(until)s. Do not tell anyone.",
                    secret=self.secret,
                    until=until,
                    **at,
                )
            return N_(
                "Code %(secret)s confirms your booking at %(place)s, %(when)s. Do not tell anyone.",
                secret=self.secret,
                **at,
            )
        if kind is NotificationKind.CANCELLED_BY_STAFF:
            if self.reason:
                return N_(
                    "We are sorry: your booking at %(place)s, %(when)s, was cancelled: %(reason)s.",
                    reason=self.reason,
                    **at,
                )
            return N_("We are sorry: your booking at %(place)s, %(when)s, was cancelled.", **at)
        if kind is NotificationKind.CANCELLED:
            return N_("Your booking at %(place)s, %(when)s, is cancelled.", **at)
        raise ValueError(f"no text for a {kind} message")


def rows(
    vault: Vault,
    tz: ZoneInfo,
    message: Message,
    *,
    phone_enc: str | None,
    email_enc: str | None,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The outbox entries of ``message``, one per (sealed) address given: fields of
    ``Notification`` without the booking."""
    body = vault.seal(message.text(tz))
    return [
        {
            "kind": message.kind,
            "address_kind": kind,
            "address_enc": address,
            "subject": message.subject,
            "body_enc": body,
            "status": NotificationStatus.PENDING,
            "next_attempt_at": now,
        }
        for kind, address in (("phone", phone_enc), ("email", email_enc))
        if address
    ]


async def enqueue(
    vault: Vault,
    tz: ZoneInfo,
    message: Message,
    *,
    booking_id: int | None,
    phone: str | None,
    email: str | None,
    now: dt.datetime,
) -> int:
    """Queue ``message`` to each address given; returns how many were queued."""
    queued = rows(
        vault,
        tz,
        message,
        phone_enc=vault.seal_optional(phone),
        email_enc=vault.seal_optional(email),
        now=now,
    )
    for entry in queued:
        await Notification.create(booking_id=booking_id, **entry)
    return len(queued)


async def enqueue_text(
    vault: Vault,
    kind: NotificationKind,
    text: str,
    *,
    subject: str,
    booking_id: int | None,
    phone: str | None,
    email: str | None,
    now: dt.datetime,
) -> int:
    """Queue a ready-made ``text`` and its ``subject`` (a referral's or feedback
    invitation) to each address given, sealed like every message; returns how many were
    queued."""
    body = vault.seal(text)
    queued = 0
    for address_kind, address in (("phone", phone), ("email", email)):
        if address:
            await Notification.create(
                booking_id=booking_id,
                kind=kind,
                address_kind=address_kind,
                address_enc=vault.seal(address),
                subject=subject,
                body_enc=body,
                status=NotificationStatus.PENDING,
                next_attempt_at=now,
            )
            queued += 1
    return queued
