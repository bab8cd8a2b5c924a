"""Planner jobs (#22): computations that take minutes run in the background, so a request
never waits for them; their progress and results are stored in the database.

A planner asks for a job (``submit``) and gets its number at once; a page or a script then
reads its state (``job``). Any process with a runner (``running_jobs``: in each app process
when ``RESOURCEMAP_RUN_WORKER`` is true, and in ``resourcemap worker``) takes the oldest
queued job by one conditional update — whichever process wins, the job runs once — and
beats a heartbeat while it runs. A job whose runner stopped beating (the process died) is
queued again, at most ``MAX_ATTEMPTS`` times in all. Asking again for a job that is queued,
running, or done on the same data returns that job instead of computing it twice.

Today's job: coverage of the GeoParquet demand dataset (a province's tens of millions of
points, ``planning.dataset_coverage``), computed by the Dask cluster when one is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from geo.demand_parquet import demand_files
from resourcemap.clock import Clock, SystemClock
from resourcemap.errors import InvalidInput, NotFound, Unavailable
from resourcemap.models import PlannerJob
from resourcemap.planning.coverage import CoverageQuery, data_version
from resourcemap.planning.dataset_coverage import DatasetCoverage, dataset_coverage, rows_csv
from resourcemap.scope import AreaScope
from resourcemap.settings import Settings

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 2.0
HEARTBEAT_SECONDS = 2.0
# A runner silent this long has stopped (its process died): its job is queued again.
STALE_SECONDS = 60.0
MAX_ATTEMPTS = 3
RECENT = 20


class JobKind(StrEnum):
    DATASET_COVERAGE = "dataset_coverage"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    level: str
    population: float
    covered: float
    share: float | None
    points: int


@dataclass(frozen=True)
class CoverageOutcome:
    """What a dataset coverage job found: the totals and one row per area."""

    population: float
    covered: float
    share: float | None
    points: int
    resources: int
    workers: int  # Dask workers that computed it; 0: the runner's own process
    rows: tuple[AreaRow, ...]

    @classmethod
    def of(cls, done: DatasetCoverage) -> CoverageOutcome:
        r = done.result
        rows = tuple(
            AreaRow(
                row.code, row.name, row.level, row.population, row.covered, row.share, row.points
            )
            for row in r.table(done.tree, str(done.query.level))
        )
        return cls(
            r.population,
            r.covered_population,
            r.share,
            int(r.sums.points.sum()),
            done.resources,
            done.workers,
            rows,
        )

    def within(self, scope: AreaScope) -> CoverageOutcome:
        """Only the areas inside ``scope``, totals summed again from them (#20)."""
        rows = tuple(row for row in self.rows if scope.admits(row.code))
        population = sum(row.population for row in rows)
        covered = sum(row.covered for row in rows)
        return replace(
            self,
            population=population,
            covered=covered,
            share=covered / population if population > 0 else None,
            points=sum(row.points for row in rows),
            rows=rows,
        )

    def csv(self) -> str:
        return rows_csv(self.rows)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoverageOutcome:
        rows = tuple(AreaRow(**row) for row in data["rows"])
        return cls(**{**data, "rows": rows})


@dataclass(frozen=True)
class JobView:
    """A job as planners see it."""

    id: int
    kind: JobKind
    state: JobState
    query: CoverageQuery
    done_steps: int
    total_steps: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str
    outcome: CoverageOutcome | None

    def within(self, scope: AreaScope | None) -> JobView:
        """The job as an account kept to ``scope`` sees it: only its areas' figures."""
        if scope is None or self.outcome is None:
            return self
        scope.check_level(self.query.level)
        return replace(self, outcome=self.outcome.within(scope))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "state": self.state.value,
            "query": self.query.model_dump(mode="json"),
            "progress": self.progress,
            "done_steps": self.done_steps,
            "total_steps": self.total_steps,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error or None,
            "result": asdict(self.outcome) if self.outcome else None,
        }

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def progress(self) -> float | None:
        """Share of the steps done; ``None`` before the runner knows how many there are."""
        if self.state is JobState.DONE:
            return 1.0
        return self.done_steps / self.total_steps if self.total_steps else None


def dataset_directory(settings: Settings) -> Path:
    """Where the demand dataset jobs read is: configured, or the province demo's."""
    return settings.demand_dataset or settings.data_dir / "province-demand"


def dataset_files(settings: Settings) -> list[Path]:
    """The files of the demand dataset jobs read (none when it is not there)."""
    try:
        return demand_files(dataset_directory(settings))
    except FileNotFoundError:
        return []


def _dataset_version(files: list[Path]) -> str:
    """Changes whenever a file of the dataset is written, added or removed."""
    stats = [(f.name, (s := f.stat()).st_size, s.st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]


def _key(kind: JobKind, params: str) -> str:
    return hashlib.sha256(f"{kind.value}\n{params}".encode()).hexdigest()


async def _version(files: list[Path]) -> str:
    return f"{await data_version()}|{_dataset_version(files)}"


async def submit(settings: Settings, query: CoverageQuery, *, by: str, now: dt.datetime) -> JobView:
    """Queue coverage of the demand dataset for ``query`` (straight-line distance; the
    dataset is the demand), or return the job that already answers it on today's data."""
    if query.mode != "straight":
        raise InvalidInput("mode: a demand dataset's coverage is straight-line distance only")
    if query.demand is not None:
        raise InvalidInput("demand: the job reads the demand dataset; leave demand empty")
    files = dataset_files(settings)
    if not files:
        raise InvalidInput(
            f"demand dataset: no GeoParquet files in {dataset_directory(settings)} "
            "(`resourcemap demo --scale province` writes one; RESOURCEMAP_DEMAND_DATASET names it)"
        )
    kind = JobKind.DATASET_COVERAGE
    params = query.model_dump_json()
    key = _key(kind, params)
    version = await _version(files)
    same = PlannerJob.filter(params_key=key)
    found = await same.filter(state__in=(JobState.QUEUED, JobState.RUNNING)).order_by("id").first()
    if found is None:
        found = await same.filter(state=JobState.DONE, data_version=version).order_by("-id").first()
    if found is None:
        found = await PlannerJob.create(
            kind=kind,
            params=params,
            params_key=key,
            data_version=version,
            created_by=by,
            created_at=now,
        )
    return _view(found)


async def job(job_id: int) -> JobView:
    found = await PlannerJob.get_or_none(id=job_id)
    if found is None:
        raise NotFound(f"no planner job {job_id}")
    return _view(found)


async def recent(scope: AreaScope | None = None, limit: int = RECENT) -> list[JobView]:
    """The newest jobs an account may read: one kept to an area does not see tables at a
    level above its own (``JobView.within`` would refuse them)."""
    found = [_view(j) for j in await PlannerJob.all().order_by("-id").limit(limit)]
    top = 0 if scope is None else scope.level.depth
    return [j for j in found if j.query.level.depth >= top]


def _view(row: PlannerJob) -> JobView:
    outcome = None
    if row.state == JobState.DONE and row.result:
        outcome = CoverageOutcome.from_json(json.loads(row.result))
    return JobView(
        id=row.id,
        kind=JobKind(row.kind),
        state=JobState(row.state),
        query=CoverageQuery.model_validate_json(row.params),
        done_steps=row.done_steps,
        total_steps=row.total_steps,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        outcome=outcome,
    )


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
            error=f"stopped {MAX_ATTEMPTS} times before it finished",
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
        query = CoverageQuery.model_validate_json(row.params)
        task = asyncio.create_task(
            dataset_coverage(
                dataset_directory(self.settings),
                query,
                self.settings.dask_scheduler,
                progress=progress,
            )
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
            outcome = CoverageOutcome.of(task.result())
        except (InvalidInput, ValueError, OSError) as exc:
            # Messages of these name files and columns, never a resident.
            await mine.update(state=JobState.FAILED, finished_at=self.clock.now(), error=str(exc))
            log.warning("planner job %d failed: %s", job_id, type(exc).__name__)
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
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
