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
from resourcemap.vault import Vault
from resourcemap.vocab import NotificationKind, NotificationStatus

SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.CONFIRMATION: "预约成功 Booking confirmed",
    NotificationKind.REMINDER: "明日预约提醒 Reminder: your booking tomorrow",
    NotificationKind.WAITLIST_OFFER: "候补名额 A seat is free for you",
    NotificationKind.VERIFY_CODE: "预约验证码 Your booking code",
    NotificationKind.CANCELLED_BY_STAFF: "预约已被取消 Your booking was cancelled",
    NotificationKind.CANCELLED: "预约已取消 Booking cancelled",
    NotificationKind.RESCHEDULED: "预约已改期 Booking moved",
    NotificationKind.REFERRAL_INVITE: "转介预约 Choose a time for your referral",
    NotificationKind.FEEDBACK_INVITE: "服务评价 How was your visit?",
}


@dataclass(frozen=True)
class Message:
    kind: NotificationKind
    code: str
    resource_name: str
    starts_at: dt.datetime
    manage_url: str
    reason: str = ""
    offer_expires_at: dt.datetime | None = None
    # The texted code of a ``VERIFY_CODE`` message: never logged, stored only sealed.
    secret: str = field(default="", repr=False)

    def text(self, tz: ZoneInfo) -> str:
        when = self.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        code = f"{self.code[:4]} {self.code[4:]}"
        place = self.resource_name
        lines = {
            NotificationKind.CONFIRMATION: f"您已预约{self.resource_name}，{when}。预约码 {code}。",
            NotificationKind.REMINDER: f"提醒：您明天 {when} 在{place}有预约，预约码 {code}。",
            NotificationKind.WAITLIST_OFFER: (
                f"{self.resource_name} {when} 有空位为您保留"
                + (
                    f"至 {self.offer_expires_at.astimezone(tz).strftime('%H:%M')}"
                    if self.offer_expires_at
                    else ""
                )
                + f"，请确认。候补码 {code}。"
            ),
            NotificationKind.VERIFY_CODE: (
                f"验证码 {self.secret}，用于确认您在{place} {when} 的预约"
                + (
                    f"，请在 {self.offer_expires_at.astimezone(tz).strftime('%H:%M')} 前输入"
                    if self.offer_expires_at
                    else ""
                )
                + "。请勿告诉他人。"
            ),
            NotificationKind.CANCELLED_BY_STAFF: (
                f"很抱歉，您在{self.resource_name} {when} 的预约已被取消"
                + (f"：{self.reason}" if self.reason else "")
                + "。"
            ),
            NotificationKind.CANCELLED: f"您在{self.resource_name} {when} 的预约已取消。",
            NotificationKind.RESCHEDULED: f"您的预约已改到{place} {when}，预约码 {code}。",
        }[self.kind]
        return f"{lines}\n{self.manage_url}"


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
            "subject": SUBJECTS[message.kind],
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
    booking_id: int | None,
    phone: str | None,
    email: str | None,
    now: dt.datetime,
) -> int:
    """Queue a ready-made ``text`` (a referral's or feedback invitation) to each address
    given, sealed like every message; returns how many were queued."""
    body = vault.seal(text)
    queued = 0
    for address_kind, address in (("phone", phone), ("email", email)):
        if address:
            await Notification.create(
                booking_id=booking_id,
                kind=kind,
                address_kind=address_kind,
                address_enc=vault.seal(address),
                subject=SUBJECTS[kind],
                body_enc=body,
                status=NotificationStatus.PENDING,
                next_attempt_at=now,
            )
            queued += 1
    return queued
