"""The phone check (#15) through the API and the resident pages, on both databases; and the
language of the links residents get (#18)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from resourcemap.booking.dispatch import Dispatcher
from resourcemap.clock import FixedClock
from resourcemap.logs import configure
from resourcemap.models import Notification
from resourcemap.vault import Vault
from resourcemap.vocab import NotificationKind
from tests.booking_helpers import bookable_city
from tests.conftest import make_settings
from tests.factories import run_in_db
from tests.html_helpers import attr, hidden_fields, one, text_of

pytestmark = pytest.mark.clock

PHONE = "13812348011"
OTHER = "13900001111"
SMS = {"booking_verify": "sms"}


def city(database_url: str) -> int:
    ids = run_in_db(
        database_url,
        lambda: bookable_city(min_notice_minutes=0, change_notice_minutes=0, seats=1),
    )
    return int(ids["room"])


def texts(database_url: str, kind: NotificationKind) -> list[str]:
    """The texts of ``kind`` queued so far, decrypted (``''``: emptied)."""

    async def read() -> list[str | None]:
        return [n.body_enc for n in await Notification.filter(kind=kind).order_by("id")]

    vault = Vault.from_settings(make_settings(database_url))
    return [vault.open(b) if b else "" for b in run_in_db(database_url, read)]


def texted_code(database_url: str) -> str:
    found = re.search(r"验证码 (\d{6})", texts(database_url, NotificationKind.VERIFY_CODE)[-1])
    assert found
    return found.group(1)


def first_slot(client: Any, room: int) -> str:
    listed = client.get(f"/api/v1/resources/{room}/slots").json()["slots"]
    return str(next(s["starts_at"] for s in listed if s["remaining"]))


def other_than(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_api_holds_the_seat_until_the_code_confirms_it(
    database_url: str,
    make_client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    clock: FixedClock,
) -> None:
    room = city(database_url)
    configure("debug")  # what an operator chasing a problem would do
    caplog.set_level(logging.DEBUG)
    with make_client(database_url, **SMS) as client:
        start = first_slot(client, room)
        email_only = client.post(
            "/api/v1/bookings",
            json={"resource_id": room, "starts_at": start, "email": "a@example.cn"},
        )
        assert email_only.status_code == 400 and "phone" in email_only.json()["fields"]
        made = client.post(
            "/api/v1/bookings", json={"resource_id": room, "starts_at": start, "phone": PHONE}
        )
        assert made.status_code == 201, made.text
        receipt = made.json()
        assert receipt["booking"]["status"] == "pending"
        assert receipt["booking"]["offer_expires_at"] and receipt["booking"]["verify_tries_left"]
        # The seat is held: the slot is full for others.
        listed = client.get(f"/api/v1/resources/{room}/slots").json()["slots"]
        assert listed[0]["starts_at"] == start and listed[0]["remaining"] == 0
        code, token = receipt["code"], receipt["token"]
    sms = texted_code(database_url)
    # Sent (to the log sender here): the log never shows the code.
    dispatcher = Dispatcher(make_settings(database_url))
    assert run_in_db(database_url, lambda: dispatcher.dispatch(clock.now())).sent == 1
    with make_client(database_url, **SMS) as client:
        verify = f"/api/v1/bookings/{code}/verify"
        headers = {"X-Booking-Token": token}
        wrong = client.post(verify, json={"verification_code": other_than(sms)}, headers=headers)
        assert (
            wrong.status_code == 400
            and "4 tries left" in wrong.json()["fields"]["verification_code"]
        )
        assert (
            client.post(verify, json={"verification_code": "12ab"}, headers=headers).status_code
            == 400
        )
        done = client.post(verify, json={"verification_code": sms}, headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["booking"]["status"] == "confirmed"
        assert client.get(f"/api/v1/bookings/{code}", headers=headers).json()["status"] == (
            "confirmed"
        )
        spec = client.get("/openapi.json").json()
        assert "/api/v1/bookings/{code}/verify" in spec["paths"]
    assert texts(database_url, NotificationKind.CONFIRMATION)
    assert sms not in caplog.text and PHONE not in caplog.text and token not in caplog.text


def test_api_five_wrong_codes_release_the_seat_with_retry_after(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = city(database_url)
    with make_client(database_url, **SMS) as client:
        start = first_slot(client, room)
        receipt = client.post(
            "/api/v1/bookings", json={"resource_id": room, "starts_at": start, "phone": PHONE}
        ).json()
    sms = texted_code(database_url)
    with make_client(database_url, **SMS) as client:
        verify = f"/api/v1/bookings/{receipt['code']}/verify"
        headers = {"X-Booking-Token": receipt["token"]}
        body = {"verification_code": other_than(sms)}
        assert [client.post(verify, json=body, headers=headers).status_code for _ in range(4)] == [
            400
        ] * 4
        last = client.post(verify, json=body, headers=headers)
        assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
        assert last.json()["code"] == "verify_attempts"
        late = client.post(verify, json={"verification_code": sms}, headers=headers)
        assert late.status_code == 409 and late.json()["code"] == "hold_expired"
        # The slot is bookable again.
        again = client.post(
            "/api/v1/bookings", json={"resource_id": room, "starts_at": start, "phone": OTHER}
        )
        assert again.status_code == 201, again.text


def test_api_a_hold_that_runs_out_frees_the_slot(
    database_url: str, make_client: Callable[..., Any], clock: FixedClock
) -> None:
    room = city(database_url)
    with make_client(database_url, **SMS) as client:
        start = first_slot(client, room)
        first = client.post(
            "/api/v1/bookings", json={"resource_id": room, "starts_at": start, "phone": PHONE}
        ).json()
        taken = client.post(
            "/api/v1/bookings", json={"resource_id": room, "starts_at": start, "phone": OTHER}
        )
        assert taken.status_code == 409
        clock.advance(minutes=11)
        # Its holder sees the hold ended (no worker round needed), on the page and the API.
        page = soup(
            client.get(urlsplit(first["manage_url"]).path, params={"token": first["token"]})
        )
        assert not page.select("#verification_code") and "已过期" in text_of(page, ".status")
        headers = {"X-Booking-Token": first["token"]}
        mine = client.get(f"/api/v1/bookings/{first['code']}", headers=headers).json()
        assert mine["status"] == "expired"
        second = client.post(
            "/api/v1/bookings", json={"resource_id": room, "starts_at": start, "phone": OTHER}
        )
        assert second.status_code == 201, second.text


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def book_by_page(client: Any, room: int, **fields: str) -> Any:
    form = one(soup(client.get(f"/resources/{room}/book")), "form.book-form")
    free = [attr(r, "value") for r in form.select("input[name=starts_at]")]
    data = hidden_fields(form) | {"starts_at": free[0]} | fields
    return client.post(f"/resources/{room}/book", data=data, follow_redirects=False)


def test_page_asks_for_the_texted_code_then_confirms(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = city(database_url)
    with make_client(database_url, **SMS) as client:
        no_phone = book_by_page(client, room, email="a@example.cn")
        assert no_phone.status_code == 400
        assert "验证码" in text_of(soup(no_phone), "#phone-error")
        booked = book_by_page(client, room, phone=PHONE)
        assert booked.status_code == 303
        location = booked.headers["location"]
    sms = texted_code(database_url)
    with make_client(database_url, **SMS) as client:
        page = soup(client.get(location))
        assert "138****8011" in text_of(page, "h1") and "输入验证码" in text_of(page, "h1")
        field = one(page, "#verification_code")
        assert attr(field, "inputmode") == "numeric"
        assert attr(field, "autocomplete") == "one-time-code"
        form = one(page, "form[action$='/verify']")
        assert "保留至" in page.text  # how long the seat is held
        action = attr(form, "action")
        wrong = client.post(
            action,
            data=hidden_fields(form) | {"verification_code": other_than(sms)},
            follow_redirects=False,
        )
        assert wrong.status_code == 400
        summary = one(soup(wrong), ".error-summary")
        assert attr(one(summary, "a"), "href") == "#verification_code"
        assert "再试 4 次" in text_of(soup(wrong), "#verification_code-error")
        assert sms not in wrong.text
        form = one(soup(wrong), "form[action$='/verify']")
        done = client.post(
            action, data=hidden_fields(form) | {"verification_code": sms}, follow_redirects=False
        )
        assert done.status_code == 303
        confirmed = soup(client.get(done.headers["location"]))
        assert "预约成功" in text_of(confirmed, ".panel-title")


def test_page_booking_is_confirmed_at_once_when_the_check_is_off(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = city(database_url)
    with make_client(database_url) as client:
        booked = book_by_page(client, room, email="a@example.cn")
        page = soup(client.get(booked.headers["location"]))
        assert "预约成功" in text_of(page, ".panel-title")
        assert not page.select("#verification_code")


def test_an_english_bookers_links_open_the_english_pages(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    room = city(database_url)
    with make_client(database_url) as client:
        client.cookies.set("rm_lang", "en")
        assert book_by_page(client, room, phone=PHONE).status_code == 303
        client.cookies.set("rm_lang", "zh-CN")
        assert book_by_page(client, room, phone=OTHER).status_code == 303
        api = client.post(
            "/api/v1/bookings",
            json={
                "resource_id": room,
                "starts_at": first_slot(client, room),
                "email": "b@example.cn",
                "lang": "en",
            },
        )
        assert parse_qs(urlsplit(api.json()["manage_url"]).query)["lang"] == ["en"]
    confirmations = texts(database_url, NotificationKind.CONFIRMATION)
    links = [re.findall(r"https?://\S+", t)[0] for t in confirmations]
    langs = [parse_qs(urlsplit(link).query)["lang"] for link in links]
    assert langs == [["en"], ["zh-CN"], ["en"]]
    with make_client(database_url) as client:
        # A fresh browser, no language remembered: the link opens the English page.
        url = urlsplit(links[0])
        page = soup(client.get(f"{url.path}?{url.query}"))
        assert attr(one(page, "html"), "lang") == "en"
        assert "Booking confirmed" in text_of(page, ".panel-title")
