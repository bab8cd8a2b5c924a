"""Bookings made through the real desk, for the notification, purge and rotation tests."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap.booking.desk import Desk, Issued
from resourcemap.booking.requests import BookingIn
from resourcemap.booking.senders import Outgoing
from resourcemap.models import Booking, BookingPolicy, Notification, WaitlistEntry
from resourcemap.settings import Settings
from tests.factories import small_city

CST = ZoneInfo("Asia/Shanghai")
# A Tuesday morning; the room is open Mon–Fri 09–12 and 14–17:30 (closed on 4 December).
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=CST)
TOMORROW_9 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=CST)
TOMORROW_10 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=CST)
DAY_AFTER_9 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=CST)
# When a booking that is reminded the day before was made: a booking made today or the day
# before its visit is told its time by its confirmation, which stands for the reminder.
BOOKED_EARLIER = NOW - dt.timedelta(days=2)

PHONE = "13812345678"
EMAIL = "wang.li@example.cn"
NICKNAME = "王小明"
NOTE = "最近睡眠很差，希望女性咨询师"
CONTACT: dict[str, Any] = {"phone": PHONE, "email": EMAIL, "nickname": NICKNAME, "note": NOTE}


async def bookable_room(seats: int = 1) -> int:
    """The small city's counselling room, taking bookings of 50 minutes every hour."""
    room: int = (await small_city())["room"]
    await BookingPolicy.create(resource_id=room, seats=seats)
    return room


async def book(
    settings: Settings,
    room: int,
    starts_at: dt.datetime = TOMORROW_9,
    *,
    now: dt.datetime = NOW,
    **contact: Any,
) -> Issued:
    data = BookingIn(resource_id=room, starts_at=starts_at, **contact)
    return await Desk(settings).book(data, now=now)


async def wait_for_seat(
    settings: Settings, room: int, starts_at: dt.datetime = TOMORROW_9, **contact: Any
) -> Issued:
    data = BookingIn(resource_id=room, starts_at=starts_at, **contact)
    return await Desk(settings).join_waitlist(data, now=NOW)


async def raw_rows() -> str:
    """Every row of the booking tables, as the database holds them."""
    db = Booking._meta.db
    rows = []
    for table in (Booking, WaitlistEntry, Notification):
        rows += await db.execute_query_dict(f"SELECT * FROM {table._meta.db_table}")
    return repr(rows)


class Recorder:
    """A sender that keeps what it was given; optionally yields to others while sending."""

    name = "recorder"
    address_kinds = frozenset({"phone", "email"})

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        await asyncio.sleep(0.001)  # let a concurrent dispatcher run in between
        self.sent.append(message)
