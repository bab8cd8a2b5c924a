"""Races the load tests can only hit by chance, made to happen every time.

A request is stopped at the moment it has done its checks and is about to open its seat
transaction (``in_transaction`` in the booking modules that open one, or ``seats.book`` for a new
booking); another request runs to the end meanwhile; then the first goes on. Whatever it
read before is stale by then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from tortoise.transactions import in_transaction

from resourcemap import db
from resourcemap.booking import changes, ledger, seats, waitlist
from resourcemap.booking.requests import BookingIn
from resourcemap.errors import Conflict
from resourcemap.models import Booking, BookingPolicy, Slot, TimeBlock, WaitlistEntry
from resourcemap.vocab import BookingStatus, WaitlistStatus
from tests.booking_helpers import NOW, bookable_city, desk, local, request
from tests.load_helpers import check_seats

T = TypeVar("T")
WAIT_S = 30.0  # only for waiting; never an assertion about speed


class Interleave:
    """Holds chosen tasks at the door of their (next) seat transaction."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: dict[asyncio.Task[Any], tuple[asyncio.Event, asyncio.Event]] = {}
        # Every booking module that opens a seat transaction imports the same function.
        original = in_transaction
        for module in (ledger, changes, waitlist):
            assert module.in_transaction is original

        @asynccontextmanager
        async def door(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            task = asyncio.current_task()
            if task in self.held:
                arrived, go_on = self.held.pop(task)
                arrived.set()
                await go_on.wait()
            if not args and not kwargs:
                yield None
                return
            async with original(*args, **kwargs) as conn:
                yield conn

        for module in (ledger, changes, waitlist):
            monkeypatch.setattr(module, "in_transaction", door)
        book = seats.book

        async def book_door(*args: Any, **kwargs: Any) -> int:
            async with door():
                return await book(*args, **kwargs)

        # A new booking takes its seat in one call instead of a transaction: its door.
        monkeypatch.setattr(seats, "book", book_door)

    async def hold(self, call: Coroutine[Any, Any, T]) -> tuple[asyncio.Task[T], asyncio.Event]:
        """Start ``call`` and wait until it reaches its seat transaction; set the returned
        event to let it go on."""
        arrived, go_on = asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(call)
        self.held[task] = (arrived, go_on)
        waiting = asyncio.ensure_future(arrived.wait())
        done, _ = await asyncio.wait({task, waiting}, timeout=WAIT_S, return_when="FIRST_COMPLETED")
        if waiting not in done:
            waiting.cancel()
            if task.done():
                task.result()  # its error, if it failed before the door
            raise AssertionError("the request never reached its seat transaction")
        return task, go_on


async def _finish(task: Awaitable[T]) -> T:
    return await asyncio.wait_for(task, WAIT_S)


@pytest.mark.anyio
async def test_cancel_that_read_before_a_reschedule_frees_the_moved_seat(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resident cancels on one phone while moving the booking on another: the cancel
    read the booking in the 09:00 slot, the move to 10:00 committed first."""

    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        gate = Interleave(monkeypatch)
        mine = await d.book(request(ids["room"], local(2, 9)), now=NOW)
        cancel, go_on = await gate.hold(d.cancel(mine.code, mine.token, now=NOW))
        moved = await d.reschedule(mine.code, mine.token, local(2, 10), now=NOW)
        assert moved.starts_at == local(2, 10)
        go_on.set()
        cancelled = await _finish(cancel)
        assert cancelled.status is BookingStatus.CANCELLED
        assert (await Slot.get(starts_at=local(2, 9))).taken == 0
        assert (await Slot.get(starts_at=local(2, 10))).taken == 0
        assert (await check_seats(ids["room"])).problems == []
        # Both seats are free again.
        for hour in (9, 10):
            await d.book(request(ids["room"], local(2, hour)), now=NOW)


@pytest.mark.anyio
async def test_reschedule_that_read_before_a_cancel_moves_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        gate = Interleave(monkeypatch)
        mine = await d.book(request(ids["room"], local(2, 9)), now=NOW)
        move, go_on = await gate.hold(d.reschedule(mine.code, mine.token, local(2, 10), now=NOW))
        await d.cancel(mine.code, mine.token, now=NOW)
        go_on.set()
        with pytest.raises(Conflict, match=r"cannot be moved \(its status: Cancelled\)"):
            await _finish(move)
        assert (await Booking.get(code=mine.code)).starts_at == local(2, 9)
        assert await Slot.filter(taken__gt=0).count() == 0
        assert (await check_seats(ids["room"])).problems == []


@pytest.mark.anyio
async def test_expiry_that_read_an_offer_before_it_was_accepted_leaves_the_booking(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker found the offer due; the resident accepted it a moment before the
    deadline, before the worker ended it: the accepted booking stands."""

    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url, waitlist_offer_minutes=30)
        gate = Interleave(monkeypatch)
        holder = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        listed = request(ids["room"], local(3, 9), phone="13800000000")
        entry = await d.join_waitlist(listed, now=NOW)
        await d.cancel(holder.code, holder.token, now=NOW)  # the seat is offered till 08:30
        offer = await WaitlistEntry.get(code=entry.code)
        assert offer.status is WaitlistStatus.OFFERED
        deadline = NOW + dt.timedelta(minutes=30)
        expire, go_on = await gate.hold(d.expire_offers(deadline))
        accepted = await d.accept_offer(
            entry.code, entry.token, now=deadline - dt.timedelta(seconds=1)
        )
        go_on.set()
        assert await _finish(expire) == 0
        booking = await d.get(accepted.code, accepted.token)
        assert booking.status is BookingStatus.CONFIRMED
        assert (await WaitlistEntry.get(code=entry.code)).status is WaitlistStatus.BOOKED
        assert (await Slot.get(starts_at=local(3, 9))).taken == 1
        assert (await check_seats(ids["room"])).problems == []


@pytest.mark.anyio
async def test_bookings_checked_under_old_slot_length_are_checked_again_under_the_new_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two residents pick 09:00: one from the list before staff made sessions 90 minutes
    long (09:00-09:50), one after. The first reaches its seat after the change, so both are
    checked against the schedule in force then: both get 09:00-10:30, nothing overlaps, and
    the new grid goes on from 10:30."""

    async with db.database(database_url):
        ids = await bookable_city(seats=2)
        room = ids["room"]
        d = desk(database_url)
        gate = Interleave(monkeypatch)
        nine = BookingIn(resource_id=room, starts_at=local(2, 9))
        old, old_go = await gate.hold(d.book(nine, now=NOW))
        await BookingPolicy.filter(resource_id=room).update(slot_minutes=90, buffer_minutes=0)
        new, new_go = await gate.hold(desk(database_url).book(nine, now=NOW))
        old_go.set()
        first = await _finish(old)
        new_go.set()
        second = await _finish(new)
        for issued in (first, second):
            booking = await d.get(issued.code, issued.token)
            assert (booking.starts_at, booking.ends_at) == (local(2, 9), local(2, 10, 30))
        assert (await check_seats(room)).problems == []
        await d.book(request(room, local(2, 10, 30)), now=NOW)
        with pytest.raises(Conflict) as full:
            await d.book(request(room, local(2, 9)), now=NOW)
        assert full.value.code == "full"
        assert (await check_seats(room)).problems == []


@pytest.mark.anyio
async def test_booking_checked_before_staff_blocked_the_time_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resident's 09:00 passed every check; before it takes its seat, staff block
    09:00-10:00. The seat call sees the schedule changed, the check runs again, and the
    booking is refused as closed: nobody is booked into blocked time."""

    async with db.database(database_url):
        ids = await bookable_city()
        room = ids["room"]
        d = desk(database_url)
        gate = Interleave(monkeypatch)
        held, go_on = await gate.hold(d.book(request(room, local(2, 9)), now=NOW))
        await TimeBlock.create(
            resource_id=room, starts_at=local(2, 9), ends_at=local(2, 10), reason="training"
        )
        go_on.set()
        with pytest.raises(Conflict) as refused:
            await _finish(held)
        assert refused.value.code == "closed"
        assert await Booking.filter(resource_id=room).count() == 0
        assert await Slot.filter(resource_id=room, taken__gt=0).count() == 0


@pytest.mark.anyio
async def test_reschedule_checked_before_staff_blocked_the_time_moves_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a reschedule: staff block the new time after it was checked and before
    the move's transaction; the move is refused and the booking keeps its seat."""

    async with db.database(database_url):
        ids = await bookable_city()
        room = ids["room"]
        d = desk(database_url)
        issued = await d.book(request(room, local(2, 9)), now=NOW)
        gate = Interleave(monkeypatch)
        held, go_on = await gate.hold(
            d.reschedule(issued.code, issued.token, local(2, 11), now=NOW)
        )
        await TimeBlock.create(
            resource_id=room, starts_at=local(2, 11), ends_at=local(2, 12), reason="training"
        )
        go_on.set()
        with pytest.raises(Conflict):
            await _finish(held)
        booking = await d.get(issued.code, issued.token)
        assert booking.starts_at == local(2, 9)
        assert (await Slot.get(id=booking.slot_id)).taken == 1
        assert not await Slot.filter(resource_id=room, starts_at=local(2, 11), taken__gt=0).exists()
