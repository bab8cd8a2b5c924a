"""Planner jobs (#22): computations that take minutes run in the background, so a request
never waits for them; their progress and results are stored in the database.

A planner asks for a job (``submit``) and gets its number at once; a page or a script then
reads its state (``job``); ``job_runner`` runs them. Asking again for a job that is
queued, running, or done on the same data returns that job instead of computing it twice.

Today's job: coverage of the GeoParquet demand dataset (a province's tens of millions of
points, ``planning.dataset_coverage``), computed by the Dask cluster when one is set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from geo.demand_parquet import demand_files
from resourcemap.errors import InvalidInput, NotFound
from resourcemap.models import PlannerJob
from resourcemap.planning.coverage import CoverageQuery, data_version
from resourcemap.planning.dataset_coverage import DatasetCoverage, rows_csv
from resourcemap.scope import AreaScope
from resourcemap.settings import Settings

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
