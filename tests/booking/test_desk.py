"""The booking desk on both databases: slots, seats, cancel, reschedule, waitlist."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from resourcemap import accounts, db
from resourcemap.booking import seats, slots
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.models import (
    Booking,
    BookingPolicy,
    HoursException,
    Notification,
    Organisation,
    Slot,
    TimeBlock,
)
from resourcemap.vocab import BookingStatus, Role, WaitlistStatus
from tests.booking_helpers import NOW, SHANGHAI, TOMORROW_9, bookable_city, desk, local, request

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock


def starts(listed: slots.SlotList) -> list[str]:
    return [slots.to_local(s, SHANGHAI).strftime("%m-%d %H:%M") for s in listed.starts.tolist()]


@pytest.mark.anyio
async def test_slots_follow_hours_exceptions_and_notice(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city()
        d = desk(database_url)
        # Today from 08:00 with two hours' notice: 10:00 is the first slot.
        today = await d.slot_list(ids["room"], NOW.date(), 1, now=NOW)
        assert starts(today) == [
            "12-01 10:00", "12-01 11:00", "12-01 14:00", "12-01 15:00", "12-01 16:00"
        ]  # fmt: skip
        # 16:00 + 50 min fits before 17:30; 17:00 would not.
        week = await d.slot_list(ids["room"], dt.date(2026, 12, 3), 5, now=NOW)
        days = {s[:5] for s in starts(week)}
        assert days == {"12-03", "12-07"}  # Fri 4th closed (exception), weekend closed
        assert set(week.remaining.tolist()) == {3}
        # Staff book without minimum notice: their list starts at the next slot, 09:00.
        staff_today = await d.slot_list(ids["room"], NOW.date(), 1, now=NOW, notice=False)
        assert starts(staff_today)[:2] == ["12-01 09:00", "12-01 10:00"]


@pytest.mark.anyio
async def test_booking_takes_a_seat_and_returns_code_and_token(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=2)
        d = desk(database_url)
        issued = await d.book(request(ids["room"], TOMORROW_9, phone="13812345678"), now=NOW)
        assert len(issued.code) == 8 and issued.code.isdigit()
        booking = await d.get(issued.code, issued.token)
        assert booking.status is BookingStatus.CONFIRMED
        assert booking.starts_at == TOMORROW_9
        listed = await d.slot_list(ids["room"], TOMORROW_9.date(), 1, now=NOW)
        assert int(listed.remaining[listed.find(slots.epoch(TOMORROW_9))]) == 1
        with pytest.raises(NotFound):
            await d.get(issued.code, "wrong-token")
        with pytest.raises(NotFound):
            await d.get("0000 0000", issued.token)
        # Codes are accepted as people type them.
        assert (await d.get(f"{issued.code[:4]} {issued.code[4:]}", issued.token)).id == booking.id


@pytest.mark.anyio
async def test_full_closed_and_too_soon_slots_are_refused(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        with pytest.raises(Conflict, match="full"):
            await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        with pytest.raises(Conflict, match="too soon"):
            await d.book(request(ids["room"], local(1, 9)), now=NOW)
        with pytest.raises(Conflict, match="closed"):
            await d.book(request(ids["room"], local(4, 9)), now=NOW)  # exception day
        with pytest.raises(Conflict, match="closed"):
            await d.book(request(ids["room"], local(2, 9, 30)), now=NOW)  # not a slot start
        with pytest.raises(Conflict, match="30 days"):
            await d.book(request(ids["room"], local(5, 9, month=1).replace(year=2027)), now=NOW)
        with pytest.raises(Conflict, match="does not take bookings"):
            await d.book(request(ids["clinic"], TOMORROW_9), now=NOW)
        with pytest.raises(InvalidInput, match="service"):
            await d.book(request(ids["room"], local(2, 10), service="psychotherapy"), now=NOW)
        assert await Booking.all().count() == 1


@pytest.mark.anyio
async def test_idempotency_key_replays_the_same_booking(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city()
        d = desk(database_url)
        first = await d.book(request(ids["room"], TOMORROW_9), now=NOW, idempotency_key="k-1")
        again = await d.book(request(ids["room"], TOMORROW_9), now=NOW, idempotency_key="k-1")
        assert (again.code, again.token, again.replayed) == (first.code, first.token, True)
        assert await Booking.all().count() == 1
        assert (await Slot.get()).taken == 1
        with pytest.raises(InvalidInput, match="Idempotency-Key"):
            await d.book(request(ids["room"], local(2, 10)), now=NOW, idempotency_key="k-1")


@pytest.mark.anyio
async def test_cancel_frees_the_seat_within_the_notice_window_only(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1, change_notice_minutes=24 * 60)
        d = desk(database_url)
        near = await d.book(request(ids["room"], local(1, 15)), now=NOW)
        far = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        with pytest.raises(Conflict, match="1 day"):
            await d.cancel(near.code, near.token, now=NOW)
        cancelled = await d.cancel(far.code, far.token, now=NOW)
        assert cancelled.status is BookingStatus.CANCELLED
        assert (await d.cancel(far.code, far.token, now=NOW)).status is BookingStatus.CANCELLED
        assert (await Slot.get(starts_at=local(3, 9))).taken == 0
        await d.book(request(ids["room"], local(3, 9)), now=NOW)  # the seat is bookable again


@pytest.mark.anyio
async def test_reschedule_moves_only_when_the_new_slot_has_a_seat(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        mine = await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        await d.book(request(ids["room"], local(2, 10)), now=NOW)  # someone else's
        with pytest.raises(Conflict, match="full"):
            await d.reschedule(mine.code, mine.token, local(2, 10), now=NOW)
        assert (await d.get(mine.code, mine.token)).starts_at == TOMORROW_9
        assert (await Slot.get(starts_at=TOMORROW_9)).taken == 1
        moved = await d.reschedule(mine.code, mine.token, local(2, 11), now=NOW)
        assert moved.starts_at == local(2, 11)
        assert (await Slot.get(starts_at=TOMORROW_9)).taken == 0
        assert (await Slot.get(starts_at=local(2, 11))).taken == 1


@pytest.mark.anyio
async def test_waitlist_offer_passes_to_the_next_when_it_expires(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url, waitlist_offer_minutes=30)
        holder = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        with pytest.raises(InvalidInput, match="phone"):
            await d.join_waitlist(request(ids["room"], local(3, 9)), now=NOW)
        with pytest.raises(Conflict, match="free seats"):
            await d.join_waitlist(request(ids["room"], local(3, 10), phone="13800000001"), now=NOW)
        first = await d.join_waitlist(
            request(ids["room"], local(3, 9), phone="13800000001"), now=NOW
        )
        second = await d.join_waitlist(
            request(ids["room"], local(3, 9), email="b@example.cn"), now=NOW
        )
        assert (await d.waitlist_view(second.code, second.token)).position == 2

        await d.cancel(holder.code, holder.token, now=NOW)
        entry = await d.waitlist_entry(first.code, first.token)
        assert entry.status is WaitlistStatus.OFFERED
        assert (await Slot.get(starts_at=local(3, 9))).taken == 1  # held for the offer
        with pytest.raises(Conflict, match="full"):
            await d.book(request(ids["room"], local(3, 9)), now=NOW)

        later = NOW + dt.timedelta(minutes=31)
        assert await d.expire_offers(later) == 1
        assert (await d.waitlist_entry(first.code, first.token)).status is WaitlistStatus.EXPIRED
        with pytest.raises(Conflict):
            await d.accept_offer(first.code, first.token, now=later)
        issued = await d.accept_offer(second.code, second.token, now=later)
        booking = await d.get(issued.code, issued.token)
        assert booking.status is BookingStatus.CONFIRMED and booking.starts_at == local(3, 9)
        assert (await Slot.get(starts_at=local(3, 9))).taken == 1


@pytest.mark.anyio
async def test_a_seat_freed_in_blocked_time_is_offered_to_nobody(database_url: str) -> None:
    """Staff block an afternoon (a counsellor off sick) and cancel its bookings, as the page
    asks them to: the seats went to the residents waiting, for a time nobody would see them."""
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        holder = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        waiting = await d.join_waitlist(
            request(ids["room"], local(3, 9), phone="13800000001"), now=NOW
        )
        await TimeBlock.create(
            resource_id=ids["room"], starts_at=local(3, 9), ends_at=local(3, 12), reason="病假"
        )
        await d.cancel(holder.code, holder.token, now=NOW)
        entry = await d.waitlist_entry(waiting.code, waiting.token)
        assert entry.status is WaitlistStatus.WAITING  # not offered
        assert (await Slot.get(starts_at=local(3, 9))).taken == 0
        assert not await Booking.filter(status=BookingStatus.OFFERED).exists()


@pytest.mark.anyio
async def test_blocked_time_and_policy_changes_never_overlap_booked_slots(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        await TimeBlock.create(
            resource_id=ids["room"], starts_at=local(2, 10), ends_at=local(2, 12)
        )
        listed = await d.slot_list(ids["room"], dt.date(2026, 12, 2), 1, now=NOW)
        assert "12-02 10:00" not in starts(listed) and "12-02 09:00" in starts(listed)
        with pytest.raises(Conflict):
            await d.book(request(ids["room"], local(2, 10)), now=NOW)

        await d.book(request(ids["room"], local(2, 14)), now=NOW)  # 14:00-14:50
        # Staff switch to 30-minute slots with no buffer: 14:30 would overlap the booking.
        await BookingPolicy.filter(resource_id=ids["room"]).update(
            slot_minutes=30, buffer_minutes=0
        )
        listed = await d.slot_list(ids["room"], dt.date(2026, 12, 2), 1, now=NOW)
        assert "12-02 14:30" not in starts(listed) and "12-02 15:00" in starts(listed)
        with pytest.raises(Conflict):
            await d.book(request(ids["room"], local(2, 14, 30)), now=NOW)


@pytest.mark.anyio
async def test_exception_with_other_hours_replaces_the_day(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city()
        await HoursException.create(
            resource_id=ids["room"],
            start_date=dt.date(2026, 12, 3),
            end_date=dt.date(2026, 12, 3),
            closed=False,
            opens=18 * 60,
            closes=20 * 60,
        )
        listed = await desk(database_url).slot_list(ids["room"], dt.date(2026, 12, 3), 1, now=NOW)
        assert starts(listed) == ["12-03 18:00", "12-03 19:00"]


@pytest.mark.anyio
async def test_staff_mark_attendance_after_the_start_and_cancel_with_a_reason(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await bookable_city()
        staff = await accounts.create_account(
            None,
            username="staff",
            password="correct-horse-9",
            role=Role.STAFF,
            organisation_id=(await Organisation.get(name_zh="测试区卫健局")).id,
        )
        actor = accounts.Principal.of(staff)
        d = desk(database_url)
        came = await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        stayed_away = await d.book(request(ids["room"], TOMORROW_9, phone="13800000002"), now=NOW)
        came_id = (await Booking.get(code=came.code)).id
        after = TOMORROW_9 + dt.timedelta(minutes=10)
        with pytest.raises(Conflict, match="not started"):
            await d.mark(actor, came_id, BookingStatus.ATTENDED, now=NOW)
        marked = await d.mark(actor, came_id, BookingStatus.ATTENDED, now=after)
        assert marked.status == "attended"
        other = (await Booking.get(code=stayed_away.code)).id
        assert (await d.mark(actor, other, BookingStatus.NO_SHOW, now=after)).status == "no_show"

        later = await d.book(request(ids["room"], local(3, 9), phone="13800000003"), now=NOW)
        later_id = (await Booking.get(code=later.code)).id
        with pytest.raises(InvalidInput, match="why"):
            await d.staff_cancel(actor, later_id, "  ", now=NOW)
        cancelled = await d.staff_cancel(actor, later_id, "咨询师病假", now=NOW)
        assert (cancelled.status, cancelled.cancelled_by) == (
            BookingStatus.CANCELLED,
            "staff",
        )
        told = await Notification.filter(booking_id=later_id, kind="cancelled_by_staff")
        assert len(told) == 1
        assert "咨询师病假" in d.vault.open(told[0].body_enc or "")


@pytest.mark.anyio
async def test_seat_changes_apply_to_slots_already_booked(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        with pytest.raises(Conflict, match="full"):
            await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        # A group session: staff raise the seats, and the booked slot has room again.
        await BookingPolicy.filter(resource_id=ids["room"]).update(seats=3)
        listed = await d.slot_list(ids["room"], dt.date(2026, 12, 2), 1, now=NOW)
        assert int(listed.remaining[listed.find(slots.epoch(TOMORROW_9))]) == 2
        await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        with pytest.raises(Conflict, match="full"):
            await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        # Fewer seats than already booked: nobody loses a seat, nobody new gets one.
        await BookingPolicy.filter(resource_id=ids["room"]).update(seats=2)
        with pytest.raises(Conflict, match="full"):
            await d.book(request(ids["room"], TOMORROW_9), now=NOW)
        slot = await Slot.get(starts_at=TOMORROW_9)
        assert (slot.taken, slot.capacity) == (3, 3)


@pytest.mark.anyio
async def test_a_longer_slot_over_two_booked_short_ones_is_refused(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=3, slot_minutes=30, buffer_minutes=0)
        d = desk(database_url)
        await d.book(request(ids["room"], local(2, 9)), now=NOW)
        await d.book(request(ids["room"], local(2, 9, 30)), now=NOW)
        # Staff switch to hour-long sessions: 09:00-10:00 would cover the 09:30 booking,
        # although the 09:00 row still has free seats.
        await BookingPolicy.filter(resource_id=ids["room"]).update(slot_minutes=60)
        with pytest.raises(Conflict):
            await d.book(request(ids["room"], local(2, 9)), now=NOW)
        # The seat statement refuses it too, for a request that checked the slot before the
        # 09:30 booking landed.
        async with in_transaction(Booking._meta.default_connection) as conn:
            await seats.lock(conn, ids["room"])
            with pytest.raises(Conflict, match="another length"):
                await seats.take(
                    conn, ids["room"], slots.epoch(local(2, 9)), slots.epoch(local(2, 10)), 3
                )
            with pytest.raises(Conflict, match="overlaps"):
                await seats.take(
                    conn,
                    ids["room"],
                    slots.epoch(local(2, 9, 45)),
                    slots.epoch(local(2, 10, 45)),
                    3,
                )
        rows = await Slot.filter(resource_id=ids["room"]).order_by("starts_at")
        assert [(r.taken, r.ends_at - r.starts_at) for r in rows] == [
            (1, dt.timedelta(minutes=30)),
            (1, dt.timedelta(minutes=30)),
        ]
        # An hour with nothing booked under the old grid is bookable at the new length.
        issued = await d.book(request(ids["room"], local(2, 10)), now=NOW)
        booking = await d.get(issued.code, issued.token)
        assert booking.ends_at - booking.starts_at == dt.timedelta(minutes=60)
        assert (await Slot.get(id=booking.slot_id)).ends_at == booking.ends_at


@pytest.mark.anyio
async def test_a_cancel_read_before_a_reschedule_frees_the_new_seat(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        issued = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        # A cancel request reads the booking, then a reschedule commits before it.
        seen_by_cancel = await d.get(issued.code, issued.token)
        await d.reschedule(issued.code, issued.token, local(3, 10), now=NOW)
        assert await d.ledger.end(
            seen_by_cancel, BookingStatus.CANCELLED, by="resident", reason="", now=NOW
        )
        taken = {s.starts_at: s.taken for s in await Slot.filter(resource_id=ids["room"])}
        assert taken == {local(3, 9): 0, local(3, 10): 0}
        # Both seats can be booked again, once each.
        for hour in (9, 10):
            await d.book(request(ids["room"], local(3, hour)), now=NOW)
            with pytest.raises(Conflict, match="full"):
                await d.book(request(ids["room"], local(3, hour)), now=NOW)


@pytest.mark.anyio
async def test_an_accepted_offer_is_never_expired_afterwards(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url, waitlist_offer_minutes=30)
        holder = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        waiting = await d.join_waitlist(
            request(ids["room"], local(3, 9), phone="13800000001"), now=NOW
        )
        await d.cancel(holder.code, holder.token, now=NOW)
        # The worker picks the offer up as due just before the resident accepts it.
        offer = await Booking.get(status=BookingStatus.OFFERED)
        accepted = await d.accept_offer(waiting.code, waiting.token, now=NOW)
        late = NOW + dt.timedelta(minutes=31)
        assert not await d.ledger.end(
            offer,
            BookingStatus.EXPIRED,
            by="",
            reason="",
            now=late,
            only=(BookingStatus.OFFERED,),
            due=late,
        )
        assert await d.expire_offers(late) == 0
        booking = await d.get(accepted.code, accepted.token)
        assert booking.status is BookingStatus.CONFIRMED
        assert (await Slot.get(starts_at=local(3, 9))).taken == 1
        # Leaving the waitlist afterwards does not cancel the booking it became.
        await d.leave_waitlist(waiting.code, waiting.token, now=late)
        assert (await d.get(accepted.code, accepted.token)).status is BookingStatus.CONFIRMED


@pytest.mark.anyio
async def test_an_offer_past_its_deadline_cannot_be_accepted(database_url: str) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url, waitlist_offer_minutes=30)
        holder = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        waiting = await d.join_waitlist(
            request(ids["room"], local(3, 9), phone="13800000001"), now=NOW
        )
        await d.cancel(holder.code, holder.token, now=NOW)
        with pytest.raises(Conflict):
            await d.accept_offer(waiting.code, waiting.token, now=NOW + dt.timedelta(minutes=45))
        assert not await Booking.filter(status=BookingStatus.CONFIRMED).exists()
        assert (await Slot.get(starts_at=local(3, 9))).taken == 0
