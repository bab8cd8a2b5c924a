"""Booking pages a resident can trust (#18): the change/cancel policy said before booking,
same-day slots marked, the phone instead of buttons once changes have closed, a
confirmation panel, error summaries that link to their fields, all seven days of hours.

The clock is Tue 2026-12-01 08:00 Shanghai; the room is open Mon–Fri 09:00–12:00 and
14:00–17:30 and bookable 60 minutes ahead, changes close 240 minutes before the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.booking_helpers import bookable_city
from tests.factories import run_in_db
from tests.html_helpers import attr, hidden_fields, one, text_of

ROOM_PHONE = "0755-20000001"


@pytest.fixture
def room(database_url: str, make_client: Callable[..., Any]) -> Iterator[tuple[Any, int]]:
    ids = run_in_db(
        database_url,
        lambda: bookable_city(min_notice_minutes=60, change_notice_minutes=240, seats=1),
    )
    with make_client(database_url) as client:
        yield client, ids["room"]


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def slot_rows(page: BeautifulSoup) -> dict[str, Any]:
    """Each free time's option row by its wall-clock start (``09:00``)."""
    rows = {}
    for radio in page.select(".slot-picker input[name=starts_at]"):
        rows[attr(radio, "value")[11:16]] = radio.find_parent(class_="slot-option")
    return rows


def book_at(client: Any, room_id: int, hhmm: str, **fields: str) -> Any:
    page = soup(client.get(f"/resources/{room_id}/book"))
    form = one(page, "form.book-form")
    start = next(
        attr(r, "value")
        for r in form.select("input[name=starts_at]")
        if attr(r, "value")[11:16] == hhmm
    )
    data = hidden_fields(form) | {"starts_at": start} | fields
    return client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)


def test_the_policy_is_beside_the_button_and_same_day_slots_are_marked(
    room: tuple[Any, int],
) -> None:
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}/book"))
    policy = text_of(page, ".book-form .policy")
    assert "距开始4小时以前可在线更改或取消" in policy and ROOM_PHONE in policy
    button = one(page, ".book-form button.primary[type=submit]")
    assert attr(button, "aria-describedby") == "policy"
    # Today's tab says it is today.
    assert text_of(page, ".day-tab.current").startswith("今天")
    rows = slot_rows(page)
    # 09:00 today: changes closed at 05:00, before the resident even arrived.
    assert "不能在线更改或取消" in rows["09:00"].get_text()
    radio = rows["09:00"].select_one("input")
    assert attr(radio, "aria-describedby") == attr(rows["09:00"].select_one(".fixed"), "id")
    # 14:00 today can still be changed until 10:00.
    assert rows["14:00"].select_one(".fixed") is None


def test_english_policy_and_marks(room: tuple[Any, int]) -> None:
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}/book", params={"lang": "en"}))
    assert "until 4 hours before the start" in text_of(page, ".book-form .policy")
    assert "Cannot be changed or cancelled online" in slot_rows(page)["09:00"].get_text()
    assert text_of(page, ".day-tab.current").startswith("Today")


def test_inside_the_change_window_the_page_offers_the_phone_not_the_buttons(
    room: tuple[Any, int],
) -> None:
    client, room_id = room
    response = book_at(client, room_id, "09:00")
    assert response.status_code == 303
    manage = soup(client.get(response.headers["location"]))
    assert "预约成功" in text_of(manage, ".panel-title")
    assert manage.select_one("form[action$='/cancel']") is None
    assert manage.select_one("form[action$='/reschedule']") is None
    assert "截止" in text_of(manage, ".change .policy.closed")
    call = one(manage, ".change a.call")
    assert attr(call, "href") == "tel:075520000001" and ROOM_PHONE in call.get_text()
    # Sent from a page opened earlier: refused, and the answer names the number.
    token = parse_qs(urlsplit(response.headers["location"]).query)["token"][0]
    csrf = hidden_fields(one(soup(client.get(f"/resources/{room_id}/book")), "form"))
    code = response.headers["location"].split("/")[2].split("?")[0]
    refused = client.post(
        f"/bookings/{code}/cancel",
        data={"csrf_token": csrf["csrf_token"], "token": token, "confirm": "yes"},
    )
    assert refused.status_code == 409
    page = soup(refused)
    assert page.title is not None and page.title.get_text().startswith("错误")
    summary = one(page, ".error-summary")
    assert "致电" in summary.get_text()
    assert summary.select_one("a[href='tel:075520000001']") is not None
    assert "已确认" in text_of(page, ".status")


def test_a_later_slot_keeps_its_buttons_and_says_until_when(room: tuple[Any, int]) -> None:
    client, room_id = room
    response = book_at(client, room_id, "14:00", phone="13812348011")
    manage = soup(client.get(response.headers["location"]))
    assert "138****8011" in text_of(manage, ".sent-to")
    assert "10:00之前可在线更改或取消" in text_of(manage, ".change .policy")
    assert manage.select_one("form[action$='/cancel']") is not None
    facts = text_of(manage, ".summary-list")
    assert "50分钟" in facts and "东湖路1号" in facts
    maps = [attr(a, "href") for a in manage.select(".directions a")]
    assert any(h.startswith("https://uri.amap.com/marker?") for h in maps)
    assert any(h.startswith("geo:") for h in maps)


def test_the_error_summary_lists_every_field_with_a_link(room: tuple[Any, int]) -> None:
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}/book"))
    data = hidden_fields(one(page, "form.book-form")) | {"phone": "abc", "email": "nope"}
    answer = client.post(f"/resources/{room_id}/book", data=data)
    assert answer.status_code == 400
    html = soup(answer)
    assert html.title is not None and html.title.get_text().startswith("错误：")
    summary = one(html, ".error-summary")
    # Focused on load (a box the browser can focus, asked to by the page itself).
    assert summary.has_attr("autofocus") and attr(summary, "tabindex") == "-1"
    assert attr(summary, "role") == "alert"
    links = [attr(a, "href") for a in summary.select("a")]
    assert links == ["#starts_at", "#phone", "#email"]
    for href in links:
        assert html.select_one(href) is not None, href
    assert attr(one(html, "#phone"), "aria-invalid") == "true"
    assert "请检查" in text_of(html, ".error-summary-title")
    english = soup(client.post(f"/resources/{room_id}/book?lang=en", data=data))
    assert english.title is not None and english.title.get_text().startswith("Error:")
    assert "There is a problem" in text_of(english, ".error-summary-title")


def test_a_form_without_errors_has_no_summary_and_no_error_title(room: tuple[Any, int]) -> None:
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}/book"))
    assert page.select_one(".error-summary") is None
    assert page.title is not None and "错误" not in page.title.get_text()


def test_the_detail_page_lists_all_seven_days(room: tuple[Any, int]) -> None:
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}"))
    rows = page.select("table.hours tr")
    assert len(rows) == 7
    names = [r.th.get_text(strip=True) for r in rows if r.th]
    assert names[0] == "星期一" and names[-1] == "星期日"
    saturday, sunday = rows[5], rows[6]
    assert "休息" in saturday.get_text()
    assert "法定节假日按周日时间" in sunday.get_text()
    assert "09:00–12:00" in rows[0].get_text()
    english = soup(client.get(f"/resources/{room_id}", params={"lang": "en"}))
    rows = english.select("table.hours tr")
    assert "Closed" in rows[5].get_text() and "Saturday" in rows[5].get_text()
    # The same 12-hour clock as the slot times on the same page.
    assert "9:00\u202fAM" in rows[0].get_text() or "9:00 AM" in rows[0].get_text()
