"""A synthetic province: many demo districts grouped into cities (plain data, no ORM).

Each district is the demo city's generator (``build_catalogue``) run with its own seed,
then moved to its place on the province's map and renamed: area codes ``4499 01 …`` become
``44 CC DD …`` (cities 71…, which no real Guangdong city uses), names and addresses name the
district's own city and district, organisations are the district's own except the city's
health commission and youth league, which each city has once. Only the first district of a
city keeps the city-level services (city centre, 12320 and 12355 lines), so a city has one
of each as a real one does.

The same seed and size always give the same province. Demand is every populated 100 m cell
of every district (about 12,000 per district), optionally split into several jittered
points each (``points_per_cell``) to reach benchmark sizes.

>>> p = build_province(20181, cities=2, districts=2)
>>> len(p.cities), len(p.districts)
(2, 4)
>>> sorted({r.codes[0] for r in p.resources if r.codes[0]})
['447100000000', '447200000000']
>>> p.population == int(p.demand_weight.sum())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from resourcemap.demo import names as N
from resourcemap.demo.builder import (
    CITY_CODE,
    AreaSpec,
    OrgSpec,
    ResourceSpec,
    geojson,
)
from resourcemap.demo.catalogue import build_catalogue
from resourcemap.vocab import AreaLevel, ResourceKind

PROVINCE_PREFIX = "44"
FIRST_CITY = 71  # 4471…: a city number no real Guangdong city has
# Where the province's cities sit: five to a row, at least a degree apart, each city's
# districts (~0.14° × 0.10°) in a square block, never overlapping another city's.
ORIGIN_LON, ORIGIN_LAT = 111.0, 22.0
CITY_STEP_LON, CITY_STEP_LAT, CITIES_PER_ROW = 1.0, 0.6, 5
CITY_GAP_LON, CITY_GAP_LAT = 0.3, 0.2
DISTRICT_STEP_LON, DISTRICT_STEP_LAT = 0.15, 0.12
# The demo district's own centre (geo.synthetic), the point every district is moved from.
SOURCE_LON, SOURCE_LAT = 113.93, 22.75
CITY_ORGS = ("city-health", "youth-league")  # one per city, not per district
DEFAULT_CITIES, DEFAULT_DISTRICTS = 20, 4

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Province:
    """The province as plain data: areas parents first, listings, and its demand grid."""

    seed: int
    cities: list[AreaSpec]
    districts: list[AreaSpec]
    areas: list[AreaSpec]
    organisations: list[OrgSpec]
    resources: list[ResourceSpec]
    demand_lon: FloatArray
    demand_lat: FloatArray
    demand_weight: FloatArray
    demand_area: npt.NDArray[np.str_]  # community code of each demand point

    @property
    def population(self) -> int:
        return sum(c.population for c in self.cities)


def city_code(city: int) -> str:
    return f"{PROVINCE_PREFIX}{FIRST_CITY + city:02d}00000000"


def district_prefix(city: int, district: int) -> str:
    """The first six digits of every code in a district: province, city, district."""
    return f"{PROVINCE_PREFIX}{FIRST_CITY + city:02d}{district + 1:02d}"


def city_names(city: int) -> tuple[str, str]:
    return f"示例{N.chinese_ordinal(city + 1)}市", f"Demo City {city + 1}"


def district_names(city: int, district: int) -> tuple[str, str]:
    """A place name, distinct within a city (up to 44 districts) and varied across cities."""
    zh, en = N.COMMUNITIES[(city * 7 + district) % len(N.COMMUNITIES)]
    return f"{zh}区", f"{en} District"


class _Mover:
    """Renames, recodes and moves one generated district into the province."""

    def __init__(self, city: int, district: int, districts: int) -> None:
        self.city, self.district = city, district
        self.city_zh, self.city_en = city_names(city)
        self.dist_zh, self.dist_en = district_names(city, district)
        per_row = math.ceil(math.sqrt(districts))
        rows = math.ceil(districts / per_row)
        city_lon = max(CITY_STEP_LON, per_row * DISTRICT_STEP_LON + CITY_GAP_LON)
        city_lat = max(CITY_STEP_LAT, rows * DISTRICT_STEP_LAT + CITY_GAP_LAT)
        col, row = city % CITIES_PER_ROW, city // CITIES_PER_ROW
        dcol, drow = district % per_row, district // per_row
        self.dlon = ORIGIN_LON + col * city_lon + dcol * DISTRICT_STEP_LON - SOURCE_LON
        self.dlat = ORIGIN_LAT + row * city_lat + drow * DISTRICT_STEP_LAT - SOURCE_LAT
        self.prefix = district_prefix(city, district)
        self.phone_prefix = f"0{751 + city}-"

    def code(self, code: str) -> str:
        if code == CITY_CODE:
            return city_code(self.city)
        return self.prefix + code[6:] if code else code

    def text(self, value: str) -> str:
        return (
            value.replace(N.CITY[0], self.city_zh)
            .replace(N.DISTRICT[0], self.dist_zh)
            .replace(N.CITY[1], self.city_en)
            .replace(N.DISTRICT[1], self.dist_en)
        )

    def org_key(self, key: str) -> str:
        return f"{self.city}:{key}" if key in CITY_ORGS else f"{self.city}:{self.district}:{key}"

    def shape(self, boundary: dict[str, Any]) -> Any:
        return shapely.transform(
            shapely.geometry.shape(boundary), lambda c: c + np.array([self.dlon, self.dlat])
        )

    def area(self, a: AreaSpec) -> AreaSpec:
        return replace(
            a,
            code=self.code(a.code),
            name_zh=self.text(a.name_zh),
            name_en=self.text(a.name_en),
            parent_code=None if a.parent_code is None else self.code(a.parent_code),
            boundary=geojson(self.shape(a.boundary)),
        )

    def resource(self, r: ResourceSpec) -> ResourceSpec:
        return replace(
            r,
            name_zh=self.text(r.name_zh),
            name_en=self.text(r.name_en),
            description_zh=self.text(r.description_zh),
            description_en=self.text(r.description_en),
            address_zh=self.text(r.address_zh),
            address_en=self.text(r.address_en),
            org_key=self.org_key(r.org_key),
            phone=r.phone.replace("0755-", self.phone_prefix, 1),
            lat=None if r.lat is None else round(r.lat + self.dlat, 6),
            lon=None if r.lon is None else round(r.lon + self.dlon, 6),
            codes=(
                self.code(r.codes[0]),
                self.code(r.codes[1]),
                self.code(r.codes[2]),
                self.code(r.codes[3]),
            ),
            service_area_codes=[self.code(c) for c in r.service_area_codes],
        )

    def org(self, o: OrgSpec) -> OrgSpec:
        return replace(
            o,
            key=self.org_key(o.key),
            name_zh=self.text(o.name_zh),
            name_en=self.text(o.name_en),
            phone=o.phone.replace("0755-", self.phone_prefix, 1),
        )


def _city_level(r: ResourceSpec) -> bool:
    """Services a city has once: its centre and the lines serving the whole city."""
    return r.kind is ResourceKind.CITY_CENTRE or CITY_CODE in r.service_area_codes


def build_province(
    seed: int,
    *,
    cities: int = DEFAULT_CITIES,
    districts: int = DEFAULT_DISTRICTS,
    points_per_cell: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Province:
    """Generate the province; ``progress(done, total)`` is told after each district."""
    if not (1 <= cities <= 29 and 1 <= districts <= 99 and points_per_cell >= 1):
        raise ValueError("1–29 cities of 1–99 districts, at least one point per cell")
    city_areas: list[AreaSpec] = []
    district_areas: list[AreaSpec] = []
    below: list[AreaSpec] = []  # streets and communities
    orgs: dict[str, OrgSpec] = {}
    resources: list[ResourceSpec] = []
    lon_parts: list[FloatArray] = []
    lat_parts: list[FloatArray] = []
    weight_parts: list[FloatArray] = []
    area_parts: list[npt.NDArray[np.str_]] = []
    rng = np.random.default_rng(seed)
    total = cities * districts
    for c in range(cities):
        outlines: list[Any] = []
        population = 0
        for d in range(districts):
            # One seed per district, drawn from the province's: reproducible, independent.
            cat = build_catalogue(int(rng.integers(2**31)))
            move = _Mover(c, d, districts)
            for a in cat.areas:
                if a.level is AreaLevel.CITY:
                    continue
                moved = move.area(a)
                if a.level is AreaLevel.DISTRICT:
                    district_areas.append(moved)
                    outlines.append(move.shape(a.boundary))
                    population += a.population
                else:
                    below.append(moved)
            for o in cat.organisations:
                moved_org = move.org(o)
                orgs.setdefault(moved_org.key, moved_org)
            resources += [move.resource(r) for r in cat.resources if d == 0 or not _city_level(r)]
            grid = cat.geography.grid
            keep = grid.population > 0
            codes = np.array([move.code(code) for code in cat.community_codes], dtype=np.str_)
            lon, lat = grid.lon[keep] + move.dlon, grid.lat[keep] + move.dlat
            weight = grid.population[keep].astype(np.float64)
            area = codes[grid.community[keep]]
            if points_per_cell > 1:
                lon, lat, weight, area = _split_cells(
                    lon, lat, weight, area, points_per_cell, grid.cell_size_m, rng
                )
            lon_parts.append(lon)
            lat_parts.append(lat)
            weight_parts.append(weight)
            area_parts.append(area)
            if progress is not None:
                progress(c * districts + d + 1, total)
        zh, en = city_names(c)
        # The districts are apart (no shared edges): their outlines are the city's parts.
        # make_valid: rounding to 6 decimals (geojson) can leave a sliver crossing itself.
        parts = [
            g
            for outline in outlines
            for g in shapely.get_parts(shapely.make_valid(outline))
            if g.geom_type == "Polygon"
        ]
        outline = geojson(shapely.MultiPolygon(parts))
        city_areas.append(AreaSpec(city_code(c), AreaLevel.CITY, zh, en, None, population, outline))
    return Province(
        seed=seed,
        cities=city_areas,
        districts=district_areas,
        areas=[*city_areas, *district_areas, *below],
        organisations=list(orgs.values()),
        resources=resources,
        demand_lon=np.concatenate(lon_parts),
        demand_lat=np.concatenate(lat_parts),
        demand_weight=np.concatenate(weight_parts),
        demand_area=np.concatenate(area_parts),
    )


def _split_cells(
    lon: FloatArray,
    lat: FloatArray,
    weight: FloatArray,
    area: npt.NDArray[np.str_],
    k: int,
    cell_size_m: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.str_]]:
    """Each cell as ``k`` points spread over it, sharing its weight (totals unchanged)."""
    half_lat = cell_size_m / 2 / 111_320.0
    half_lon = half_lat / np.cos(np.radians(lat))
    lon_k = np.repeat(lon, k) + rng.uniform(-1, 1, lon.size * k) * np.repeat(half_lon, k)
    lat_k = np.repeat(lat, k) + rng.uniform(-1, 1, lat.size * k) * half_lat
    return lon_k, lat_k, np.repeat(weight / k, k), np.repeat(area, k)
