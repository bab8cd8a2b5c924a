"""What the residents' map needs from the database, kept slim.

The map draws every active service point of the city (10,000 in a large one) in clusters, so
it gets each point as one short row (id, coordinates, kind, names, three flags), never the
full listing. Residents without geolocation type a place: a community or street name, or
"lat,lon", resolved here to a point.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import shapely
from tortoise.exceptions import BaseORMException
from tortoise.functions import Count

from resourcemap.errors import Unavailable
from resourcemap.models import Area, BookingPolicy, Resource
from resourcemap.vocab import AreaLevel, Eligibility, Fee, ResourceKind, Status

log = logging.getLogger(__name__)

POINT_FIELDS = (
    *("id", "lat", "lon", "kind", "name_zh", "name_en", "free", "always_open", "bookable"),
    "public",  # open to anyone (members-only places show only when a search asks for them)
)
COORDS = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
# Smaller areas first: "光明" should find the community before the district of that name.
PLACE_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT, AreaLevel.CITY)
MAX_PLACE_TEXT = 60


async def map_points() -> dict[str, Any]:
    """Every active located resource as ``{"fields": [...], "rows": [[...], ...]}``.

    Coordinates are rounded to 5 decimals (about a metre), which is as exact as a marker
    can be drawn and keeps 10,000 rows well under a megabyte.
    """
    bookable = set(await BookingPolicy.filter(enabled=True).values_list("resource_id", flat=True))
    rows = await (
        Resource.filter(status=Status.ACTIVE, lat__isnull=False, lon__isnull=False)
        .order_by("id")
        .values_list(
            "id", "lat", "lon", "kind", "name_zh", "name_en", "fee", "always_open", "eligibility"
        )
    )
    return {
        "fields": list(POINT_FIELDS),
        "rows": [
            [
                rid,
                round(lat, 5),
                round(lon, 5),
                str(kind),
                name_zh,
                name_en,
                1 if fee == Fee.FREE else 0,
                1 if always_open else 0,
                1 if rid in bookable else 0,
                1 if eligibility == Eligibility.PUBLIC else 0,
            ]
            for rid, lat, lon, kind, name_zh, name_en, fee, always_open, eligibility in rows
        ],
    }


@dataclass(frozen=True)
class Place:
    """A point a resident typed, with the name to show for it."""

    lat: float
    lon: float
    name_zh: str
    name_en: str


async def find_place(text: str) -> Place | None:
    """A typed place: ``"22.75,113.93"`` or (part of) an area's name, smallest area first.

    >>> import asyncio
    >>> asyncio.run(find_place("22.75, 113.93"))
    Place(lat=22.75, lon=113.93, name_zh='22.75, 113.93', name_en='22.75, 113.93')
    """
    text = text.strip()[:MAX_PLACE_TEXT]
    if not text:
        return None
    coords = COORDS.match(text)
    if coords is not None:
        lat, lon = float(coords[1]), float(coords[2])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            shown = f"{lat:g}, {lon:g}"
            return Place(lat, lon, shown, shown)
        return None
    for level in PLACE_LEVELS:
        for field in ("name_zh__icontains", "name_en__icontains"):
            area = (
                await Area.filter(level=level, boundary__isnull=False, **{field: text})
                .order_by("code")
                .first()
            )
            if area is not None and area.boundary:
                point = shapely.point_on_surface(shapely.geometry.shape(area.boundary))
                return Place(round(point.y, 6), round(point.x, 6), area.name_zh, area.name_en)
    return None


@dataclass(frozen=True)
class Hotline:
    """A 24/7 line as every resident page shows it."""

    id: int
    name_zh: str
    name_en: str
    phone: str
    service_area_codes: tuple[str, ...]
    # Its number serves every resident here: listed with no area, or for all the
    # deployment's areas of one level (12320 in every city). A district's own line is not.
    everywhere: bool = True


# The lines as last read: a page still shows them while the database does not answer (#16).
_last_hotlines: list[Hotline] = []


async def _read_hotlines() -> list[Hotline]:
    rows = [
        r
        for r in await Resource.filter(
            kind=ResourceKind.HOTLINE, status=Status.ACTIVE, always_open=True
        ).order_by("id")
        if r.phone
    ]
    codes = {c for r in rows for c in r.service_area_codes or ()}
    levels: dict[str, str] = {}
    per_level: dict[str, int] = {}
    if codes:
        levels = dict(await Area.filter(code__in=codes).values_list("code", "level"))
        counted = Area.annotate(n=Count("code")).group_by("level").values_list("level", "n")
        per_level = {str(level): int(n) for level, n in await counted}

    def everywhere(line_codes: set[str]) -> bool:
        known = [c for c in line_codes if c in levels]
        if "" in line_codes or len(known) < len(line_codes):
            return True  # listed with no area, or one not known here: not narrowed
        held: dict[str, int] = {}
        for code in known:
            held[str(levels[code])] = held.get(str(levels[code]), 0) + 1
        return any(n >= per_level.get(level, 0) for level, n in held.items())

    # One number listed for each city (12320) reaches everyone, wherever they call from.
    per_number: dict[str, set[str]] = {}
    for r in rows:
        per_number.setdefault(r.phone, set()).update(r.service_area_codes or [""])
    reach = {phone: everywhere(found) for phone, found in per_number.items()}
    return [
        Hotline(
            r.id, r.name_zh, r.name_en, r.phone, tuple(r.service_area_codes or ()), reach[r.phone]
        )
        for r in rows
    ]


async def crisis_hotlines(
    area_codes: frozenset[str] = frozenset(), limit: int = 3
) -> list[Hotline]:
    """Active 24/7 lines for a resident in ``area_codes`` (a page about a service: its
    area's): those serving one of the areas first, then those serving everyone; never
    another district's own line, and one entry per number (a province lists 12320 once per
    city). The copy read last when the database is unavailable."""
    global _last_hotlines
    try:
        _last_hotlines = await _read_hotlines()
    except Unavailable:
        pass
    except BaseORMException as exc:
        # A database not migrated yet (a worker starting before `migrate`): the page
        # still renders, with the lines read last.
        log.warning("24/7 lines not readable (%s); showing the last copy", type(exc).__name__)
    ours = [h for h in _last_hotlines if set(h.service_area_codes) & area_codes]
    shown: dict[str, Hotline] = {}
    for line in [*ours, *(h for h in _last_hotlines if h.everywhere)]:
        shown.setdefault(line.phone, line)
    return list(shown.values())[:limit]
