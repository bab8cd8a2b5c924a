"""What residents and staff submit to book, and the short codes they get back."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, field_validator

from resourcemap.listings.edits import Input
from resourcemap.said import N_, Said
from resourcemap.vocab import MAX_ID, Channel, Service

# Digits only: the code is read aloud over the phone, also by people who do not read Latin
# letters; 10^8 codes, unique in the database, and useless without the manage token.
CODE_DIGITS = 8
SMS_CODE_DIGITS = 6
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


# --- a resident's phone number: the mobile their booking's texts go to ---------------------
#
# One check for every place a resident's number is taken (a booking by page, API or staff, a
# waitlist place, a referral; the phone check texts the number it let through): a number no
# text can reach is refused when it is typed, not found out when the link never arrives.
# Accepted are mainland mobiles (11 digits from 13-19, with or without +86/0086) and, for
# cities in Guangdong, Hong Kong (+852) and Macau (+853) mobiles; landlines cannot receive
# texts. The check is by shape, as operators' number blocks change every year: a number of
# the right shape that no one holds is not caught (the phonenumbers library would not catch
# it either). A number is stored as a domestic SMS gateway and a caller dial it: a mainland
# mobile as its 11 digits, a Hong Kong or Macau one with its "+" country code (E.164).

# What people type between digits: spaces (also the full-width one), dashes, dots, brackets.
PHONE_SEPARATORS = re.compile(r"[\s\-.()\u2010-\u2015\u2212]")
MAINLAND = re.compile(r"1[3-9][0-9]{9}")
# Country code → its mobiles' national numbers (8 digits each).
ABROAD = {
    "852": re.compile(r"[4-9][0-9]{7}"),  # Hong Kong: 2 and 3 are landlines
    "853": re.compile(r"6[0-9]{7}"),  # Macau: 2 and 8 are landlines
}
MOBILE_EXAMPLE = "138 0013 8000"


def refused_mobile() -> Said:
    """Why a number is refused, for the API and staff pages (a resident's page says it in
    its own words, naming what was typed)."""
    return N_(
        "not a mobile number that can receive texts: give an 11-digit mainland mobile number "
        "such as %(example)s, or a Hong Kong or Macau mobile number starting with +852 or +853",
        example=MOBILE_EXAMPLE,
    )


def mobile_number(typed: str) -> str:
    """The mobile number ``typed`` names, normalised; ``ValueError`` if a text cannot reach
    it.

    >>> mobile_number("138 0013 8000"), mobile_number("+86 138-0013-8000")
    ('13800138000', '13800138000')
    >>> mobile_number("００８６１３８００１３８０００"), mobile_number("(+852) 9123 4567")
    ('13800138000', '+85291234567')
    >>> mobile_number("1380013800")
    Traceback (most recent call last):
    ...
    ValueError: not a mobile number that can receive texts: ...
    """
    text = PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", typed))
    number = _mobile(text)
    if number is None:
        raise ValueError(refused_mobile())
    return number


def _mobile(text: str) -> str | None:
    if text.startswith("+"):
        international = text[1:]
    elif text.startswith("00"):
        international = text[2:]
    elif len(text) == 13 and text.startswith("86"):  # "86" and a mobile, without the "+"
        international = text
    else:
        return text if MAINLAND.fullmatch(text) else None
    if international.startswith("86"):
        national = international[2:]
        return national if MAINLAND.fullmatch(national) else None
    code, national = international[:3], international[3:]
    mobile = ABROAD.get(code)
    return f"+{code}{national}" if mobile is not None and mobile.fullmatch(national) else None


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
        # The number texts go to: a mobile, stored normalised (``mobile_number``).
        return None if value is None else mobile_number(value)

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value


class Contact(ContactChecks):
    """Optional contact details: the minimum, each may be left out (anonymous booking)."""

    nickname: str | None = Field(None, max_length=40, description="What to call the resident")
    phone: str | None = Field(
        None,
        max_length=24,
        description="A mobile number for texts: 11 digits from 13-19 (+86 optional), or "
        "+852/+853 and a Hong Kong or Macau mobile; stored normalised",
    )
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
