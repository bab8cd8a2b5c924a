"""The booking form says what is booked and keeps what the resident typed: a phone number
texts can reach, the cost and the way the session is held before confirming, the day being
looked at after an error, what booking without a contact means; the answers after it speak
once and in the page's own punctuation.

The clock is Tue 2026-12-01 08:00 Shanghai; the room is open Mon–Fri 09:00–12:00 and
14:00–17:30, closed Fri 2026-12-04, one seat per 50-minute slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup

from resourcemap.models import Resource
from tests.booking_helpers import bookable_city
from tests.factories import run_in_db
from tests.html_helpers import attr, hidden_fields, one, text_of
from tests.web.resident.test_booking import book, manage_link

pytestmark = pytest.mark.clock

FEE_NOTE = "个体咨询410–610元/50分钟"
FEE_NOTE_EN = "¥410–610 per 50-minute session"


@pytest.fixture
def room(database_url: str, make_client: Callable[..., Any]) -> Iterator[tuple[Any, int]]:
    """The room as a paid service held in person or online (a licensed agency's terms)."""

    async def paid_room() -> dict[str, int]:
        ids = await bookable_city(min_notice_minutes=0, change_notice_minutes=0, seats=1)
        await Resource.filter(id=ids["room"]).update(
            fee="paid", fee_note=FEE_NOTE, fee_note_en=FEE_NOTE_EN, modes=["in_person", "online"]
        )
        return ids

    ids = run_in_db(database_url, paid_room)
    with make_client(database_url) as client:
        yield client, ids["room"]


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def form_of(client: Any, url: str) -> tuple[dict[str, str], list[str], BeautifulSoup]:
    page = soup(client.get(url))
    form = one(page, "form.book-form")
    return (
        hidden_fields(form),
        [attr(r, "value") for r in form.select("input[name=starts_at]")],
        page,
    )


# --- 1. the phone number is one texts can reach --------------------------------------------


@pytest.mark.parametrize("typed", ["1380013800", "138 0013 8000 1", "0755-8392 3333"])
def test_a_number_no_text_reaches_is_refused_naming_the_field_the_number_and_an_example(
    room: tuple[Any, int], typed: str
) -> None:
    client, room_id = room
    _, free, _ = form_of(client, f"/resources/{room_id}/book")
    zh = book(client, room_id, phone=typed, nickname="小王")
    assert zh.status_code == 400
    said = text_of(soup(zh), "#phone-error")
    assert f"手机号：“{typed}”无法接收短信" in said and "例如138 0013 8000" in said
    assert "+852或+853" in said
    assert attr(one(soup(zh), "#phone"), "value") == typed
    assert attr(one(soup(zh), "#nickname"), "value") == "小王"
    assert "我们已将本页链接以短信发送到" not in zh.text
    client.cookies.set("rm_lang", "en")
    en = book(client, room_id, phone=typed)
    said = text_of(soup(en), "#phone-error")
    assert f"Mobile phone: “{typed}” cannot receive texts" in said and "138 0013 8000" in said
    assert form_of(client, f"/resources/{room_id}/book")[1][0] == free[0]  # nothing booked


def test_the_form_says_which_numbers_it_takes(room: tuple[Any, int]) -> None:
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}/book"))
    assert text_of(page, "label[for=phone]") == "手机号"
    hint = text_of(page, "#phone-hint")
    assert "11位手机号" in hint and "香港（+852）" in hint and "座机无法接收短信" in hint
    assert "phone-hint" in attr(one(page, "#phone"), "aria-describedby")
    english = soup(client.get(f"/resources/{room_id}/book", params={"lang": "en"}))
    assert "Hong Kong (+852) or Macau (+853)" in text_of(english, "#phone-hint")


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("+86 138-0013-8000", "13800138000", "138****8000"),
        ("１３８ ００１３ ８０００", "13800138000", "138****8000"),
        ("+852 9123 4567", "+85291234567", "+852 ****4567"),  # its country code kept
    ],
)
def test_the_number_is_stored_as_texts_reach_it(
    room: tuple[Any, int], typed: str, stored: str, shown: str
) -> None:
    client, room_id = room
    path, token = manage_link(book(client, room_id, phone=typed))
    code = path.rsplit("/", 1)[1]
    api = client.get(f"/api/v1/bookings/{code}", headers={"X-Booking-Token": token})
    assert api.json()["phone"] == stored
    assert shown in text_of(soup(client.get(path, params={"token": token})), ".sent-to")


def test_the_api_and_the_waitlist_take_the_same_check(room: tuple[Any, int]) -> None:
    client, room_id = room
    _, free, _ = form_of(client, f"/resources/{room_id}/book")
    api = client.post(
        "/api/v1/bookings",
        json={"resource_id": room_id, "starts_at": free[0], "phone": "1380013800"},
    )
    assert api.status_code == 400 and "phone" in api.json()["fields"]
    manage_link(book(client, room_id, phone="13900001111"))  # the only seat is taken
    join = soup(client.get(f"/resources/{room_id}/waitlist", params={"start": free[0]}))
    form = one(join, "form.book-form")
    assert "+852" in text_of(join, "#phone-hint")
    refused = client.post(form["action"], data=hidden_fields(form) | {"phone": "0755-83923333"})
    assert refused.status_code == 400
    assert "“0755-83923333”无法接收短信" in text_of(soup(refused), "#phone-error")


# --- 2. what is booked: the cost and how, before confirming --------------------------------


def test_the_form_shows_the_cost_and_how_the_session_is_held(room: tuple[Any, int]) -> None:
    client, room_id = room
    zh = one(soup(client.get(f"/resources/{room_id}/book")), ".booking-terms")
    assert "收费" in text_of(zh, ".cost") and FEE_NOTE in text_of(zh, ".cost")
    assert text_of(zh, ".modes").startswith("到场服务或线上服务")
    assert "备注" in text_of(zh, ".modes")  # how to ask for one of them
    assert "50分钟" in text_of(zh, ".session-length")
    en = one(
        soup(client.get(f"/resources/{room_id}/book", params={"lang": "en"})), ".booking-terms"
    )
    assert "Paid" in text_of(en, ".cost") and FEE_NOTE_EN in text_of(en, ".cost")
    assert FEE_NOTE not in en.text
    assert text_of(en, ".modes").startswith("In person or online")


def test_the_confirmation_does_not_claim_both_ways(room: tuple[Any, int]) -> None:
    client, room_id = room
    path, token = manage_link(book(client, room_id, phone="13800138000", note="想线上"))
    page = soup(client.get(path, params={"token": token}))
    assert text_of(page, ".modes") == "到场服务或线上服务（以服务点安排为准）"
    assert "和" not in text_of(page, ".modes")
    assert text_of(page, ".note") == "想线上"  # what they asked for, in their own words


# --- 3. an error keeps the day being looked at ----------------------------------------------


def test_an_error_keeps_the_day_and_every_field(room: tuple[Any, int]) -> None:
    """Fri 12-04 is closed: the third tab is Thu 12-03, a later day than the first shown."""
    client, room_id = room
    first = soup(client.get(f"/resources/{room_id}/book"))
    later = next(b for b in first.select("button.day-tab") if "12月3日" in b.text)
    hidden, free, page = form_of(client, f"/resources/{room_id}/book?day={attr(later, 'value')}")
    assert "12月3日" in text_of(page, ".day-tab.current")
    typed = {"nickname": "小王", "phone": "13800138000", "email": "", "note": "第一次来"}
    answer = client.post(f"/resources/{room_id}/book", data=hidden | typed)
    assert answer.status_code == 400
    again = soup(answer)
    assert "请选择一个时间" in text_of(again, "#starts_at-error")
    assert "12月3日" in text_of(again, ".day-tab.current")
    shown = [attr(r, "value") for r in again.select("input[name=starts_at]")]
    assert shown == free and all(v.startswith("2026-12-03") for v in shown)
    for name in ("nickname", "phone"):
        assert attr(one(again, f"#{name}"), "value") == typed[name]
    assert text_of(again, "#note") == typed["note"]
    # The language switch of the answer opens the same day.
    english = attr(one(again, "a[hreflang='en'], a[lang='en']"), "href")
    assert "day=2026-12-03" in english


# --- 6. booking without a contact: allowed, and said plainly before ------------------------


def test_an_empty_form_books_anonymously_after_saying_what_that_means(
    room: tuple[Any, int],
) -> None:
    """Anonymity matters for mental-health services: no contact is asked for, but the form
    says before booking that nobody can then reach the resident, and the answer gives the
    page's own link as the only way back."""
    client, room_id = room
    form = soup(client.get(f"/resources/{room_id}/book"))
    said = text_of(form, "#no-contact")
    assert "不留电话和邮箱也可以预约" in said and "不会提醒" in said and "记下预约码" in said
    english = soup(client.get(f"/resources/{room_id}/book", params={"lang": "en"}))
    assert "nobody can reach you" in text_of(english, "#no-contact")
    path, token = manage_link(book(client, room_id))
    booked = soup(client.get(path, params={"token": token}))
    assert booked.select(".sent-to") == []
    assert "Bookmark this page or note the code" in booked.text  # the language chosen above


def test_with_the_phone_check_on_the_phone_is_asked_for_instead(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, lambda: bookable_city(min_notice_minutes=0, seats=1))
    with make_client(database_url, booking_verify="sms") as client:
        page = soup(client.get(f"/resources/{ids['room']}/book"))
        assert page.select("#no-contact") == []
        answer = book(client, ids["room"])
        assert answer.status_code == 400 and soup(answer).select("#phone-error")


# --- 5. the cancel and waitlist pages speak Chinese punctuation ----------------------------


def test_the_cancel_page_uses_the_languages_own_punctuation(room: tuple[Any, int]) -> None:
    client, room_id = room
    path, token = manage_link(book(client, room_id, phone="13800138000"))
    manage = soup(client.get(path, params={"token": token}))
    form = one(manage, f"form[action='{path}/cancel']")
    asked = text_of(soup(client.post(form["action"], data=hidden_fields(form))), "p.what")
    assert asked.startswith("东湖社区心理咨询室，") and "（" in asked and asked.endswith("）")
    assert ", " not in asked and " (" not in asked
    client.cookies.set("rm_lang", "en")
    english = text_of(soup(client.post(form["action"], data=hidden_fields(form))), "p.what")
    assert english.startswith("Donghu Community Counselling Room, ") and " (" in english


# --- 5. a horizon beyond two weeks can be reached ---------------------------------------------


def test_times_beyond_two_weeks_are_reached_a_fortnight_at_a_time(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """Staff let residents book 45 days ahead: the form showed only its first two weeks,
    and a day three weeks out could not be booked until two weeks before."""

    async def far_room() -> int:
        ids = await bookable_city(min_notice_minutes=0, horizon_days=45, seats=1)
        return ids["room"]

    room_id = run_in_db(database_url, far_room)
    url = f"/resources/{room_id}/book"
    with make_client(database_url) as client:
        hidden, _, page = form_of(client, url)
        assert "更早的日期" not in text_of(page, ".day-pages")  # it starts today
        later = one(page, ".day-pages button.link-button")
        assert "更晚的日期" in later.get_text()
        typed = {"nickname": "小林"}
        second = soup(client.post(url, data=hidden | typed | {"show_day": attr(later, "value")}))
        days = [attr(b, "value") for b in second.select("button.day-tab[name=show_day]")]
        # The second fortnight (from 12-15), what was typed kept, a way back.
        assert days and min(days) >= "2026-12-15" and max(days) <= "2026-12-28"
        assert attr(one(second, "#nickname"), "value") == "小林"
        assert one(second, ".day-tab.current").has_attr("autofocus")  # by the times, not the top
        assert not one(page, ".day-tab.current").has_attr("autofocus")
        back = second.select(".day-pages button.link-button")[0]
        assert "更早的日期" in back.get_text() and attr(back, "value") == "2026-12-01"
        # Fortnight after fortnight to the horizon (45 days: 2027-01-15), and no further.
        windows, page = 2, second
        while "更晚" in text_of(page, ".day-pages"):
            ahead = page.select(".day-pages button.link-button")[-1]
            page = soup(client.post(url, data=hidden | {"show_day": attr(ahead, "value")}))
            windows += 1
        shown = [attr(b, "value") for b in page.select("button.day-tab[name=show_day]")]
        assert windows == 4 and shown and max(shown) == "2027-01-15"
