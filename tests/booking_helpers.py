"""Shared set-up for booking tests: a small city whose counselling room takes bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap.booking.desk import Desk
from resourcemap.booking.requests import BookingIn
from resourcemap.models import BookingPolicy
from resourcemap.settings import Settings
from tests.conftest import KEYS
from tests.factories import small_city

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday; the room is open Mon-Fri 09:00-12:00 and 14:00-17:30, closed Fri 2026-12-04.
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)
TOMORROW_9 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    """A Shanghai wall time, as a UTC instant: tortoise compares datetimes on SQLite as
    stored UTC text, so filters in tests must use UTC values."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


def settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **{**KEYS, **overrides})


async def bookable_city(**policy: Any) -> dict[str, int]:
    """``small_city`` with a booking policy on the room: 50-minute slots every hour."""
    ids = await small_city()
    rules = {
        "slot_minutes": 50,
        "buffer_minutes": 10,
        "seats": 3,
        "min_notice_minutes": 120,
        "horizon_days": 30,
        "change_notice_minutes": 240,
        **policy,
    }
    await BookingPolicy.create(resource_id=ids["room"], **rules)
    return ids


def request(resource_id: int, starts_at: dt.datetime, **fields: Any) -> BookingIn:
    return BookingIn(resource_id=resource_id, starts_at=starts_at, **fields)


def desk(database_url: str, **overrides: Any) -> Desk:
    return Desk(settings(database_url, **overrides))
