"""What planner jobs (#22) found, as typed outcomes stored as JSON: coverage of the demand
dataset, E2SFCA access per area, and recommended sites.

Each outcome cuts itself to an account's area (``within``, #20) and writes its table as CSV.
Coverage and access are computed for the whole city and cut when read, so an area's figures
are the same for every reader; a siting job plans for the area it was asked for.

Each row keeps where its area is (``Place``: its English name and the areas above it), since
a province repeats community names; results stored before rows kept it are given their
places when read (``with_places``, ``placed``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Self, cast

from geo.areatree import LEVELS
from resourcemap.cells import guarded_row
from resourcemap.planning.access import AccessFigures, AccessReport
from resourcemap.planning.area_places import Parent, Place, Placed, Places
from resourcemap.planning.dataset_coverage import DatasetCoverage, rows_csv
from resourcemap.planning.siting import Site, SitingFigures, SitingResult, sites_csv
from resourcemap.scope import AreaScope


def _parents(stored: object) -> tuple[Parent, ...]:
    """A row's stored parents as typed ones (none in results stored before rows had them)."""
    return tuple(Parent(**p) for p in stored) if isinstance(stored, list | tuple) else ()


def _typed(data: dict[str, Any], key: str, row: Callable[..., object]) -> dict[str, Any]:
    """Stored JSON with its list ``key`` made typed rows again."""
    rows = tuple(row(**{**item, "parents": _parents(item.get("parents"))}) for item in data[key])
    return {**data, key: rows}


def _placed_csv(table: str, rows: Sequence[Placed], name_en: str = "name_en") -> str:
    """``table`` (a CSV of ``rows``, in order) with the English name and the areas above
    each row's after its columns: ``city``, ``city_en``, ``district``, … for the levels
    above the rows'."""
    levels = [lv for lv in LEVELS if any(p.level == lv for r in rows for p in r.place.parents)]
    lines = list(csv.reader(io.StringIO(table)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*lines[0], name_en, *(f"{lv}{en}" for lv in levels for en in ("", "_en"))])
    for cells, row in zip(lines[1:], rows, strict=True):
        above = {p.level: (p.name, p.name_en) for p in row.place.parents}
        names = [n for lv in levels for n in above.get(lv, ("", ""))]
        writer.writerow([*cells, *guarded_row([row.place.name_en, *names])])
    return out.getvalue()


class NamedRow:
    """What a row named by its own area (``name``, ``name_en``, ``parents``) says of where
    it is; a dataclass row takes it on."""

    code: str
    name: str
    name_en: str
    parents: tuple[Parent, ...]

    @property
    def place(self) -> Place:
        return Place(self.name, self.name_en, self.parents)

    def placed(self, places: Places) -> Self:
        """The row with where its area is, as ``places`` has it."""
        where = places.get(self.code)
        if where is None:
            return self
        row: Any = self  # a dataclass: each subclass is one
        return cast(Self, replace(row, name_en=where.name_en, parents=where.parents))


@dataclass(frozen=True)
class AreaRow(NamedRow):
    code: str
    name: str
    level: str
    population: float
    covered: float
    share: float | None
    points: int
    name_en: str = ""
    parents: tuple[Parent, ...] = ()  # nearest first; none in results stored before

    @property
    def uncovered(self) -> float:
        return self.population - self.covered


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
    placed: bool = False  # its rows say where their areas are (not in results stored before)

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

    def with_places(self, places: Places) -> CoverageOutcome:
        """The outcome with each row's place (``area_places``)."""
        return replace(self, rows=tuple(r.placed(places) for r in self.rows), placed=True)

    def csv(self) -> str:
        """The command's table, then each area's English name and the areas above it."""
        return _placed_csv(rows_csv(self.rows), self.rows)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoverageOutcome:
        return cls(**_typed(data, "rows", AreaRow))


@dataclass(frozen=True)
class AccessRow(AccessFigures, NamedRow):
    """One area's E2SFCA figures and the services located in it."""

    services: int  # point services located in the area
    evening_services: int
    supply: float  # what those services offer together
    name_en: str = ""
    parents: tuple[Parent, ...] = ()  # nearest first; none in results stored before


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
    placed: bool = False  # its rows say where their areas are (not in results stored before)

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

    def with_places(self, places: Places) -> AccessOutcome:
        """The outcome with each row's place (``area_places``)."""
        return replace(self, rows=tuple(r.placed(places) for r in self.rows), placed=True)

    def csv(self) -> str:
        """One row per area, then its English name and the areas above it."""
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
        return _placed_csv(out.getvalue(), self.rows)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessOutcome:
        return cls(**_typed(data, "rows", AccessRow))


@dataclass(frozen=True)
class SiteRow(Site):
    """A recommended site, with where its community is."""

    community_name_en: str = ""
    parents: tuple[Parent, ...] = ()  # the community's, nearest first

    @property
    def code(self) -> str:
        return self.community or ""

    @property
    def place(self) -> Place:
        return Place(self.community_name or "", self.community_name_en, self.parents)

    def placed(self, places: Places) -> SiteRow:
        where = places.get(self.code)
        if where is None:
            return self
        return replace(self, community_name_en=where.name_en, parents=where.parents)


@dataclass(frozen=True)
class SitingOutcome(SitingFigures):
    """What a siting job found: the recommended sites in pick order and what they add."""

    sites: tuple[SiteRow, ...]
    placed: bool = False  # its sites say where their communities are (not in results before)

    @classmethod
    def of(cls, result: SitingResult) -> SitingOutcome:
        figures = {f.name: getattr(result, f.name) for f in fields(SitingFigures)}
        sites = tuple(
            SiteRow(**{f.name: getattr(s, f.name) for f in fields(Site)}) for s in result.sites
        )
        return cls(**{**figures, "sites": sites})

    @property
    def rows(self) -> tuple[SiteRow, ...]:
        """The rows of its table, as every outcome has: the sites."""
        return self.sites

    @property
    def added(self) -> float:
        return sum(s.adds for s in self.sites)

    def within(self, scope: AreaScope) -> SitingOutcome:
        """Only the sites inside ``scope`` (a job asked for by an account kept to an area
        plans inside it: all of them)."""
        return replace(self, sites=tuple(s for s in self.sites if scope.admits(s.community)))

    def with_places(self, places: Places) -> SitingOutcome:
        """The outcome with each site's community's place (``area_places``)."""
        return replace(self, sites=tuple(s.placed(places) for s in self.sites), placed=True)

    def csv(self) -> str:
        """The siting page's CSV, then each community's English name and the areas above it."""
        return _placed_csv(sites_csv(self), self.sites, "community_name_en")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SitingOutcome:
        return cls(**_typed(data, "sites", SiteRow))


Outcome = CoverageOutcome | AccessOutcome | SitingOutcome
