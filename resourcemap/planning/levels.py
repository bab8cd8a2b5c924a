"""Which level a coverage table can report: one the loaded areas have.

A city loaded from district boundaries alone (DataV files stop at districts) has no street
or community areas. Coverage "per community" would then put every resident into one row
"outside every area"; instead the level asked for is refused, naming the levels there are,
and without a level asked for the deepest one loaded is used and said.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tortoise.functions import Count

from resourcemap.errors import InvalidInput
from resourcemap.models import Area
from resourcemap.said import N_
from resourcemap.scope import AreaScope
from resourcemap.vocab import AREA_LEVEL_SAID, AreaLevel


@dataclass(frozen=True)
class LevelChoice:
    level: AreaLevel
    note: str = ""


async def area_levels() -> list[AreaLevel]:
    """The levels at least one stored area has, from city down."""
    present = {str(v) for v in await Area.all().distinct().values_list("level", flat=True)}
    return [level for level in AreaLevel if level.value in present]


def choose_level(requested: AreaLevel | None, present: list[AreaLevel]) -> LevelChoice:
    """``requested`` if the areas have it, else refuse naming the levels there are; without
    a request the deepest level there is.

    >>> choose_level(None, [AreaLevel.CITY, AreaLevel.DISTRICT]).note
    'per district: the deepest level the loaded areas have (no street or community areas)'
    """
    if not present:  # nothing to choose from: the analysis says what is missing
        return LevelChoice(requested or AreaLevel.COMMUNITY)
    if requested is None:
        deepest = present[-1]
        missing = [lv.value for lv in AreaLevel if lv.depth > deepest.depth]
        if not missing:
            return LevelChoice(deepest)
        return LevelChoice(
            deepest,
            f"per {deepest.value}: the deepest level the loaded areas have "
            f"(no {' or '.join(missing)} areas)",
        )
    if requested in present:
        return LevelChoice(requested)
    raise InvalidInput(
        N_(
            "the loaded areas have no %(level)s level, so figures per %(level)s cannot be "
            "reported: choose the %(deepest)s level or one above it",
            level=AREA_LEVEL_SAID[requested],
            deepest=AREA_LEVEL_SAID[present[-1]],
        ),
        field="level",
    )


async def level_for(requested: AreaLevel, *, asked: bool) -> AreaLevel:
    """The level figures are given at: ``requested`` if the stored areas have it; if it was
    not ``asked`` for (a default: siting, a map without its level), the deepest they have;
    else refused (``InvalidInput``, naming the deepest level there is): figures per
    community of a city loaded from district boundaries are one row "outside every area"
    holding everyone, and its map had nothing to draw."""
    present = await area_levels()
    if not asked and present and requested not in present:
        return present[-1]
    return choose_level(requested, present).level


# A city's communities (up to about a thousand) fit one table a planner reads down, most
# residents outside first; a province's 22,000 do not (nor their map).
TABLE_AREAS = 1_000


async def table_level(scope: AreaScope | None = None) -> AreaLevel:
    """The level a planner's table opens at when none is asked for: the finest with at most
    :data:`TABLE_AREAS` areas (in ``scope``'s area), never above ``scope``'s level. A city
    opens per community as before; a province per street or district, not 22,000 rows.

    Community when nothing is stored (the analysis then says what is missing)."""
    if scope is None:
        rows = (
            await Area.all().group_by("level").annotate(n=Count("code")).values_list("level", "n")
        )
        counts = Counter({str(level): int(n) for level, n in rows})
    else:
        levels = await Area.all().values_list("code", "level")
        counts = Counter(str(level) for code, level in levels if scope.admits(code))
    top = 0 if scope is None else scope.level.depth
    fitting = [
        level
        for level in AreaLevel
        if level.depth >= top and 0 < counts[level.value] <= TABLE_AREAS
    ]
    return fitting[-1] if fitting else AreaLevel.COMMUNITY
