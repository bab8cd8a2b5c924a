"""Which level a coverage table can report: one the loaded areas have.

A city loaded from district boundaries alone (DataV files stop at districts) has no street
or community areas. Coverage "per community" would then put every resident into one row
"outside every area"; instead the level asked for is refused, naming the levels there are,
and without a level asked for the deepest one loaded is used and said.
"""

from __future__ import annotations

from dataclasses import dataclass

from resourcemap.errors import InvalidInput
from resourcemap.models import Area
from resourcemap.vocab import AreaLevel


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
        f"the loaded areas have no {requested.value} level, so coverage per "
        f"{requested.value} cannot be reported; levels there are: "
        f"{', '.join(lv.value for lv in present)}",
        field="level",
    )
