"""The place a resident types instead of sharing their location: ``"22.75,113.93"``, (part
of) an area's name, or a name with the areas it lies in (``竹溪区春晖社区``,
``Chunhui, Zhuxi``).

A province repeats community names (春晖社区 in several districts): a name that fits several
areas is not settled by picking the first, it comes back as every area it fits, each with
where it lies, for the resident to choose (``Places.choices``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import shapely

from geo.distance import geodesic_m
from resourcemap.areas import ancestors_of
from resourcemap.models import Area
from resourcemap.vocab import AreaLevel

COORDS = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
# Smaller areas first: "光明" should find the community before the district of that name.
PLACE_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT, AreaLevel.CITY)
MAX_PLACE_TEXT = 60
# Areas a resident is asked to choose from at most; more: type more of the name.
MAX_CHOICES = 8
# A typed name cut into the names of areas: at separators, and after each Chinese area
# word (竹溪区春晖社区 → 竹溪区 + 春晖社区). 社区 before 区, so a community stays whole.
PARTS = re.compile(r"[^\s,，、;；/()（）]+?(?:社区|街道|村|镇|乡|区|县|市)|[^\s,，、;；/()（）]+")
# An address written with commas ("12 Hexie Road, Bailu Community, …") is cut at them only:
# its words one by one would each name something ("Community" every community).
SEGMENTS = re.compile(r"[,，、;；]")
BARE = re.compile(
    r"(?:社区|街道|村|镇|乡|区|县|市|\s+(?:community|subdistrict|street|district|town|village|city))$"
)


@dataclass(frozen=True)
class Place:
    """A point a resident typed, with the name to show for it and where it lies (the names
    of the areas above it, nearest first). For an area, the point is a point inside it and
    ``reach_m`` how far the area reaches from it: distances are from that point, so "within
    1 km" of a community 3 km across leaves part of the community out."""

    lat: float
    lon: float
    name_zh: str
    name_en: str
    within_zh: tuple[str, ...] = ()
    within_en: tuple[str, ...] = ()
    reach_m: float | None = None

    def at(self, lat: float, lon: float) -> bool:
        """Whether this is the place a search's point came from (the point is kept in the
        page's links as written here)."""
        return abs(self.lat - lat) < 1e-6 and abs(self.lon - lon) < 1e-6


@dataclass(frozen=True)
class Places:
    """What a typed place found: one place, several to choose from (``more``: how many
    further areas fit), or nothing."""

    choices: tuple[Place, ...] = ()
    more: int = 0

    @property
    def found(self) -> Place | None:
        return self.choices[0] if len(self.choices) == 1 and not self.more else None


@dataclass
class _Fit:
    area: Area
    above: list[Area]  # nearest first


async def find_places(text: str) -> Places:
    """The areas ``text`` names, smallest level first, or the point it gives.

    >>> import asyncio
    >>> asyncio.run(find_places("22.75, 113.93")).found.name_zh
    '22.75, 113.93'
    """
    text = text.strip()[:MAX_PLACE_TEXT]
    if not text:
        return Places()
    coords = COORDS.match(text)
    if coords is not None:
        lat, lon = float(coords[1]), float(coords[2])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            shown = f"{lat:g}, {lon:g}"
            return Places((Place(lat, lon, shown, shown),))
        return Places()
    wanted, fits = text, await _named(text)
    parts = PARTS.findall(text)
    if not fits and len(parts) > 1:
        # The smallest area named last or first ("春晖社区, 竹溪区"), the others above it.
        for wanted, others in ((parts[-1], parts[:-1]), (parts[0], parts[1:])):
            fits = [f for f in await _named(wanted) if _lies_in(f, others)]
            if fits:
                break
    if not fits:
        fits, wanted = await _in_address(text)
    if len(fits) > 1:
        # 春晖 or 春晖社区 is the name itself, not part of 春晖花园社区's.
        exact = [f for f in fits if BARE.sub("", wanted.casefold()).strip() in _bare(f.area)]
        fits = exact or fits
    listed = fits[:MAX_CHOICES]
    return Places(tuple(_place(f) for f in listed), len(fits) - len(listed))


async def _in_address(text: str) -> tuple[list[_Fit], str]:
    """An address: the smallest area it names, the others it names lying above it
    (白鹭社区 in 翠岭街道白鹭社区和谐路12号; Bailu in "12 Hexie Road, Bailu Community, Cuiling
    Subdistrict"); the road and the number, which name no area, are passed over. No street
    register is at hand: the search is near the community, and the page says which."""
    segments = [s.strip() for s in SEGMENTS.split(text) if s.strip()]
    if len(segments) < 2:
        segments = PARTS.findall(text)
    named = [(part, found) for part in segments if (found := await _named(part))]
    for part, found in sorted(named, key=lambda pair: PLACE_LEVELS.index(pair[1][0].area.level)):
        others = [other for other, _ in named if other != part]
        fits = [f for f in found if _lies_in(f, others)]
        if fits:
            return fits, part
    return [], text


async def _named(name: str) -> list[_Fit]:
    """The areas of the smallest level whose name holds ``name``, each with its areas above."""
    for level in PLACE_LEVELS:
        found = await Area.filter(
            level=level, boundary__isnull=False, name_zh__icontains=name
        ).order_by("code").limit(100) or await Area.filter(
            level=level, boundary__isnull=False, name_en__icontains=name
        ).order_by("code").limit(100)
        if found:
            above = await ancestors_of(found)
            return [_Fit(a, above[a.code]) for a in found]
    return []


def _names(area: Area) -> set[str]:
    return {area.name_zh.casefold(), area.name_en.casefold()} - {""}


def _bare(area: Area) -> set[str]:
    """An area's names without their area word (春晖社区 → 春晖, Chunhui Community → chunhui)."""
    return {BARE.sub("", name).strip() for name in _names(area)}


def _lies_in(fit: _Fit, others: list[str]) -> bool:
    """Whether every other part of the typed text names an area above ``fit``."""
    return all(
        any(part.casefold() in name for a in fit.above for name in _names(a)) for part in others
    )


def _place(fit: _Fit) -> Place:
    area = fit.area
    assert area.boundary is not None
    shape = shapely.geometry.shape(area.boundary)
    point = shapely.point_on_surface(shape)
    lat, lon = round(point.y, 6), round(point.x, 6)
    # The farthest point of a polygon from a point is one of its corners.
    corners = shapely.get_coordinates(shape)
    reach = float(geodesic_m(lat, lon, corners[:, 1], corners[:, 0]).max())
    return Place(
        lat,
        lon,
        area.name_zh,
        area.name_en,
        tuple(a.name_zh for a in fit.above),
        tuple(a.name_en or a.name_zh for a in fit.above),
        round(reach),
    )
