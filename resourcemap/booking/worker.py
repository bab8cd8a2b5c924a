"""The booking worker: every few seconds, pass on expired waitlist offers, queue tomorrow's
reminders and send what is due.

It runs inside each app process (``running_worker`` in the app's lifespan, when
``RESOURCEMAP_RUN_WORKER`` is true) or on its own (``resourcemap worker``). Any number may
run at once: every step is safe under concurrency (see ``dispatch`` and ``desk``). A step
that fails is logged by its exception type only (messages may quote personal data) and the
loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from resourcemap import tasks
from resourcemap.booking.desk import Desk
from resourcemap.booking.dispatch import Dispatched, Dispatcher
from resourcemap.booking.senders import Sender
from resourcemap.clock import Clock, SystemClock
from resourcemap.errors import Unavailable
from resourcemap.feedback import rounds
from resourcemap.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERVAL_SECONDS = 5.0
# On shutdown, a round in progress may finish its sends (one webhook timeout and a bit).
GRACE_SECONDS = 15.0


@dataclass(frozen=True)
class Round:
    """What one round did; ``None`` where the step failed."""

    offers_expired: int | None
    reminders_queued: int | None
    dispatched: Dispatched | None

    @property
    def ok(self) -> bool:
        return None not in (self.offers_expired, self.reminders_queued, self.dispatched)


class Worker:
    def __init__(
        self,
        settings: Settings,
        senders: Sequence[Sender] | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.desk = Desk(settings)
        # The dispatcher reads the clock for each claim: a round may outlast a lease.
        self.dispatcher = Dispatcher(settings, senders, clock=clock)

    async def run_once(self, now: dt.datetime) -> Round:
        done = Round(
            offers_expired=await _step("expire_offers", lambda: self.desk.expire_offers(now)),
            reminders_queued=await _step(
                "queue_reminders", lambda: self.dispatcher.queue_reminders(now)
            ),
            dispatched=await _step("dispatch", lambda: self.dispatcher.dispatch(now)),
        )
        # Feedback after a visit (#23): its messages go out with the next round's sends.
        feedback = await _step("feedback", lambda: rounds.run(self.desk.ledger, now=now))
        if feedback is not None and any(feedback):
            log.info(
                "booking worker: %d feedback invitations, %d links expired, "
                "%d comments released, %d dropped",
                *feedback,
            )
        sent = done.dispatched or Dispatched()
        counts = (done.offers_expired, done.reminders_queued, sent.sent, sent.retrying, sent.failed)
        if any(counts):
            log.info(
                "booking worker: %s offers expired, %s reminders queued, %d sent, "
                "%d retrying, %d failed",
                *counts,
            )
        return done

    async def run(self, stop: asyncio.Event, *, interval: float, clock: Clock) -> None:
        """Rounds every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.run_once(clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


async def _step(name: str, fn: Callable[[], Awaitable[T]]) -> T | None:
    try:
        return await fn()
    except asyncio.CancelledError:
        raise
    except Unavailable:
        return None  # logged where it was noticed (db.Outage): once per outage, not per round
    except Exception as exc:
        log.error("booking worker: %s failed with %s", name, type(exc).__name__)
        return None


@contextlib.asynccontextmanager
async def running_worker(
    settings: Settings,
    *,
    interval: float = INTERVAL_SECONDS,
    senders: Sequence[Sender] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Worker]:
    """Run the worker loop in a background task while the block runs.

    The database must be open for the whole block. On exit a round in progress gets
    ``GRACE_SECONDS`` to finish, then is cancelled (an interrupted message is sent again
    once its lease runs out). Incomplete sender settings raise ``InvalidInput`` on entry.
    """
    clock = clock or SystemClock()
    worker = Worker(settings, senders, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(
        worker.run(stop, interval=interval, clock=clock),
        name="resourcemap booking worker",
    )
    try:
        yield worker
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), GRACE_SECONDS)
        except TimeoutError:
            await tasks.cancel(task)
