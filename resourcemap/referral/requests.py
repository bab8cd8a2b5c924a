"""What staff and residents submit about a referral."""

from __future__ import annotations

from pydantic import Field, field_validator

from resourcemap.booking.requests import EMAIL, PHONE, SlotStart
from resourcemap.contact import typed_phone
from resourcemap.listings.edits import Input
from resourcemap.vocab import MAX_ID, Consent, DeclineReason, Urgency


class ReferralIn(Input):
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

    @field_validator("nickname", "phone", "email", "reason", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = typed_phone(value)
        if not PHONE.match(value):
            raise ValueError("a phone number has 6 to 24 digits, spaces, brackets or '-'")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value


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
