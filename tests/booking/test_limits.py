"""How often residents may ask for a seat: per network address and per phone number or
e-mail address, over the API and the booking pages, with a clear 429 past the limit."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from resourcemap.models import RateCount
from tests.booking_helpers import bookable_city
from tests.factories import run_in_db
from tests.html_helpers import hidden_fields

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock


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


def test_one_address_gets_a_429_past_its_limit(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    with make_client(database_url, run_worker=False, booking_limit_per_address=3) as client:
        free = _free(client, room)
        answers = [_book(client, room, free[i]).status_code for i in range(3)]
        assert answers == [201, 201, 201]
        refused = _book(client, room, free[3])
        assert refused.status_code == 429
        assert "wait a minute" in refused.json()["reason"]
        # Refused requests count too: a script cannot scan slots past the limit either.
        assert client.post("/api/v1/waitlist", json={}).status_code in (400, 429)
        booked = client.get(f"/api/v1/resources/{room}/slots?days=14").json()["slots"]
        assert sum(s["capacity"] - s["remaining"] for s in booked) == 3


def test_one_phone_number_gets_a_429_past_its_limit_whatever_its_spelling(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    with make_client(
        database_url, run_worker=False, booking_limit_per_address=0, booking_limit_per_contact=2
    ) as client:
        free = _free(client, room)
        assert _book(client, room, free[0], phone="+86 138 1234 5678").status_code == 201
        assert _book(client, room, free[1], phone="138-1234-5678").status_code == 201
        refused = _book(client, room, free[2], phone="13812345678")
        assert refused.status_code == 429
        assert "phone number or e-mail" in refused.json()["reason"]
        # Another resident's number, and booking without one, are not held up.
        assert _book(client, room, free[2], phone="13900001111").status_code == 201
        assert _book(client, room, free[3]).status_code == 201
        # E-mail addresses are counted the same way, case aside.
        assert _book(client, room, free[4], email="Wang@example.cn").status_code == 201
        assert _book(client, room, free[5], email="wang@example.cn").status_code == 201
        assert _book(client, room, free[6], email="WANG@example.cn").status_code == 429
    # The counts, shared by every process in the database, are kept under keyed digests,
    # never the number or address itself.
    keys = run_in_db(database_url, lambda: RateCount.all().values_list("key", flat=True))
    kept = " ".join(str(k) for k in keys)
    assert "booking-contact:" in kept
    assert "1381234" not in kept and "example" not in kept


@pytest.mark.parametrize(
    ("first", "second", "third"),
    [
        ("0086 138 1234 5678", "１３８１２３４５６７８", "+86-13812345678"),
        ("Wang.Li+clinic@Gmail.com", "wangli@gmail.com", "w.a.n.g.l.i+x@googlemail.com"),
    ],
)
def test_retyping_a_contact_does_not_pass_its_limit(
    database_url: str, make_client: Callable[..., Any], first: str, second: str, third: str
) -> None:
    """Full-width digits, 0086 and +86, plus-addressing and Gmail's dots are one person."""
    field = "email" if "@" in first else "phone"
    room = _room(database_url)
    with make_client(
        database_url, run_worker=False, booking_limit_per_address=0, booking_limit_per_contact=2
    ) as client:
        free = _free(client, room)
        assert _book(client, room, free[0], **{field: first}).status_code == 201
        assert _book(client, room, free[1], **{field: second}).status_code == 201
        assert _book(client, room, free[2], **{field: third}).status_code == 429


def test_the_booking_page_explains_the_limit_in_the_residents_language(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    with make_client(database_url, run_worker=False, booking_limit_per_address=1) as client:

        def post() -> Any:
            page = BeautifulSoup(client.get(f"/resources/{room}/book").text, "html.parser")
            form = page.select_one("form.book-form")
            assert form is not None
            data = hidden_fields(form)
            data["starts_at"] = str(form.select("input[name=starts_at]")[0]["value"])
            return client.post(f"/resources/{room}/book", data=data, follow_redirects=False)

        assert post().status_code == 303
        refused = post()
        assert refused.status_code == 429
        assert "短时间内预约请求过多" in refused.text
        # When to try again, as the limit says: "wait a minute" sent residents back to fail
        # for an hour.
        wait = math.ceil(int(refused.headers["Retry-After"]) / 60)
        said = f"请{wait}分钟后再试" if wait % 60 else f"请{wait // 60}小时后再试"
        assert said in refused.text, refused.headers["Retry-After"]
        again = BeautifulSoup(refused.text, "html.parser").select_one("form.book-form")
        assert again is not None  # the form is shown again, to try later


def test_zero_means_no_limit(database_url: str, make_client: Callable[..., Any]) -> None:
    room = _room(database_url)
    with make_client(
        database_url, run_worker=False, booking_limit_per_address=0, booking_limit_per_contact=0
    ) as client:
        free = _free(client, room)
        answers = {_book(client, room, s, phone="13812345678").status_code for s in free[:12]}
        assert answers == {201}


def test_a_429_says_when_to_try_again(database_url: str, make_client: Callable[..., Any]) -> None:
    room = _room(database_url)
    with make_client(database_url, run_worker=False, booking_limit_per_address=1) as client:
        free = _free(client, room)
        assert _book(client, room, free[0]).status_code == 201
        refused = _book(client, room, free[1])
        waitlist = client.post(
            "/api/v1/waitlist",
            json={"resource_id": room, "starts_at": free[0], "phone": "13812345678"},
        )
    for answer in (refused, waitlist):
        assert answer.status_code == 429
        # The oldest counted request leaves the one-minute window within a minute.
        assert 1 <= int(answer.headers["Retry-After"]) <= 60


def test_a_retried_booking_returns_the_booking_not_a_429(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """A client whose answer was lost sends the request again with its Idempotency-Key: it
    gets its booking back even though the limits refuse any new request from it (#16)."""
    room = _room(database_url)
    with make_client(
        database_url, run_worker=False, booking_limit_per_address=2, booking_limit_per_contact=0
    ) as client:
        free = _free(client, room)

        def book(starts_at: str, key: str) -> Any:
            return client.post(
                "/api/v1/bookings",
                json={"resource_id": room, "starts_at": starts_at, "phone": "13812345678"},
                headers={"Idempotency-Key": key},
            )

        first = book(free[0], "key-1")
        assert book(free[1], "key-2").status_code == 201
        assert book(free[2], "key-3").status_code == 429  # a new request: refused
        again = book(free[0], "key-1")
        other = book(free[1], "key-1")  # the same key for another request: no
        booked = client.get(f"/api/v1/resources/{room}/slots?days=14").json()["slots"]
    assert first.status_code == 201
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]
    assert other.status_code == 400 and "Idempotency-Key" in other.json()["fields"]
    assert sum(s["capacity"] - s["remaining"] for s in booked) == 2


def test_a_resent_booking_form_shows_the_booking_not_a_429(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = _room(database_url)
    with make_client(database_url, run_worker=False, booking_limit_per_address=1) as client:
        page = BeautifulSoup(client.get(f"/resources/{room}/book").text, "html.parser")
        form = page.select_one("form.book-form")
        assert form is not None
        data = hidden_fields(form)
        data["starts_at"] = str(form.select("input[name=starts_at]")[0]["value"])
        first = client.post(f"/resources/{room}/book", data=data, follow_redirects=False)
        resent = client.post(f"/resources/{room}/book", data=data, follow_redirects=False)
        data["key"] = "another-form"
        refused = client.post(f"/resources/{room}/book", data=data, follow_redirects=False)
    assert first.status_code == 303
    assert resent.status_code == 303
    assert resent.headers["location"] == first.headers["location"]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
