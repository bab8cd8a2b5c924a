"""What residents and staff submit to book, and the short codes they get back."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, field_validator

from resourcemap.contact import typed_phone
from resourcemap.listings.edits import Input
from resourcemap.vocab import MAX_ID, Channel, Service

# Digits only: the code is read aloud over the phone, also by people who do not read Latin
# letters; 10^8 codes, unique in the database, and useless without the manage token.
CODE_DIGITS = 8
SMS_CODE_DIGITS = 6
PHONE = re.compile(r"^\+?\(?[0-9][0-9 ()-]{4,22}[0-9]$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _bookable_era(value: dt.datetime) -> dt.datetime:
    # Years near 1 or 9999 overflow when moved to UTC or the local zone; no slot is there.
    if not 2000 <= value.year <= 2999:
        raise ValueError("a slot start between the years 2000 and 2999")
    return value


SlotStart = Annotated[AwareDatetime, AfterValidator(_bookable_era)]


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_sms_code() -> str:
    """The 6 digits texted to check a booking's phone number (``verify``)."""
    return f"{secrets.randbelow(10**SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"


def normalise_code(text: str) -> str:
    """Codes as people type them: ``1234 5678`` and ``1234-5678`` are ``12345678``."""
    return re.sub(r"[\s-]", "", text)


def display_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def digest(text: str) -> str:
    """A plain SHA-256, for random values only (idempotency keys): never for anything a
    person could be recognised by, which takes ``Vault.digest``."""
    return hashlib.sha256(text.encode()).hexdigest()


class ContactChecks(Input):
    """How residents' contact details are read wherever they are typed (a booking, a
    referral): a blank field is left out, a phone number and an e-mail address are checked.
    Each model declares its own fields, with their limits."""

    @field_validator(
        "nickname", "phone", "email", "note", "reason", mode="before", check_fields=False
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = typed_phone(value)
        if not PHONE.match(value):
            raise ValueError(
                "a phone number has 6 to 24 digits, spaces, brackets or '-', and may start with '+'"
            )
        return value

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value


class Contact(ContactChecks):
    """Optional contact details: the minimum, each may be left out (anonymous booking)."""

    nickname: str | None = Field(None, max_length=40, description="What to call the resident")
    phone: str | None = Field(None, max_length=24, description="For reminders by text")
    email: str | None = Field(None, max_length=200, description="For reminders by e-mail")
    note: str | None = Field(None, max_length=500, description="Anything staff should know")


class BookingIn(Contact):
    """A booking request: which resource, which slot, and optional contact details."""

    resource_id: int = Field(ge=1, le=MAX_ID)
    starts_at: SlotStart = Field(description="Slot start with its UTC offset, as listed")
    service: Service | None = Field(None, description="One of the resource's services")
    channel: Channel = Channel.WEB
    lang: Literal["zh-CN", "en"] | None = Field(
        None, description="The resident's language: the links in their messages open in it"
    )

    def fingerprint(self) -> str:
        """The request behind an idempotency key, as text (instants compared in UTC). It
        names the contact details: it is stored only as the vault's keyed digest. The
        language is not part of it: a retry from a page switched to another language is
        the same booking."""
        data = self.model_dump(mode="json", exclude={"lang"})
        data["starts_at"] = self.starts_at.astimezone(dt.UTC).isoformat()
        return repr(sorted(data.items()))


class RescheduleIn(Input):
    starts_at: SlotStart = Field(description="Start of the new slot, with its UTC offset")


class VerifyIn(Input):
    """The code texted to a booking held for its phone check."""

    verification_code: str = Field(
        min_length=1, max_length=20, description="The 6 digits texted to the booking's phone"
    )


class CancelIn(Input):
    reason: str = Field("", max_length=300)
