"""What staff and residents see of a referral: typed views, contacts masked.

The referring service sees the status move and the receiving service's answer; the time of
the visit and anything about it are the receiving service's only (no clinical content is
ever stored)."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from resourcemap.models import Booking, Referral, Resource
from resourcemap.search.base import Reach
from resourcemap.search.needs import NEEDS
from resourcemap.vault import Vault, mask_email, mask_name, mask_phone
from resourcemap.vocab import (
    BookingStatus,
    Consent,
    Eligibility,
    Fee,
    ReferralStatus,
    ResourceKind,
    Urgency,
)

Side = Literal["out", "in", "both"]


class ServiceRef(BaseModel):
    id: int
    name_zh: str
    name_en: str
    kind: ResourceKind
    phone: str = ""


class Candidate(ServiceRef):
    """A service a referral for a need can go to, as the referring staff choose among them."""

    # Straight-line metres from the referring service; None where it is not a walk (a
    # phone service, or a team serving its area without a place on the map).
    distance_m: float | None
    reach: Reach
    eligibility: Eligibility
    eligibility_note_zh: str = ""
    eligibility_note_en: str = ""
    # What a visit costs (a resident told "free" and sent to a paid place loses trust).
    fee: Fee = Fee.UNKNOWN
    # It keeps seats for referrals: the resident gets a time through the green channel
    # (elsewhere the service calls them back, or they book as anyone does).
    referral_seats: bool = False
    # Its kind is one the need names (a minors' guidance centre for 厌学): listed first.
    dedicated: bool = False
    # Only for its own members (a school's students, a workplace's employees): the resident
    # can go there only if they are one.
    members_only: bool = False


class Candidates(BaseModel):
    """The services to refer to: those the resident can use first, members-only places
    after them when asked for (labelled), and how many of those were left out."""

    items: list[Candidate]
    members_only_left_out: int


class Line(BaseModel):
    """A number to call now: the receiving service's, or a 24/7 line."""

    name_zh: str
    name_en: str
    phone: str


class ReferralView(BaseModel):
    id: int
    side: Side
    status: ReferralStatus
    from_service: ServiceRef
    to_service: ServiceRef
    need: str
    # Data, not translation: a need's two labels come from search/needs.toml, with its words.
    need_zh: str
    need_en: str
    urgency: Urgency
    consent: Consent
    consent_at: dt.datetime
    sent_at: dt.datetime
    accepted_at: dt.datetime | None
    booked_at: dt.datetime | None
    outcome_at: dt.datetime | None
    declined_at: dt.datetime | None
    closed_at: dt.datetime | None
    invited: bool
    nickname: str
    phone: str
    email: str
    has_reason: bool
    decline_reason: str
    decline_note: str
    suggested_service: ServiceRef | None
    # The receiving service's only.
    starts_at: dt.datetime | None
    booking_id: int | None
    # Who cancelled the visit ("resident", "staff"), if it was: the receiving service's only.
    visit_cancelled_by: str = ""
    # Urgent referrals: call now, do not wait for a slot.
    call_now: list[Line]


class ContactView(BaseModel):
    """A referral's contact details in full (an audited reveal)."""

    id: int
    nickname: str | None
    phone: str | None
    email: str | None
    reason: str | None


class ReferralSlot(BaseModel):
    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int


class ResidentReferralView(BaseModel):
    """What the resident's link shows: where they are referred, and what they can do."""

    code: str
    status: ReferralStatus
    from_name_zh: str
    from_name_en: str
    to_service: ServiceRef
    address_zh: str
    address_en: str
    # What the visit costs, as the service's listing says (the booking form says it too).
    fee: Fee
    fee_note: str
    fee_note_en: str
    starts_at: dt.datetime | None
    can_pick: bool
    can_decline: bool
    booking_code: str | None
    # The booked visit's own manage token: its page is where it is cancelled or added to a
    # calendar (the link holder already holds the referral's token).
    booking_token: str | None = None
    # The visit was cancelled: by whom ("resident", "staff") and the service's reason.
    visit_cancelled_by: str = ""
    visit_cancel_reason: str = ""


def ref(resource: Resource, *, phone: bool = False) -> ServiceRef:
    return ServiceRef(
        id=resource.id,
        name_zh=resource.name_zh,
        name_en=resource.name_en or "",
        kind=resource.kind,
        phone=resource.phone if phone else "",
    )


def cancelled_by(booking: Booking | None) -> str:
    """Who cancelled a referral's visit ("resident", "staff"), or '' if it was not."""
    if booking is None or booking.status is not BookingStatus.CANCELLED:
        return ""
    return booking.cancelled_by or "staff"


def _local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(tz)


def referral_view(
    vault: Vault,
    tz: ZoneInfo,
    referral: Referral,
    side: Side,
    *,
    booking: Booking | None,
    suggested: Resource | None,
    lines: list[Line],
) -> ReferralView:
    """``referral`` (with ``from_resource`` and ``to_resource`` fetched) as ``side`` sees it."""
    need = NEEDS.needs.get(referral.need) if referral.need else None
    receiving = side != "out"
    urgent = referral.urgency is Urgency.URGENT and referral.status in (
        ReferralStatus.SENT,
        ReferralStatus.ACCEPTED,
    )
    to = referral.to_resource
    call_now = [Line(name_zh=to.name_zh, name_en=to.name_en, phone=to.phone)] if to.phone else []
    return ReferralView(
        id=referral.id,
        side=side,
        status=referral.status,
        from_service=ref(referral.from_resource, phone=True),
        to_service=ref(to, phone=True),
        need=referral.need,
        need_zh=need.label_zh if need else "",
        need_en=need.label_en if need else "",
        urgency=referral.urgency,
        consent=referral.consent,
        consent_at=referral.consent_at.astimezone(tz),
        sent_at=referral.sent_at.astimezone(tz),
        accepted_at=_local(referral.accepted_at, tz),
        booked_at=_local(referral.booked_at, tz),
        outcome_at=_local(referral.outcome_at, tz),
        declined_at=_local(referral.declined_at, tz),
        closed_at=_local(referral.closed_at, tz),
        invited=referral.invited_at is not None,
        nickname=mask_name(vault.open_optional(referral.nickname_enc)),
        phone=mask_phone(vault.open_optional(referral.phone_enc)),
        email=mask_email(vault.open_optional(referral.email_enc)),
        has_reason=referral.reason_enc is not None,
        decline_reason=referral.decline_reason,
        decline_note=referral.decline_note,
        suggested_service=None if suggested is None else ref(suggested, phone=True),
        starts_at=_local(booking.starts_at, tz) if receiving and booking else None,
        booking_id=booking.id if receiving and booking else None,
        visit_cancelled_by=cancelled_by(booking) if receiving else "",
        call_now=[*call_now, *lines] if urgent else [],
    )
