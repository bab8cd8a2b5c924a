"""What a planner job (#22) computes, by kind: the same functions a request would call, so a
job's result is the one the page would have shown — only no request waits for it.

The heavy parts run in worker threads (the Dask cluster for the demand dataset); each kind
reports its steps through ``progress(done, total)``: files for the dataset; for access the
stages it passes (the residents, services and E2SFCA; the figures per area; the services
per area); for siting the residents, the candidate sites, then each site as it is picked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from geo.coverage import AreaSums, area_table
from resourcemap.planning.access import AccessQuery, AccessService
from resourcemap.planning.area_places import area_places
from resourcemap.planning.coverage import CoverageQuery, CoverageService
from resourcemap.planning.dataset_coverage import dataset_coverage
from resourcemap.planning.job_outcomes import (
    AccessOutcome,
    CoverageOutcome,
    Outcome,
    SitingOutcome,
)
from resourcemap.planning.jobs import QUERIES, JobKind, SitingJob, dataset_directory, demand_dataset
from resourcemap.planning.siting import SitingRequest, plan
from resourcemap.scope import area_scope
from resourcemap.settings import Settings

Progress = Callable[[int, int], None]
ACCESS_STEPS = 3  # the residents, services and E2SFCA; the figures per area; the services'


class JobWork:
    """The computations behind planner jobs, with the coverage and access services (and
    their caches) they share while this runner lives."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.coverage = CoverageService(
            streets_file=settings.streets_file,
            dataset=demand_dataset(settings),
        )
        self.access = AccessService(self.coverage)

    async def compute(
        self, kind: JobKind, params: str, progress: Progress, now: dt.datetime
    ) -> Outcome:
        """What a job of ``kind`` asked with ``params`` (its stored JSON) finds, each row
        saying where its area is."""
        found = await self.outcome(kind, QUERIES[kind].model_validate_json(params), progress, now)
        return found.with_places(await area_places())

    async def outcome(
        self, kind: JobKind, query: object, progress: Progress, now: dt.datetime
    ) -> Outcome:
        if kind is JobKind.ACCESS:
            assert isinstance(query, AccessQuery)
            return await self.access_outcome(query, progress, now)
        if kind is JobKind.SITING:
            assert isinstance(query, SitingJob)
            return await self.siting_outcome(query, progress)
        assert isinstance(query, CoverageQuery)
        done = await dataset_coverage(
            dataset_directory(self.settings),
            query,
            self.settings.dask_scheduler,
            progress=progress,
        )
        return CoverageOutcome.of(done)

    async def access_outcome(
        self, query: AccessQuery, progress: Progress, now: dt.datetime
    ) -> AccessOutcome:
        """E2SFCA access for the whole city, per area of ``query.level``, with the services
        located in each area (so that a cut to an account's area counts its own)."""
        progress(0, ACCESS_STEPS)
        state = await self.access.computed(query)
        progress(1, ACCESS_STEPS)
        report = await self.access.report(query, now=now, tz=self.settings.tz)
        progress(2, ACCESS_STEPS)
        offers, level = state.offers, str(query.level)
        located: dict[str, tuple[int, int, float]] = {}
        if offers.ids.size:
            codes = state.tree.locate(offers.lon, offers.lat)
            counts = area_table(
                AreaSums.of(codes, np.ones(offers.ids.size), offers.evening), state.tree, level
            )
            supply = area_table(
                AreaSums.of(codes, offers.supply(query.supply), np.zeros(offers.ids.size, bool)),
                state.tree,
                level,
            )
            offered = {row.code: row.population for row in supply}
            located = {
                row.code: (round(row.population), round(row.covered), offered[row.code])
                for row in counts
            }
        progress(ACCESS_STEPS, ACCESS_STEPS)
        return AccessOutcome.of(report, located)

    async def siting_outcome(self, query: SitingJob, progress: Progress) -> SitingOutcome:
        """The sites the siting page would recommend, planned in the job's area."""
        scope = None if query.area is None else await area_scope(query.area)
        request = SitingRequest.model_validate(query.model_dump(exclude={"area"}))
        return SitingOutcome.of(
            await plan(self.coverage, self.access, request, scope, progress=progress)
        )
