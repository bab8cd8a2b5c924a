"""What staff and residents submit about a referral."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from resourcemap.booking.requests import ContactChecks, SlotStart
from resourcemap.listings.edits import Input
from resourcemap.vocab import MAX_ID, Consent, DeclineReason, Urgency


class ReferralIn(ContactChecks):
    """A referral: from one of the actor's services to another service, with consent."""

    from_resource_id: int = Field(ge=1, le=MAX_ID)
    to_resource_id: int = Field(ge=1, le=MAX_ID)
    need: str = Field("", max_length=40, description="A code of the needs vocabulary")
    reason: str | None = Field(None, max_length=500, description="Free text, encrypted")
    urgency: Urgency = Urgency.ROUTINE
    consent: Consent = Field(description="How the resident agreed: spoken or written")
    # The minimum contact: a name to call them by and one way to reach them.
    nickname: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=24)
    email: str | None = Field(None, max_length=200)
    lang: Literal["zh-CN", "en"] | None = Field(
        None, description="The resident's language; without it, messages come in both"
    )


class AcceptIn(Input):
    """Accept; with ``starts_at`` book that slot at once, without it ask the resident to
    pick one through their link."""

    starts_at: SlotStart | None = None


class DeclineIn(Input):
    reason: DeclineReason
    note: str = Field("", max_length=300)
    suggested_resource_id: int | None = Field(None, ge=1, le=MAX_ID)


class OutcomeIn(Input):
    attended: bool


class SeatsIn(Input):
    referral_seats: int = Field(ge=0, le=50)


class PickIn(Input):
    starts_at: SlotStart
    lang: Literal["zh-CN", "en"] | None = Field(
        None, description="The resident's language: their booking's messages are in it"
    )
