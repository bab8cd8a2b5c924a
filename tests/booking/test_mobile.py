"""A resident's phone number is the mobile texts go to: one check, wherever it is typed
(``resourcemap.booking.requests.mobile_number``). A 10-digit number once booked and the page
said a text was sent to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from resourcemap import accounts, tokens
from resourcemap.booking.requests import BookingIn, mobile_number
from resourcemap.contact import phone_identity
from resourcemap.models import Organisation
from resourcemap.referral.requests import ReferralIn
from resourcemap.vocab import Role
from tests.booking_helpers import NOW, TOMORROW_9, bookable_city
from tests.factories import run_in_db

pytestmark = pytest.mark.clock


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(+86) 199 1234 5678", "19912345678"),
        ("１３８ ００１３ ８０００", "13800138000"),  # a Chinese input method's digits
        ("+852 9123 4567", "+85291234567"),
        ("00852-6123-4567", "+85261234567"),
        ("+853 6612 3456", "+85366123456"),
    ],
)
def test_mobiles_are_stored_as_texts_reach_them(typed: str, stored: str) -> None:
    assert mobile_number(typed) == stored
    # Limits and caps count the same person whether the number was typed this way or not.
    assert phone_identity(stored) == phone_identity(mobile_number(stored))


@pytest.mark.parametrize(
    "typed",
    [
        "1380013800",  # 10 digits
        "138 0013 8000 1",  # 12 digits
        "12345678901",  # 12: not a mobile prefix
        "0755-8392 3333",  # a landline
        "8392 3333",  # a local landline (or a Hong Kong mobile without +852)
        "+86 755 8392 3333",  # a landline with the country code
        "+852 2123 4567",  # a Hong Kong landline
        "+853 2888 1234",  # a Macau landline
        "+1 415 555 0100",  # abroad, beyond Hong Kong and Macau
        "call me",
        "١٣٨٠٠١٣٨٠٠٠",  # digits of another script
    ],
)
def test_numbers_no_text_reaches_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a mobile number that can receive texts"):
        mobile_number(typed)


@pytest.mark.parametrize("model", [BookingIn, ReferralIn])
def test_every_form_a_resident_phone_is_typed_in_takes_the_one_check(
    model: type[BookingIn] | type[ReferralIn],
) -> None:
    base: dict[str, Any] = (
        {"resource_id": 1, "starts_at": TOMORROW_9}
        if model is BookingIn
        else {"from_resource_id": 1, "to_resource_id": 2, "consent": "spoken"}
    )
    assert model.model_validate(base | {"phone": "+86 138-0013-8000"}).phone == "13800138000"
    with pytest.raises(ValidationError) as refused:
        model.model_validate(base | {"phone": "1380013800"})
    assert [e["loc"] for e in refused.value.errors()] == [("phone",)]


async def _staffed_room() -> dict[str, Any]:
    ids: dict[str, Any] = await bookable_city(min_notice_minutes=0)
    own = await Organisation.get(name_zh="测试区卫健局")
    account = await accounts.create_account(
        None, username="desk", password="correct-horse-9", role=Role.STAFF, organisation_id=own.id
    )
    ids["token"] = (await tokens.issue(None, account.id, now=NOW)).token
    return ids


@pytest.fixture
def staffed(database_url: str, make_client: Callable[..., Any]) -> Iterator[tuple[Any, Any]]:
    ids = run_in_db(database_url, _staffed_room)
    with make_client(database_url, run_worker=False) as client:
        yield client, ids


def test_staff_booking_for_a_caller_takes_the_same_check(staffed: tuple[Any, Any]) -> None:
    client, ids = staffed
    headers = {"Authorization": f"Bearer {ids['token']}"}
    start = TOMORROW_9.isoformat()
    body = {"resource_id": ids["room"], "starts_at": start, "channel": "phone"}
    landline = client.post(
        "/api/v1/staff/bookings", json=body | {"phone": "0755-83923333"}, headers=headers
    )
    assert landline.status_code == 400 and "phone" in landline.json()["fields"]
    booked = client.post(
        "/api/v1/staff/bookings", json=body | {"phone": "+86 137 0000 0000"}, headers=headers
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["booking"]["phone"] == "137****0000"
