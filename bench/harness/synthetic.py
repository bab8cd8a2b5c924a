"""A database of many synthetic listings: the demo city plus resources made from its pieces.

Names combine the demo's name tables, points are uniform over the demo district, and each
kind keeps its demo profile (services, audiences, modes, fee, opening hours) with random
extras, so text, filters and open-now see realistic variety.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape
from tortoise.transactions import in_transaction

from resourcemap import db, schema
from resourcemap.demo import names as N
from resourcemap.demo.builder import CITY_CODE, DISTRICT_CODE
from resourcemap.demo.city import load_demo_city
from resourcemap.demo.profiles import PROFILES, weekly_hours
from resourcemap.models import Area, OpeningHours, Resource
from resourcemap.search import changes
from resourcemap.translations import vocab_label
from resourcemap.vocab import (
    AreaLevel,
    Audience,
    Fee,
    Mode,
    Placement,
    ResourceKind,
    Service,
    Status,
)

SOURCE = "synthetic-bench"
BATCH_SIZE = 1000
SUSPENDED_SHARE = 0.03
K = ResourceKind
T = TypeVar("T")


async def populate(database_url: str, resources: int, seed: int) -> int:
    """Migrate a fresh database, load the demo city and top it up to ``resources``
    listings (or fewer than that: never below the demo); return how many it holds."""
    await schema.migrate(database_url)
    async with db.database(database_url):
        await load_demo_city()
        missing = resources - await Resource.all().count()
        if missing > 0:
            await _add_resources(missing, np.random.default_rng(seed))
        return int(await Resource.all().count())


async def _add_resources(n: int, rng: np.random.Generator) -> None:
    district = await Area.get(level=AreaLevel.DISTRICT)
    streets = {a.code: a for a in await Area.filter(level=AreaLevel.STREET)}
    communities = await Area.filter(level=AreaLevel.COMMUNITY).order_by("code")
    lon, lat, where = _points(n, rng, district.boundary, [c.boundary for c in communities])
    # Kinds in the demo's proportions: many community rooms, few city centres.
    demo_kinds = Counter(await Resource.all().values_list("kind", flat=True))
    kinds = list(demo_kinds)
    shares = np.array([demo_kinds[k] for k in kinds], dtype=np.float64)
    drawn = rng.choice(len(kinds), size=n, p=shares / shares.sum())
    rows = []
    for i in range(n):
        community = communities[int(where[i])]
        street = streets[str(community.parent_id)]  # tortoise adds parent_id
        point = round(float(lat[i]), 6), round(float(lon[i]), 6)
        rows.append(_resource(i, rng, ResourceKind(kinds[drawn[i]]), point, community, street))
    async with in_transaction(Resource._meta.default_connection) as conn:
        await Resource.bulk_create(rows, batch_size=BATCH_SIZE, using_db=conn)
        ids = dict(
            await Resource.filter(source=SOURCE).using_db(conn).values_list("external_id", "id")
        )
        hours = [
            OpeningHours(
                resource_id=ids[r.external_id], weekday=h.weekday, opens=h.opens, closes=h.closes
            )
            for r in rows
            for h in weekly_hours(PROFILES[r.kind].hours, rng)
        ]
        await OpeningHours.bulk_create(hours, batch_size=BATCH_SIZE, using_db=conn)
        await changes.record_rebuild()


async def district_points(
    n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """``n`` uniform points (lon, lat) inside the demo district's communities."""
    district = await Area.get(level=AreaLevel.DISTRICT)
    communities = await Area.filter(level=AreaLevel.COMMUNITY).order_by("code")
    lon, lat, _ = _points(n, rng, district.boundary, [c.boundary for c in communities])
    return lon, lat


async def province_points(
    n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """``n`` points (lon, lat) of a province (``resourcemap demo --scale province``): each in
    a district drawn at random, uniform inside its communities."""
    districts = await Area.filter(level=AreaLevel.DISTRICT).order_by("code")
    chosen = rng.integers(len(districts), size=n)
    lon, lat = np.empty(n), np.empty(n)
    for k in np.unique(chosen).tolist():
        district = districts[k]
        communities = await Area.filter(
            level=AreaLevel.COMMUNITY, code__startswith=district.code[:6]
        ).order_by("code")
        at = np.flatnonzero(chosen == k)
        x, y, _ = _points(at.size, rng, district.boundary, [c.boundary for c in communities])
        lon[at], lat[at] = x, y
    return lon, lat


def _points(
    n: int, rng: np.random.Generator, district: Any, communities: list[Any]
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """``n`` uniform points inside the district (lon, lat) and the community each is in."""
    outline = shape(district)
    tree = shapely.STRtree([shape(c) for c in communities])
    x0, y0, x1, y1 = outline.bounds
    lon, lat, where = np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    while lon.size < n:
        x, y = rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)
        point_idx, community_idx = tree.query(shapely.points(x, y), predicate="within")
        # A point on a shared edge is within neither neighbour; keep each point once.
        point_idx, first = np.unique(point_idx, return_index=True)
        lon, lat = np.append(lon, x[point_idx]), np.append(lat, y[point_idx])
        where = np.append(where, community_idx[first])
    return lon[:n], lat[:n], where[:n]


def _pick(rng: np.random.Generator, pool: tuple[T, ...] | list[T]) -> T:
    return pool[int(rng.integers(len(pool)))]


def _extras(rng: np.random.Generator, pool: list[T], base: tuple[T, ...]) -> list[str]:
    """The base values plus up to two others."""
    others = [v for v in pool if v not in base]
    size = min(len(others), int(rng.integers(0, 3)))
    chosen = rng.choice(len(others), size=size, replace=False)
    return [str(v) for v in base] + [str(others[int(j)]) for j in chosen]


def _name(kind: ResourceKind, rng: np.random.Generator, community: Area) -> tuple[str, str]:
    road_zh, road_en = _pick(rng, N.ROADS)
    brand_zh, brand_en = _pick(rng, N.AGENCY_BRANDS)
    place_zh = community.name_zh.removesuffix("社区")
    place_en = community.name_en.removesuffix(" Community")
    label_zh, label_en = vocab_label(kind, "zh").split("/")[0], vocab_label(kind, "en")
    if kind.info.practitioner:
        (sur_zh, sur_en), (given_zh, given_en) = _pick(rng, N.SURNAMES), _pick(rng, N.GIVEN_NAMES)
        return f"{sur_zh}{given_zh}{label_zh}", f"{given_en} {sur_en}, {label_en}"
    if kind is K.LICENSED_AGENCY:
        return f"{brand_zh}心理咨询中心({road_zh}路)", f"{brand_en} Counselling ({road_en} Rd)"
    if kind is K.WORKPLACE_ROOM:
        (co_zh, co_en), (ind_zh, ind_en) = _pick(rng, N.COMPANY_PREFIXES), _pick(rng, N.INDUSTRIES)
        return f"{co_zh}{ind_zh}职工心灵驿站", f"{co_en} {ind_en} Workplace Room"
    if kind is K.SCHOOL_ROOM:
        number = int(rng.integers(1, 100))
        return (
            f"示例区第{N.chinese_ordinal(number)}中学心理辅导室",
            f"Demo District No. {number} Middle School Counselling Room",
        )
    if kind.info.placement is Placement.AREA:
        return f"{place_zh}{brand_zh}{label_zh}", f"{place_en} {brand_en} {label_en}"
    return f"{place_zh}{road_zh}路{label_zh}", f"{place_en} {road_en} Road {label_en}"


def _resource(
    i: int,
    rng: np.random.Generator,
    kind: ResourceKind,
    point: tuple[float, float],
    community: Area,
    street: Area,
) -> Resource:
    """One listing; area-served kinds get no point but serve its street or community."""
    area_served = kind.info.placement is Placement.AREA
    profile = PROFILES[kind]
    name_zh, name_en = _name(kind, rng, community)
    services = _extras(rng, list(Service), profile.services)
    labels = "、".join(vocab_label(Service(s), "zh") for s in services)
    road_zh = _pick(rng, N.ROADS)[0]
    return Resource(
        external_id=f"bench:res:{i:06d}",
        kind=kind,
        name_zh=name_zh,
        name_en=name_en,
        description_zh=f"{name_zh}：{profile.lead_zh}。服务项目：{labels}。",
        services=services,
        audiences=_extras(rng, list(Audience), profile.audiences),
        languages=["zh", "yue"] if rng.random() < 0.4 else ["zh"],
        modes=_extras(rng, list(Mode), profile.modes),
        fee=profile.fee if rng.random() < 0.8 else _pick(rng, list(Fee)),
        phone=f"0755-{int(rng.integers(20_000_000, 29_999_999))}",
        always_open=profile.hours == "always",
        lat=None if area_served else point[0],
        lon=None if area_served else point[1],
        status=Status.SUSPENDED if rng.random() < SUSPENDED_SHARE else Status.ACTIVE,
        address_zh=f"{N.CITY[0]}{N.DISTRICT[0]}{street.name_zh}{community.name_zh}"
        f"{road_zh}路{int(rng.integers(1, 400))}号",
        city_code=CITY_CODE,
        district_code=DISTRICT_CODE,
        street_code=street.code,
        community_code=community.code,
        service_area_codes=[street.code if rng.random() < 0.5 else community.code]
        if area_served
        else [],
        source=SOURCE,
    )


def log_import(database: Path) -> None:
    """What a bulk import does to the SQLite ``database``: listings change (one renamed) and
    a full reload is logged. With no listing changed, the app's processes would find the
    shared index they have (``search/index_shared.py``) and build nothing."""
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE resource SET name_zh = name_zh || '新' "
            "WHERE id = (SELECT min(id) FROM resource)"
        )
        conn.execute(
            "INSERT INTO search_change (resource_id, op, created_at) "
            "VALUES (NULL, 'rebuild', datetime('now'))"
        )
