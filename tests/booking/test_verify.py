"""The phone check of bookings (#15, ``RESOURCEMAP_BOOKING_VERIFY=sms``) on both databases:
a held seat, confirmed by the texted code, released by wrong codes or by time."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

import pytest
from pydantic import ValidationError

from resourcemap import db
from resourcemap.booking import slots
from resourcemap.booking.desk import Desk
from resourcemap.errors import Conflict, InvalidInput, TooManyRequests
from resourcemap.models import Booking, Notification
from resourcemap.settings import Settings
from resourcemap.vocab import BookingStatus, NotificationKind
from tests.booking_helpers import NOW, TOMORROW_9, bookable_city, desk, request
from tests.conftest import KEYS

pytestmark = pytest.mark.clock

PHONE = "13812348011"
OTHER = "13900001111"


def checking(database_url: str) -> Desk:
    return desk(database_url, booking_verify="sms")


async def texted_code(d: Desk, code: str) -> str:
    """The 6 digits the resident's phone received for booking ``code``."""
    booking = await Booking.get(code=code)
    note = await Notification.get(booking_id=booking.id, kind=NotificationKind.VERIFY_CODE)
    assert note.address_kind == "phone" and note.body_enc is not None
    found = re.search(r"验证码 (\d{6})", d.vault.open(note.body_enc))
    assert found, "the text carries the code"
    return found.group(1)


async def remaining(d: Desk, resource_id: int, now: dt.datetime = NOW) -> int:
    listed = await d.slot_list(resource_id, TOMORROW_9.date(), 1, now=now)
    i = listed.find(slots.epoch(TOMORROW_9))
    assert i is not None
    return int(listed.remaining[i])


def test_production_refuses_the_phone_check_without_an_sms_gateway() -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "secret_key": secrets.token_urlsafe(32),
        "data_keys": KEYS["data_keys"],
        "booking_verify": "sms",
    }
    with pytest.raises(ValidationError, match="add `webhook`"):
        Settings(_env_file=None, **production, notify_senders="log")
    gateway: dict[str, Any] = {
        "sms_webhook_url": "https://sms.example.cn/send",
        "sms_webhook_secret": "s" * 32,
    }
    with_it = Settings(_env_file=None, **production, **gateway, notify_senders="webhook")
    assert with_it.booking_verify == "sms"


@pytest.mark.anyio
async def test_phone_check_is_off_by_default(database_url: str) -> None:
    assert Settings(_env_file=None).booking_verify == "off"

    async with db.database(database_url):
        ids = await bookable_city()
        d = desk(database_url)
        issued = await d.book(request(ids["room"], TOMORROW_9, email="a@example.cn"), now=NOW)
        booking = await d.get(issued.code, issued.token)
        assert booking.status is BookingStatus.CONFIRMED
        assert not await Notification.exists(kind=NotificationKind.VERIFY_CODE)


@pytest.mark.anyio
async def test_seat_is_held_until_the_texted_code_confirms_it(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=2)
        d = checking(database_url)
        issued = await d.book(
            request(ids["room"], TOMORROW_9, phone=PHONE, email="a@example.cn"), now=NOW
        )
        view = await d.booking(issued.code, issued.token)
        assert view.status is BookingStatus.PENDING
        assert view.offer_expires_at == NOW + dt.timedelta(minutes=10)
        assert view.verify_tries_left == 5
        assert await remaining(d, ids["room"]) == 1  # the seat is held
        # Only the code was sent, only to the phone; no confirmation yet.
        kinds = [(n.kind, n.address_kind) for n in await Notification.all()]
        assert kinds == [(NotificationKind.VERIFY_CODE, "phone")]
        code = await texted_code(d, issued.code)
        stored = await Booking.get(code=issued.code)
        assert code not in stored.verify_digest and len(stored.verify_digest) == 64

        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(InvalidInput) as refused:
            await d.verify(issued.code, issued.token, wrong, now=NOW)
        assert refused.value.field == "verification_code"
        assert "4 tries left" in refused.value.reason

        later = NOW + dt.timedelta(minutes=3)
        done = await d.verify(issued.code, issued.token, f"{code[:3]} {code[3:]}", now=later)
        assert (done.code, done.token) == (issued.code, issued.token)
        confirmed = await d.booking(issued.code, issued.token)
        assert confirmed.status is BookingStatus.CONFIRMED
        assert confirmed.offer_expires_at is None
        assert await remaining(d, ids["room"], later) == 1
        # Then as today: the confirmation to phone and e-mail; the code is forgotten.
        sent = await Notification.filter(kind=NotificationKind.CONFIRMATION)
        assert sorted(n.address_kind for n in sent) == ["email", "phone"]
        assert (await Booking.get(code=issued.code)).verify_digest == ""
        note = await Notification.get(kind=NotificationKind.VERIFY_CODE)
        assert note.body_enc is None
        # Confirming again is harmless.
        assert (await d.verify(issued.code, issued.token, code, now=later)).code == issued.code


@pytest.mark.anyio
async def test_five_wrong_codes_release_the_seat(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = checking(database_url)
        issued = await d.book(request(ids["room"], TOMORROW_9, phone=PHONE), now=NOW)
        code = await texted_code(d, issued.code)
        wrong = "000000" if code != "000000" else "111111"
        for left in (4, 3, 2, 1):
            with pytest.raises(InvalidInput, match=f"{left} tries left"):
                await d.verify(issued.code, issued.token, wrong, now=NOW)
        with pytest.raises(TooManyRequests) as refused:
            await d.verify(issued.code, issued.token, wrong, now=NOW)
        assert refused.value.code == "verify_attempts" and refused.value.retry_after > 0
        assert (await d.get(issued.code, issued.token)).status is BookingStatus.EXPIRED
        # The right code is too late now; the seat is free for someone else.
        with pytest.raises(Conflict) as late:
            await d.verify(issued.code, issued.token, code, now=NOW)
        assert late.value.code == "hold_expired"
        assert await remaining(d, ids["room"]) == 1
        other = await d.book(request(ids["room"], TOMORROW_9, phone=OTHER), now=NOW)
        assert (await d.get(other.code, other.token)).status is BookingStatus.PENDING


@pytest.mark.anyio
async def test_hold_runs_out_and_another_resident_books_the_seat(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = checking(database_url)
        first = await d.book(request(ids["room"], TOMORROW_9, phone=PHONE), now=NOW)
        code = await texted_code(d, first.code)
        with pytest.raises(Conflict) as full:
            await d.book(request(ids["room"], TOMORROW_9, phone=OTHER), now=NOW)
        assert full.value.code == "full"
        # Eleven minutes on, no worker round has run: the booking itself frees the seat.
        later = NOW + dt.timedelta(minutes=11)
        second = await d.book(request(ids["room"], TOMORROW_9, phone=OTHER), now=later)
        assert (await d.get(first.code, first.token)).status is BookingStatus.EXPIRED
        with pytest.raises(Conflict) as late:
            await d.verify(first.code, first.token, code, now=later)
        assert late.value.code == "hold_expired"
        # The worker round releases the second hold in its turn; the slot is free again.
        much_later = later + dt.timedelta(minutes=11)
        assert await d.expire_offers(much_later) == 1
        assert (await d.get(second.code, second.token)).status is BookingStatus.EXPIRED
        assert await remaining(d, ids["room"], much_later) == 1
        # The unsent codes are dropped, not kept.
        codes = await Notification.filter(kind=NotificationKind.VERIFY_CODE)
        assert [n.body_enc for n in codes] == [None, None]


@pytest.mark.anyio
async def test_booking_without_a_phone_is_refused_naming_the_field(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city()
        d = checking(database_url)
        with pytest.raises(InvalidInput) as refused:
            await d.book(request(ids["room"], TOMORROW_9, email="a@example.cn"), now=NOW)
        assert refused.value.field == "phone"
        assert not await Booking.exists()


@pytest.mark.anyio
async def test_cancelling_a_held_booking_frees_the_seat_and_forgets_the_code(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = checking(database_url)
        issued = await d.book(request(ids["room"], TOMORROW_9, phone=PHONE), now=NOW)
        code = await texted_code(d, issued.code)
        cancelled = await d.cancel(issued.code, issued.token, now=NOW)
        assert cancelled.status is BookingStatus.CANCELLED
        assert await remaining(d, ids["room"]) == 1
        assert (await Booking.get(code=issued.code)).verify_digest == ""
        note = await Notification.get(kind=NotificationKind.VERIFY_CODE)
        assert note.body_enc is None
        with pytest.raises(Conflict):
            await d.verify(issued.code, issued.token, code, now=NOW)
