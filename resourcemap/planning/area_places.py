"""Where an area is, for tables that name areas (#22): its names and the areas above it.
A province repeats community names ("康乐社区" in several cities), so a row names the
areas above its own, and what every row of a table shares is said once above it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from geo.areatree import LEVELS
from resourcemap.areas import AreasVersion, areas_version
from resourcemap.models import Area


@dataclass(frozen=True)
class Parent:
    """An area above a row's area: its level and its names."""

    level: str
    name: str
    name_en: str = ""


@dataclass(frozen=True)
class Place:
    """Where an area is: its names and the areas above it, nearest first (a community's
    street, district and city)."""

    name: str
    name_en: str = ""
    parents: tuple[Parent, ...] = ()


Places = Mapping[str, Place]


# The places as last read, and the areas' version they were read at: a province's 27,000
# areas took a read of every name on each planner page and each job's result.
_read: tuple[AreasVersion, Places] | None = None


async def area_places() -> Places:
    """Every area's place, by code (read again only when the areas change)."""
    global _read
    version = await areas_version()
    if _read is None or _read[0] != version:
        _read = (version, await _read_places())
    return _read[1]


async def _read_places() -> Places:
    rows = await Area.all().values_list("code", "level", "name_zh", "name_en", "parent_id")
    found = {str(c): (str(lv), str(n), str(e or ""), p) for c, lv, n, e, p in rows}
    chains: dict[str, tuple[Parent, ...]] = {}

    def chain(code: str | None, depth: int = 0) -> tuple[Parent, ...]:
        """``code`` itself and the areas above it (a broken hierarchy stops the chain)."""
        if code is None or code not in found or depth > len(LEVELS):
            return ()
        if code not in chains:
            level, name, name_en, parent = found[code]
            chains[code] = (Parent(level, name, name_en), *chain(parent, depth + 1))
        return chains[code]

    # Read-only: every caller shares this one until the areas change.
    return MappingProxyType(
        {
            code: Place(name, name_en, chain(parent))
            for code, (_, name, name_en, parent) in found.items()
        }
    )


class Placed(Protocol):
    """A row of a job's table that says where its area is."""

    @property
    def code(self) -> str: ...
    @property
    def place(self) -> Place: ...


def shared_parents(rows: Sequence[Placed]) -> tuple[Parent, ...]:
    """The areas above every row's area (a district's planner reads only its streets: each
    is in that district and its city), nearest first; none when the rows lie apart."""
    chains = [row.place.parents for row in rows if row.code]
    if not chains:
        return ()
    shared = 0
    while all(len(c) > shared for c in chains) and len({c[-1 - shared] for c in chains}) == 1:
        shared += 1
    return chains[0][len(chains[0]) - shared :]


def above_shared(row: Placed, shared: tuple[Parent, ...]) -> tuple[Parent, ...]:
    """The areas above ``row``'s own that are not among those every row ``shared``."""
    parents = row.place.parents
    return parents[: len(parents) - len(shared)]


@dataclass(frozen=True)
class PlacedArea:
    """An area of a table that holds only codes, with where it is."""

    code: str
    place: Place
