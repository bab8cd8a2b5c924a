"""What the residents' map needs from the database, kept slim.

The map draws every active service point of the city (10,000 in a large one) in clusters, so
it gets each point as one short row (id, coordinates, kind, names, three flags), never the
full listing; every resident page shows the 24/7 lines for the resident's area.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from tortoise.exceptions import BaseORMException
from tortoise.functions import Count

from resourcemap.errors import Unavailable
from resourcemap.models import Area, BookingPolicy, Resource
from resourcemap.search import changes
from resourcemap.vocab import Eligibility, Fee, ResourceKind, Status

log = logging.getLogger(__name__)

POINT_FIELDS = (
    *("id", "lat", "lon", "kind", "name_zh", "name_en", "free", "always_open", "bookable"),
    "public",  # open to anyone (members-only places show only when a search asks for them)
)


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


# The lines as last read, the change log's last entry then, and when (monotonic seconds):
# a page still shows them while the database does not answer (#16), and reads them again
# only after a change (on a province's database, reading them and their areas' levels took
# ~22 ms a page) or once they are a minute old (a change whose transaction took an earlier
# number than the last one seen but committed after it).
_last_hotlines: list[Hotline] = []
_read_at: tuple[int, float] | None = None
HOTLINES_MAX_AGE_S = 60.0


async def _read_hotlines() -> list[Hotline]:
    # Only the columns shown: every resident page reads these, and whole listings (120 on
    # the demo province) took 8 ms to build.
    found = (
        await Resource.filter(kind=ResourceKind.HOTLINE, status=Status.ACTIVE, always_open=True)
        .order_by("id")
        .values_list("id", "name_zh", "name_en", "phone", "service_area_codes")
    )
    rows = [
        Hotline(int(i), str(zh), str(en or ""), str(phone), tuple(codes or ()))
        for i, zh, en, phone, codes in found
        if phone
    ]
    codes = {c for r in rows for c in r.service_area_codes}
    levels: dict[str, str] = {}
    per_level: dict[str, int] = {}
    if codes:
        levels = {
            str(c): str(lv)
            for c, lv in await Area.filter(code__in=codes).values_list("code", "level")
        }
    if levels:
        # Only the levels the lines name (a province's cities, not its communities).
        counted = (
            Area.filter(level__in=set(levels.values()))
            .annotate(n=Count("code"))
            .group_by("level")
            .values_list("level", "n")
        )
        per_level = {str(level): int(n) for level, n in await counted}

    def everywhere(line_codes: set[str]) -> bool:
        known = [c for c in line_codes if c in levels]
        if "" in line_codes or len(known) < len(line_codes):
            return True  # listed with no area, or one not known here: not narrowed
        held = Counter(levels[code] for code in known)
        return any(n >= per_level.get(level, 0) for level, n in held.items())

    # One number listed for each city (12320) reaches everyone, wherever they call from.
    per_number: dict[str, set[str]] = {}
    for r in rows:
        per_number.setdefault(r.phone, set()).update(r.service_area_codes or [""])
    reach = {phone: everywhere(found) for phone, found in per_number.items()}
    return [replace(r, everywhere=reach[r.phone]) for r in rows]


async def crisis_hotlines(
    area_codes: frozenset[str] = frozenset(), limit: int = 3, *, fresh: bool = False
) -> list[Hotline]:
    """Active 24/7 lines for a resident in ``area_codes`` (a page about a service: its
    area's): those serving one of the areas first, then those serving everyone; never
    another district's own line, and one entry per number (a province lists 12320 once per
    city). Read again when the change log moved on (or ``fresh``: a process's start); the
    copy read last when the database is unavailable."""
    global _last_hotlines, _read_at
    try:
        seq, now = await changes.latest_seq(), time.monotonic()
        if (
            fresh
            or _read_at is None
            or _read_at[0] != seq
            or now - _read_at[1] > HOTLINES_MAX_AGE_S
        ):
            _last_hotlines, _read_at = await _read_hotlines(), (seq, now)
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
