"""The booking desk: one object per app process that the web layer, the worker and the
commands call. A thin facade over the use cases, each in the module named after it:

- ``reserve``: free slots, taking a seat (the hot path, one database round trip);
- ``changes``: a resident cancels or moves a booking;
- ``waitlist``: waiting for a full slot, offers, accepting, leaving;
- ``verify``: the phone check of a booking held until its texted code is typed;
- ``staff``: what staff do with bookings (lists, cancel with a reason, mark, reveal);
- ``views``: what a holder sees, with the manage links of ``links``;
- ``ledger``: what they share (settings, the schedule cache, ending a booking and passing
  its seat on, messages) — and why no slot is ever overbooked.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from resourcemap.accounts import Principal
from resourcemap.booking import changes, reserve, slots, staff, verify, views, waitlist
from resourcemap.booking.calendar import ics
from resourcemap.booking.idempotency import Issued, booked_with, earlier
from resourcemap.booking.ledger import Ledger
from resourcemap.booking.links import Links
from resourcemap.booking.requests import BookingIn
from resourcemap.booking.staff_views import (
    BlockView,
    BookingCounts,
    MaskedBooking,
    MaskedWaiting,
    Revealed,
    masked_view,
)
from resourcemap.models import Booking, Resource, WaitlistEntry
from resourcemap.settings import Settings
from resourcemap.vault import Vault
from resourcemap.vocab import SEAT_HOLDING, BookingStatus

__all__ = ["Desk", "Issued"]


class Desk:
    def __init__(self, settings: Settings) -> None:
        self.ledger = Ledger(settings)

    @property
    def tz(self) -> ZoneInfo:
        return self.ledger.tz

    @property
    def vault(self) -> Vault:
        return self.ledger.vault

    @property
    def links(self) -> Links:
        return self.ledger.links

    # ------------------------------------------------------------------ residents

    async def slot_list(
        self,
        resource_id: int,
        first_day: dt.date,
        days: int,
        *,
        now: dt.datetime,
        notice: bool = True,
    ) -> slots.SlotList:
        return await reserve.slot_list(
            self.ledger, resource_id, first_day, days, now=now, notice=notice
        )

    async def next_free(
        self, resource_ids: list[int], *, now: dt.datetime
    ) -> dict[int, tuple[int, int]]:
        return await reserve.next_free(self.ledger, resource_ids, now=now)

    async def book(
        self,
        data: BookingIn,
        *,
        now: dt.datetime,
        idempotency_key: str | None = None,
        actor: Principal | None = None,
        address: str | None = None,
    ) -> Issued:
        return await reserve.book(
            self.ledger,
            data,
            now=now,
            idempotency_key=idempotency_key,
            actor=actor,
            address=address,
        )

    async def verify(self, code: str, token: str, typed: str, *, now: dt.datetime) -> Issued:
        """Confirm a booking held for its phone check with the code texted to it."""
        return await verify.confirm(self.ledger, code, token, typed, now=now)

    async def earlier_booking(self, data: BookingIn, idempotency_key: str | None) -> Issued | None:
        """The booking a request with this key made before, if any (a retry)."""
        return await earlier(self.ledger, Booking, idempotency_key, data)

    async def booked_with(self, idempotency_key: str) -> tuple[Issued, dt.datetime] | None:
        """The booking a form's key made, and when it starts, whatever the form asked."""
        return await booked_with(self.ledger, idempotency_key)

    async def holding(self, code: str, resource_id: int) -> dt.datetime | None:
        """When the booking ``code`` at ``resource_id`` starts, while it holds its seat
        (not cancelled, not moved away: a moved one says its new time)."""
        booking = await Booking.get_or_none(code=code, resource_id=resource_id)
        if booking is None or booking.status not in SEAT_HOLDING:
            return None
        return booking.starts_at.astimezone(self.tz)

    async def earlier_place(self, data: BookingIn, idempotency_key: str | None) -> Issued | None:
        """The waitlist place a request with this key made before, if any (a retry)."""
        return await earlier(self.ledger, WaitlistEntry, idempotency_key, data)

    async def place(self, resource_id: int) -> views.PlaceView:
        return await views.place(resource_id)

    async def receipt(self, issued: Issued) -> views.Receipt:
        return await views.receipt(self.ledger, issued)

    async def get(self, code: str, token: str) -> Booking:
        """The stored booking with this code, if ``token`` is its manage token."""
        return await self.ledger.booking(code, token)

    async def booking(
        self, code: str, token: str, *, now: dt.datetime | None = None
    ) -> views.BookingView:
        """The booking as its holder sees it; with ``now``, a hold that ran out by then is
        passed on first, so that its holder sees it ended."""
        booking = await self.ledger.booking(code, token)
        if now is not None and await self.ledger.lapsed(booking, now):
            booking = await self.ledger.booking(code, token)
        return await views.of_booking(self.ledger, booking)

    async def cancel(self, code: str, token: str, *, now: dt.datetime) -> views.BookingView:
        return await views.of_booking(
            self.ledger, await changes.cancel(self.ledger, code, token, now=now)
        )

    async def reschedule(
        self, code: str, token: str, new_start: dt.datetime, *, now: dt.datetime
    ) -> views.BookingView:
        moved = await changes.reschedule(self.ledger, code, token, new_start, now=now)
        return await views.of_booking(self.ledger, moved)

    # ------------------------------------------------------------------ waitlist

    async def join_waitlist(
        self, data: BookingIn, *, now: dt.datetime, idempotency_key: str | None = None
    ) -> Issued:
        return await waitlist.join(self.ledger, data, now=now, idempotency_key=idempotency_key)

    async def place_in_line(self, issued: Issued) -> views.PlaceInLine:
        return await views.place_in_line(self.ledger, issued)

    async def waitlist_entry(self, code: str, token: str) -> WaitlistEntry:
        return await self.ledger.entry(code, token)

    async def waitlist_view(self, code: str, token: str) -> views.WaitlistView:
        return await views.waitlist_view(self.ledger, await self.ledger.entry(code, token))

    async def accept_offer(self, code: str, token: str, *, now: dt.datetime) -> Issued:
        return await waitlist.accept_offer(self.ledger, code, token, now=now)

    async def leave_waitlist(self, code: str, token: str, *, now: dt.datetime) -> None:
        await waitlist.leave(self.ledger, code, token, now=now)

    async def expire_offers(self, now: dt.datetime, *, resource_id: int | None = None) -> int:
        return await self.ledger.expire_offers(now, resource_id=resource_id)

    async def calendar(
        self, code: str, token: str, *, now: dt.datetime, english: bool = False
    ) -> bytes:
        """The booking as an iCalendar event, for its holder (in English when asked)."""
        booking = await self.ledger.booking(code, token)
        return ics(
            booking,
            await Resource.get(id=booking.resource_id),
            domain=self.links.host,
            manage_url=self.links.booking(booking.code, token, booking.lang),
            now=now,
            english=english,
        )

    # ------------------------------------------------------------------ staff

    async def staff_book(self, actor: Principal, data: BookingIn, *, now: dt.datetime) -> Issued:
        """A booking staff take by phone or for a walk-in visitor (no minimum notice)."""
        return await reserve.book(self.ledger, data, now=now, actor=actor)

    async def staff_receipt(self, actor: Principal, issued: Issued) -> MaskedBooking:
        """The booking staff just made, as their lists show it."""
        booking = await self.ledger.booking(issued.code, issued.token)
        return await self.staff_view(actor, booking.id)

    async def staff_view(self, actor: Principal, booking_id: int) -> MaskedBooking:
        """One booking of the actor's services as staff see it (contacts masked)."""
        booking = await self.ledger.for_staff(actor, booking_id)
        return masked_view(self.ledger, booking, booking.resource)

    async def staff_list(
        self, actor: Principal, *, first_day: dt.date, days: int, resource_id: int | None = None
    ) -> list[MaskedBooking]:
        return await staff.list_bookings(
            self.ledger, actor, first_day=first_day, days=days, resource_id=resource_id
        )

    async def staff_waitlist(
        self, actor: Principal, *, first_day: dt.date, days: int, resource_id: int | None = None
    ) -> list[MaskedWaiting]:
        return await staff.list_waitlist(
            self.ledger, actor, first_day=first_day, days=days, resource_id=resource_id
        )

    async def reveal(self, actor: Principal, booking_id: int) -> Revealed:
        return await staff.reveal(self.ledger, actor, booking_id)

    async def stats(self, actor: Principal, *, first_day: dt.date, days: int) -> BookingCounts:
        return await staff.stats(self.ledger, actor, first_day=first_day, days=days)

    async def blocks(
        self, actor: Principal, resource_id: int, *, now: dt.datetime
    ) -> list[BlockView]:
        return await staff.list_blocks(self.ledger, actor, resource_id, now=now)

    async def staff_cancel(
        self,
        actor: Principal,
        booking_id: int,
        reason: str,
        *,
        now: dt.datetime,
        close: bool = False,
    ) -> MaskedBooking:
        return await staff.cancel(self.ledger, actor, booking_id, reason, now=now, close=close)

    async def mark(
        self, actor: Principal, booking_id: int, status: BookingStatus, *, now: dt.datetime
    ) -> MaskedBooking:
        return await staff.mark(self.ledger, actor, booking_id, status, now=now)
