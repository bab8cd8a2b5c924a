"""Hoarding (#15): one script took all 123 seats of a service in 2 s from 7 addresses. A
holder — one phone number or e-mail address however spelled, or one network address — has
at most a few upcoming bookings of a service at a time; past that 429 with Retry-After."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from resourcemap.models import Booking
from tests.booking_helpers import bookable_city
from tests.conftest import TEST_NOW
from tests.factories import run_in_db

pytestmark = pytest.mark.clock
NO_LIMITS = {"run_worker": False}  # the request limits are off in tests (conftest)


def _room(database_url: str) -> int:
    ids = run_in_db(database_url, lambda: bookable_city(min_notice_minutes=0, seats=3))
    return int(ids["room"])


def _free(client: TestClient, room: int) -> list[str]:
    slots = client.get(f"/api/v1/resources/{room}/slots?days=14").json()["slots"]
    return [s["starts_at"] for s in slots if s["remaining"] > 0]


def _book(client: TestClient, room: int, starts_at: str, **fields: str) -> Any:
    return client.post(
        "/api/v1/bookings", json={"resource_id": room, "starts_at": starts_at, **fields}
    )


def test_one_phone_number_holds_at_most_its_cap_of_upcoming_bookings(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    settings = {**NO_LIMITS, "booking_cap_per_contact": 2, "booking_cap_per_address": 0}
    with make_client(database_url, **settings) as client:
        free = _free(client, room)[-6:]  # days ahead: still free to cancel
        first = _book(client, room, free[0], phone="13812345678")
        assert _book(client, room, free[1], email="wang@example.cn", phone="138 1234 5678")
        refused = _book(client, room, free[2], phone="+86 138-1234-5678")
        by_mail = _book(client, room, free[3], email="Wang+x@Example.cn")  # its second
        by_mail_again = _book(client, room, free[5], email="wang@example.cn")  # its third
        other = _book(client, room, free[2], phone="13900000000")
        cancel = client.post(
            f"/api/v1/bookings/{first.json()['code']}/cancel",
            params={"token": first.json()["token"]},
        )
        assert cancel.status_code == 200, cancel.text
        after_cancel = _book(client, room, free[4], phone="13812345678")
    assert first.status_code == 201
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "booking_cap"
    assert "already holds 2 upcoming bookings" in refused.json()["reason"]
    # Until the first upcoming booking starts (then it no longer counts).
    starts = dt.datetime.fromisoformat(free[0])
    assert int(refused.headers["Retry-After"]) == int((starts - TEST_NOW).total_seconds()) + 1
    # The e-mail address however spelled: its second booking yes, its third no.
    assert (by_mail.status_code, by_mail_again.status_code) == (201, 429)
    assert other.status_code == 201
    assert after_cancel.status_code == 201


def test_one_network_address_holds_at_most_its_cap(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    settings = {**NO_LIMITS, "booking_cap_per_contact": 0, "booking_cap_per_address": 3}
    with make_client(database_url, **settings) as client:
        free = _free(client, room)
        answers = [_book(client, room, s, phone=f"1380000000{i}") for i, s in enumerate(free[:5])]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    assert "network address" in answers[3].json()["reason"]
    assert answers[3].json()["code"] == "address_cap"
    assert int(answers[3].headers["Retry-After"]) >= 1


def test_parallel_requests_cannot_pass_the_cap_together(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """The count runs under the resource's lock, in the same statement as the seat."""
    room = _room(database_url)
    settings = {**NO_LIMITS, "booking_cap_per_contact": 2, "booking_cap_per_address": 0}
    with make_client(database_url, **settings) as client:
        free = _free(client, room)[:12]
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda s: _book(client, room, s, phone="13812345678"), free))
    assert sorted(a.status_code for a in answers) == [201, 201] + [429] * 10

    async def held() -> int:
        return await Booking.filter(resource_id=room).count()

    assert run_in_db(database_url, held) == 2


def test_a_retried_booking_at_the_cap_returns_the_booking(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    settings = {**NO_LIMITS, "booking_cap_per_contact": 1, "booking_cap_per_address": 0}
    with make_client(database_url, **settings) as client:
        free = _free(client, room)
        body = {"resource_id": room, "starts_at": free[0], "phone": "13812345678"}
        first = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k1"})
        again = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["code"] == first.json()["code"]


def test_the_booking_page_says_what_to_do_at_a_cap_not_to_wait_a_minute(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """A cap lasts until a booking is cancelled or has passed (days): "wait a minute", a
    burst's advice, sent residents waiting for nothing."""
    from bs4 import BeautifulSoup

    from tests.html_helpers import hidden_fields, one, text_of

    room = _room(database_url)
    settings = {**NO_LIMITS, "booking_cap_per_contact": 1, "booking_cap_per_address": 0}
    with make_client(database_url, **settings) as client:
        free = _free(client, room)
        assert _book(client, room, free[0], phone="13812345678").status_code == 201
        page = BeautifulSoup(client.get(f"/resources/{room}/book").text, "html.parser")
        data = hidden_fields(one(page, "form.book-form"))
        data |= {"starts_at": free[1], "phone": "138 1234 5678", "nickname": "小王"}
        answer = client.post(f"/resources/{room}/book", data=data, follow_redirects=False)
        english = client.post(f"/resources/{room}/book?lang=en", data=data, follow_redirects=False)
    assert answer.status_code == 429
    said = text_of(BeautifulSoup(answer.text, "html.parser"), ".error-summary")
    assert "已达上限" in said and "取消" in said and "一分钟" not in said
    en = text_of(BeautifulSoup(english.text, "html.parser"), ".error-summary")
    assert "already has as many upcoming bookings" in en and "wait a minute" not in en
