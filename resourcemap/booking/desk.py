"""Booking, cancelling, rescheduling and the waitlist, safe under any concurrency.

Why a booking can never overbook, on SQLite and PostgreSQL alike:

1. Every change of seats starts with a write: it bumps ``lock`` on the resource's
   ``booking_policy`` row. On PostgreSQL that row lock serialises the bookings of one
   resource across processes; on SQLite the first write takes the database's write lock
   (waiting for the busy timeout), and because nothing was read before it no stale
   snapshot can be acted on.
2. A seat is taken by one conditional upsert (``seats.take``) that only adds a seat while
   ``taken < capacity``; no row returned means the slot is full or overlaps a booked one.
3. The database refuses ``taken > capacity`` outright (migration 0005), so even a bug in
   this module could not commit an overbooked slot.

A new booking (the hot path) is one call, ``seats.book``: lock, seat, booking and its
confirmation, all or nothing. The slot is checked before, against the resource's schedule
as this desk read it last; the call refuses the booking when ``schedule_version`` (bumped by
database triggers on every change to hours, exceptions, closures, blocked time, rules or the
listing) moved on since, and the slot is checked again on a fresh read. So a booking is
never let into time that staff closed meanwhile, and a warm desk books in one round trip.

Rescheduling takes the new seat before freeing the old one, in one transaction: if the
new slot is full nothing changes. A freed seat goes to the first resident waiting for that
slot as an offer that holds the seat until it expires, then to the next.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from resourcemap import db
from resourcemap.accounts import Principal
from resourcemap.booking import outbox, seats, slots
from resourcemap.booking.requests import (
    BookingIn,
    Contact,
    digest,
    display_code,
    new_code,
    new_token,
    normalise_code,
)
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.models import (
    Booking,
    BookingPolicy,
    Notification,
    Resource,
    Slot,
    WaitlistEntry,
)
from resourcemap.settings import Settings
from resourcemap.vault import Vault
from resourcemap.vocab import (
    RESIDENT_CHANNELS,
    SEAT_HOLDING,
    STAFF_CHANNELS,
    BookingStatus,
    NotificationKind,
    Role,
    WaitlistStatus,
)

log = logging.getLogger(__name__)
CODE_ATTEMPTS = 5
SCHEDULES_CACHED = 4096  # resources
SCHEDULE_DAYS = 33  # read at a time: a booking's day, the day before and a month after


@dataclass(frozen=True)
class Issued:
    """A booking (or waitlist entry) with its manage token, shown to its holder only."""

    code: str
    token: str
    replayed: bool = False


class Desk:
    """The booking desk of one app process: settings it needs, and every booking operation."""

    def __init__(self, settings: Settings) -> None:
        self.tz: ZoneInfo = settings.tz
        self.vault = Vault.from_settings(settings)
        self.offer_minutes = settings.waitlist_offer_minutes
        self.public_url = settings.public_url.rstrip("/")
        # Each resource's schedule as last read, with the first and last local day (as
        # ordinals) it covers: bookings are checked against it, and the seat call refuses
        # one checked against a schedule that is no longer current.
        self._schedules: dict[int, tuple[int, int, slots.Schedule]] = {}

    # ------------------------------------------------------------------ reading

    async def slot_list(
        self,
        resource_id: int,
        first_day: dt.date,
        days: int,
        *,
        now: dt.datetime,
        notice: bool = True,
    ) -> slots.SlotList:
        """Slots of ``days`` local days; ``notice=False`` lists those staff may still book
        (no minimum notice, as in ``book(..., actor=...)``)."""
        start, end = slots.window(first_day, days, self.tz)
        schedule = (await slots.load_schedules([resource_id], start=start, end=end, now=now)).get(
            resource_id
        )
        if schedule is not None and schedule.offers_due:
            # Seats held for offers that ran out are passed on before anyone sees the list.
            await self.expire_offers(now, resource_id=resource_id)
            schedule = (await slots.load_schedules([resource_id], start=start, end=end)).get(
                resource_id
            )
        if schedule is None:
            await _resource_or_404(resource_id)
            raise seats.not_bookable()
        if not notice:
            schedule = replace(schedule, rules=replace(schedule.rules, min_notice_minutes=0))
        return slots.generate(schedule, first_day, days, self.tz, now=now)

    async def next_free(
        self, resource_ids: list[int], *, now: dt.datetime
    ) -> dict[int, tuple[int, int]]:
        """The first slot with a free seat of each bookable resource, as (start, end) epochs.

        Looks one week ahead first, then to each resource's horizon.
        """
        today = now.astimezone(self.tz).date()
        found: dict[int, tuple[int, int]] = {}
        todo = list(resource_ids)
        for first, days in ((today, 7), (today + dt.timedelta(days=7), 84)):
            if not todo:
                break
            start, end = slots.window(first, days, self.tz)
            schedules = await slots.load_schedules(todo, start=start, end=end)
            for rid, schedule in schedules.items():
                listed = slots.generate(schedule, first, days, self.tz, now=now)
                free = listed.remaining > 0
                if free.any():
                    i = int(free.argmax())
                    found[rid] = (int(listed.starts[i]), int(listed.ends[i]))
            todo = [rid for rid in todo if rid in schedules and rid not in found]
        return found

    async def get(self, code: str, token: str) -> Booking:
        booking = await Booking.get_or_none(code=normalise_code(code))
        if booking is None or not self._token_ok(booking.token_enc, token):
            # The same answer for a wrong code and a wrong token: codes are not enumerable.
            raise NotFound("no booking with this code and token")
        return booking

    def view(self, booking: Booking, resource: Resource) -> dict[str, Any]:
        """A booking as its holder sees it: their own details in full."""
        return {
            "code": booking.code,
            "code_display": display_code(booking.code),
            "status": booking.status,
            "resource": {
                "id": resource.id,
                "name_zh": resource.name_zh,
                "name_en": resource.name_en,
                "address_zh": resource.address_zh,
                "phone": resource.phone,
            },
            "starts_at": booking.starts_at.astimezone(self.tz).isoformat(),
            "ends_at": booking.ends_at.astimezone(self.tz).isoformat(),
            "service": booking.service or None,
            "channel": booking.channel,
            "nickname": self.vault.open_optional(booking.nickname_enc),
            "phone": self.vault.open_optional(booking.phone_enc),
            "email": self.vault.open_optional(booking.email_enc),
            "note": self.vault.open_optional(booking.note_enc),
            "cancel_reason": booking.cancel_reason or None,
            "offer_expires_at": (
                None
                if booking.offer_expires_at is None
                else booking.offer_expires_at.astimezone(self.tz).isoformat()
            ),
        }

    # ------------------------------------------------------------------ booking

    async def book(
        self,
        data: BookingIn,
        *,
        now: dt.datetime,
        idempotency_key: str | None = None,
        actor: Principal | None = None,
    ) -> Issued:
        """Take a seat. Replaying an idempotency key returns the booking it made."""
        if actor is None and data.channel not in RESIDENT_CHANNELS:
            raise InvalidInput(
                f"channel {data.channel} is for bookings staff enter", field="channel"
            )
        if actor is not None:
            actor.require(Role.STAFF, Role.ADMIN)
            if data.channel not in STAFF_CHANNELS:
                raise InvalidInput(
                    "staff enter bookings taken by phone or from walk-in visitors",
                    field="channel",
                )
        key = None if idempotency_key is None else digest(idempotency_key)
        fingerprint = data.fingerprint()
        try:
            # A schedule read (if any) and the seat call share one pooled connection.
            async with db.one_connection(Booking._meta.db) as conn:
                return await self._book(conn, data, key, fingerprint, now=now, actor=actor)
        except (Conflict, NotFound):
            # A replay is looked up only when the request cannot be booked afresh (the
            # unique key refuses a second booking otherwise): it finds its booking even
            # after the slot filled up or passed, at no cost to first requests.
            if key is not None and (replay := await self._replay(Booking, key, fingerprint)):
                return replay
            raise

    async def _book(
        self,
        conn: BaseDBAsyncClient,
        data: BookingIn,
        key: str | None,
        fingerprint: str,
        *,
        now: dt.datetime,
        actor: Principal | None,
    ) -> Issued:
        token = new_token()
        sealed: dict[str, Any] = {}
        # First against the schedule as last read (cached): the seat call refuses the
        # booking if staff changed the schedule since (Stale), and a check fails only on a
        # fresh read. Then against a fresh read.
        for attempt in range(3):
            schedule = None if attempt else self._cached_schedule(data.resource_id, data.starts_at)
            cached = schedule is not None
            if schedule is None:
                schedule = await self._schedule_at(data.resource_id, data.starts_at)
            try:
                start, end = self._checked(schedule, data, now=now, actor=actor)
            except (Conflict, InvalidInput, NotFound):
                if cached:
                    continue
                raise
            # Sealed before the seat is taken: the resource's lock is held as briefly as
            # can be.
            sealed = sealed or {"token_enc": self.vault.seal(token), **self._sealed(data)}
            values: dict[str, Any] = {
                **sealed,
                "resource_id": data.resource_id,
                "starts_at": slots.as_utc(start),
                "ends_at": slots.as_utc(end),
                "status": BookingStatus.CONFIRMED,
                "service": data.service or "",
                "channel": data.channel,
                "created_by_id": None if actor is None else actor.id,
                "idempotency_key": key,
                "request_hash": self.vault.digest(fingerprint),
            }
            try:
                return await self._issue(conn, values, schedule, token, key, fingerprint, now=now)
            except seats.Stale:
                continue
        raise _schedule_changed()

    def _checked(
        self,
        schedule: slots.Schedule,
        data: BookingIn,
        *,
        now: dt.datetime,
        actor: Principal | None,
    ) -> tuple[int, int]:
        """The slot ``data`` asks for as (start, end) epochs, if ``schedule`` lets the
        resident (or ``actor``, staff) book it now."""
        listing = schedule.listing
        if actor is not None and not actor.may_edit_listings_of(listing.organisation_id):
            raise NotFound(f"no resource {data.resource_id} among your services")
        if data.service is not None and data.service not in listing.services:
            raise InvalidInput("this service does not offer that", field="service")
        # Staff book callers and visitors in front of them: no minimum notice.
        return self._slot_in(schedule, data.starts_at, now=now, notice=actor is None)

    async def _issue(
        self,
        conn: BaseDBAsyncClient,
        values: dict[str, Any],
        schedule: slots.Schedule,
        token: str,
        key: str | None,
        fingerprint: str,
        *,
        now: dt.datetime,
    ) -> Issued:
        """Write the booking ``values`` with a new code, and its confirmation."""
        for _ in range(CODE_ATTEMPTS):
            code = new_code()
            message = self._message(
                NotificationKind.CONFIRMATION,
                code,
                values["starts_at"],
                schedule.listing.name_zh,
                token,
            )
            # The booking's sealed phone and e-mail address the messages too.
            queued = outbox.rows(
                self.vault,
                self.tz,
                message,
                phone_enc=values["phone_enc"],
                email_enc=values["email_enc"],
                now=now,
            )
            try:
                await seats.book(
                    conn,
                    seats.row(Booking, {**values, "code": code}, now, later="slot_id"),
                    [seats.row(Notification, m, now, later="booking_id") for m in queued],
                    version=schedule.version,
                )
            except IntegrityError:
                # Another request with the same key won the race, or (rarely) the code was
                # taken: nothing was written, seat included.
                if key is not None:
                    replay = await self._replay(Booking, key, fingerprint)
                    if replay is not None:
                        return replay
                continue
            return Issued(code=code, token=token)
        raise Conflict("could not allocate a booking code; try again")

    async def cancel(self, code: str, token: str, *, now: dt.datetime) -> Booking:
        """The resident cancels (or declines a waitlist offer). Cancelling twice is harmless."""
        booking = await self.get(code, token)
        if booking.status not in SEAT_HOLDING:
            return booking
        rules = await _rules(booking.resource_id)  # type: ignore[attr-defined]
        if booking.status is BookingStatus.CONFIRMED:
            self._check_change_window(booking, rules, now)
        await self._end(booking, BookingStatus.CANCELLED, by="resident", reason="", now=now)
        return await Booking.get(id=booking.id)

    async def reschedule(
        self, code: str, token: str, new_start: dt.datetime, *, now: dt.datetime
    ) -> Booking:
        """Move to another slot of the same resource: the old seat is freed only if the new
        one was taken."""
        booking = await self.get(code, token)
        if booking.status is not BookingStatus.CONFIRMED:
            raise Conflict(f"a booking that is {booking.status} cannot be moved")
        resource_id: int = booking.resource_id  # type: ignore[attr-defined]
        rules = await _rules(resource_id)
        self._check_change_window(booking, rules, now)
        schedule = await self._schedule_at(resource_id, new_start)
        start, end = self._slot_in(schedule, new_start, now=now)
        if start == slots.epoch(booking.starts_at):
            raise Conflict("the booking is already in that slot")
        resource = await Resource.get(id=resource_id)
        async with in_transaction(Booking._meta.default_connection) as conn:
            locked = await seats.lock(conn, resource_id)
            if locked.version != schedule.version:
                raise _schedule_changed()
            fresh = await Booking.get(id=booking.id)
            if fresh.status is not BookingStatus.CONFIRMED:
                raise Conflict(f"a booking that is {fresh.status} cannot be moved")
            old_slot_id: int = fresh.slot_id  # type: ignore[attr-defined]
            slot_id = await seats.take(
                conn, resource_id, start, end, locked.rules.seats, moving=old_slot_id
            )
            await Booking.filter(id=booking.id).update(
                slot_id=slot_id,
                starts_at=slots.as_utc(start),
                ends_at=slots.as_utc(end),
                reminder_queued=False,
            )
            await self._release(old_slot_id, now=now)
            moved = await Booking.get(id=booking.id)
            await self._tell(NotificationKind.RESCHEDULED, moved, resource.name_zh, token, now=now)
        return moved

    # ------------------------------------------------------------------ waitlist

    async def join_waitlist(
        self, data: BookingIn, *, now: dt.datetime, idempotency_key: str | None = None
    ) -> Issued:
        """Wait for a seat in a full slot; an open slot should be booked instead. Replaying
        an idempotency key returns the place it made."""
        if data.channel not in RESIDENT_CHANNELS:
            raise InvalidInput(f"channel {data.channel} is for staff", field="channel")
        if not data.phone and not data.email:
            raise InvalidInput(
                "give a phone number or e-mail address so we can tell you when a seat frees up",
                field="phone",
            )
        key = None if idempotency_key is None else digest(idempotency_key)
        fingerprint = data.fingerprint()
        try:
            return await self._join_waitlist(data, key, fingerprint, now=now)
        except (Conflict, NotFound):
            # As for bookings: a replay finds its place even after the slot freed up.
            if key is not None and (replay := await self._replay(WaitlistEntry, key, fingerprint)):
                return replay
            raise

    async def _join_waitlist(
        self, data: BookingIn, key: str | None, fingerprint: str, *, now: dt.datetime
    ) -> Issued:
        resource = await _resource_or_404(data.resource_id)
        if data.service is not None and data.service not in resource.services:
            raise InvalidInput("this service does not offer that", field="service")
        listed = await self.slot_list(
            data.resource_id, data.starts_at.astimezone(self.tz).date(), 1, now=now
        )
        i = listed.find(slots.epoch(data.starts_at))
        if i is None:
            raise Conflict("there is no such slot to wait for")
        if int(listed.remaining[i]) > 0:
            raise Conflict("this slot still has free seats: book it instead")
        token = new_token()
        for _ in range(CODE_ATTEMPTS):
            code = new_code()
            try:
                await WaitlistEntry.create(
                    code=code,
                    token_enc=self.vault.seal(token),
                    resource_id=data.resource_id,
                    starts_at=slots.as_utc(int(listed.starts[i])),
                    status=WaitlistStatus.WAITING,
                    service=data.service or "",
                    channel=data.channel,
                    idempotency_key=key,
                    request_hash=self.vault.digest(fingerprint),
                    **self._sealed(data),
                )
            except IntegrityError:
                # The same key sent twice at once, or (rarely) the code was taken.
                if key is not None and (
                    replay := await self._replay(WaitlistEntry, key, fingerprint)
                ):
                    return replay
                continue
            return Issued(code=code, token=token)
        raise Conflict("could not allocate a waitlist code; try again")

    async def waitlist_entry(self, code: str, token: str) -> WaitlistEntry:
        entry = await WaitlistEntry.get_or_none(code=normalise_code(code))
        if entry is None or not self._token_ok(entry.token_enc, token):
            raise NotFound("no waitlist entry with this code and token")
        return entry

    async def waitlist_view(self, entry: WaitlistEntry) -> dict[str, Any]:
        position = None
        if entry.status is WaitlistStatus.WAITING:
            position = (
                1
                + await WaitlistEntry.filter(
                    resource_id=entry.resource_id,  # type: ignore[attr-defined]
                    starts_at=entry.starts_at,
                    status=WaitlistStatus.WAITING,
                    id__lt=entry.id,
                ).count()
            )
        offer = None
        if entry.status is WaitlistStatus.OFFERED and entry.booking_id is not None:  # type: ignore[attr-defined]
            booking = await Booking.get(id=entry.booking_id)  # type: ignore[attr-defined]
            offer = {
                "booking_code": booking.code,
                "expires_at": None
                if booking.offer_expires_at is None
                else booking.offer_expires_at.astimezone(self.tz).isoformat(),
            }
        return {
            "code": entry.code,
            "code_display": display_code(entry.code),
            "status": entry.status,
            "resource_id": entry.resource_id,  # type: ignore[attr-defined]
            "starts_at": entry.starts_at.astimezone(self.tz).isoformat(),
            "position": position,
            "offer": offer,
        }

    async def accept_offer(self, code: str, token: str, *, now: dt.datetime) -> Issued:
        """Take the seat held for this waitlist entry; returns the booking and its token."""
        entry = await self.waitlist_entry(code, token)
        await self.expire_offers(now, resource_id=entry.resource_id)  # type: ignore[attr-defined]
        entry = await WaitlistEntry.get(id=entry.id)
        if entry.status is not WaitlistStatus.OFFERED or entry.booking_id is None:  # type: ignore[attr-defined]
            raise Conflict(f"there is no seat on offer for this entry (it is {entry.status})")
        async with in_transaction(Booking._meta.default_connection) as conn:
            await seats.lock(conn, entry.resource_id)  # type: ignore[attr-defined]
            # The same UPDATE checks the deadline: an offer that ran out while nobody passed
            # it on is still not the resident's.
            confirmed = await Booking.filter(
                id=entry.booking_id,  # type: ignore[attr-defined]
                status=BookingStatus.OFFERED,
                offer_expires_at__gt=now.astimezone(dt.UTC),
            ).update(status=BookingStatus.CONFIRMED, offer_expires_at=None)
            if not confirmed:
                raise Conflict("the offer has expired", code="offer_expired")
            await WaitlistEntry.filter(id=entry.id).update(status=WaitlistStatus.BOOKED)
            booking = await Booking.get(id=entry.booking_id)  # type: ignore[attr-defined]
            resource = await Resource.get(id=booking.resource_id)  # type: ignore[attr-defined]
            booking_token = self.vault.open(booking.token_enc)
            await self._tell(
                NotificationKind.CONFIRMATION,
                booking,
                resource.name_zh,
                booking_token,
                now=now,
            )
        return Issued(code=booking.code, token=booking_token)

    async def leave_waitlist(self, code: str, token: str, *, now: dt.datetime) -> None:
        entry = await self.waitlist_entry(code, token)
        if entry.status is WaitlistStatus.WAITING:
            await WaitlistEntry.filter(id=entry.id, status=WaitlistStatus.WAITING).update(
                status=WaitlistStatus.LEFT
            )
        elif entry.status is WaitlistStatus.OFFERED and entry.booking_id is not None:  # type: ignore[attr-defined]
            booking = await Booking.get(id=entry.booking_id)  # type: ignore[attr-defined]
            # Only the offer: if the resident accepted it meanwhile, that booking stands.
            if await self._end(
                booking,
                BookingStatus.CANCELLED,
                by="resident",
                reason="",
                now=now,
                only=(BookingStatus.OFFERED,),
            ):
                await WaitlistEntry.filter(id=entry.id, status=WaitlistStatus.OFFERED).update(
                    status=WaitlistStatus.LEFT
                )

    async def expire_offers(self, now: dt.datetime, *, resource_id: int | None = None) -> int:
        """Pass on seats whose offer ran out; returns how many offers expired."""
        # On SQLite tortoise compares datetimes as stored text (UTC): filter values must be UTC.
        qs = Booking.filter(
            status=BookingStatus.OFFERED, offer_expires_at__lte=now.astimezone(dt.UTC)
        )
        if resource_id is not None:
            qs = qs.filter(resource_id=resource_id)
        expired = 0
        for booking in await qs:
            if await self._end(
                booking,
                BookingStatus.EXPIRED,
                by="",
                reason="",
                now=now,
                only=(BookingStatus.OFFERED,),
                due=now,
            ):
                expired += 1
                await WaitlistEntry.filter(
                    booking_id=booking.id, status=WaitlistStatus.OFFERED
                ).update(status=WaitlistStatus.EXPIRED)
        return expired

    # ------------------------------------------------------------------ staff

    async def staff_cancel(
        self, actor: Principal, booking_id: int, reason: str, *, now: dt.datetime
    ) -> Booking:
        booking = await self.for_staff(actor, booking_id)
        if booking.status not in SEAT_HOLDING:
            raise Conflict(f"the booking is already {booking.status}")
        if not reason.strip():
            raise InvalidInput("tell the resident why", field="reason")
        await self._end(
            booking, BookingStatus.CANCELLED, by="staff", reason=reason.strip(), now=now
        )
        return await Booking.get(id=booking.id)

    async def mark(
        self, actor: Principal, booking_id: int, status: BookingStatus, *, now: dt.datetime
    ) -> Booking:
        """Attended or no-show, once the slot has started."""
        if status not in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
            raise InvalidInput("mark a booking attended or no_show", field="status")
        booking = await self.for_staff(actor, booking_id)
        if booking.status not in (
            BookingStatus.CONFIRMED,
            BookingStatus.ATTENDED,
            BookingStatus.NO_SHOW,
        ):
            raise Conflict(f"a booking that is {booking.status} cannot be marked")
        if booking.starts_at > now:
            raise Conflict("the slot has not started yet")
        await Booking.filter(id=booking.id).update(status=status)
        return await Booking.get(id=booking.id)

    async def for_staff(self, actor: Principal, booking_id: int) -> Booking:
        """A booking of a resource the actor may manage, else 404 (no hint that it exists)."""
        actor.require(Role.STAFF, Role.ADMIN)
        booking = await Booking.get_or_none(id=booking_id).prefetch_related("resource")
        if booking is None or not actor.may_edit_listings_of(
            booking.resource.organisation_id  # type: ignore[attr-defined]
        ):
            raise NotFound(f"no booking {booking_id} among your services")
        return booking

    # ------------------------------------------------------------------ internals

    async def _replay(
        self, model: type[Booking] | type[WaitlistEntry], key: str, fingerprint: str
    ) -> Issued | None:
        """The booking (or waitlist place) an Idempotency-Key made, if it made one for this
        same request."""
        made = await model.get_or_none(idempotency_key=key)
        if made is None:
            return None
        # No digest: made before digests were keyed (migration 0009 cleared them) or purged.
        if made.request_hash and not self.vault.digest_matches(fingerprint, made.request_hash):
            what = "booking" if model is Booking else "waitlist"
            raise InvalidInput(
                f"this Idempotency-Key was already used for a different {what} request",
                field="Idempotency-Key",
            )
        return Issued(code=made.code, token=self.vault.open(made.token_enc), replayed=True)

    def _token_ok(self, sealed: str, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.vault.open(sealed).encode(), token.encode())

    def _sealed(self, data: Contact) -> dict[str, Any]:
        return {
            "nickname_enc": self.vault.seal_optional(data.nickname),
            "phone_enc": self.vault.seal_optional(data.phone),
            "email_enc": self.vault.seal_optional(data.email),
            "note_enc": self.vault.seal_optional(data.note),
        }

    def _cached_schedule(self, resource_id: int, starts_at: dt.datetime) -> slots.Schedule | None:
        """The schedule ``_schedule_at`` read last for this resource, if it covers
        ``starts_at``'s day and the days either side."""
        found = self._schedules.get(resource_id)
        day = starts_at.astimezone(self.tz).date().toordinal()
        if found is None or not found[0] < day < found[1]:
            return None
        return found[2]

    async def _schedule_at(self, resource_id: int, starts_at: dt.datetime) -> slots.Schedule:
        """The resource's schedule without booked seats (one statement), from the day before
        ``starts_at``'s day for ``SCHEDULE_DAYS``, kept for ``_cached_schedule``."""
        first = starts_at.astimezone(self.tz).date() - dt.timedelta(days=1)
        start, end = slots.window(first, SCHEDULE_DAYS, self.tz)
        found = (await slots.load_schedules([resource_id], start=start, end=end, seats=False)).get(
            resource_id
        )
        self._schedules.pop(resource_id, None)
        if found is None:
            await _resource_or_404(resource_id)
            raise seats.not_bookable()
        # Seats are the seat statement's to decide, under the lock: not checked here.
        last = first + dt.timedelta(days=SCHEDULE_DAYS - 1)
        self._schedules[resource_id] = (first.toordinal(), last.toordinal(), found)
        if len(self._schedules) > SCHEDULES_CACHED:
            del self._schedules[next(iter(self._schedules))]  # the least recently read
        return found

    def _slot_in(
        self,
        schedule: slots.Schedule,
        starts_at: dt.datetime,
        *,
        now: dt.datetime,
        notice: bool = True,
    ) -> tuple[int, int]:
        """The slot of ``schedule`` starting at ``starts_at`` as (start, end) epochs, if it
        can be booked now."""
        start = slots.epoch(starts_at)
        day = starts_at.astimezone(self.tz).date()
        rules = schedule.rules
        if not notice:
            rules = replace(rules, min_notice_minutes=0)
            schedule = replace(schedule, rules=rules)
        if start < int(now.timestamp()) + rules.min_notice_minutes * 60:
            raise Conflict(
                f"too soon: book at least {_duration(rules.min_notice_minutes)} ahead, "
                "or call the service",
                code="too_soon",
            )
        if day > now.astimezone(self.tz).date() + dt.timedelta(days=rules.horizon_days):
            raise Conflict(
                f"bookings open {rules.horizon_days} days ahead; this is later", code="too_far"
            )
        listed = slots.generate(schedule, day, 1, self.tz, now=now)
        i = listed.find(start)
        if i is None:
            raise Conflict(
                "the service is closed then, or that is not the start of a slot", code="closed"
            )
        return start, int(listed.ends[i])

    def _check_change_window(self, booking: Booking, rules: slots.Rules, now: dt.datetime) -> None:
        limit = booking.starts_at - dt.timedelta(minutes=rules.change_notice_minutes)
        if now > limit:
            raise Conflict(
                f"changes are possible until {_duration(rules.change_notice_minutes)} before "
                "the start; please call the service",
                code="change_window",
            )

    async def _release(self, slot_id: int, *, now: dt.datetime) -> None:
        """Free a seat of ``slot_id``: offer it to the first resident waiting, else free it."""
        slot = await Slot.get(id=slot_id)
        entry = None
        if slot.starts_at > now:
            entry = (
                await WaitlistEntry.filter(
                    resource_id=slot.resource_id,  # type: ignore[attr-defined]
                    starts_at=slot.starts_at,
                    status=WaitlistStatus.WAITING,
                )
                .order_by("id")
                .first()
            )
        if entry is None:
            await Slot.filter(id=slot_id, taken__gt=0).update(taken=F("taken") - 1)
            return
        expires = min(now + dt.timedelta(minutes=self.offer_minutes), slot.starts_at)
        token = self.vault.open(entry.token_enc)
        for _ in range(CODE_ATTEMPTS):
            code = new_code()
            if not await Booking.exists(code=code):
                break
        offer = await Booking.create(
            code=code,
            token_enc=self.vault.seal(new_token()),
            resource_id=slot.resource_id,  # type: ignore[attr-defined]
            slot_id=slot.id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=BookingStatus.OFFERED,
            service=entry.service,
            channel=entry.channel,
            nickname_enc=entry.nickname_enc,
            phone_enc=entry.phone_enc,
            email_enc=entry.email_enc,
            note_enc=entry.note_enc,
            offer_expires_at=expires,
        )
        await WaitlistEntry.filter(id=entry.id).update(
            status=WaitlistStatus.OFFERED, booking_id=offer.id
        )
        resource = await Resource.get(id=slot.resource_id)  # type: ignore[attr-defined]
        await outbox.enqueue(
            self.vault,
            self.tz,
            outbox.Message(
                kind=NotificationKind.WAITLIST_OFFER,
                code=entry.code,
                resource_name=resource.name_zh,
                starts_at=slot.starts_at,
                manage_url=f"{self.public_url}/waitlist/{entry.code}?token={token}",
                offer_expires_at=expires,
            ),
            booking_id=offer.id,
            phone=self.vault.open_optional(entry.phone_enc),
            email=self.vault.open_optional(entry.email_enc),
            now=now,
        )

    async def _end(
        self,
        booking: Booking,
        status: BookingStatus,
        *,
        by: str,
        reason: str,
        now: dt.datetime,
        only: Iterable[BookingStatus] = SEAT_HOLDING,
        due: dt.datetime | None = None,
    ) -> bool:
        """End a booking that is still in one of the ``only`` statuses (and, with ``due``, an
        offer whose deadline has passed) and pass its seat on; ``False`` if another request
        changed it first."""
        resource_id: int = booking.resource_id  # type: ignore[attr-defined]
        async with in_transaction(Booking._meta.default_connection) as conn:
            await seats.lock(conn, resource_id)
            still = Booking.filter(id=booking.id, status__in=[s.value for s in only])
            if due is not None:
                still = still.filter(offer_expires_at__lte=due.astimezone(dt.UTC))
            ended = await still.update(
                status=status, cancelled_by=by, cancel_reason=reason, offer_expires_at=None
            )
            if not ended:
                return False
            # Read under the lock: a reschedule that committed since ``booking`` was read
            # moved it to another slot, and that is the seat to free.
            held = await Booking.get(id=booking.id)
            await self._release(held.slot_id, now=now)  # type: ignore[attr-defined]
            tell = {
                "staff": NotificationKind.CANCELLED_BY_STAFF,
                "resident": NotificationKind.CANCELLED,
            }
            if by in tell:
                resource = await Resource.get(id=resource_id)
                await self._tell(tell[by], held, resource.name_zh, None, now=now)
        return True

    async def _tell(
        self,
        kind: NotificationKind,
        booking: Booking,
        resource_name: str,
        token: str | None,
        *,
        now: dt.datetime,
    ) -> None:
        phone = self.vault.open_optional(booking.phone_enc)
        email = self.vault.open_optional(booking.email_enc)
        if not phone and not email:
            return
        token = token or self.vault.open(booking.token_enc)
        message = self._message(
            kind, booking.code, booking.starts_at, resource_name, token, booking.cancel_reason
        )
        await outbox.enqueue(
            self.vault, self.tz, message, booking_id=booking.id, phone=phone, email=email, now=now
        )

    def _message(
        self,
        kind: NotificationKind,
        code: str,
        starts_at: dt.datetime,
        resource_name: str,
        token: str,
        reason: str = "",
    ) -> outbox.Message:
        return outbox.Message(
            kind=kind,
            code=code,
            resource_name=resource_name,
            starts_at=starts_at,
            manage_url=f"{self.public_url}/bookings/{code}?token={token}",
            reason=reason,
        )


async def _resource_or_404(resource_id: int) -> Resource:
    resource = await Resource.get_or_none(id=resource_id)
    if resource is None:
        raise NotFound(f"no resource with id {resource_id}")
    return resource


def _schedule_changed() -> Conflict:
    return Conflict(
        "the service's times changed just now; please choose the time again",
        code="schedule_changed",
    )


async def _rules(resource_id: int) -> slots.Rules:
    policy = await BookingPolicy.get_or_none(resource_id=resource_id)
    if policy is None:
        raise seats.not_bookable()
    return slots.Rules.of(policy)


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0 and minutes:
        return f"{minutes // 1440} day(s)"
    if minutes % 60 == 0 and minutes:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minutes"
