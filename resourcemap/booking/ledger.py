# Over 400 lines: every change of a seat (hold, confirm, end, pass on) in one ledger.
"""The ledger of one app process: what every booking use case shares.

Why a booking can never overbook, on SQLite and PostgreSQL alike:

1. Every change of seats starts with a write: it bumps ``lock`` on the resource's
   ``booking_policy`` row. On PostgreSQL that row lock serialises the bookings of one
   resource across processes; on SQLite the first write takes the database's write lock
   (waiting for the busy timeout), and because nothing was read before it no stale
   snapshot can be acted on.
2. A seat is taken by one conditional upsert (``seats.take``) that only adds a seat while
   ``taken < capacity``; no row returned means the slot is full or overlaps a booked one.
3. The database refuses ``taken > capacity`` outright (migration 0005), so even a bug in
   this package could not commit an overbooked slot.

The ledger holds the settings the use cases need (zone, vault, links, offer time), each
resource's schedule as last read, and the primitives they share: finding a booking by its
code and token, checking a slot against a schedule, ending a booking and passing its seat
on to the first resident waiting, telling the resident.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import F
from tortoise.models import Model
from tortoise.transactions import in_transaction

from resourcemap.accounts import Principal
from resourcemap.booking import outbox, referred, schedules, seats, slots
from resourcemap.booking.links import Links
from resourcemap.booking.requests import Contact, new_code, new_token, normalise_code
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.models import (
    Booking,
    BookingPolicy,
    Notification,
    Resource,
    Slot,
    TimeBlock,
    WaitlistEntry,
)
from resourcemap.said import N_
from resourcemap.settings import Settings
from resourcemap.vault import Vault
from resourcemap.vocab import (
    HOLDS,
    SEAT_HOLDING,
    BookingStatus,
    Channel,
    NotificationKind,
    Role,
    WaitlistStatus,
)

CODE_ATTEMPTS = 5
SCHEDULES_CACHED = 4096  # resources
SCHEDULE_DAYS = 33  # read at a time: a booking's day, the day before and a month after


# The messages that tell a resident their booking's time (a reminder after one, the same or
# the next day, says nothing new).
SAYS_THE_TIME = frozenset({NotificationKind.CONFIRMATION, NotificationKind.RESCHEDULED})


class Ledger:
    def __init__(self, settings: Settings) -> None:
        self.tz: ZoneInfo = settings.tz
        self.vault = Vault.from_settings(settings)
        self.offer_minutes = settings.waitlist_offer_minutes
        # Most active future bookings of one service per holder (#15; 0: no cap).
        self.cap_per_contact = settings.booking_cap_per_contact
        self.cap_per_address = settings.booking_cap_per_address
        self.links = Links(settings.public_url)
        # A resident's booking waits for the code texted to its phone (#15).
        self.verify_by_sms = settings.booking_verify == "sms"
        self.hold_minutes = settings.booking_verify_hold_minutes
        # Each resource's schedule as last read, with the first and last local day (as
        # ordinals) it covers: bookings are checked against it, and the seat call refuses
        # one checked against a schedule that is no longer current.
        self._schedules: dict[int, tuple[int, int, slots.Schedule]] = {}

    # ------------------------------------------------------------------ finding

    async def booking(self, code: str, token: str) -> Booking:
        """The booking with this code, if ``token`` is its manage token."""
        booking = await Booking.get_or_none(code=normalise_code(code))
        if booking is None or not self.token_ok(booking.token_enc, token):
            # The same answer for a wrong code and a wrong token: codes are not enumerable.
            raise NotFound(N_("no booking with this code and token"))
        return booking

    async def entry(self, code: str, token: str) -> WaitlistEntry:
        """The waitlist place with this code, if ``token`` is its manage token."""
        entry = await WaitlistEntry.get_or_none(code=normalise_code(code))
        if entry is None or not self.token_ok(entry.token_enc, token):
            raise NotFound(N_("no waitlist entry with this code and token"))
        return entry

    async def for_staff(self, actor: Principal, booking_id: int) -> Booking:
        """A booking of a resource the actor may manage, else 404 (no hint that it exists)."""
        actor.require(Role.STAFF, Role.ADMIN)
        booking = await Booking.get_or_none(id=booking_id).prefetch_related("resource")
        if booking is None or not actor.may_edit_listings_of(booking.resource.organisation_id):
            raise NotFound(N_("no booking %(id)s among your services", id=booking_id))
        return booking

    def token_ok(self, sealed: str, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.vault.open(sealed).encode(), token.encode())

    def sealed(self, data: Contact) -> dict[str, Any]:
        """A request's contact details as the columns that store them, encrypted."""
        return {
            "nickname_enc": self.vault.seal_optional(data.nickname),
            "phone_enc": self.vault.seal_optional(data.phone),
            "email_enc": self.vault.seal_optional(data.email),
            "note_enc": self.vault.seal_optional(data.note),
        }

    # ------------------------------------------------------------------ schedules

    def cached_schedule(self, resource_id: int, starts_at: dt.datetime) -> slots.Schedule | None:
        """The schedule ``schedule_at`` read last for this resource, if it covers
        ``starts_at``'s day and the days either side."""
        found = self._schedules.get(resource_id)
        day = starts_at.astimezone(self.tz).date().toordinal()
        if found is None or not found[0] < day < found[1]:
            return None
        return found[2]

    async def schedule_at(self, resource_id: int, starts_at: dt.datetime) -> slots.Schedule:
        """The resource's schedule without booked seats (one statement), from the day before
        ``starts_at``'s day for ``SCHEDULE_DAYS``, kept for ``cached_schedule``."""
        first = starts_at.astimezone(self.tz).date() - dt.timedelta(days=1)
        start, end = slots.window(first, SCHEDULE_DAYS, self.tz)
        found = (
            await schedules.load_schedules([resource_id], start=start, end=end, seats=False)
        ).get(resource_id)
        self._schedules.pop(resource_id, None)
        if found is None:
            await resource_or_404(resource_id)
            raise seats.not_bookable()
        # Seats are the seat statement's to decide, under the lock: not checked here.
        last = first + dt.timedelta(days=SCHEDULE_DAYS - 1)
        self._schedules[resource_id] = (first.toordinal(), last.toordinal(), found)
        if len(self._schedules) > SCHEDULES_CACHED:
            del self._schedules[next(iter(self._schedules))]  # the least recently read
        return found

    def slot_in(
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
                f"too soon: book at least {duration(rules.min_notice_minutes)} ahead, "
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

    # ------------------------------------------------------------------ seats

    async def release(self, slot_id: int, *, now: dt.datetime) -> None:
        """Free a seat of ``slot_id``: offer it to the first resident waiting, else free it."""
        slot = await Slot.get(id=slot_id)
        entry = None
        # Not offered in time staff have blocked (a counsellor off sick): the seat freed by
        # cancelling the bookings in it went to the first resident waiting.
        blocked = await TimeBlock.filter(
            resource_id=slot.resource_id, starts_at__lt=slot.ends_at, ends_at__gt=slot.starts_at
        ).exists()
        if slot.starts_at > now and not blocked:
            entry = (
                await WaitlistEntry.filter(
                    resource_id=slot.resource_id,
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
        offer = await Booking.create(
            code=await unused_code(Booking),
            token_enc=self.vault.seal(new_token()),
            resource_id=slot.resource_id,
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
            lang=entry.lang,
        )
        await WaitlistEntry.filter(id=entry.id).update(
            status=WaitlistStatus.OFFERED, booking_id=offer.id
        )
        resource = await Resource.get(id=slot.resource_id)
        await outbox.enqueue(
            self.vault,
            self.tz,
            outbox.Message(
                kind=NotificationKind.WAITLIST_OFFER,
                code=entry.code,
                resource_name=resource.name_zh,
                starts_at=slot.starts_at,
                manage_url=self.links.waitlist(entry.code, token, entry.lang),
                offer_expires_at=expires,
                offer_minutes=self.offer_minutes,
                lang=entry.lang,
                resource_name_en=resource.name_en,
            ),
            booking_id=offer.id,
            phone=self.vault.open_optional(entry.phone_enc),
            email=self.vault.open_optional(entry.email_enc),
            now=now,
        )

    async def end(
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
        resource_id = booking.resource_id
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
            if held.verify_digest:
                await forget_code(held.id)  # a phone check ended unconfirmed
            if held.channel is Channel.REFERRAL:
                # A green-channel seat goes back to the green channel, never to the waitlist.
                await Slot.filter(id=held.slot_id, referral_taken__gt=0).update(
                    referral_taken=F("referral_taken") - 1
                )
                await referred.follow(held.id, status, now=now)
            else:
                await self.release(held.slot_id, now=now)
            tell = {
                "staff": NotificationKind.CANCELLED_BY_STAFF,
                "resident": NotificationKind.CANCELLED,
            }
            if by in tell:
                resource = await Resource.get(id=resource_id)
                await self.tell(tell[by], held, resource, None, now=now)
        return True

    async def confirm_hold(
        self, booking_id: int, held: BookingStatus, *, now: dt.datetime, **also: Any
    ) -> bool:
        """Confirm a booking whose seat is held (``held``: offered or pending) if the hold has
        not run out; ``False`` if it has or the booking moved on. Called under the resource's
        lock. The same UPDATE checks the deadline: a hold that ran out while nobody passed it
        on is no longer the resident's."""
        confirmed = await Booking.filter(
            id=booking_id, status=held, offer_expires_at__gt=now.astimezone(dt.UTC)
        ).update(status=BookingStatus.CONFIRMED, offer_expires_at=None, **also)
        return bool(confirmed)

    async def lapsed(self, booking: Booking, now: dt.datetime) -> bool:
        """Whether ``booking`` held a seat until a deadline before ``now``; if so, the holds
        of its resource that ran out are passed on."""
        due = booking.offer_expires_at
        if booking.status not in HOLDS or due is None or due > now:
            return False
        await self.expire_offers(now, resource_id=booking.resource_id)
        return True

    async def expire_offers(self, now: dt.datetime, *, resource_id: int | None = None) -> int:
        """Pass on seats whose hold ran out (a waitlist offer, or a booking waiting for its
        texted code); returns how many holds expired."""
        # On SQLite tortoise compares datetimes as stored text (UTC): filter values must be UTC.
        qs = Booking.filter(
            status__in=[s.value for s in HOLDS], offer_expires_at__lte=now.astimezone(dt.UTC)
        )
        if resource_id is not None:
            qs = qs.filter(resource_id=resource_id)
        expired = 0
        for booking in await qs:
            if await self.end(
                booking,
                BookingStatus.EXPIRED,
                by="",
                reason="",
                now=now,
                only=(booking.status,),
                due=now,
            ):
                expired += 1
                await WaitlistEntry.filter(
                    booking_id=booking.id, status=WaitlistStatus.OFFERED
                ).update(status=WaitlistStatus.EXPIRED)
        return expired

    # ------------------------------------------------------------------ messages

    async def tell(
        self,
        kind: NotificationKind,
        booking: Booking,
        resource: Resource,
        token: str | None,
        *,
        now: dt.datetime,
        referred_by: Resource | None = None,
    ) -> int:
        """Queue a message about ``booking`` at ``resource`` to its phone and e-mail
        address, if any, in the language it was booked in; how many were queued.
        ``referred_by``: the service whose referral the booking is (named in it)."""
        phone = self.vault.open_optional(booking.phone_enc)
        email = self.vault.open_optional(booking.email_enc)
        if not phone and not email:
            return 0
        token = token or self.vault.open(booking.token_enc)
        message = self.message(
            kind,
            booking.code,
            booking.starts_at,
            resource.name_zh,
            token,
            booking.cancel_reason,
            lang=booking.lang,
            name_en=resource.name_en,
        )
        if referred_by is not None:
            message = replace(
                message, referred_by=referred_by.name_zh, referred_by_en=referred_by.name_en
            )
        if kind in SAYS_THE_TIME and self.reminds(booking.starts_at, now):
            await Booking.filter(id=booking.id).update(reminder_queued=True)
        return await outbox.enqueue(
            self.vault, self.tz, message, booking_id=booking.id, phone=phone, email=email, now=now
        )

    def reminds(self, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """Whether a message telling the time ``now`` stands for the reminder: the booking
        starts today or tomorrow, and "your booking tomorrow" seconds after the confirmation
        would only repeat it."""
        _, after_tomorrow = slots.window(now.astimezone(self.tz).date(), 2, self.tz)
        return starts_at < after_tomorrow

    def message(
        self,
        kind: NotificationKind,
        code: str,
        starts_at: dt.datetime,
        resource_name: str,
        token: str,
        reason: str = "",
        *,
        lang: str = "",
        name_en: str = "",
        secret: str = "",
        expires_at: dt.datetime | None = None,
    ) -> outbox.Message:
        """The message about a booking, in ``lang`` (``resource_name`` is the Chinese name,
        ``name_en`` the English one, if any)."""
        return outbox.Message(
            kind=kind,
            code=code,
            resource_name=resource_name,
            starts_at=starts_at,
            manage_url=self.links.booking(code, token, lang),
            reason=reason,
            offer_expires_at=expires_at,
            secret=secret,
            lang=lang,
            resource_name_en=name_en,
        )


async def unused_code(model: type[Model]) -> str:
    """A new code that no row of ``model`` has yet (past ``CODE_ATTEMPTS`` draws, the last
    one: the unique index then refuses a clash)."""
    for _ in range(CODE_ATTEMPTS):
        code = new_code()
        if not await model.exists(code=code):
            break
    return code


async def forget_code(booking_id: int) -> None:
    """Once a booking's phone check is over (confirmed, or the hold ended): empty the queued
    text that carries its code (one not sent by then is dropped as purged) and its digest."""
    await Notification.filter(booking_id=booking_id, kind=NotificationKind.VERIFY_CODE).update(
        body_enc=None
    )
    await (
        Booking.filter(id=booking_id).exclude(status=BookingStatus.PENDING).update(verify_digest="")
    )


async def resource_or_404(resource_id: int) -> Resource:
    resource = await Resource.get_or_none(id=resource_id)
    if resource is None:
        raise NotFound(N_("no resource with id %(id)s", id=resource_id))
    return resource


async def rules_of(resource_id: int) -> slots.Rules:
    policy = await BookingPolicy.get_or_none(resource_id=resource_id)
    if policy is None:
        raise seats.not_bookable()
    return slots.Rules.of(policy)


def check_change_window(booking: Booking, rules: slots.Rules, now: dt.datetime) -> None:
    limit = booking.starts_at - dt.timedelta(minutes=rules.change_notice_minutes)
    if now > limit:
        raise Conflict(
            f"changes are possible until {duration(rules.change_notice_minutes)} before "
            "the start; please call the service",
            code="change_window",
        )


def schedule_changed() -> Conflict:
    return Conflict(
        "the service's times changed just now; please choose the time again",
        code="schedule_changed",
    )


def service_offered(services: Iterable[str], service: str | None) -> None:
    if service is not None and service not in services:
        raise InvalidInput(N_("this service does not offer that"), field="service")


def duration(minutes: int) -> str:
    if minutes % 1440 == 0 and minutes:
        return f"{minutes // 1440} day(s)"
    if minutes % 60 == 0 and minutes:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minutes"
