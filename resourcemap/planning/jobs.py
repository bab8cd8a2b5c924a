"""Planner jobs (#22): computations that take minutes run in the background, so a request
never waits for them; their progress and results are stored in the database.

A planner asks for a job (``submit``) and gets its number at once; a page or a script then
reads its state (``job``); ``job_runner`` runs them. Asking again for a job that is
queued, running, or done on the same data returns that job instead of computing it twice.

Three kinds of job (``JobKind``): coverage of the GeoParquet demand dataset (a province's
tens of millions of points, ``planning.dataset_coverage``, on the Dask cluster when one is
set), E2SFCA access per area (``planning.access``) and siting (``planning.siting``). What
each found is a typed outcome (``planning.job_outcomes``); ``planning.job_work`` computes
them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from resourcemap.errors import Forbidden, InvalidInput, NotFound
from resourcemap.models import PlannerJob
from resourcemap.planning.access import AccessQuery
from resourcemap.planning.area_places import area_places
from resourcemap.planning.coverage import CoverageQuery, data_version
from resourcemap.planning.demand_dataset import DemandDataset, files_version
from resourcemap.planning.job_outcomes import (
    AccessOutcome,
    CoverageOutcome,
    Outcome,
    SitingOutcome,
)
from resourcemap.planning.siting import SitingRequest
from resourcemap.said import N_, Said, from_stored
from resourcemap.scope import AreaScope
from resourcemap.settings import Settings

RECENT = 20


class JobKind(StrEnum):
    DATASET_COVERAGE = "dataset_coverage"
    ACCESS = "access"
    SITING = "siting"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SitingJob(SitingRequest):
    """A siting request as its job keeps it: with the area it plans for, the asking
    account's (#20; ``None``: the whole city). Set by ``submit``, never by the asker."""

    area: str | None = Field(None, description="the area the sites are planned in")


# What each kind is asked with, and what it finds.
QUERIES: dict[JobKind, type[CoverageQuery]] = {
    JobKind.DATASET_COVERAGE: CoverageQuery,
    JobKind.ACCESS: AccessQuery,
    JobKind.SITING: SitingJob,
}
OUTCOMES: dict[JobKind, type[Outcome]] = {
    JobKind.DATASET_COVERAGE: CoverageOutcome,
    JobKind.ACCESS: AccessOutcome,
    JobKind.SITING: SitingOutcome,
}


def job_query(kind: JobKind, data: dict[str, Any]) -> CoverageQuery:
    """What a job of ``kind`` is asked with, read from a request's fields."""
    return QUERIES[kind].model_validate({k: v for k, v in data.items() if k != "area"})


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
    error: Said | None  # why it failed, read in the planner's language
    outcome: Outcome | None

    @property
    def area(self) -> str | None:
        """The area a siting job plans in (``None``: the whole city, or another kind)."""
        return self.query.area if isinstance(self.query, SitingJob) else None

    def visible_to(self, scope: AreaScope | None) -> bool:
        """Whether an account kept to ``scope`` may read this job at all: not a table at a
        level above its area, nor sites planned for another area."""
        if scope is None:
            return True
        if self.kind is JobKind.SITING and not scope.admits(self.area):
            return False
        return self.query.level.depth >= scope.level.depth

    def within(self, scope: AreaScope | None) -> JobView:
        """The job as an account kept to ``scope`` sees it: only its areas' figures."""
        if scope is None:
            return self
        if self.kind is JobKind.SITING and not scope.admits(self.area):
            raise Forbidden(
                N_("job %(id)s plans sites outside area %(area)s", id=self.id, area=scope.code)
            )
        if self.outcome is None:
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
            "error": None if self.error is None else str(self.error),
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


def demand_dataset(settings: Settings) -> DemandDataset:
    """The demand dataset jobs and planner pages read."""
    return DemandDataset(dataset_directory(settings))


def dataset_files(settings: Settings) -> list[Path]:
    """The files of the demand dataset jobs read (none when it is not there)."""
    return demand_dataset(settings).files()


def _key(kind: JobKind, params: str) -> str:
    return hashlib.sha256(f"{kind.value}\n{params}".encode()).hexdigest()


async def _version(files: list[Path]) -> str:
    return f"{await data_version()}|{files_version(files)}"


async def submit(
    settings: Settings,
    query: CoverageQuery,
    *,
    by: str,
    now: dt.datetime,
    kind: JobKind = JobKind.DATASET_COVERAGE,
    scope: AreaScope | None = None,
) -> JobView:
    """Queue a job of ``kind`` for ``query``, or return the job that already answers it on
    today's data. For an account kept to ``scope``: not a table above its level (#20), and
    sites planned inside its area."""
    if scope is not None:
        scope.check_level(query.level)
    query = job_query(kind, query.model_dump(mode="json"))
    if kind is JobKind.DATASET_COVERAGE:
        version = await _dataset_job_version(settings, query)
    else:  # access and siting read the dataset too where the database holds no demand
        version = await _version(dataset_files(settings))
    if isinstance(query, SitingJob):
        query = query.model_copy(update={"area": None if scope is None else scope.code})
    params = query.model_dump_json()
    key = _key(kind, params)
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


async def _dataset_job_version(settings: Settings, query: CoverageQuery) -> str:
    """Coverage of the demand dataset: straight-line distance, the dataset as the demand."""
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
    return await _version(files)


async def job(job_id: int) -> JobView:
    """One job; a result stored before rows said where their areas are is given them."""
    found = await PlannerJob.get_or_none(id=job_id)
    if found is None:
        raise NotFound(N_("no planner job %(id)s", id=job_id))
    view = _view(found)
    if view.outcome is not None and not view.outcome.placed:
        view = replace(view, outcome=view.outcome.with_places(await area_places()))
    return view


async def recent(scope: AreaScope | None = None, limit: int = RECENT) -> list[JobView]:
    """The newest jobs an account may read (``JobView.visible_to``): one kept to an area
    sees neither tables at a level above its own nor sites planned for another area."""
    found = [_view(j) for j in await PlannerJob.all().order_by("-id").limit(limit)]
    return [j for j in found if j.visible_to(scope)]


def _view(row: PlannerJob) -> JobView:
    kind = JobKind(row.kind)
    outcome = None
    if row.state == JobState.DONE and row.result:
        outcome = OUTCOMES[kind].from_json(json.loads(row.result))
    return JobView(
        id=row.id,
        kind=kind,
        state=JobState(row.state),
        query=QUERIES[kind].model_validate_json(row.params),
        done_steps=row.done_steps,
        total_steps=row.total_steps,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=from_stored(row.error) if row.error else None,
        outcome=outcome,
    )
