# Over 400 lines: the use case and its files share one row shape.
"""Coverage and planning as the product uses them: read the database, analyse with ``geo``.

:class:`CoverageService` loads areas, listings and demand points, runs the vectorised
analysis of :mod:`geo` in a worker thread (the event loop keeps serving requests), and
caches results under a data version that changes whenever listings (the search change
log's last sequence), areas (their last ``updated_at``) or demand points change — so an
edit is seen on the next request and nothing is recomputed while nothing changed.

Which resources count: by default every active service *point* open to the public — the
500 m circle is the distance to a place (shared/CONTEXT.md); a hotline puts no service within
walking reach, and a volunteer team serves a whole area wherever its people live, so counting
it by default made a community with no room in it "100% covered". A school's room serves its
pupils, not the street; ``eligibility="all"`` counts members-only listings too, and every
result says which. Asked for (``kind=volunteer_team``), area-served resources cover every
person in the areas they serve.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from tortoise.functions import Count, Max, Sum

from geo.areatree import AreaNode, AreaTree
from geo.coverage import AreaCoverage, CoverageResult, Supply, coverage
from geo.demand import METHODS, Demand
from geo.gaps import gap_features
from geo.heat import DEFAULT_RESOLUTION, hex_features, hex_heat
from geo.network import StreetGraph, graph_from_geojson, walking_coverage
from resourcemap import db
from resourcemap.cells import guarded_row
from resourcemap.errors import InvalidInput, NotFound
from resourcemap.models import Area, DemandPoint, Organisation, Resource
from resourcemap.planning import indicators
from resourcemap.planning.area_cut import cut
from resourcemap.planning.demand_dataset import PREFIX, DemandDataset
from resourcemap.planning.levels import level_for
from resourcemap.said import N_
from resourcemap.scope import AreaScope
from resourcemap.search import changes
from resourcemap.vocab import (
    AreaLevel,
    Eligibility,
    OrganisationType,
    Placement,
    ResourceKind,
    Service,
    Status,
)

DEFAULT_KINDS = tuple(k for k in ResourceKind if k.info.placement is Placement.POINT)
CACHE_SIZE = 16
# Imported demand sources are stored as "<method>:<name>"; anything else is a grid.
NO_DEMAND = N_("no demand data: import a population raster, points or area totals")


class CoverageQuery(BaseModel):
    """Which coverage: radius, reporting level, and which resources count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    radius_m: float = Field(500.0, gt=0, le=50_000, description="service circle radius, metres")
    level: AreaLevel = AreaLevel.COMMUNITY
    kind: tuple[ResourceKind, ...] | None = None
    service: tuple[Service, ...] | None = None
    status: Status = Status.ACTIVE
    eligibility: Literal["public", "all"] = Field(
        "public", description="count listings open to the public only, or members-only too"
    )
    demand: str | None = Field(None, max_length=100, description="demand source; default latest")
    mode: Literal["straight", "walking"] = Field(
        "straight", description="straight-line distance, or walking over the street network"
    )

    @property
    def kinds(self) -> tuple[ResourceKind, ...]:
        return self.kind or DEFAULT_KINDS

    async def settled(self) -> Self:
        """This query with a level left to its default made the deepest level the stored
        areas have (``levels.level_for``; one asked for and absent is refused)."""
        level = await level_for(self.level, asked="level" in self.model_fields_set)
        return self if level is self.level else self.model_copy(update={"level": level})


class HeatQuery(CoverageQuery):
    resolution: int = Field(DEFAULT_RESOLUTION, ge=5, le=11, description="H3 resolution")


@dataclass(frozen=True)
class Analysis:
    """One computed coverage with everything needed to draw and export it."""

    query: CoverageQuery
    tree: AreaTree
    demand: Demand
    supply: Supply
    result: CoverageResult
    resources: int  # how many resources were counted
    version: str
    kind_counts: tuple[tuple[ResourceKind, int], ...] = ()  # resources counted, by kind
    point_kinds: tuple[ResourceKind, ...] = ()  # the kind of each point of ``supply``
    team_areas: tuple[tuple[ResourceKind, tuple[str, ...]], ...] = ()  # area-served, counted
    # Cut to an account's area (#20): the area, and the service points inside it to show
    # (``supply`` keeps those outside too: their circles reach in).
    area: AreaNode | None = None
    shown: Supply | None = None

    @property
    def shown_supply(self) -> Supply:
        return self.supply if self.shown is None else self.shown

    def table(self, level: AreaLevel | None = None) -> list[AreaCoverage]:
        return self.result.table(self.tree, str(level or self.query.level))

    @property
    def description(self) -> str:
        r, q = self.result, self.query
        kinds = "every service point" if q.kind is None else ", ".join(k.value for k in q.kinds)
        services = "" if not q.service else f", offering {', '.join(s.value for s in q.service)}"
        who = "open to the public" if q.eligibility == "public" else "public and members-only"
        return (
            f"{r.mode} distance within {r.radius_m:g} m of {self.resources} {q.status.value} "
            f"resources {who} ({kinds}{services}); "
            f"demand: {r.demand_method} from {r.demand_source!r}"
        )


# --- reading the database -----------------------------------------------------------------


async def data_version() -> str:
    """Changes whenever listings, areas or demand points change."""
    seq = await changes.latest_seq()
    area = await Area.all().annotate(m=Max("updated_at"), n=Count("code")).values_list("m", "n")
    demand = await DemandPoint.all().annotate(m=Max("id"), n=Count("id")).values_list("m", "n")
    return f"{seq}|{area[0] if area else ''}|{demand[0] if demand else ''}"


async def load_tree() -> AreaTree:
    rows = await Area.all().values_list(
        "code", "level", "parent_id", "name_zh", "boundary", "population"
    )
    return AreaTree.build(
        AreaNode(str(c), str(lv), p, n, b, float(pop or 0)) for c, lv, p, n, b, pop in rows
    )


@dataclass(frozen=True)
class SupplyRead:
    """The resources that count, as points and served areas, with each one's kind."""

    supply: Supply
    counted: Counter[ResourceKind]
    point_kinds: tuple[ResourceKind, ...]
    team_areas: tuple[tuple[ResourceKind, tuple[str, ...]], ...]


async def load_supply(query: CoverageQuery) -> tuple[Supply, Counter[ResourceKind]]:
    read = await read_supply(query)
    return read.supply, read.counted


def counted_where(query: CoverageQuery) -> dict[str, Any]:
    """The listings ``query`` counts, as ORM filters: its kinds and status, and only those
    open to the public unless ``eligibility`` is all. Coverage and access count the same."""
    where: dict[str, Any] = {"kind__in": list(query.kinds), "status": query.status}
    if query.eligibility == "public":
        where["eligibility"] = Eligibility.PUBLIC
    return where


async def read_supply(query: CoverageQuery) -> SupplyRead:
    where = counted_where(query)
    columns = ("kind", "lat", "lon", "services", "service_area_codes")
    rows = [
        r[1:]
        async for batch in db.rows_in_batches(Resource, None, *columns, **where)
        for r in batch
    ]
    wanted = set(query.service or ())
    lon: list[float] = []
    lat: list[float] = []
    kinds: list[ResourceKind] = []
    teams: list[tuple[ResourceKind, tuple[str, ...]]] = []
    counted: Counter[ResourceKind] = Counter()
    for kind, y, x, services, areas in rows:
        if wanted and not wanted & set(services or ()):
            continue
        k = ResourceKind(kind)
        counted[k] += 1
        if k.info.placement is Placement.AREA or y is None or x is None:
            teams.append((k, tuple(areas or ())))
        else:
            lon.append(x)
            lat.append(y)
            kinds.append(k)
    served = [code for _, codes in teams for code in codes]
    return SupplyRead(Supply.of(lon, lat, served), counted, tuple(kinds), tuple(teams))


async def demand_sources() -> list[tuple[str, int, float]]:
    """Each demand source with its point count and total weight, newest first."""
    rows = await (
        DemandPoint.all()
        .group_by("source")
        .annotate(n=Count("id"), last=Max("id"), total=Sum("weight"))
        .order_by("-last")
        .values_list("source", "n", "total")
    )
    return [(str(s), int(n), float(t or 0)) for s, n, t in rows]


def demand_method(source: str) -> str:
    prefix = source.split(":", 1)[0]
    return prefix if ":" in source and prefix in METHODS else "grid"


async def load_demand(source: str | None, dataset: DemandDataset | None = None) -> Demand:
    """The demand points of ``source`` (the newest imported when ``None``). Where the
    database holds none, or ``source`` names it, the demand dataset's (#22)."""
    sources = [s for s, _, _ in await demand_sources()]
    wants_dataset = (source is None and not sources) or (source or "").startswith(PREFIX)
    if dataset is not None and wants_dataset and dataset.files():
        return await dataset.load()
    if not sources:
        raise NotFound(NO_DEMAND, code="no_demand")
    chosen = source or sources[0]
    if chosen not in sources:
        raise InvalidInput(
            f"unknown demand source {chosen!r}; known: {', '.join(sources)}", field="demand"
        )
    rows = (
        await DemandPoint.filter(source=chosen)
        .order_by("id")
        .values_list("lon", "lat", "weight", "area_id")
    )
    arr = np.array([(x, y, w) for x, y, w, _ in rows], dtype=np.float64).reshape(-1, 3)
    area = np.array([a or "" for *_, a in rows], dtype="<U12")
    return Demand.of(
        arr[:, 0], arr[:, 1], arr[:, 2], method=demand_method(chosen), source=chosen, area=area
    )


async def organisation_types() -> dict[int, OrganisationType]:
    rows = await Organisation.all().values_list("id", "type")
    return {int(i): OrganisationType(t) for i, t in rows}


async def resource_facts() -> list[indicators.ResourceFact]:
    rows = await Resource.all().values_list(
        "kind", "status", "organisation_id", "city_code", "district_code", "street_code",
        "community_code", "service_area_codes", "always_open",
    )  # fmt: skip
    return [
        indicators.ResourceFact(
            kind=ResourceKind(kind),
            status=Status(status),
            organisation_id=org,
            codes={"city": c, "district": d, "street": s, "community": m},
            service_area_codes=tuple(areas or ()),
            always_open=bool(always),
        )
        for kind, status, org, c, d, s, m, areas, always in rows
    ]


# --- the service ----------------------------------------------------------------------------


# What a drawing is of: its kind, the data version, the query, the account's area and the
# outline tolerance.
DrawingKey = tuple[str, str, str, AreaScope | None, float]
DRAWINGS = 8  # a map's outlines and hexagons kept, per level and query: a few MB each


class CoverageService:
    """Computes and caches analyses for one database (one per app, one per CLI run).

    ``streets_file`` (GeoJSON lines) is the street network for ``mode="walking"``, read on
    first use and kept.
    """

    def __init__(
        self,
        cache_size: int = CACHE_SIZE,
        *,
        streets_file: str | Path = "",
        dataset: DemandDataset | None = None,
    ) -> None:
        self.dataset = dataset
        self._cache: OrderedDict[tuple[str, str], Analysis] = OrderedDict()
        self._drawings: OrderedDict[DrawingKey, list[dict[str, Any]]] = OrderedDict()
        self._draw_locks: dict[DrawingKey, asyncio.Lock] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._cache_size = cache_size
        self._streets_file = Path(streets_file) if str(streets_file) else None
        self._streets: StreetGraph | None = None

    async def version(self) -> str:
        """Changes whenever listings, areas or demand (imported or the dataset) change."""
        found = self.dataset.version() if self.dataset is not None else ""
        return f"{await data_version()}|{found}"

    async def street_graph(self) -> StreetGraph:
        """The configured street network, or ``InvalidInput`` saying none is configured."""
        if self._streets is None:
            path = self._streets_file
            if path is None:
                raise InvalidInput(
                    "walking distance needs a street network: set RESOURCEMAP_STREETS_FILE "
                    "to a GeoJSON file of street lines",
                    field="mode",
                    code="no_streets",
                )
            try:
                self._streets = await asyncio.to_thread(_read_streets, path)
            except (OSError, ValueError) as exc:
                raise InvalidInput(f"street network {path.name}: {exc}", field="mode") from None
        return self._streets

    async def analyse(
        self,
        query: CoverageQuery,
        *,
        scope: AreaScope | None = None,
        streets: StreetGraph | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Analysis:
        """The coverage for ``query`` (cached while the data stay the same). ``streets``
        (a one-off network, as the CLI's ``--streets`` gives) means walking distance over it;
        ``query.mode="walking"`` uses the configured one. ``scope``: cut to the area an
        account is kept to (:mod:`resourcemap.planning.area_cut`)."""
        if scope is not None:
            scope.check_level(query.level)
        query = await query.settled()
        whole = await self._analyse(query, streets=streets, progress=progress)
        return whole if scope is None else cut(whole, scope)

    async def _analyse(
        self,
        query: CoverageQuery,
        *,
        streets: StreetGraph | None,
        progress: Callable[[str], None] | None,
    ) -> Analysis:
        say = progress or (lambda _m: None)
        version = await self.version()
        base = CoverageQuery.model_validate(
            query.model_dump(include=set(CoverageQuery.model_fields))
        )
        cacheable = streets is None
        if streets is not None:
            base = base.model_copy(update={"mode": "walking"})
        elif base.mode == "walking":
            streets = await self.street_graph()
        key = (version, base.model_dump_json())
        if cacheable and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if cacheable and key in self._cache:
                return self._cache[key]
            say("reading areas, listings and demand")
            tree = await load_tree()
            read = await read_supply(base)
            supply, by_kind = read.supply, read.counted
            counted = sum(by_kind.values())
            demand = await load_demand(base.demand, self.dataset)
            say(f"computing coverage of {demand.size:,} demand points by {counted} resources")
            if streets is None:
                result = await asyncio.to_thread(coverage, demand, supply, tree, base.radius_m)
            else:
                result = await asyncio.to_thread(
                    walking_coverage, streets, demand, supply, tree, base.radius_m
                )
            analysis = Analysis(
                base, tree, demand.located(tree), supply, result, counted, version,
                tuple(sorted(by_kind.items())), read.point_kinds, read.team_areas,
            )  # fmt: skip
            if cacheable:
                self._cache[key] = analysis
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        self._locks.pop(key, None)
        return analysis

    async def coverage_geojson(
        self, query: CoverageQuery, scope: AreaScope | None = None
    ) -> dict[str, Any]:
        analysis = await self.analyse(query, scope=scope)
        return coverage_geojson(analysis)

    async def gaps_geojson(
        self,
        query: CoverageQuery,
        scope: AreaScope | None = None,
        *,
        simplify_m: float = 0.0,
        keep: bool = False,
    ) -> dict[str, Any]:
        if query.mode == "walking":
            raise InvalidInput(
                "gap polygons are drawn from straight-line circles; with walking distance "
                "see the unmet-demand hexagons (/api/v1/heatmap)",
                field="mode",
            )
        analysis = await self.analyse(query, scope=scope)
        query = query.model_copy(update={"level": analysis.query.level})  # as answered
        uncovered = {r.code: round(r.uncovered, 1) for r in analysis.table()}
        features = await self._drawn(
            ("gaps", analysis.version, query.model_dump_json(), scope, simplify_m),
            lambda: gap_features(
                analysis.tree,
                analysis.supply,
                query.radius_m,
                str(query.level),
                uncovered=uncovered,
                simplify_m=simplify_m,
            ),
            keep,
        )
        return {"type": "FeatureCollection", "features": features, **meta(analysis)}

    async def heatmap_geojson(
        self, query: HeatQuery, scope: AreaScope | None = None, *, keep: bool = False
    ) -> dict[str, Any]:
        analysis = await self.analyse(query, scope=scope)
        d, s, r = analysis.demand, analysis.shown_supply, analysis.result
        covered = r.covered
        assert covered is not None

        def draw() -> list[dict[str, Any]]:
            if not (d.size or s.size):  # an account's area may hold neither
                return []
            return hex_features(
                hex_heat(d.lon, d.lat, d.weight, covered, s.lon, s.lat, query.resolution)
            )

        key = ("heat", analysis.version, query.model_dump_json(), scope, 0.0)
        return {
            "type": "FeatureCollection",
            "features": await self._drawn(key, draw, keep),
            "resolution": query.resolution,
            **meta(analysis),
        }

    async def _drawn(
        self, key: DrawingKey, draw: Callable[[], list[dict[str, Any]]], keep: bool
    ) -> list[dict[str, Any]]:
        """GeoJSON features drawn in a thread; with ``keep``, once per data version (a
        planner's map asks for a province's outlines and hexagons on every visit, seconds
        each). Only the map keeps them: its layers are coarse, while the API's exact ones
        at any resolution would hold hundreds of MB. Callers get their own list."""
        if not keep:
            return await asyncio.to_thread(draw)
        found = self._drawings.get(key)
        if found is None:
            async with self._draw_locks.setdefault(key, asyncio.Lock()):
                found = self._drawings.get(key)
                if found is None:
                    found = await asyncio.to_thread(draw)
                    # Drawings of older data are never asked for again.
                    for old in [k for k in self._drawings if k[1] != key[1]]:
                        del self._drawings[old]
                    self._drawings[key] = found
                    while len(self._drawings) > DRAWINGS:
                        self._drawings.popitem(last=False)
            self._draw_locks.pop(key, None)
        else:
            self._drawings.move_to_end(key)
        return list(found)

    async def indicators(
        self,
        level: AreaLevel,
        targets: indicators.Targets,
        query: CoverageQuery | None = None,
        scope: AreaScope | None = None,
    ) -> list[indicators.AreaIndicators]:
        """Each area's indicators; ``scope``: only the areas of an account's area, each
        computed as for the whole city."""
        asked = query is None or "level" in query.model_fields_set
        level = await level_for(level, asked=asked)  # a default: the deepest there is
        q = (query or CoverageQuery()).model_copy(update={"level": level})
        if scope is not None:
            scope.check_level(level)
        analysis = await self.analyse(q)
        tree = analysis.tree
        facts = indicators.Facts(
            tree=tree,
            resources=await resource_facts(),
            organisation_types=await organisation_types(),
            population_source=dict(await Area.all().values_list("code", "population_source")),
        )
        found = indicators.compute(
            facts, targets, str(level), analysis.table(level), analysis.description
        )
        return found if scope is None else [a for a in found if scope.admits(a.code)]


def _read_streets(path: Path) -> StreetGraph:
    return graph_from_geojson(json.loads(path.read_bytes()))


def meta(analysis: Analysis) -> dict[str, Any]:
    r = analysis.result
    return {
        "radius_m": r.radius_m,
        "mode": r.mode,
        "level": str(analysis.query.level),
        "kinds": [k.value for k in analysis.query.kinds],
        "eligibility": analysis.query.eligibility,
        "demand": {"method": r.demand_method, "source": r.demand_source},
        "method": analysis.description,
    }


def _row_properties(row: AreaCoverage) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "parent": row.parent,
        "population": round(row.population, 1),
        "covered": round(row.covered, 1),
        "uncovered": round(row.uncovered, 1),
        "share": None if row.share is None else round(row.share, 4),
        "demand_points": row.points,
    }


def coverage_geojson(analysis: Analysis) -> dict[str, Any]:
    tree = analysis.tree
    features = []
    for row in analysis.table():
        geom = tree.nodes[tree.index[row.code]].boundary if row.code in tree else None
        features.append(
            {
                "type": "Feature",
                "id": row.code or None,
                "geometry": geom,
                "properties": _row_properties(row),
            }
        )
    r = analysis.result
    totals = {
        "population": round(r.population, 1),
        "covered": round(r.covered_population, 1),
        "uncovered": round(r.population - r.covered_population, 1),
        "share": None if r.share is None else round(r.share, 4),
    }
    return {"type": "FeatureCollection", "features": features, "totals": totals, **meta(analysis)}


CSV_COLUMNS = ["code", "name", "level", "parent", "population", "covered", "uncovered", "share",
               "demand_points"]  # fmt: skip
# Which listings counted: "public" (open to anyone) or "all" (members-only too).
CSV_METHOD = ["eligibility", "radius_m", "mode", "demand_method", "demand_source"]


def coverage_csv(analysis: Analysis, area_names: Mapping[str, str] | None = None) -> str:
    """The per-area table as CSV, with the method and demand source on every row; areas
    named in the reader's language where ``area_names`` (by code) names them."""
    names = area_names or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *CSV_METHOD])
    r = analysis.result
    for row in analysis.table():
        # People are counted whole in a table people read (as the dataset jobs' CSV does):
        # demand spread over cells is fractional, and "98962.0 residents" reads as a fault.
        props = _row_properties(row) | {
            c: f"{getattr(row, c):.0f}" for c in ("population", "covered", "uncovered")
        }
        props["name"] = names.get(row.code) or row.name
        writer.writerow(guarded_row(
            [*("" if props[c] is None else props[c] for c in CSV_COLUMNS),
             analysis.query.eligibility, f"{r.radius_m:g}", r.mode, r.demand_method,
             r.demand_source]
        ))  # fmt: skip
    return out.getvalue()
