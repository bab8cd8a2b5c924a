"""The dispatcher: sends due outbox messages, retries failures, queues reminders.

Several app processes (and ``resourcemap worker``) may dispatch at the same time. Each
message is claimed before it is sent, by a conditional update that only one of them can
win on either database::

    UPDATE notification SET claimed_until = now + LEASE
    WHERE id = ? AND status = 'pending' AND next_attempt_at <= now
      AND (claimed_until IS NULL OR claimed_until < now)

The claim is a lease of ``LEASE`` (30 s), renewed every ``LEASE / 3`` while the message's
sends run, so no two processes send one message at once. A process that dies holding a
claim delays that message only, until the lease runs out; every other message goes out
meanwhile. Delivery is therefore at least once, and a message is handed over twice only
when a process dies (or loses the database) between handing it over and recording it, or
when a gateway took it but its answer was lost. Every attempt of a message carries the same
``message_id`` (``Idempotency-Key`` on the webhook, ``Message-ID`` on e-mail), so a gateway
that remembers the ids it accepted delivers it once: at least once made effectively once.

A failed attempt is retried after 1, 2, 4 … minutes (at most an hour); after
``MAX_ATTEMPTS`` the message is marked failed. ``last_error`` keeps a short reason without
address or text. A sender's failure never leaves the dispatcher: a broken gateway delays
messages, never bookings.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from resourcemap.booking import slots
from resourcemap.booking.ledger import Ledger
from resourcemap.booking.senders import Outgoing, Sender, SendError, build_senders
from resourcemap.clock import Clock
from resourcemap.models import Booking, Notification, Resource
from resourcemap.settings import Settings
from resourcemap.vocab import BookingStatus, NotificationKind, NotificationStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=1)
# Long enough for one message's sends (each sender gives up after 10 s) between renewals,
# short enough that a message whose worker died goes out again within half a minute.
LEASE = dt.timedelta(seconds=30)
RENEW_SECONDS = LEASE.total_seconds() / 3
BATCH = 100
ERROR_LENGTH = 300

# Messages that no longer apply once their booking has moved on (the booking status they need).
STILL_VALID = {
    NotificationKind.REMINDER: BookingStatus.CONFIRMED,
    NotificationKind.WAITLIST_OFFER: BookingStatus.OFFERED,
    NotificationKind.VERIFY_CODE: BookingStatus.PENDING,
}


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour.

    >>> [int(backoff(n).total_seconds() // 60) for n in (1, 2, 3, 7, 8)]
    [1, 2, 4, 60, 60]
    """
    wait: dt.timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, MAX_RETRY)


@dataclass
class Dispatched:
    """What one dispatch round did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


class _Drop(Exception):
    """A message that can never be sent: mark it failed without retrying."""


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        senders: Sequence[Sender] | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        batch: int = BATCH,
        clock: Clock | None = None,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        # The ledger spells the reminders as it does every other message about a booking.
        self.ledger = Ledger(settings)
        self.vault = self.ledger.vault
        self.senders = list(build_senders(settings) if senders is None else senders)
        self.tz = self.ledger.tz
        self.max_attempts = max_attempts
        self.batch = batch
        # A round may take a while: claims read the clock afresh when there is one, so a
        # lease never starts in the past (another process would take it at once).
        self.clock = clock
        self.renew_seconds = renew_seconds

    # ------------------------------------------------------------------ sending

    async def dispatch(self, now: dt.datetime) -> Dispatched:
        """Send every message due at ``now`` that no other process is sending."""
        done = Dispatched()
        while True:
            due: list[int] = await (
                Notification.filter(_claimable(now))
                .order_by("next_attempt_at", "id")
                .limit(self.batch)
                .values_list("id", flat=True)
            )  # type: ignore[assignment]
            for notification_id in due:
                claimed_at = self._now(now)
                if await self._claim(notification_id, claimed_at):
                    await self._attempt(notification_id, claimed_at, done)
            if len(due) < self.batch:
                return done

    def _now(self, now: dt.datetime) -> dt.datetime:
        return now if self.clock is None else max(now, self.clock.now())

    async def _claim(self, notification_id: int, now: dt.datetime) -> bool:
        claimed = await Notification.filter(_claimable(now), id=notification_id).update(
            claimed_until=now + LEASE
        )
        return bool(claimed)

    @contextlib.asynccontextmanager
    async def _leased(self, notification_id: int, now: dt.datetime) -> AsyncIterator[None]:
        """Renew the claim on a message while its sends run (a slow SMTP exchange may
        outlast one lease)."""

        # Told to stop, not cancelled: a renewal cancelled in the middle of its UPDATE left
        # its PostgreSQL connection broken ("unexpected connection_lost() call" on the loop).
        stop = asyncio.Event()

        async def renew() -> None:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.renew_seconds)
                    return
                try:
                    await Notification.filter(
                        id=notification_id, status=NotificationStatus.PENDING
                    ).update(claimed_until=self._now(now) + LEASE)
                except Exception:  # the send goes on; at worst the id lets a repeat be dropped
                    return

        renewing = asyncio.create_task(renew(), name=f"lease of notification {notification_id}")
        try:
            yield
        finally:
            stop.set()
            await renewing  # at most the renewal under way

    async def _attempt(self, notification_id: int, now: dt.datetime, done: Dispatched) -> None:
        row = await Notification.get(id=notification_id)
        attempts = row.attempts + 1
        try:
            message = await self._prepare(row)
            async with self._leased(row.id, now):
                for sender in self.senders:
                    if row.address_kind in sender.address_kinds:
                        await sender.send(message)
        except asyncio.CancelledError:
            raise
        except _Drop as exc:
            await self._fail(row, attempts, str(exc), done)
            return
        except Exception as exc:
            reason = exc.reason if isinstance(exc, SendError) else type(exc).__name__
            if attempts >= self.max_attempts:
                await self._fail(row, attempts, reason, done)
                return
            retry_at = now + backoff(attempts)
            await Notification.filter(id=row.id).update(
                attempts=attempts,
                next_attempt_at=retry_at,
                claimed_until=None,
                last_error=reason[:ERROR_LENGTH],
            )
            log.warning(
                "notification %d (%s) not sent, attempt %d: %s; retrying at %s",
                row.id,
                row.kind.value,
                attempts,
                reason,
                retry_at.isoformat(timespec="seconds"),
            )
            done.retrying += 1
            return
        await Notification.filter(id=row.id).update(
            status=NotificationStatus.SENT,
            attempts=attempts,
            sent_at=now,
            claimed_until=None,
            last_error="",
        )
        done.sent += 1

    async def _prepare(self, row: Notification) -> Outgoing:
        if not any(row.address_kind in s.address_kinds for s in self.senders):
            raise _Drop(f"no sender configured for {row.address_kind} addresses")
        if row.address_enc is None or row.body_enc is None:
            raise _Drop("contact details were purged")
        needed = STILL_VALID.get(row.kind)
        booking_id: int | None = row.booking_id
        if needed is not None:
            booking = None if booking_id is None else await Booking.get_or_none(id=booking_id)
            if booking is None or booking.status is not needed:
                status = "gone" if booking is None else booking.status.value
                raise _Drop(f"not sent: the booking is {status}")
        try:
            address, text = self.vault.open(row.address_enc), self.vault.open(row.body_enc)
        except RuntimeError:
            # Retried: the key may be back in RESOURCEMAP_DATA_KEYS after a restart.
            raise SendError("cannot decrypt the message with the data keys") from None
        return Outgoing(
            id=row.id,
            message_id=message_id(row.id, row.created_at),
            kind=row.kind,
            address_kind=row.address_kind,
            address=address,
            subject=row.subject,
            text=text,
        )

    async def _fail(self, row: Notification, attempts: int, reason: str, done: Dispatched) -> None:
        await Notification.filter(id=row.id).update(
            status=NotificationStatus.FAILED,
            attempts=attempts,
            claimed_until=None,
            last_error=reason[:ERROR_LENGTH],
        )
        log.warning("notification %d (%s) failed: %s", row.id, row.kind.value, reason)
        done.failed += 1

    # ------------------------------------------------------------------ reminders

    async def queue_reminders(self, now: dt.datetime) -> int:
        """Queue a reminder for each confirmed booking that starts tomorrow (local date),
        once per booking; returns how many messages were queued."""
        tomorrow = now.astimezone(self.tz).date() + dt.timedelta(days=1)
        start, end = slots.window(tomorrow, 1, self.tz)
        candidates = await Booking.filter(
            status=BookingStatus.CONFIRMED,
            reminder_queued=False,
            starts_at__gte=start,
            starts_at__lt=end,
        ).values_list("id", "starts_at")
        queued = 0
        for booking_id, starts_at in candidates:
            async with in_transaction(Booking._meta.default_connection):
                # The flag is set first, conditionally: one process wins, and the message
                # is queued in the same transaction, so a reminder is queued exactly once.
                flagged = await Booking.filter(
                    id=booking_id,
                    status=BookingStatus.CONFIRMED,
                    reminder_queued=False,
                    starts_at=starts_at,
                ).update(reminder_queued=True)
                if not flagged:
                    continue
                booking = await Booking.get(id=booking_id)
                resource = await Resource.get(id=booking.resource_id)
                queued += await self.ledger.tell(
                    NotificationKind.REMINDER, booking, resource, None, now=now
                )
        return queued


def message_id(notification_id: int, created_at: dt.datetime) -> str:
    """The id every attempt of one message carries, for gateways to drop repeats: made of
    what the row keeps (its id, and when it was queued so that a database rebuilt from
    scratch never reuses an id a gateway has seen).

    >>> message_id(42, dt.datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=dt.UTC))
    'rm-42-20261201T080000.123456Z'
    """
    queued = created_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"rm-{notification_id}-{queued}"


def _claimable(now: dt.datetime) -> Q:
    return Q(
        Q(status=NotificationStatus.PENDING),
        Q(next_attempt_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
    )
