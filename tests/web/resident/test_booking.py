"""Residents book, cancel, reschedule and wait through plain HTML forms (no JavaScript)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from resourcemap import logs
from resourcemap.booking import outbox
from resourcemap.vocab import NotificationKind
from tests.booking_helpers import bookable_city
from tests.factories import run_in_db
from tests.html_helpers import attr, hidden_fields, one, text_of

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

PHONE = "13912345678"


@pytest.fixture
def room(database_url: str, make_client: Callable[..., Any]) -> Iterator[tuple[Any, int]]:
    # Changes stay open up to the start: these tests walk the flows, whatever the first free
    # slot is (the change window has tests of its own).
    ids = run_in_db(
        database_url,
        lambda: bookable_city(min_notice_minutes=0, change_notice_minutes=0, seats=1),
    )
    with make_client(database_url) as client:
        yield client, ids["room"]


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def book_form(client: Any, room_id: int) -> tuple[dict[str, str], list[str]]:
    """The hidden fields of the booking form and the free slots offered."""
    page = soup(client.get(f"/resources/{room_id}/book"))
    form = one(page, "form.book-form")
    hidden = hidden_fields(form)
    return hidden, [attr(r, "value") for r in form.select("input[name=starts_at]")]


def book(client: Any, room_id: int, **fields: str) -> Any:
    hidden, free = book_form(client, room_id)
    data = hidden | {"starts_at": free[0]} | fields
    return client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)


def manage_link(response: Any) -> tuple[str, str]:
    assert response.status_code == 303, response.text[:500]
    url = urlsplit(response.headers["location"])
    return url.path, parse_qs(url.query)["token"][0]


def test_a_number_with_its_country_code_is_masked_as_the_resident_knows_it(
    room: tuple[Any, int],
) -> None:
    """ "+86 138 0013 8000" read back as "861******8000" looked like someone else's number."""
    client, room_id = room
    path, token = manage_link(book(client, room_id, nickname="小王", phone="+86 138 0013 8000"))
    sent_to = text_of(soup(client.get(path, params={"token": token})), ".sent-to")
    assert "138****8000" in sent_to and "861" not in sent_to


def test_book_then_see_the_code_and_add_to_calendar(room: tuple[Any, int]) -> None:
    client, room_id = room
    response = book(client, room_id, nickname="小李", phone=PHONE)
    path, token = manage_link(response)
    page = client.get(path, params={"token": token})
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    html = soup(page)
    code = text_of(html, ".booking-code")
    assert len(code.replace(" ", "")) == 8 and path.endswith(code.replace(" ", ""))
    assert "预约成功" in text_of(html, ".panel-title")
    # Where the link went, masked: the resident recognises their number, a shoulder does not.
    assert "139****5678" in text_of(html, ".sent-to") and PHONE not in html.text
    assert "已确认" in text_of(html, ".status")
    ics = client.get(attr(one(html, "a[href$='.ics'], a[href*='.ics?']"), "href"))
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    # The token is in this page's URL and the calendar link only, never in a form action.
    for form in html.select("form"):
        assert token not in form["action"]


def test_a_form_without_the_csrf_token_changes_nothing(room: tuple[Any, int]) -> None:
    client, room_id = room
    _hidden, free = book_form(client, room_id)
    forged = client.post(
        f"/resources/{room_id}/book",
        data={"starts_at": free[0], "key": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "页面已过期" in text_of(soup(forged), "h1")
    assert book_form(client, room_id)[1][0] == free[0]  # still free (one seat)


def test_a_resent_form_is_the_same_booking(room: tuple[Any, int]) -> None:
    client, room_id = room
    hidden, free = book_form(client, room_id)
    data = hidden | {"starts_at": free[0]}
    first = manage_link(
        client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)
    )
    again = manage_link(
        client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)
    )
    assert first == again


def test_the_form_sent_again_with_another_time_says_what_it_booked(
    room: tuple[Any, int],
) -> None:
    """Back after booking shows the form as it was sent; a resident who then chose another
    time and confirmed booked a second session, unasked. The form says what it booked, links
    to it, and books another time only when confirmed again."""
    client, room_id = room
    hidden, free = book_form(client, room_id)
    data = hidden | {"starts_at": free[0], "phone": PHONE}
    first = manage_link(
        client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)
    )
    back = client.post(f"/resources/{room_id}/book", data=data | {"starts_at": free[1]})
    assert back.status_code == 409
    page = soup(back)
    summary = one(page, ".error-summary")
    assert "这个表单已预约" in summary.get_text() and "如还要预约另一个时间" in summary.get_text()
    link = urlsplit(attr(one(summary, "a[href^='/bookings/']"), "href"))
    assert (link.path, parse_qs(link.query)["token"][0]) == first
    # Confirmed again (a new form key): a second booking, as asked.
    again = hidden_fields(one(page, "form.book-form")) | {"starts_at": free[1], "phone": PHONE}
    assert again["key"] != data["key"]
    second = manage_link(
        client.post(f"/resources/{room_id}/book", data=again, follow_redirects=False)
    )
    assert second != first


def test_back_to_the_booking_page_says_what_was_just_booked_there(
    room: tuple[Any, int], clock: Any
) -> None:
    """The booking page is never cached: Back after booking brings it anew, with a new form
    key, and a resident who chose another time booked a second session with no word of the
    first (a walk-through in Chromium). The page says what this browser just booked there
    while it holds its seat; the session keeps the booking's code alone."""
    client, room_id = room
    hidden, free = book_form(client, room_id)
    path, token = manage_link(
        client.post(
            f"/resources/{room_id}/book", data=hidden | {"starts_at": free[0], "phone": PHONE},
            follow_redirects=False,
        )
    )  # fmt: skip
    back = soup(client.get(f"/resources/{room_id}/book"))
    said = text_of(back, ".just-booked")
    assert said.startswith("您刚刚在这里预约了") and "如还要预约另一个时间" in said
    starts = dt.datetime.fromisoformat(free[0]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{starts:%H:%M}" in said, said
    signed = str(client.cookies.get("rm_session"))
    kept = json.loads(base64.b64decode(signed.split(".")[0] + "=="))
    assert set(kept["just_booked"]) == {"code", "at"}  # no token, service or time
    # Cancelled: nothing to say any more.
    manage = soup(client.get(path, params={"token": token}))
    ask = one(manage, f"form[action='{path}/cancel']")
    confirm = one(soup(client.post(ask["action"], data=hidden_fields(ask))), "form")
    client.post(confirm["action"], data=hidden_fields(confirm), follow_redirects=False)
    assert soup(client.get(f"/resources/{room_id}/book")).select(".just-booked") == []


def test_the_booking_page_forgets_what_was_booked_after_two_hours(
    room: tuple[Any, int], clock: Any
) -> None:
    client, room_id = room
    manage_link(book(client, room_id, phone=PHONE))
    assert soup(client.get(f"/resources/{room_id}/book")).select(".just-booked")
    clock.advance(hours=3)
    assert soup(client.get(f"/resources/{room_id}/book")).select(".just-booked") == []


def test_the_booking_s_address_keeps_the_language_it_was_made_in(
    room: tuple[Any, int],
) -> None:
    """The address after booking is what a resident bookmarks: opened later without the
    language cookie (another browser), it came up in Chinese for a booking made in English."""
    client, room_id = room
    client.get("/", params={"lang": "en"})  # chosen once: kept in the cookie
    location = book(client, room_id, phone=PHONE).headers["location"]
    assert parse_qs(urlsplit(location).query)["lang"] == ["en"]
    client.cookies.clear()  # another browser, the bookmark
    page = client.get(location)
    assert page.status_code == 200 and 'lang="en"' in page.text[:300]


def test_invalid_phone_is_explained_in_the_residents_language(room: tuple[Any, int]) -> None:
    client, room_id = room
    zh = book(client, room_id, phone="call me")
    client.cookies.set("rm_lang", "en")
    en = book(client, room_id, phone="call me", note="hi")
    assert zh.status_code == 400
    assert "手机号：“call me”无法接收短信" in text_of(soup(zh), "#phone-error")
    assert attr(one(soup(zh), "#phone"), "value") == "call me"
    assert "Mobile phone: “call me” cannot receive texts" in text_of(soup(en), "#phone-error")
    assert text_of(soup(en), "#note") == "hi"


def test_no_slot_chosen_asks_for_one(room: tuple[Any, int]) -> None:
    client, room_id = room
    hidden, _ = book_form(client, room_id)
    response = client.post(f"/resources/{room_id}/book", data=hidden)
    assert response.status_code == 400
    assert "请选择一个时间" in response.text


def test_cancel_asks_first_then_cancels(room: tuple[Any, int]) -> None:
    client, room_id = room
    path, token = manage_link(book(client, room_id))
    manage = soup(client.get(path, params={"token": token}))
    form = one(manage, f"form[action='{path}/cancel']")
    fields = hidden_fields(form)
    asked = client.post(form["action"], data=fields)
    assert asked.status_code == 200
    assert "确定要取消" in text_of(soup(asked), "h1")
    still = soup(client.get(path, params={"token": token}))
    assert "已确认" in text_of(still, ".status")
    confirm = one(soup(asked), "form")
    confirm_fields = hidden_fields(confirm)
    done = client.post(confirm["action"], data=confirm_fields, follow_redirects=False)
    assert done.status_code == 303
    after = soup(client.get(path, params={"token": token}))
    assert "已取消" in text_of(after, ".status")
    # Clearly cancelled: its own panel, the time struck through.
    assert "预约已取消" in text_of(after, ".panel-cancelled .panel-title")
    assert after.select_one(".when s") is not None
    assert after.select_one(f"form[action='{path}/cancel']") is None
    # Cancelled by the resident: nothing said about the service having cancelled it.
    assert "无需其他操作" in after.get_text() and after.select(".cancelled-by-service") == []


def test_reschedule_to_another_slot(room: tuple[Any, int]) -> None:
    client, room_id = room
    _, free = book_form(client, room_id)
    path, token = manage_link(book(client, room_id, phone=PHONE))
    manage = soup(client.get(path, params={"token": token}))
    form = one(manage, f"form[action='{path}/reschedule']")
    fields = hidden_fields(form)
    picker = soup(client.post(form["action"], data=fields))
    choices = [r["value"] for r in picker.select("input[name=starts_at]")]
    assert free[0] not in choices  # our own seat is taken (one seat per slot)
    assert "您的预约" in text_of(picker, ".slot-picker")
    assert picker.select("button[name=day]"), "days switch with the form, keeping the token"
    moved = client.post(
        form["action"], data=fields | {"starts_at": choices[0]}, follow_redirects=False
    )
    assert moved.status_code == 303
    after = soup(client.get(path, params={"token": token}))
    # One message, the panel's: not "changed" above a "✓ 预约成功" banner.
    assert "预约时间已更改" in text_of(after, ".panel-title")
    assert after.select(".flash") == [] and "预约成功" not in after.text
    # What went out about the move, not the first booking's text again.
    assert text_of(after, ".sent-to") == "我们已将新的时间以短信发送到 139****5678。"
    again = soup(client.get(path, params={"token": token}))
    assert "预约成功" in text_of(again, ".panel-title")  # said once, then the booking as it is
    assert text_of(again, ".sent-to") == "我们已将本页链接以短信发送到 139****5678。"
    assert book_form(client, room_id)[1][0] == free[0]  # the old seat is free again


def test_full_slot_offers_the_waitlist(room: tuple[Any, int]) -> None:
    client, room_id = room
    _, free = book_form(client, room_id)
    manage_link(book(client, room_id))
    page = soup(client.get(f"/resources/{room_id}/book"))
    link = page.select_one(".slot-option.full a")
    assert link is not None and "waitlist" in link["href"]
    join = soup(client.get(link["href"]))
    form = one(join, "form.book-form")
    fields = hidden_fields(form)
    assert fields["starts_at"] == free[0]
    refused = client.post(form["action"], data=fields)
    assert refused.status_code == 400 and "请留下电话或邮箱" in refused.text
    path, token = manage_link(
        client.post(form["action"], data=fields | {"phone": PHONE}, follow_redirects=False)
    )
    entry = soup(client.get(path, params={"token": token}))
    assert "您排在第 1 位" in text_of(entry, ".status")
    leave = one(entry, f"form[action='{path}/leave']")
    leave_fields = hidden_fields(leave)
    client.post(leave["action"], data=leave_fields)
    assert "已退出" in text_of(soup(client.get(path, params={"token": token})), ".status")


def test_wrong_token_is_not_found(room: tuple[Any, int]) -> None:
    client, room_id = room
    path, token = manage_link(book(client, room_id))
    assert client.get(path, params={"token": token + "0"}).status_code == 404
    assert client.get(path).status_code == 404


def test_booking_by_page_keeps_token_and_phone_out_of_the_logs(
    room: tuple[Any, int], caplog: pytest.LogCaptureFixture
) -> None:
    client, room_id = room
    logs.configure("debug")
    caplog.set_level(logging.DEBUG)
    path, token = manage_link(book(client, room_id, phone=PHONE, nickname="独一无二的昵称"))
    client.get(path, params={"token": token})
    text = caplog.text
    assert token not in text and PHONE not in text and "独一无二的昵称" not in text


def test_log_lines_lose_booking_tokens() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactSecrets())
    logger = logging.getLogger("resourcemap.test-redaction")
    logger.addHandler(handler)
    try:
        logger.warning("GET %s", "/bookings/12345678?token=s3cr3t-T0ken&lang=en")
    finally:
        logger.removeHandler(handler)
    assert "s3cr3t" not in stream.getvalue()
    assert "token=[redacted]&lang=en" in stream.getvalue()


def test_a_freed_seat_is_offered_and_taken_from_the_waitlist_page(
    room: tuple[Any, int],
) -> None:
    client, room_id = room  # two residents; the desk knows them by their tokens only
    _, free = book_form(client, room_id)
    path, token = manage_link(book(client, room_id))
    join = soup(client.get(f"/resources/{room_id}/waitlist", params={"start": free[0]}))
    form = one(join, "form.book-form")
    fields = hidden_fields(form)
    w_path, w_token = manage_link(
        client.post(form["action"], data=fields | {"phone": PHONE}, follow_redirects=False)
    )
    # The first resident cancels: the seat is held for the one waiting.
    manage = soup(client.get(path, params={"token": token}))
    cancel = one(manage, f"form[action='{path}/cancel']")
    cancel_fields = hidden_fields(cancel)
    client.post(cancel["action"], data=cancel_fields | {"confirm": "yes"})
    entry = soup(client.get(w_path, params={"token": w_token}))
    accept = entry.select_one(f"form[action='{w_path}/accept']")
    assert accept is not None, entry.get_text()
    accept_fields = hidden_fields(accept)
    b_path, b_token = manage_link(
        client.post(accept["action"], data=accept_fields, follow_redirects=False)
    )
    booked = soup(client.get(b_path, params={"token": b_token}))
    assert "已确认" in text_of(booked, ".status")
    assert text_of(booked, ".booking-code").replace(" ", "") in b_path


def test_a_time_taken_meanwhile_is_explained_in_the_residents_language(
    room: tuple[Any, int],
) -> None:
    client, room_id = room
    hidden, free = book_form(client, room_id)
    manage_link(book(client, room_id))  # someone else takes the only seat
    # The first resident's form, still open, is sent with a fresh key (a new request).
    taken = client.post(
        f"/resources/{room_id}/book", data=hidden | {"starts_at": free[0], "key": "other"}
    )
    assert taken.status_code == 409
    assert "刚被约满" in text_of(soup(taken), ".problem, [role=alert]")
    hidden, _ = book_form(client, room_id)
    english = client.post(
        f"/resources/{room_id}/book?lang=en",
        data=hidden | {"starts_at": free[0], "key": "third"},
    )
    assert english.status_code == 409 and "just been taken" in english.text
    # The API says the same case as a code programs can rely on.
    api = client.post("/api/v1/bookings", json={"resource_id": room_id, "starts_at": free[0]})
    assert api.status_code == 409 and api.json()["code"] == "full"


def test_dates_no_slot_can_have_are_a_clear_error(room: tuple[Any, int]) -> None:
    client, room_id = room
    hidden, _ = book_form(client, room_id)
    for far in ("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00"):
        page = client.post(f"/resources/{room_id}/book", data=hidden | {"starts_at": far})
        assert page.status_code == 400 and "请选择一个时间" in page.text
        shown = client.get(f"/resources/{room_id}/book", params={"start": far})
        assert shown.status_code == 200
        waitlist = client.get(f"/resources/{room_id}/waitlist", params={"start": far})
        assert waitlist.status_code in (200, 400)
        api = client.post("/api/v1/bookings", json={"resource_id": room_id, "starts_at": far})
        assert api.status_code == 400 and "starts_at" in api.json()["fields"]


def test_each_day_tab_shows_that_days_times_and_keeps_what_was_typed(
    room: tuple[Any, int],
) -> None:
    """A day's tab submits the form: its times come back with the name, number and note
    typed (a link to ?day= lost them), and nothing is booked. Enter in a field still books:
    the form's first button is its own (a browser submits with the first one)."""
    client, room_id = room
    page = soup(client.get(f"/resources/{room_id}/book"))
    form = one(page, "form.book-form")
    buttons = form.select("button[type=submit]")
    assert buttons[0].get("name") is None and "确认预约" in buttons[0].text
    tabs = form.select("button.day-tab[name=show_day]")
    assert len(tabs) >= 2 and not form.select("a.day-tab")
    typed = {"nickname": "小林", "phone": PHONE, "note": "第一次来"}
    shown_before = one(form, ".slot-picker legend").text
    for tab in tabs[:3]:
        data = hidden_fields(form) | typed | {"show_day": attr(tab, "value")}
        answer = client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)
        assert answer.status_code == 200, attr(tab, "value")
        again = soup(answer)
        current = one(again, ".day-tab.current")
        assert current.find(string=True) == tab.find(string=True)
        assert again.select("input[name=starts_at]"), attr(tab, "value")
        assert attr(one(again, "#nickname"), "value") == "小林"
        assert attr(one(again, "#phone"), "value") == PHONE
        assert one(again, "#note").text == "第一次来"
        assert attr(one(again, "input[name=day]"), "value") == attr(tab, "value")
    assert one(again, ".slot-picker legend").text != shown_before
    # Nothing was booked: the first free time is still free.
    assert book_form(client, room_id)[1][0] == attr(one(form, "#starts_at"), "value")
    # A date beyond the times offered shows the first day with free times, not an error.
    data = hidden_fields(form) | typed | {"show_day": "9999-12-31"}
    far = client.post(f"/resources/{room_id}/book", data=data, follow_redirects=False)
    assert far.status_code == 200 and attr(one(soup(far), "#phone"), "value") == PHONE
    # The address still opens a day (links from elsewhere, the language switch).
    by_link = client.get(f"/resources/{room_id}/book", params={"day": attr(tabs[1], "value")})
    assert by_link.status_code == 200
    assert one(soup(by_link), ".day-tab.current").find(string=True) == tabs[1].find(string=True)
    assert client.get(f"/resources/{room_id}/book", params={"day": "9999-12-31"}).status_code == 400


def test_changing_the_time_opens_on_the_bookings_own_day(room: tuple[Any, int]) -> None:
    """The times to move to are shown first for the booked day, with the booking marked
    there, not for the first day with a free time."""
    client, room_id = room
    hidden, _ = book_form(client, room_id)
    tabs = soup(client.get(f"/resources/{room_id}/book")).select("button.day-tab")
    later = attr(tabs[2], "value")
    later_page = soup(client.post(f"/resources/{room_id}/book", data=hidden | {"show_day": later}))
    start = attr(one(later_page, "#starts_at"), "value")
    path, token = manage_link(book(client, room_id, starts_at=start))
    manage = soup(client.get(path, params={"token": token}))
    form = one(manage, f"form[action='{path}/reschedule']")
    picker = soup(client.post(form["action"], data=hidden_fields(form)))
    assert attr(one(picker, ".day-tab.current"), "aria-current") == "date"
    assert one(picker, ".day-tab.current").find(string=True) == tabs[2].find(string=True)
    assert "您的预约" in text_of(picker, ".slot-picker")
    # Theirs, not struck through as a full time (one seat: it is full, with them).
    assert "您的预约" in text_of(picker, ".slot-option.yours")
    assert "full" not in attr(one(picker, ".slot-option.yours"), "class")
    buttons = one(picker, "form.book-form").select("button[type=submit]")
    assert attr(buttons[0], "name") == "move" and "改到这个时间" in buttons[0].text
    # "Move my booking" with no time chosen, on another day: said, on that day again.
    other = one(picker, "button.day-tab[name=day]")
    on_other = soup(client.post(form["action"], data=hidden_fields(form) | {"day": other["value"]}))
    # The tab pressed has the focus when the page comes back (it was at the page's top,
    # the header and hotlines to Tab through again); not when the page first opens.
    assert one(on_other, ".day-tab.current").has_attr("autofocus")
    assert not one(picker, ".day-tab.current").has_attr("autofocus")
    moved_form = one(on_other, "form.book-form")
    press = hidden_fields(moved_form) | {"move": "yes"}
    refused = client.post(form["action"], data=press, follow_redirects=False)
    assert refused.status_code == 400
    again = soup(refused)
    # As the booking form says it: a summary linking to the times, the times marked.
    assert attr(one(again, ".error-summary a"), "href") == "#starts_at"
    assert text_of(again, ".error-summary a") == "请选择一个时间。"
    assert "请选择一个时间" in text_of(again, "#starts_at-error")
    assert one(again, "#starts_at")  # the link's target
    assert one(again, ".day-tab.current").find(string=True) == other.find(string=True)
    # And the booking stayed where it was.
    kept = soup(client.get(path, params={"token": token}))
    assert text_of(kept, ".when") == text_of(manage, ".when")


def test_language_links_on_answers_to_forms_lead_to_pages_that_exist(
    room: tuple[Any, int],
) -> None:
    client, room_id = room
    hidden, free = book_form(client, room_id)
    refused = client.post(
        f"/resources/{room_id}/book", data=hidden | {"starts_at": free[0], "phone": "12"}
    )
    assert refused.status_code == 400
    path, token = manage_link(book(client, room_id))
    manage = soup(client.get(path, params={"token": token}))
    cancel = one(manage, f"form[action='{path}/cancel']")
    fields = hidden_fields(cancel)
    confirm = client.post(
        cancel["action"], data={k: v for k, v in fields.items() if k != "confirm"}
    )
    for page in (refused, confirm):
        english = soup(page).select_one("a[hreflang='en'], a[lang='en']")
        assert english is not None
        assert client.get(english["href"]).status_code == 200, english["href"]


def test_a_resent_waitlist_form_is_the_same_place_in_line(room: tuple[Any, int]) -> None:
    """A double click on "Join the waitlist" gives one place, not two; the same form sent
    back with other details is asked to be checked, and a new form joins afresh."""
    client, room_id = room
    manage_link(book(client, room_id))
    link = soup(client.get(f"/resources/{room_id}/book")).select_one(".slot-option.full a")
    assert link is not None
    form = one(soup(client.get(link["href"])), "form.book-form")
    fields = hidden_fields(form) | {"phone": PHONE}
    assert fields["key"]
    first = manage_link(client.post(form["action"], data=fields, follow_redirects=False))
    again = manage_link(client.post(form["action"], data=fields, follow_redirects=False))
    assert again == first
    changed = client.post(form["action"], data=fields | {"phone": "13900001111"})
    assert changed.status_code == 400 and "请检查" in changed.text
    entry = soup(client.get(first[0], params={"token": first[1]}))
    assert "您排在第 1 位" in text_of(entry, ".status")


@pytest.mark.parametrize("minutes", [45])
def test_the_waitlist_says_how_long_an_offered_seat_is_held(
    database_url: str, make_client: Callable[..., Any], minutes: int
) -> None:
    room_id = run_in_db(
        database_url,
        lambda: bookable_city(min_notice_minutes=0, change_notice_minutes=0, seats=1),
    )["room"]
    with make_client(database_url, waitlist_offer_minutes=minutes) as client:
        _, free = book_form(client, room_id)
        path, token = manage_link(book(client, room_id))
        join = soup(client.get(f"/resources/{room_id}/waitlist", params={"start": free[0]}))
        assert f"保留{minutes}分钟" in text_of(join, ".hint")
        form = one(join, "form.book-form")
        w_path, w_token = manage_link(
            client.post(
                form["action"], data=hidden_fields(form) | {"phone": PHONE}, follow_redirects=False
            )
        )
        waiting = soup(client.get(w_path, params={"token": w_token}))
        assert f"保留{minutes}分钟" in text_of(waiting, ".offer-hold")
        manage = soup(client.get(path, params={"token": token}))
        cancel = one(manage, f"form[action='{path}/cancel']")
        client.post(cancel["action"], data=hidden_fields(cancel) | {"confirm": "yes"})
        offered = soup(client.get(w_path, params={"token": w_token}))
        held = text_of(offered, ".offer-hold")
        assert held.startswith(f"为您保留{minutes}分钟，至 "), held
        english = soup(client.get(w_path, params={"token": w_token, "lang": "en"}))
        assert f"for {minutes} minutes, until" in text_of(english, ".offer-hold")


def test_the_offer_message_names_how_long_the_seat_is_held() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    starts = dt.datetime(2026, 12, 2, 10, 0, tzinfo=tz)
    message = outbox.Message(
        kind=NotificationKind.WAITLIST_OFFER,
        code="12345678",
        resource_name="东湖社区心理咨询室",
        starts_at=starts,
        manage_url="http://127.0.0.1:8000/waitlist/12345678?token=t",
        offer_expires_at=starts - dt.timedelta(minutes=60),
        offer_minutes=30,
    )
    assert "为您保留30分钟（至 09:00）" in message.text(tz)


def test_after_the_visit_its_page_asks_for_feedback_once(room: tuple[Any, int]) -> None:
    """A resident who booked with no phone or e-mail was never asked how it went: the
    invitation goes only by text or e-mail. The visit's own page asks, once."""
    from resourcemap.models import Booking
    from resourcemap.vocab import BookingStatus

    client, room_id = room
    path, token = manage_link(book(client, room_id))  # no contact details at all
    assert soup(client.get(path, params={"token": token})).select_one("form.feedback-ask") is None
    code = path.rsplit("/", 1)[1]

    async def attended() -> None:
        await Booking.filter(code=code).update(status=BookingStatus.ATTENDED)

    portal = client.portal
    assert portal is not None
    portal.call(attended)
    page = soup(client.get(path, params={"token": token}))
    ask = one(page, "form.feedback-ask")
    asked = client.post(attr(ask, "action"), data=hidden_fields(ask), follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/feedback/")
    form = client.get(asked.headers["location"])
    assert form.status_code == 200 and "匿名" in form.text
    # Once: the page asks no more, and a second post leads back to the booking.
    again = soup(client.get(path, params={"token": token}))
    assert again.select_one("form.feedback-ask") is None
    twice = client.post(attr(ask, "action"), data=hidden_fields(ask), follow_redirects=False)
    assert twice.headers["location"].startswith(path)
    # Not without the booking's own link.
    stranger = hidden_fields(ask) | {"token": "x" * 20}
    assert client.post(attr(ask, "action"), data=stranger).status_code == 404


def test_after_a_visit_whose_link_was_texted_the_page_says_so(room: tuple[Any, int]) -> None:
    from resourcemap.feedback import invites
    from resourcemap.models import Booking
    from resourcemap.vocab import BookingStatus

    client, room_id = room
    path, token = manage_link(book(client, room_id, phone=PHONE))
    code = path.rsplit("/", 1)[1]

    async def attended_and_invited() -> None:
        await Booking.filter(code=code).update(status=BookingStatus.ATTENDED)
        booking = await Booking.get(code=code)
        ledger = client.app.state.desk.ledger
        assert await invites.invite(
            ledger, booking.id, now=dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
        )

    portal = client.portal
    assert portal is not None
    portal.call(attended_and_invited)
    page = soup(client.get(path, params={"token": token}))
    assert page.select_one("form.feedback-ask") is None
    assert "我们已把匿名评价链接发给您" in text_of(page, ".feedback-sent")
