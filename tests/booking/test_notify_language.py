"""Messages to residents are in the language they booked in (#18, #21): English for an
English booking, the Chinese of old for a Chinese one or a row that does not say."""

from __future__ import annotations

import re

import pytest

from resourcemap import db
from resourcemap.booking.desk import Desk
from resourcemap.booking.dispatch import Dispatcher
from resourcemap.models import Booking, Notification, Resource
from resourcemap.vocab import NotificationKind
from tests.conftest import make_settings
from tests.notify_helpers import (
    BOOKED_EARLIER as EARLY,
)
from tests.notify_helpers import (
    DAY_AFTER_9,
    EMAIL,
    NOW,
    PHONE,
    book,
    bookable_room,
    wait_for_seat,
)

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ROOM_ZH = "东湖社区心理咨询室"


async def sent(kind: NotificationKind, desk: Desk) -> list[tuple[str, str, str]]:
    """(address kind, subject, text) of each queued ``kind`` message, oldest first."""
    rows = await Notification.filter(kind=kind).order_by("id")
    return [(n.address_kind, n.subject, desk.ledger.vault.open(n.body_enc or "")) for n in rows]


@pytest.mark.anyio
async def test_an_english_booking_is_told_everything_in_english(database_url: str) -> None:
    settings = make_settings(database_url)
    async with db.database(database_url):
        room = await bookable_room()
        desk = Desk(settings)
        issued = await book(settings, room, phone=PHONE, email=EMAIL, lang="en", now=EARLY)
        await Dispatcher(settings).queue_reminders(NOW)
        await desk.reschedule(issued.code, issued.token, DAY_AFTER_9, now=NOW)
        await desk.cancel(issued.code, issued.token, now=NOW)
        code = f"{issued.code[:4]} {issued.code[4:]}"
        link = f"http://127.0.0.1:8000/bookings/{issued.code}?token={issued.token}&lang=en"
        expected = {
            NotificationKind.CONFIRMATION: (
                "Booking confirmed",
                "You have booked Donghu Community Counselling Room, 2026-12-02 09:00. "
                f"Booking code {code}.",
            ),
            NotificationKind.REMINDER: (
                "Reminder: your booking tomorrow",
                "Reminder: you have a booking at Donghu Community Counselling Room tomorrow, "
                f"2026-12-02 09:00. Booking code {code}.",
            ),
            NotificationKind.RESCHEDULED: (
                "Booking moved",
                "Your booking is moved to Donghu Community Counselling Room, 2026-12-03 09:00. "
                f"Booking code {code}.",
            ),
            NotificationKind.CANCELLED: (
                "Booking cancelled",
                "Your booking at Donghu Community Counselling Room, 2026-12-03 09:00, "
                "is cancelled.",
            ),
        }
        for kind, (subject, text) in expected.items():
            messages = await sent(kind, desk)
            assert [m[0] for m in messages] == ["phone", "email"]
            for _, got_subject, got_text in messages:
                assert got_subject == subject
                assert got_text == f"{text}\n{link}"
                assert not CHINESE.search(got_subject + got_text)


@pytest.mark.anyio
async def test_an_english_booking_at_a_place_without_an_english_name_names_it_in_chinese(
    database_url: str,
) -> None:
    async with db.database(database_url):
        room = await bookable_room()
        await Resource.filter(id=room).update(name_en="")
        settings = make_settings(database_url)
        desk = Desk(settings)
        await book(settings, room, phone=PHONE, lang="en")
        [(_, subject, text)] = await sent(NotificationKind.CONFIRMATION, desk)
        assert subject == "Booking confirmed"
        assert text.startswith(f"You have booked {ROOM_ZH}, 2026-12-02 09:00.")
        assert not CHINESE.search(text.replace(ROOM_ZH, ""))


@pytest.mark.parametrize("lang", [None, "zh-CN", ""])
@pytest.mark.anyio
async def test_a_chinese_booking_is_told_in_the_chinese_of_old(
    database_url: str, lang: str | None
) -> None:
    settings = make_settings(database_url)
    async with db.database(database_url):
        room = await bookable_room()
        desk = Desk(settings)
        issued = await book(settings, room, phone=PHONE, lang=lang or None, now=EARLY)
        if lang == "":  # a row from before the language was kept
            await Booking.filter(code=issued.code).update(lang="")
        await Dispatcher(settings).queue_reminders(NOW)
        await desk.cancel(issued.code, issued.token, now=NOW)
        code = f"{issued.code[:4]} {issued.code[4:]}"
        suffix = "&lang=zh-CN" if lang == "zh-CN" else ""
        link = f"http://127.0.0.1:8000/bookings/{issued.code}?token={issued.token}{suffix}"
        expected = {
            NotificationKind.CONFIRMATION: (
                "预约成功",
                f"您已预约{ROOM_ZH}，2026-12-02 09:00。预约码 {code}。",
            ),
            NotificationKind.REMINDER: (
                "明日预约提醒",
                f"提醒：您明天 2026-12-02 09:00 在{ROOM_ZH}有预约，预约码 {code}。",
            ),
            NotificationKind.CANCELLED: (
                "预约已取消",
                f"您在{ROOM_ZH} 2026-12-02 09:00 的预约已取消。",
            ),
        }
        for kind, (subject, text) in expected.items():
            [(_, got_subject, got_text)] = await sent(kind, desk)
            assert (got_subject, got_text.splitlines()[0]) == (subject, text)
            assert got_text.splitlines()[1].startswith(link)


@pytest.mark.anyio
async def test_a_seat_freed_for_an_english_waitlist_entry_is_offered_in_english(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    async with db.database(database_url):
        room = await bookable_room()
        desk = Desk(settings)
        taken = await book(settings, room, phone="13800000001")  # in Chinese
        waiting = await wait_for_seat(settings, room, phone=PHONE, lang="en")
        await desk.cancel(taken.code, taken.token, now=NOW)
        [(_, subject, text)] = await sent(NotificationKind.WAITLIST_OFFER, desk)
        code = f"{waiting.code[:4]} {waiting.code[4:]}"
        assert subject == "A seat is free for you"
        first, link = text.splitlines()
        assert first.startswith(
            "A seat at Donghu Community Counselling Room, 2026-12-02 09:00, is held for you for "
        )
        assert first.endswith(f"Waitlist code {code}.")
        assert link.endswith("&lang=en") and not CHINESE.search(text)
        # The one whose booking it was is told in Chinese, as they booked.
        [(_, subject, text)] = await sent(NotificationKind.CANCELLED, desk)
        assert (subject, text.splitlines()[0]) == (
            "预约已取消",
            f"您在{ROOM_ZH} 2026-12-02 09:00 的预约已取消。",
        )
