"""The desk checks a booking against the schedule it read last for that resource and day;
the seat call refuses the booking when the resource's ``schedule_version`` moved on since
(database triggers bump it, migration 0007), and the desk checks it again on a fresh read.

Each case warms the cache with one booking, changes one thing the slots are cut from the
way the app or an import would (plain ORM writes: the triggers see every path), then books
a time the change closed, on the same desk and on a second one (another process).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from tortoise.transactions import in_transaction

from resourcemap import db
from resourcemap.booking import seats
from resourcemap.booking.desk import Issued
from resourcemap.errors import Conflict, InvalidInput
from resourcemap.models import (
    Booking,
    BookingPolicy,
    Closure,
    HoursException,
    OpeningHours,
    Resource,
    TimeBlock,
)
from resourcemap.vocab import Status
from tests.booking_helpers import NOW, bookable_city, desk, local, request

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

DAY = dt.date(2026, 12, 2)  # a Wednesday: local(2, …)
Edit = Callable[[int], Awaitable[None]]


async def block(room: int) -> None:
    await TimeBlock.create(resource_id=room, starts_at=local(2, 14), ends_at=local(2, 16))


async def day_off(room: int) -> None:
    await HoursException.create(resource_id=room, start_date=DAY, end_date=DAY, closed=True)


async def area_closure(room: int) -> None:
    district = (await Resource.get(id=room)).district_code
    await Closure.create(start_date=DAY, end_date=DAY, area_code=district, reason="台风")


async def own_closure(room: int) -> None:
    await Closure.create(start_date=DAY, end_date=DAY, resource_id=room, reason="装修")


async def shorter_hours(room: int) -> None:
    for hours in await OpeningHours.filter(resource_id=room, weekday=DAY.weekday()):
        hours.closes = min(hours.closes, 12 * 60)
        await hours.save()


async def hours_removed(room: int) -> None:
    await OpeningHours.filter(resource_id=room, weekday=DAY.weekday()).delete()


async def hours_moved_to_another_day(room: int) -> None:
    await OpeningHours.filter(resource_id=room, weekday=DAY.weekday()).update(
        weekday=(DAY.weekday() + 1) % 7
    )


async def longer_notice(room: int) -> None:
    await BookingPolicy.filter(resource_id=room).update(min_notice_minutes=7 * 24 * 60)


CLOSING: dict[str, tuple[Edit, str]] = {
    "blocked time": (block, "closed"),
    "a day off": (day_off, "closed"),
    "a closure of its district": (area_closure, "closed"),
    "a closure of the resource": (own_closure, "closed"),
    "shorter hours": (shorter_hours, "closed"),
    "hours removed": (hours_removed, "closed"),
    "hours moved to another weekday": (hours_moved_to_another_day, "closed"),
    "a longer minimum notice": (longer_notice, "too_soon"),
}


@pytest.mark.parametrize("change", list(CLOSING), ids=list(CLOSING))
@pytest.mark.anyio
async def test_a_change_to_the_schedule_reaches_a_warm_cache(
    database_url: str, change: str
) -> None:
    edit, code = CLOSING[change]

    async with db.database(database_url):
        room = (await bookable_city())["room"]
        here, there = desk(database_url), desk(database_url)
        for d in (here, there):  # each reads and caches Wednesday's schedule
            await d.book(request(room, local(2, 9)), now=NOW)
        await edit(room)
        for d in (here, there):
            with pytest.raises(Conflict) as refused:
                await d.book(request(room, local(2, 15)), now=NOW)
            assert refused.value.code == code


@pytest.mark.anyio
async def test_listing_changes_reach_a_warm_cache(database_url: str) -> None:
    """Services, suspension and a disabled policy: checked from the listing part."""

    async with db.database(database_url):
        room = (await bookable_city())["room"]
        d = desk(database_url)
        await d.book(request(room, local(2, 9)), now=NOW)
        resource = await Resource.get(id=room)
        offered = list(resource.services or ())
        assert offered, "the test room offers services"
        await d.book(request(room, local(2, 10), service=offered[0]), now=NOW)
        resource.services = offered[1:]
        await resource.save()
        with pytest.raises(InvalidInput):
            await d.book(request(room, local(2, 11), service=offered[0]), now=NOW)
        resource.status = Status.SUSPENDED
        await resource.save()
        with pytest.raises(Conflict) as suspended:
            await d.book(request(room, local(2, 11)), now=NOW)
        assert suspended.value.code == "not_bookable"
        resource.status = Status.ACTIVE
        await resource.save()
        await BookingPolicy.filter(resource_id=room).update(enabled=False)
        with pytest.raises(Conflict) as disabled:
            await d.book(request(room, local(2, 11)), now=NOW)
        assert disabled.value.code == "not_bookable"


@pytest.mark.anyio
async def test_changes_that_open_time_are_seen_too(database_url: str) -> None:
    """Afternoons run 14:00-17:30 (slots at 14, 15 and 16 o'clock). Staff stay open until
    19:30: the 17:00 slot is bookable at once from a warm cache, because a refusal is only
    given on a fresh read."""

    async with db.database(database_url):
        room = (await bookable_city())["room"]
        d = desk(database_url)
        await d.book(request(room, local(2, 9)), now=NOW)
        with pytest.raises(Conflict):
            await d.book(request(room, local(2, 17)), now=NOW)
        await OpeningHours.filter(resource_id=room, weekday=DAY.weekday(), opens=14 * 60).update(
            closes=19 * 60 + 30
        )
        booking = await d.get(*_issued(await d.book(request(room, local(2, 17)), now=NOW)))
        assert (booking.starts_at, booking.ends_at) == (local(2, 17), local(2, 17, 50))


def _issued(issued: Issued) -> tuple[str, str]:
    return issued.code, issued.token


@pytest.mark.anyio
async def test_seat_call_refuses_a_stale_version(database_url: str) -> None:
    """The check itself, below the desk: a version that is not the current one writes
    nothing."""

    async with db.database(database_url):
        room = (await bookable_city())["room"]
        d = desk(database_url)
        issued = await d.book(request(room, local(2, 9)), now=NOW)
        booking = await d.get(issued.code, issued.token)
        version = (await BookingPolicy.get(resource_id=room)).schedule_version
        values = {
            "code": "99999999",
            "token_enc": booking.token_enc,
            "resource_id": room,
            "starts_at": local(2, 10),
            "ends_at": local(2, 10, 50),
            "status": booking.status,
            "channel": booking.channel,
        }
        row = seats.row(Booking, values, NOW, later="slot_id")
        with pytest.raises(seats.Stale):
            await seats.book(Booking._meta.db, row, [], version=version + 1)
        assert not await Booking.filter(code="99999999").exists()
        await seats.book(Booking._meta.db, row, [], version=version)
        assert await Booking.filter(code="99999999").exists()


@pytest.mark.anyio
async def test_a_whole_policy_saved_from_an_old_copy_does_not_turn_the_version_back(
    database_url: str,
) -> None:
    """An ORM ``save()`` writes back the version it read; the schedule change made since
    must still reach a warm cache."""

    async with db.database(database_url):
        room = (await bookable_city())["room"]
        d = desk(database_url)
        await d.book(request(room, local(2, 9)), now=NOW)
        policy = await BookingPolicy.get(resource_id=room)
        await own_closure(room)
        await policy.save()
        with pytest.raises(Conflict) as refused:
            await d.book(request(room, local(2, 15)), now=NOW)
        assert refused.value.code == "closed"


@pytest.mark.anyio
async def test_booking_inside_an_open_transaction(database_url: str) -> None:
    """Inside a caller's transaction the booking is part of it: kept when the caller
    commits, gone when it rolls back."""

    async with db.database(database_url):
        room = (await bookable_city())["room"]
        d = desk(database_url)
        async with in_transaction(Booking._meta.default_connection):
            kept = await d.book(request(room, local(2, 9)), now=NOW)
        with pytest.raises(RuntimeError):
            async with in_transaction(Booking._meta.default_connection):
                await d.book(request(room, local(2, 10)), now=NOW)
                raise RuntimeError("the caller gives up")
        assert [b.code for b in await Booking.filter(resource_id=room)] == [kept.code]
