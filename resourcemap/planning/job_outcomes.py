"""What planner jobs (#22) found, as typed outcomes stored as JSON: coverage of the demand
dataset, E2SFCA access per area, and recommended sites.

Each outcome cuts itself to an account's area (``within``, #20) and writes its table as CSV.
Coverage and access are computed for the whole city and cut when read, so an area's figures
are the same for every reader; a siting job plans for the area it was asked for.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from resourcemap.cells import guarded_row
from resourcemap.planning.access import AccessFigures, AccessReport
from resourcemap.planning.dataset_coverage import DatasetCoverage, rows_csv
from resourcemap.planning.siting import Site, SitingFigures, SitingResult, sites_csv
from resourcemap.scope import AreaScope


def _typed(data: dict[str, Any], key: str, row: Callable[..., object]) -> dict[str, Any]:
    """Stored JSON with its list ``key`` made typed rows again."""
    return {**data, key: tuple(row(**item) for item in data[key])}


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
        return cls(**_typed(data, "rows", AreaRow))


@dataclass(frozen=True)
class AccessRow(AccessFigures):
    """One area's E2SFCA figures and the services located in it."""

    services: int  # point services located in the area
    evening_services: int
    supply: float  # what those services offer together


ACCESS_COLUMNS = (
    "code", "name", "level", "population", "access_per_1000", "no_service_share",
    "evening_share", "services", "supply",
)  # fmt: skip


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@dataclass(frozen=True)
class AccessOutcome:
    """What an E2SFCA job found: the totals and one row per area (waiting is not part of
    it: it changes by the minute and the access page reads it fresh)."""

    population: float
    access: float | None  # the whole demand's mean, per 1,000 residents
    supply: float
    services: int
    evening_services: int
    unit: str
    demand_method: str
    rows: tuple[AccessRow, ...]

    @classmethod
    def of(cls, report: AccessReport, located: dict[str, tuple[int, int, float]]) -> AccessOutcome:
        """``report`` for the whole city; ``located``: per area of its level, the services
        located there, those open evenings or weekends, and their supply."""
        rows = tuple(
            AccessRow(
                r.code,
                r.name,
                r.level,
                r.population,
                r.access,
                r.no_service,
                r.evening_covered,
                *located.get(r.code, (0, 0, 0.0)),
            )
            for r in report.rows
        )
        return cls(
            report.population,
            report.access,
            report.supply_total,
            report.services,
            report.evening_services,
            report.unit,
            report.demand_method,
            rows,
        )

    @property
    def evening_share(self) -> float | None:
        if self.population <= 0:
            return None
        return sum(r.evening_covered for r in self.rows) / self.population

    def within(self, scope: AreaScope) -> AccessOutcome:
        """Only the areas inside ``scope``; totals summed again from them (#20)."""
        rows = tuple(row for row in self.rows if scope.admits(row.code))
        population = sum(r.population for r in rows)
        weighted = sum(r.population * r.access for r in rows if r.access is not None)
        return replace(
            self,
            population=population,
            access=weighted / population if population > 0 else None,
            supply=sum(r.supply for r in rows),
            services=sum(r.services for r in rows),
            evening_services=sum(r.evening_services for r in rows),
            rows=rows,
        )

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ACCESS_COLUMNS)
        for r in self.rows:
            access = "" if r.access is None else f"{r.access:.4f}"
            writer.writerow(
                guarded_row(
                    [
                        r.code,
                        r.name,
                        r.level,
                        f"{r.population:.0f}",
                        access,
                        _share(r.no_service_share),
                        _share(r.evening_share),
                        r.services,
                        f"{r.supply:g}",
                    ]
                )
            )
        return out.getvalue()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessOutcome:
        return cls(**_typed(data, "rows", AccessRow))


@dataclass(frozen=True)
class SitingOutcome(SitingFigures):
    """What a siting job found: the recommended sites in pick order and what they add."""

    @classmethod
    def of(cls, result: SitingResult) -> SitingOutcome:
        return cls(**{f.name: getattr(result, f.name) for f in fields(SitingFigures)})

    @property
    def rows(self) -> tuple[Site, ...]:
        """The rows of its table, as every outcome has: the sites."""
        return self.sites

    @property
    def added(self) -> float:
        return sum(s.adds for s in self.sites)

    def within(self, scope: AreaScope) -> SitingOutcome:
        """Only the sites inside ``scope`` (a job asked for by an account kept to an area
        plans inside it: all of them)."""
        return replace(self, sites=tuple(s for s in self.sites if scope.admits(s.community)))

    def csv(self) -> str:
        return sites_csv(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SitingOutcome:
        return cls(**_typed(data, "sites", Site))


Outcome = CoverageOutcome | AccessOutcome | SitingOutcome
