"""Administrative areas: lookup, hierarchy and GeoJSON.

A map asks for the areas of its view (``bbox``): the finest level of which at most
``MAX_IN_VIEW`` areas lie in it — a street's communities, a province's cities — so that
no view of a province carries thousands of boundaries. Each process keeps every area's
bounding box, read again when the areas change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field

from geo.locate import AreaLocator, AreaRecord
from resourcemap.bbox import BBox
from resourcemap.errors import InvalidInput, NotFound
from resourcemap.models import Area
from resourcemap.said import N_
from resourcemap.vocab import AreaLevel

# Boundaries a view carries at most, whatever the level (about 150 KB of a city's real ones).
MAX_IN_VIEW = 300


class AreaQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: AreaLevel | None = None
    parent: str | None = Field(None, max_length=12)
    geometry: bool = True
    bbox: BBox | None = Field(
        None,
        description="west,south,east,north: only areas in this view; without a level, "
        "those of the finest level with at most MAX_IN_VIEW areas in it",
    )


async def area_or_error(code: str, field: str = "area") -> Area:
    """The area with this code, or :class:`InvalidInput` naming the unknown code and the
    ``field`` that gave it."""
    area = await Area.get_or_none(code=code)
    if area is None:
        raise InvalidInput(f"unknown area code {code!r}", field=field)
    return area


async def areas_by_code(codes: Iterable[str]) -> list[Area]:
    wanted = list(codes)
    found = {a.code: a for a in await Area.filter(code__in=wanted)} if wanted else {}
    return [found[c] for c in wanted if c in found]


async def ancestors(area: Area) -> list[Area]:
    """Parent, grandparent, … up to the city (at most three lookups)."""
    return (await ancestors_of([area]))[area.code]


async def ancestors_of(areas: Iterable[Area]) -> dict[str, list[Area]]:
    """Each area's parent, grandparent, … up to the city, by its code: one lookup per level
    for all of them. A chain stops at a parent not stored (or one seen already)."""
    areas = list(areas)
    wanted = {a.parent_id for a in areas if a.parent_id}
    known: dict[str, Area] = {}
    while wanted:
        rows = await Area.filter(code__in=wanted)
        known.update((a.code, a) for a in rows)
        wanted = {a.parent_id for a in rows if a.parent_id and a.parent_id not in known}
    chains: dict[str, list[Area]] = {}
    for area in areas:
        chain: list[Area] = []
        parent = known.get(area.parent_id or "")
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = known.get(parent.parent_id or "")
        chains[area.code] = chain
    return chains


async def covers(service_area_codes: Iterable[str], area: Area) -> bool:
    """Whether a service area (a list of area codes) serves any part of ``area``.

    True when the service area names the area itself, one of its ancestors (a city-wide
    hotline serves every community) or one of its descendants (a team serving one
    community serves part of its street).
    """
    codes = set(service_area_codes)
    if not codes:
        return False
    if area.code in codes or any(a.code in codes for a in await ancestors(area)):
        return True
    for code in codes:
        served = await Area.get_or_none(code=code)
        if served is not None and area.code in {a.code for a in await ancestors(served)}:
            return True
    return False


class AreaProperties(BaseModel):
    code: str
    level: AreaLevel
    name_zh: str
    name_en: str
    parent: str | None
    population: int
    population_source: str
    synthetic: bool


class AreaDetailProperties(AreaProperties):
    children: list[str]


class AreaFeature(BaseModel):
    """An area as a GeoJSON Feature (``geometry`` None when not asked for)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: AreaProperties


class AreaDetail(AreaFeature):
    """One area with the codes of the areas directly inside it."""

    properties: AreaDetailProperties


class AreaCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[AreaFeature]


PROPERTY_FIELDS = (
    *("code", "level", "name_zh", "name_en", "parent_id", "population", "population_source"),
    "source",
)


def _properties(area: Area) -> dict[str, Any]:
    return {
        "code": area.code,
        "level": area.level,
        "name_zh": area.name_zh,
        "name_en": area.name_en,
        "parent": area.parent_id,
        "population": area.population,
        "population_source": area.population_source,
        "synthetic": area.source == "synthetic-demo",
    }


# How much a view's outlines are simplified, by level (degrees; about 400, 100 and 30 m):
# a province's 20 city boundaries as drawn travel in 70 KB gzipped instead of 1.9 MB.
OUTLINE_TOLERANCE = {AreaLevel.CITY: 0.004, AreaLevel.DISTRICT: 0.001, AreaLevel.STREET: 0.0003}


@dataclass(frozen=True)
class _Boxes:
    """Every area's bounding box, as arrays, its outline as a map draws it, and what they
    were read at."""

    version: AreasVersion
    codes: np.ndarray
    levels: np.ndarray
    boxes: np.ndarray  # (n, 4): west, south, east, north
    outlines: dict[str, dict[str, Any]]


_boxes: _Boxes | None = None


def drawn_outlines(codes: list[str], levels: list[str], shapes: np.ndarray) -> dict[str, Any]:
    """Each boundary simplified for the zooms its level is drawn at, to 5 decimals (a metre)."""
    drawn = shapes.copy()
    for level, tolerance in OUTLINE_TOLERANCE.items():
        mine = np.array([lv == str(level) for lv in levels], dtype=bool)
        if mine.any():
            drawn[mine] = shapely.simplify(shapes[mine], tolerance, preserve_topology=True)
    drawn = shapely.transform(drawn, lambda xy: np.round(xy, 5))
    return {code: json.loads(g) for code, g in zip(codes, shapely.to_geojson(drawn), strict=True)}


AreasVersion = tuple[int, dt.datetime | None]


async def areas_version() -> AreasVersion:
    """What the areas are at (their count and newest edit: an import, a rename, a new
    boundary or a deletion moves it), for what is worked out from every area and kept."""
    # The newest stamp alone: the whole row would read its boundary (megabytes for a
    # province's city), and imports ask this for every located row.
    newest = await Area.all().order_by("-updated_at").limit(1).values_list("updated_at")
    return await Area.all().count(), newest[0][0] if newest else None


@dataclass(frozen=True)
class _Located:
    """Every bounded area in a point-in-polygon index, and what it was read at."""

    version: AreasVersion
    locator: AreaLocator
    levels: dict[str, AreaLevel]


_located: _Located | None = None


async def areas_at(lat: float, lon: float) -> dict[AreaLevel, str]:
    """The areas a point lies in, by level, as deep as the stored boundaries go: a city
    loaded from district boundaries places a point in its district and city, one with
    communities in all four. On a shared edge, the lower code."""
    global _located
    version = await areas_version()
    if _located is None or _located.version != version:
        rows = await Area.all().values_list("code", "parent_id", "level", "boundary")
        _located = _Located(
            version,
            AreaLocator(AreaRecord(str(c), p, b) for c, p, _, b in rows),
            {str(c): AreaLevel(str(lv)) for c, _, lv, _ in rows},
        )
    found: dict[AreaLevel, str] = {}
    for code in sorted(_located.locator.codes_at(lat=lat, lon=lon)):
        found.setdefault(_located.levels[code], code)
    return found


async def _area_boxes() -> _Boxes:
    global _boxes
    version = await areas_version()
    if _boxes is None or _boxes.version != version:
        rows = await Area.filter(boundary__isnull=False).values_list("code", "level", "boundary")
        codes = [str(c) for c, _, _ in rows]
        levels = [str(lv) for _, lv, _ in rows]
        shapes = shapely.from_geojson([json.dumps(b) for _, _, b in rows]) if rows else []
        _boxes = _Boxes(
            version,
            np.array(codes, dtype=object),
            np.array(levels, dtype=object),
            shapely.bounds(shapes).reshape(-1, 4),
            drawn_outlines(codes, levels, np.asarray(shapes)) if rows else {},
        )
    return _boxes


def in_view(
    codes: np.ndarray,
    levels: np.ndarray,
    boxes: np.ndarray,
    bbox: tuple[float, float, float, float],
    level: AreaLevel | None = None,
) -> list[str]:
    """Of areas ``codes`` at ``levels`` with bounding ``boxes`` (west, south, east, north),
    those meeting ``bbox``: of ``level``, or of the finest level with some but at most
    ``MAX_IN_VIEW`` there (else the coarsest level found there)."""
    west, south, east, north = bbox
    b = boxes
    seen = (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
    if level is not None:
        return sorted(codes[seen & (levels == str(level))].tolist())
    fits: list[str] = []
    for candidate in reversed(AreaLevel):  # community first
        here = codes[seen & (levels == str(candidate))]
        if 0 < here.size <= MAX_IN_VIEW:
            return sorted(here.tolist())
        fits = sorted(here.tolist()) or fits
    return fits


def _geometry(area: Area, drawn: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The outline as a view draws it; else the stored boundary (read only then)."""
    found = drawn.get(area.code)
    return found if found is not None else area.boundary


async def list_areas(query: AreaQuery) -> AreaCollection:
    """The areas asked for; those of a view (``bbox``) with their outlines as drawn."""
    qs = Area.all()
    drawn: dict[str, dict[str, Any]] = {}
    if query.bbox is not None:
        found = await _area_boxes()
        codes = in_view(found.codes, found.levels, found.boxes, query.bbox, query.level)
        drawn = found.outlines
        # The stored boundaries stay in the database: the view sends the outlines as drawn.
        qs = qs.filter(code__in=codes).only(*PROPERTY_FIELDS)
    elif query.level is not None:
        qs = qs.filter(level=query.level)
    if query.parent is not None:
        await area_or_error(query.parent, "parent")
        qs = qs.filter(parent_id=query.parent)
    areas = await qs.order_by("code")
    return AreaCollection(
        features=[
            AreaFeature(
                id=a.code,
                geometry=_geometry(a, drawn) if query.geometry else None,
                properties=AreaProperties(**_properties(a)),
            )
            for a in areas
        ]
    )


async def get_area(code: str) -> AreaDetail:
    area = await Area.get_or_none(code=code)
    if area is None:
        raise NotFound(N_("no area with code %(code)r", code=code))
    children = await Area.filter(parent_id=code).order_by("code").values_list("code", flat=True)
    return AreaDetail(
        id=area.code,
        geometry=area.boundary,
        properties=AreaDetailProperties(**_properties(area), children=list(children)),
    )
