"""Where new service points would help most: siting that planners can act on.

Two objectives over the same candidate sites (community centres, a grid, or sites the
planner gives or uploads):

- ``circle`` (default): maximal covering — the most residents brought within the circle
  (:func:`geo.siting.plan_sites`, greedy, checked exactly with HiGHS when small);
- ``access``: capacity-aware — the most residents lifted to adequate E2SFCA access, each new
  site offering ``new_supply`` (:func:`geo.siting.plan_sites_access`).

Each recommended site says how many residents it adds and in which community it lies; the
list is exported as GeoJSON and CSV.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from pydantic import Field

from geo.access import DistanceDecay
from geo.coverage import metric_crs_of
from geo.siting import MAX_SITES, Picked, grid_candidates, plan_sites, plan_sites_access
from resourcemap.cells import guarded_row
from resourcemap.errors import InvalidInput
from resourcemap.planning.access import PER, UNITS, AccessQuery, AccessService
from resourcemap.planning.coverage import Analysis, CoverageService, meta
from resourcemap.said import N_
from resourcemap.scope import AreaScope

MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOADED_SITES = 20_000
Candidates = Literal["communities", "grid"] | list[tuple[float, float]]


class SitingRequest(AccessQuery):
    sites: int = Field(3, ge=1, le=MAX_SITES, description="how many new service points")
    candidates: Candidates = Field(
        "communities",
        description="community centres, a grid, or a list of [lon, lat] candidate sites",
    )
    spacing_m: float = Field(250.0, ge=50, le=10_000, description="grid spacing, metres")
    exact: bool = Field(True, description="also solve exactly (HiGHS) when small enough")
    objective: Literal["circle", "access"] = Field(
        "circle",
        description="residents brought within the circle, or residents lifted to adequate "
        "capacity-weighted access (E2SFCA)",
    )
    new_supply: float | None = Field(
        None, gt=0, le=100_000, description="supply of each new site; default: the median"
    )
    adequate: float | None = Field(
        None, ge=0, description="adequate access per 1,000 residents; default: the city mean"
    )


@dataclass(frozen=True)
class Site:
    rank: int
    lon: float
    lat: float
    adds: float  # residents this site adds (within the circle, or to adequate access)
    community: str | None
    community_name: str | None


@dataclass(frozen=True)
class SitingFigures:
    """A plan's figures and sites: what the siting page shows and a siting job keeps."""

    objective: str
    radius_m: float
    candidates: str
    population: float
    uncovered_before: float  # outside the circle, or below adequate access
    covered_after: float  # within the circle, or at adequate access, with the new sites
    method: str
    greedy_total: float
    exact_total: float | None
    exact_status: str
    greedy_gap: float | None
    sites: tuple[Site, ...]
    adequate: float | None = None  # per 1,000 residents (objective "access")
    new_supply: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class SitingResult(SitingFigures):
    """A plan with what it was computed from (the coverage's ``meta``)."""

    meta: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(body.pop("meta"))
        body["method"] = self.method  # the plan's method, not the coverage description
        body["coverage_method"] = self.meta["method"]
        return body


async def plan(
    coverage: CoverageService,
    access: AccessService,
    request: SitingRequest,
    scope: AreaScope | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SitingResult:
    """Recommend ``request.sites`` new service points for ``request.objective``; with
    ``scope``, sites inside an account's area for the residents who live there.
    ``progress(done, total)`` hears of its steps: the residents, the candidates, then each
    site as it is picked."""
    step = progress or (lambda done, total: None)
    total = 2 + request.sites
    step(0, total)
    analysis = await coverage.analyse(request, scope=scope)
    if not analysis.demand.size:
        raise InvalidInput(N_("nobody lives in the areas to plan for: no demand data there"))
    step(1, total)
    lon, lat, kind = await asyncio.to_thread(_candidates, analysis, request, scope)
    step(2, total)

    def picked(sites: int) -> None:
        step(2 + sites, total)

    if request.objective == "access":
        return await _plan_access(access, analysis, request, lon, lat, kind, picked)
    demand, covered = analysis.demand, analysis.result.covered
    assert covered is not None
    crs = metric_crs_of(demand.lon)
    uncovered = np.where(covered, 0.0, demand.weight)
    found = await asyncio.to_thread(
        plan_sites, demand.lon, demand.lat, uncovered, lon, lat, request.sites,
        request.radius_m, crs, exact_check=request.exact, picked=picked,
    )  # fmt: skip
    return SitingResult(
        objective="circle",
        radius_m=found.radius_m,
        candidates=kind,
        population=round(analysis.result.population, 1),
        uncovered_before=round(found.uncovered_before, 1),
        covered_after=round(analysis.result.covered_population + found.total, 1),
        method=found.method,
        greedy_total=round(found.greedy_total, 1),
        exact_total=None if found.exact_total is None else round(found.exact_total, 1),
        exact_status=found.exact_status,
        greedy_gap=found.greedy_gap,
        sites=_sites(analysis, [(p.lon, p.lat, p.adds) for p in found.picks]),
        meta=meta(analysis),
    )


async def _plan_access(
    access: AccessService,
    analysis: Analysis,
    request: SitingRequest,
    lon: np.ndarray,
    lat: np.ndarray,
    kind: str,
    picked: Picked,
) -> SitingResult:
    state = await access.computed(request)
    d, reached = state.demand, state.result.access
    if analysis.area is not None:  # the residents of the account's area only
        rows = d.rows_in(analysis.tree.index)
        d, reached = d.take(rows), reached[rows]
    supplies = state.offers.supply(request.supply)
    new_supply = request.new_supply or float(
        np.median(supplies[supplies > 0]) if supplies.any() else 1
    )
    total = float(d.weight.sum())
    mean = float((d.weight * reached).sum() / total) if total > 0 else 0.0
    adequate = (request.adequate / PER) if request.adequate is not None else mean
    found = await asyncio.to_thread(
        plan_sites_access, d.lon, d.lat, d.weight, reached, lon, lat,
        request.sites, DistanceDecay.luo_qi(request.catchment_m), new_supply, adequate,
        metric_crs_of(d.lon), picked=picked,
    )  # fmt: skip
    population = float(d.weight.sum())
    return SitingResult(
        objective="access",
        radius_m=request.catchment_m,
        candidates=kind,
        population=round(population, 1),
        uncovered_before=round(found.below_before, 1),
        covered_after=round(population - found.below_before + found.total, 1),
        method="greedy",
        greedy_total=round(found.total, 1),
        exact_total=None,
        exact_status="not run: the access objective is solved greedily",
        greedy_gap=None,
        sites=_sites(analysis, [(p.lon, p.lat, p.adds) for p in found.picks]),
        meta=meta(analysis),
        adequate=round(adequate * PER, 4),
        new_supply=new_supply,
        unit=UNITS[request.supply],
    )


def _sites(analysis: Analysis, picks: list[tuple[float, float, float]]) -> tuple[Site, ...]:
    tree = analysis.tree
    found = []
    for rank, (x, y, adds) in enumerate(picks, start=1):
        code = str(tree.locate([x], [y])[0]) or None
        name = tree.node(code).name if code and code in tree else None
        found.append(Site(rank, round(x, 6), round(y, 6), round(adds, 1), code, name))
    return tuple(found)


def _candidates(
    analysis: Analysis, request: SitingRequest, scope: AreaScope | None = None
) -> tuple[Any, Any, str]:
    """Candidate sites; for an account kept to an area (whose analysis holds its areas
    only), those inside the area."""
    tree = analysis.tree
    crs = metric_crs_of(analysis.demand.lon)
    if isinstance(request.candidates, list):
        if not request.candidates:
            raise InvalidInput("give at least one candidate site", field="candidates")
        pts = np.asarray(request.candidates, dtype=np.float64)
        if not (np.abs(pts[:, 0]) <= 180).all() or not (np.abs(pts[:, 1]) <= 90).all():
            raise InvalidInput("candidate sites must be [lon, lat] in WGS-84", field="candidates")
        if scope is not None:
            pts = pts[tree.locate(pts[:, 0], pts[:, 1]) != ""]
            if not len(pts):
                raise InvalidInput(
                    f"none of the candidate sites lies in area {scope.code}, the area your "
                    "account is kept to",
                    field="candidates",
                )
        return pts[:, 0], pts[:, 1], "given"
    if request.candidates == "communities":
        geoms = [tree.geoms[tree.index[c]] for c in tree.codes_at("community")]
        centres = shapely.point_on_surface([g for g in geoms if g is not None])
        if not len(centres):
            raise InvalidInput(
                N_("no community has a boundary to place candidates in: choose a grid"),
                field="candidates",
            )
        return shapely.get_x(centres), shapely.get_y(centres), "community centres"
    boundaries = [g for g in tree.geoms if g is not None]
    if not boundaries:
        raise InvalidInput(N_("no area has a boundary to lay a grid over"), field="candidates")
    # Over the areas people live in: a province's file loaded for a city's cities laid the
    # grid over all of them, and no spacing a planner would choose was wide enough.
    lived = [tree.geoms[tree.index[c]] for c in set(analysis.demand.area.tolist()) if c in tree]
    lived = [g for g in lived if g is not None] or boundaries
    try:
        lon, lat = grid_candidates(shapely.union_all(lived), request.spacing_m, crs)
    except ValueError:
        raise InvalidInput(
            N_(
                "a grid %(spacing)s m apart gives too many candidate sites here: choose a "
                "wider spacing",
                spacing=f"{request.spacing_m:g}",
            ),
            field="spacing_m",
        ) from None
    return lon, lat, f"grid of {request.spacing_m:g} m"


# --- exports and uploads --------------------------------------------------------------------

CSV_COLUMNS = ("rank", "lon", "lat", "adds", "community", "community_name")


def sites_geojson(result: SitingResult) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {c: getattr(s, c) for c in CSV_COLUMNS if c not in ("lon", "lat")},
        }
        for s in result.sites
    ]
    head = result.as_json()
    head.pop("sites")
    return {"type": "FeatureCollection", "features": features, **head}


def sites_csv(result: SitingFigures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "objective", "radius_m", "candidates"])
    for s in result.sites:
        row = [getattr(s, c) for c in CSV_COLUMNS]
        writer.writerow(
            guarded_row(
                ["" if v is None else v for v in row]
                + [result.objective, f"{result.radius_m:g}", result.candidates]
            )
        )
    return out.getvalue()


def parse_candidates(data: bytes, filename: str) -> list[tuple[float, float]]:
    """Candidate sites from an upload: CSV with ``lon`` and ``lat`` columns, or GeoJSON
    points. Errors name the row or feature."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("the candidate file is larger than 2 MB", field="candidate_file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the candidate file is not UTF-8 text", field="candidate_file") from None
    if filename.lower().endswith((".geojson", ".json")):
        points = _geojson_points(text)
    else:
        points = _csv_points(text)
    if not points:
        raise InvalidInput("the candidate file holds no sites", field="candidate_file")
    if len(points) > MAX_UPLOADED_SITES:
        raise InvalidInput(
            f"at most {MAX_UPLOADED_SITES:,} candidate sites per file", field="candidate_file"
        )
    return points


def _point(lon: object, lat: object, where: str) -> tuple[float, float]:
    try:
        x, y = float(str(lon)), float(str(lat))
    except ValueError:
        raise InvalidInput(
            f"{where}: lon and lat must be numbers", field="candidate_file"
        ) from None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput(f"{where}: ({x}, {y}) is not a WGS-84 position", field="candidate_file")
    return x, y


def _csv_points(text: str) -> list[tuple[float, float]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    if "lon" not in columns or "lat" not in columns:
        raise InvalidInput("the CSV needs columns lon and lat", field="candidate_file")
    return [
        _point(row[columns["lon"]], row[columns["lat"]], f"row {n}")
        for n, row in enumerate(reader, start=2)
    ]


def _geojson_points(text: str) -> list[tuple[float, float]]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput("the GeoJSON file is not valid JSON", field="candidate_file") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise InvalidInput("the GeoJSON needs a FeatureCollection", field="candidate_file")
    points = []
    for n, f in enumerate(features, start=1):
        geom = f.get("geometry") if isinstance(f, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not (isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list)
                and len(coords) >= 2):  # fmt: skip
            raise InvalidInput(f"feature {n} is not a point", field="candidate_file")
        points.append(_point(coords[0], coords[1], f"feature {n}"))
    return points
