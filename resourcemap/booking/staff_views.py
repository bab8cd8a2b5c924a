"""What staff see of bookings: typed views with contact details masked (a full view is
``Revealed``, audited), booking rules, blocked time and counts for planners."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from resourcemap.booking.ledger import Ledger
from resourcemap.booking.requests import display_code
from resourcemap.booking.slots import Rules
from resourcemap.isotime import IsoDatetime
from resourcemap.models import Booking, BookingPolicy, Resource
from resourcemap.vault import mask_email, mask_name, mask_phone
from resourcemap.vocab import BookingStatus, Channel, WaitlistStatus


class BookableResource(BaseModel):
    id: int
    name_zh: str
    name_en: str  # the pages name it in the reader's language
    # Takes bookings now (rules enabled, listing active).
    open: bool


class NoPolicy(BaseModel):
    """A resource without booking rules."""

    enabled: Literal[False] = False


class PolicyView(BaseModel):
    enabled: bool
    slot_minutes: int
    buffer_minutes: int
    seats: int
    min_notice_minutes: int
    horizon_days: int
    change_notice_minutes: int
    # Seats only a referral can take (#23); set through the referral API.
    referral_seats: int


class BlockView(BaseModel):
    id: int
    starts_at: IsoDatetime
    ends_at: IsoDatetime
    reason: str


class MaskedBooking(BaseModel):
    """A booking as staff lists show it: contact details masked, the note hidden."""

    id: int
    code: str
    code_display: str
    resource_id: int
    resource_name: str
    resource_name_en: str  # empty when the listing has no English name
    starts_at: IsoDatetime
    ends_at: IsoDatetime
    status: BookingStatus
    service: str | None
    channel: Channel
    nickname: str
    phone: str
    email: str
    has_note: bool
    cancelled_by: str | None
    cancel_reason: str | None


class MaskedWaiting(BaseModel):
    """A place in a waitlist as staff see it, contacts masked."""

    id: int
    resource_id: int
    resource_name: str
    resource_name_en: str
    starts_at: IsoDatetime
    status: WaitlistStatus
    channel: Channel
    nickname: str
    phone: str
    email: str


class Revealed(BaseModel):
    """One booking's contact details in full."""

    id: int
    nickname: str | None
    phone: str | None
    email: str | None
    note: str | None


class ResourceCounts(BaseModel):
    resource_id: int
    by_status: dict[str, int]
    by_channel: dict[str, int]


class BookingCounts(BaseModel):
    """Counts of bookings by status and channel per resource: never who booked."""

    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    first_day: dt.date = Field(serialization_alias="from")
    days: int
    total: int
    resources: list[ResourceCounts]


def policy_view(policy: BookingPolicy | None) -> PolicyView | NoPolicy:
    return NoPolicy() if policy is None else rules_view(policy)


def rules_view(policy: BookingPolicy) -> PolicyView:
    # The rules as booking reads them (``slots.Rules``), plus what only staff set.
    return PolicyView(
        enabled=policy.enabled, referral_seats=policy.referral_seats, **asdict(Rules.of(policy))
    )


def masked_view(ledger: Ledger, booking: Booking, resource: Resource) -> MaskedBooking:
    """A booking as staff lists show it: contact details masked, the note hidden."""
    vault = ledger.vault
    return MaskedBooking(
        id=booking.id,
        code=booking.code,
        code_display=display_code(booking.code),
        resource_id=resource.id,
        resource_name=resource.name_zh,
        resource_name_en=resource.name_en or "",
        starts_at=booking.starts_at.astimezone(ledger.tz),
        ends_at=booking.ends_at.astimezone(ledger.tz),
        status=booking.status,
        service=booking.service or None,
        channel=booking.channel,
        nickname=mask_name(vault.open_optional(booking.nickname_enc)),
        phone=mask_phone(vault.open_optional(booking.phone_enc)),
        email=mask_email(vault.open_optional(booking.email_enc)),
        has_note=booking.note_enc is not None,
        cancelled_by=booking.cancelled_by or None,
        cancel_reason=booking.cancel_reason or None,
    )
