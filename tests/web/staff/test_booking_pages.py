"""Staff booking pages as a browser uses them, on both databases: the masked list, revealing
one booking (audited), cancelling with a reason, marking, booking for a caller, booking rules
and blocked time; planners see counts only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from starlette.testclient import TestClient

from resourcemap.models import AuditEntry, Booking, BookingPolicy
from tests.conftest import TEST_NOW
from tests.factories import run_in_db
from tests.html_helpers import attr, one, text_of
from tests.web.staff.test_pages import _people, browser_values, field_box, html, only_form, sign_in

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

PHONE = "13812345678"
NOTE = "怕见人"


@dataclass
class World:
    url: str
    ids: dict[str, int]
    make: Callable[..., Any]

    @contextmanager
    def client(self, username: str | None = None) -> Iterator[TestClient]:
        with self.make(self.url, run_worker=False) as client:
            if username is not None:
                sign_in(client, username)
            yield client


async def _bookable_people() -> dict[str, int]:
    ids = await _people()
    await BookingPolicy.create(
        resource_id=ids["room"],
        slot_minutes=50,
        buffer_minutes=10,
        seats=2,
        min_notice_minutes=60,
        horizon_days=30,
        change_notice_minutes=60,
    )
    return ids


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _bookable_people), make_client)


def free_slots(client: TestClient, resource_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/resources/{resource_id}/slots?days=14")
    assert response.status_code == 200, response.text
    return [s for s in response.json()["slots"] if s["remaining"] > 0]


def book(client: TestClient, resource_id: int, starts_at: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/bookings", json={"resource_id": resource_id, "starts_at": starts_at, **fields}
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def booking_id(client: TestClient, made: dict[str, Any], day: str) -> int:
    """The id staff pages use for a booking made through the resident API."""
    listed = client.get(f"/api/v1/staff/bookings?from={day}").json()["items"]
    return next(int(b["id"]) for b in listed if b["code"] == made["code"])


def submit(
    client: TestClient, soup: BeautifulSoup, action: str, **fields: str
) -> Any:  # the response
    form = soup.find("form", action=action, method="post")
    assert isinstance(form, Tag), f"no form posting to {action}"
    values = browser_values(form)
    values.update({k: [v] for k, v in fields.items()})
    return client.post(action, data=values, follow_redirects=False)


def row_of(soup: BeautifulSoup, booking: int) -> Tag:
    row = soup.find("tr", attrs={"data-id": str(booking)})
    assert isinstance(row, Tag), f"no row for booking {booking}"
    return row


def test_list_masks_contacts_and_revealing_one_is_recorded(world: World) -> None:
    room = world.ids["room"]
    with world.client("staff") as client:
        start = free_slots(client, room)[0]["starts_at"]
        made = book(client, room, start, nickname="王小明", phone=PHONE, note=NOTE)
        day = start[:10]
        bid = booking_id(client, made, day)

        page = client.get(f"/staff/bookings?from={day}")
        assert page.status_code == 200
        soup = html(page)
        row = row_of(soup, bid)
        assert text_of(row, ".phone") == "138****5678"
        assert text_of(row, ".nickname") == "王**"
        assert PHONE not in page.text and NOTE not in page.text
        assert row.find("form", action=f"/staff/bookings/{bid}/status") is None  # not started
        week = html(client.get(f"/staff/bookings?from={day}&view=week&resource={room}"))
        assert text_of(row_of(week, bid), ".time").startswith(start[11:16])
        # The week is named as the day is ("12月7日周一"), not as 2026-12-07.
        heading = text_of(week, "h1")
        assert "月" in heading and "周一" in heading and "-" not in heading, heading
        assert text_of(soup, "#f-resource option[value='']") == "全部服务"

        shown = submit(client, soup, f"/staff/bookings/{bid}/reveal")
        assert shown.status_code == 200
        assert shown.headers["cache-control"] == "no-store"
        contact = html(shown)
        assert text_of(contact, ".phone") == PHONE
        assert text_of(contact, ".note") == NOTE
        assert "本次查看已记录" in text_of(contact, ".recorded")

    async def reveals() -> list[str]:
        entries = AuditEntry.filter(action="reveal_contact", entity="booking", entity_id=str(bid))
        return [e.actor_name for e in await entries]

    assert run_in_db(world.url, reveals) == ["staff"]

    with world.client("other") as client:
        soup = html(client.get(f"/staff/bookings?from={day}&view=week"))
        assert soup.find("tr", class_="booking") is None
        token = attr(one(soup, "input[name=csrf_token]"), "value")
        for action in ("reveal", "cancel", "status"):
            refused = client.post(
                f"/staff/bookings/{bid}/{action}",
                data={"csrf_token": token, "reason": "x", "status": "attended"},
            )
            assert refused.status_code == 404, action
            assert PHONE not in refused.text
        elsewhere = client.get(f"/staff/bookings?resource={room}")
        assert elsewhere.status_code == 404
        # Why, in the page's language: not the domain's English.
        said = " ".join(html(elsewhere).get_text(" ").split())
        assert f"您的服务中没有编号为 {room} 的场所" in said and "among your services" not in said
    assert run_in_db(world.url, reveals) == ["staff"]

    with world.client("planner") as client:
        refused = client.get(f"/staff/bookings?from={day}")
        assert refused.status_code == 403
        assert text_of(html(refused), "h1").startswith("没有权限")
        stats = client.get(f"/staff/bookings/stats?from={day}&days=1")
        assert stats.status_code == 200
        counts = html(stats)
        assert text_of(counts, ".total") == "1"
        assert text_of(one(counts, f"tr[data-id='{room}']"), ".status-confirmed") == "1"
        assert "138****5678" not in stats.text and made["code"] not in stats.text
        # How many days the counts span, not "日期" (a date).
        assert text_of(counts, "label[for=f-days]") == "天数"


def test_cancel_needs_a_reason_and_marking_needs_a_started_slot(world: World) -> None:
    room = world.ids["room"]
    with world.client("staff") as client:
        first, second = free_slots(client, room)[:2]
        made = book(client, room, first["starts_at"], phone=PHONE)
        bid = booking_id(client, made, first["starts_at"][:10])
        listing = f"/staff/bookings?from={first['starts_at'][:10]}"
        soup = html(client.get(listing))

        refused = submit(client, soup, f"/staff/bookings/{bid}/cancel", reason="  ")
        assert refused.status_code == 400
        again = html(refused)
        box = field_box(again, f"reason-{bid}")
        assert box.find(class_="field-error") is not None
        assert text_of(row_of(again, bid), ".booking-status").startswith("已确认")
        assert "预约人会收到" in box.get_text()  # the page says the resident is told

        done = submit(client, again, f"/staff/bookings/{bid}/cancel", reason="咨询师病假")
        assert done.status_code == 303
        after = html(client.get(done.headers["location"]))
        assert "取消原因已发送给预约人" in text_of(after, ".flash")
        status = text_of(row_of(after, bid), ".booking-status")
        assert status.startswith("已取消") and "咨询师病假" in status
        resident = client.get(
            f"/api/v1/bookings/{made['code']}", headers={"X-Booking-Token": made["token"]}
        )
        assert resident.json()["cancel_reason"] == "咨询师病假"
        assert resident.json()["cancelled_by"] == "staff"
        # The resident's page says the service cancelled it, and why: not "no longer booked
        # for you, nothing more to do", as if they had cancelled it themselves.
        own = html(client.get(f"/bookings/{made['code']}", params={"token": made["token"]}))
        assert text_of(own, ".cancelled-by-service") == "服务机构取消了这个预约，很抱歉。"
        assert text_of(own, ".cancel-reason") == "原因：咨询师病假"
        assert "无需其他操作" not in own.get_text()
        late = book(client, room, second["starts_at"])
        late_id = booking_id(client, late, second["starts_at"][:10])
        # Cancelled bookings are listed apart, below the ones still coming.
        both = html(client.get(listing))
        assert both.select_one(f"tbody.group-ended tr[data-id='{bid}']") is not None
        assert "已取消或过期" in text_of(both, "tbody.group-ended .group-head")
        # The count is of who is coming; the cancelled one is said apart.
        coming = len(both.select("tbody.group-active tr.booking"))
        assert text_of(both, ".count").startswith(f"共 {coming} 个预约（另有 1 个已取消或过期）")
        if second["starts_at"][:10] == first["starts_at"][:10]:
            assert both.select_one(f"tbody.group-active tr[data-id='{late_id}']") is not None

    # Not before its slot has started (a form left open from yesterday's list): refused in
    # the staff's own language, not the domain's English or a bare "请检查".
    with world.client("staff") as client:
        token = attr(one(html(client.get("/staff/bookings")), "input[name=csrf_token]"), "value")
        early = {"csrf_token": token, "status": "attended"}
        for lang, said in (
            ("zh-CN", "这个时段还没有开始"),
            ("en", "The slot has not started yet."),
        ):
            path = f"/staff/bookings/{late_id}/status?lang={lang}"
            refused = client.post(path, data=early, follow_redirects=False)
            assert refused.status_code == 409 and said in refused.text

    # A booking whose slot has started can be marked attended or no-show.
    started = TEST_NOW - dt.timedelta(minutes=10)  # the app's clock

    async def move_into_the_past() -> None:
        await Booking.filter(id=late_id).update(
            starts_at=started, ends_at=started + dt.timedelta(minutes=50)
        )

    run_in_db(world.url, move_into_the_past)
    with world.client("staff") as client:
        today = html(client.get("/staff/bookings"))
        assert row_of(today, late_id).find(class_="cancel") is not None
        marked = submit(client, today, f"/staff/bookings/{late_id}/status", status="no_show")
        assert marked.status_code == 303
        status_row = row_of(html(client.get(marked.headers["location"])), late_id)
        assert text_of(status_row, ".booking-status").startswith("未到场")


def test_rules_form_saves_and_shows_errors_next_to_each_field(world: World) -> None:
    room = world.ids["room"]
    rules = f"/staff/resources/{room}/booking"
    with world.client("staff") as client:
        soup = html(client.get(rules))
        assert attr(one(field_box(soup, "seats"), "input"), "value") == "2"

        bad = submit(client, soup, rules, slot_minutes="1", seats="many")
        assert bad.status_code == 400
        again = html(bad)
        # The summary at the top says which field each problem is of ("不是整数" alone did not).
        summary = [a.get_text(strip=True) for a in again.select(".error-summary-list a")]
        assert [s.split("：")[0] for s in summary] == ["每个时段长度（分钟）", "每个时段名额"], (
            summary
        )
        for name, typed in (("slot_minutes", "1"), ("seats", "many")):
            box = field_box(again, name)
            assert box.find(class_="field-error") is not None, name
            assert attr(one(box, "input"), "value") == typed
        assert field_box(again, "horizon_days").find(class_="field-error") is None

        saved = submit(client, again, rules, slot_minutes="90", buffer_minutes="0", seats="8")
        assert saved.status_code == 303
        shown = html(client.get(saved.headers["location"]))
        assert "已保存预约规则" in text_of(shown, ".flash")
        assert attr(one(field_box(shown, "seats"), "input"), "value") == "8"
        slots = free_slots(client, room)
        assert slots[0]["capacity"] == 8

    with world.client("other") as client:
        assert client.get(rules).status_code == 404


def test_blocked_time_takes_its_slots_off_the_booking_api(world: World) -> None:
    room = world.ids["room"]
    rules = f"/staff/resources/{room}/booking"
    with world.client("staff") as client:
        slot = free_slots(client, room)[1]
        day, start, end = slot["starts_at"][:10], slot["starts_at"][11:16], slot["ends_at"][11:16]
        soup = html(client.get(rules))

        add = f"/staff/resources/{room}/blocks"
        wrong = submit(client, soup, add, block_date=day, block_from=end, block_to=start)
        assert wrong.status_code == 400
        # What is wrong, said of the field (it said "请检查此项"), and the other cases too.
        said = field_box(html(wrong), "block_to").find(class_="field-error")
        assert said is not None and "结束时间须晚于开始时间" in said.get_text()
        half = submit(client, soup, add, block_date=day, block_from=start, block_to="")
        said = field_box(html(half), "block_to").find(class_="field-error")
        assert said is not None and "两个时间都不填则停约全天" in said.get_text()
        past = submit(client, soup, add, block_date="2026-11-01", block_from="", block_to="")
        said = field_box(html(past), "block_date").find(class_="field-error")
        assert past.status_code == 400 and said is not None and "已经过去" in said.get_text()
        # Said at the top too, where the answer opens (the form is at the page's foot).
        top = [a.get_text(strip=True) for a in html(past).select(".error-summary-list a")]
        assert top == ["日期：这一天已经过去：请填写今天或以后的日期。"], top
        assert slot["starts_at"] in {s["starts_at"] for s in free_slots(client, room)}

        typed = {"block_date": day, "block_from": start, "block_to": end, "block_reason": "督导"}
        added = submit(client, soup, add, **typed)
        assert added.status_code == 303
        assert slot["starts_at"] not in {s["starts_at"] for s in free_slots(client, room)}
        listed = html(client.get(rules))
        (block,) = listed.find_all("tr", class_="block")
        assert f"{start}–{end}" in text_of(block, ".when")

        removed = submit(client, listed, f"/staff/blocks/{block['data-id']}/remove")
        assert removed.status_code == 303 and removed.headers["location"] == rules
        assert slot["starts_at"] in {s["starts_at"] for s in free_slots(client, room)}


def test_booking_for_a_walk_in_visitor_shows_the_code(world: World) -> None:
    room = world.ids["room"]
    with world.client("staff") as client:
        form_page = html(client.get("/staff/bookings/new"))  # the only bookable room is chosen
        choice = only_form(form_page, "/staff/bookings/new")  # choose the service: a GET form
        assert choice["method"] == "get"
        slots = one(form_page, "select[name=starts_at]")
        options = [attr(o, "value") for o in slots("option")]
        assert options[1:] and options[1] == free_slots(client, room)[0]["starts_at"]
        # Two weeks from the day asked for, to the last day residents may book (30 days
        # here: 2026-12-31 included), not only the next two weeks.
        assert max(options[1:]) < "2026-12-15"
        later = html(client.get(f"/staff/bookings/new?resource={room}&from=2026-12-29"))
        times = [attr(o, "value") for o in one(later, "select[name=starts_at]")("option")]
        assert min(times[1:]) >= "2026-12-29" and max(times[1:])[:10] == "2026-12-31"
        assert attr(one(later, "#f-from"), "max") == "2026-12-31"

        missing = submit(client, form_page, "/staff/bookings/new", channel="walk_in")
        assert missing.status_code == 400
        assert field_box(html(missing), "starts_at").find(class_="field-error") is not None

        fields = {"starts_at": options[1], "channel": "walk_in", "phone": "13700000000"}
        done = submit(client, form_page, "/staff/bookings/new", **fields)
        assert done.status_code == 303
        again = submit(client, form_page, "/staff/bookings/new", **fields)  # a double click
        assert again.headers["location"] == done.headers["location"]
        booked = html(client.get(done.headers["location"]))
        code = text_of(booked, ".booking-code")
        assert re.fullmatch(r"\d{4} \d{4}", code)
        assert "13700000000" not in str(booked) and "137****0000" in str(booked)

    async def stored() -> list[tuple[str, str]]:
        return [(b.code, b.channel) for b in await Booking.all()]

    assert run_in_db(world.url, stored) == [(code.replace(" ", ""), "walk_in")]


def test_the_list_shows_who_waits_for_a_full_slot_masked_in_line_order(world: World) -> None:
    room = world.ids["room"]
    with world.client("staff") as client:
        slot = free_slots(client, room)[0]
        for phone in ("13800000001", "13800000002"):  # two seats: the slot is full
            book(client, room, slot["starts_at"], phone=phone)
        for phone, nickname in (("13900000011", "小王"), ("13900000022", "小李")):
            joined = client.post(
                "/api/v1/waitlist",
                json={
                    "resource_id": room,
                    "starts_at": slot["starts_at"],
                    "phone": phone,
                    "nickname": nickname,
                },
            )
            assert joined.status_code == 201, joined.text
        page = html(client.get(f"/staff/bookings?from={slot['starts_at'][:10]}"))
        client.cookies.set("rm_lang", "en")
        english = html(client.get(f"/staff/bookings?from={slot['starts_at'][:10]}"))
    rows = page.select("table.waiting tr.waiting-slot")
    assert len(rows) == 1
    assert text_of(rows[0], ".time") == slot["starts_at"][11:16]
    assert text_of(rows[0], ".waiting-count") == "2人等候"
    people = rows[0].select(".waiting-people li")
    assert len(people) == 2
    shown = rows[0].get_text()
    assert "13900000011" not in shown and "13900000022" not in shown  # masked as elsewhere
    assert all("*" in text_of(p, ".phone") for p in people)
    assert "等候" in text_of(page, ".waitlist h3")
    # The active bookings are not mixed with the line.
    assert len(page.select("tbody.group-active tr.booking")) == 2
    assert text_of(english, "table.waiting .waiting-count") == "2 waiting"
    # Each row names the service in the page's language (the listing has both names).
    for soup, room_name in (
        (page, "东湖社区心理咨询室"),
        (english, "Donghu Community Counselling Room"),
    ):
        cells = soup.select("tbody.group-active tr.booking td.resource, table.waiting td.resource")
        assert [c.get_text(strip=True) for c in cells] == [room_name] * 3


def test_english_booking_pages_name_the_services_in_english(world: World) -> None:
    with world.client("staff") as client:
        pages = [html(client.get(p, params={"lang": "en"})) for p in BOOKING_PAGES]
    for page in pages:
        options = one(page, "select[name=resource], select[name=resource_id]").get_text()
        assert "Donghu Community Counselling Room" in options
    links = [a.get_text(strip=True) for a in pages[0].select(".hint a")]
    assert links == ["Donghu Community Counselling Room"]


BOOKING_PAGES = ("/staff/bookings", "/staff/bookings/new")


def test_the_day_s_bookings_come_before_the_rules_links(world: World) -> None:
    """All services: their rules' links folded away under one summary after the day's
    bookings, which the page opens with; one service: its own rules' link only."""
    room = world.ids["room"]
    with world.client("staff") as client:
        page = client.get("/staff/bookings")
        everything = html(page)
        one_room = html(client.get(f"/staff/bookings?resource={room}"))
    folded = one(everything, "details.rules-links")
    # After the day: its bookings (or "No bookings") are what the page opens with.
    assert page.text.index("rules-links") > page.text.index("</section>")
    assert "open" not in folded.attrs
    links = folded.select("a[href$='/booking']")
    assert f"/staff/resources/{room}/booking" in [a["href"] for a in links]
    assert re.search(r"（\d+ 个服务资源）", text_of(folded, "summary"))
    assert not one_room.select("details.rules-links")
    (own,) = one_room.select("a[href$='/booking']")
    assert own["href"] == f"/staff/resources/{room}/booking"
    assert own.get_text().endswith("的预约规则与停约时间")


def test_the_caller_s_phone_field_says_which_numbers_take_texts(world: World) -> None:
    """The one phone check refuses landlines; the staff form says so before, not after."""
    with world.client("staff") as client:
        form = html(client.get("/staff/bookings/new"))
    hint = " ".join(p.get_text() for p in form.select(".hint"))
    assert "11位手机号" in hint and "座机无法接收短信" in hint, hint


def test_holidays_nobody_has_given_are_said_and_a_holidays_file_closes_them(
    world: World, clock: Any, tmp_path: Any
) -> None:
    """A year chinese-calendar does not know yet (as 2027 in December 2026): its New Year's
    Day, a weekday, took bookings while the room is closed, and nobody was told."""
    clock.set(dt.datetime(2099, 12, 5, 2, tzinfo=dt.UTC))
    room = world.ids["room"]
    rules_url = f"/staff/resources/{room}/booking"
    new_year = f"/api/v1/resources/{room}/slots?from=2100-01-01&days=1"
    with world.client("staff") as client:
        rules = html(client.get(rules_url))
        assert "2099和2100年的法定节假日和调休安排尚未载入" in text_of(rules, ".holidays-unknown")
        link = one(rules, ".holidays-unknown a")
        assert attr(link, "href") == f"/staff/resources/{room}/edit#exceptions"
        form = html(client.get(f"/staff/resources/{room}/edit"))
        assert "请在此录入节假日闭馆和调休上班日" in text_of(form, "#exceptions .holidays-unknown")
        listing = html(client.get(f"/resources/{room}"))
        assert "本站尚未载入2099和2100年的节假日安排" in text_of(listing, ".holiday-rule")
        assert client.get(new_year).json()["slots"]  # an ordinary Friday
    # The administrator gives the State Council's schedule: the day keeps Sunday's hours.
    path = tmp_path / "holidays-2099-2100.csv"
    path.write_text("date,day\n2099-10-01,休\n2100-01-01,holiday\n", encoding="utf-8")
    with world.make(world.url, run_worker=False, holidays_file=path) as client:
        sign_in(client, "staff")
        assert html(client.get(rules_url)).select_one(".holidays-unknown") is None
        listing = html(client.get(f"/resources/{room}"))
        assert "本站尚未载入" not in text_of(listing, ".holiday-rule")
        assert client.get(new_year).json()["slots"] == []


def test_blocking_time_with_bookings_in_it_says_so_and_marks_them(world: World) -> None:
    """Blocking cancels nobody: staff who blocked a training afternoon were told only that
    its slots were no longer offered, and its residents still expected to come."""
    room = world.ids["room"]
    with world.client("staff") as client:
        slot = free_slots(client, room)[0]
        made = book(client, room, slot["starts_at"], nickname="小林", phone=PHONE)
        day, start = slot["starts_at"][:10], slot["starts_at"][11:16]
        rules = html(client.get(f"/staff/resources/{room}/booking"))
        typed = {"block_date": day, "block_from": start, "block_to": "17:30"}
        added = submit(client, rules, f"/staff/resources/{room}/blocks", **typed)
        assert added.status_code == 303
        assert added.headers["location"] == f"/staff/bookings?resource={room}&from={day}"
        listed = html(client.get(added.headers["location"]))
        assert "还有 1 个已确认的预约" in text_of(listed, ".flash")
        row = row_of(listed, booking_id(client, made, day))
        assert "在停约时间内" in text_of(row, ".time")


def test_cancelling_can_close_the_time_too(world: World) -> None:
    """A counsellor off sick: the cancelled time is not offered again to anyone."""
    room = world.ids["room"]
    with world.client("staff") as client:
        slots = free_slots(client, room)
        first, second = slots[0]["starts_at"], slots[1]["starts_at"]
        day = first[:10]
        for start in (first, second):
            book(client, room, start, nickname="小林", phone=PHONE)
        listed = html(client.get(f"/staff/bookings?from={day}"))
        ids = [int(attr(r, "data-id")) for r in listed.select("tr.booking")]
        closed, reopened = ids[0], ids[1]
        for booking, extra in ((closed, {"close": "1"}), (reopened, {})):
            action = f"/staff/bookings/{booking}/cancel"
            done = submit(client, listed, action, reason="咨询师病假", **extra)
            assert done.status_code == 303
        free = {s["starts_at"] for s in free_slots(client, room)}
        assert first not in free and second in free  # only the one closed stays off
        # A second click changes nothing: no second block.
        again = submit(client, listed, f"/staff/bookings/{closed}/cancel", reason="x", close="1")
        assert again.status_code == 409
        rules = html(client.get(f"/staff/resources/{room}/booking"))
        assert len(rules.find_all("tr", class_="block")) == 1
