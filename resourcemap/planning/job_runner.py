"""The runner of planner jobs (#22): any process with one (``running_jobs``: each app
process when ``RESOURCEMAP_RUN_WORKER`` is true, and ``resourcemap worker``) takes the
oldest queued job by one conditional update — whichever process wins, the job runs once —
and beats a heartbeat while it runs. A job whose runner stopped beating (the process died)
is queued again, at most ``MAX_ATTEMPTS`` times in all; a job whose computation refuses
(no demand data, say) fails at once with the reason, in words the planner's page translates.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import asdict

from resourcemap import tasks
from resourcemap.clock import Clock, SystemClock
from resourcemap.errors import DomainError, Unavailable
from resourcemap.models import PlannerJob
from resourcemap.planning.job_work import JobWork
from resourcemap.planning.jobs import JobKind, JobState
from resourcemap.said import N_, Said, said_of, stored
from resourcemap.settings import Settings

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0
HEARTBEAT_SECONDS = 2.0
# A runner silent this long has stopped (its process died): its job is queued again.
STALE_SECONDS = 60.0
MAX_ATTEMPTS = 3
STOPPED = N_(
    "its computation stopped %(times)s times before it finished (the process running it ended)",
    times=MAX_ATTEMPTS,
)
FAILED = N_("the computation failed; the error has been logged")


class Progress:
    """Steps done so far, written by the computation's thread, read by the heartbeat."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total


class JobRunner:
    """Runs queued jobs one at a time in this process."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.work = JobWork(settings)
        # Which runner holds a job: a heartbeat only counts from the runner that claimed it.
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:64]

    async def requeue_stale(self, now: dt.datetime) -> int:
        """Queue again the jobs whose runner stopped beating; fail those tried too often."""
        stale = PlannerJob.filter(
            state=JobState.RUNNING, heartbeat_at__lt=now - dt.timedelta(seconds=STALE_SECONDS)
        )
        await stale.filter(attempts__gte=MAX_ATTEMPTS).update(
            state=JobState.FAILED,
            finished_at=now,
            error=stored(STOPPED),
        )
        return await stale.update(state=JobState.QUEUED, runner="")

    async def claim(self, now: dt.datetime) -> PlannerJob | None:
        """The oldest queued job, now running here; ``None`` when none is queued. Two
        runners never claim the same job: the update only applies while it is queued."""
        while True:
            row = await PlannerJob.filter(state=JobState.QUEUED).order_by("id").first()
            if row is None:
                return None
            taken = await PlannerJob.filter(id=row.id, state=JobState.QUEUED).update(
                state=JobState.RUNNING,
                runner=self.name,
                attempts=row.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                done_steps=0,
                total_steps=0,
            )
            if taken:
                return await PlannerJob.get(id=row.id)

    async def run_once(self) -> int | None:
        """Claim and run one job; its number, or ``None`` when none was queued."""
        await self.requeue_stale(self.clock.now())
        row = await self.claim(self.clock.now())
        if row is None:
            return None
        job_id: int = row.id
        mine = PlannerJob.filter(id=row.id, runner=self.name, state=JobState.RUNNING)
        progress = Progress()
        task = asyncio.create_task(
            self.work.compute(JobKind(row.kind), row.params, progress, self.clock.now())
        )
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=HEARTBEAT_SECONDS)
                await mine.update(
                    heartbeat_at=self.clock.now(),
                    done_steps=progress.done,
                    total_steps=progress.total,
                )
        except asyncio.CancelledError:
            # This process is stopping: another runner starts the job again at once.
            task.cancel()
            await mine.update(state=JobState.QUEUED, runner="")
            raise
        try:
            outcome = task.result()
        except Unavailable:
            raise  # the database went away: the job is queued again once it is back
        except Exception as exc:
            # Running it again would refuse again: the job fails now, with the reason.
            await mine.update(
                state=JobState.FAILED, finished_at=self.clock.now(), error=stored(_reason(exc))
            )
            log.warning("planner job %d failed: %s", job_id, type(exc).__name__)
            log.debug("planner job %d failed", job_id, exc_info=exc)
            return job_id
        await mine.update(
            state=JobState.DONE,
            finished_at=self.clock.now(),
            done_steps=progress.total,
            total_steps=progress.total,
            result=json.dumps(asdict(outcome)),
        )
        log.info("planner job %d done", job_id)
        return job_id

    async def run(self, stop: asyncio.Event, interval: float = INTERVAL_SECONDS) -> None:
        while not stop.is_set():
            ran: int | None = None
            try:
                ran = await self.run_once()
            except Unavailable:
                log.warning("planner jobs: the database is unavailable; trying again")
            except Exception as exc:  # a bug in one job must not stop the runner
                log.error("planner jobs: %s", type(exc).__name__)
            if ran is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)


def _reason(exc: Exception) -> Said:
    """Why a job failed, for planners: what the domain refused (its reasons name areas,
    files and columns, never a resident), a file or value it could not read; else that it
    failed, with the details in the log only."""
    if isinstance(exc, DomainError):
        return exc.said
    if isinstance(exc, ValueError | OSError):
        return said_of(exc)
    return FAILED


@contextlib.asynccontextmanager
async def running_jobs(
    settings: Settings, *, clock: Clock | None = None, interval: float = INTERVAL_SECONDS
) -> AsyncIterator[JobRunner]:
    """Run queued planner jobs in a background task while the block runs. A job still
    running at exit is cancelled and runs again from the start elsewhere (its heartbeat
    stops)."""
    runner = JobRunner(settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop, interval), name="resourcemap planner jobs")
    try:
        yield runner
    finally:
        stop.set()
        await tasks.cancel(task)
