"""The four-level platform (市–区县–镇街–村社区, #20): planner and staff accounts kept to one
area see and change only what lies in it.

An account's area is one code at any level. What lies in it: the area and every area below
it (a district's streets and communities), and every listing whose city, district, street
or community code is that code. Enforced here, on the server; pages and the API only pass
the results on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from resourcemap.accounts import Principal
from resourcemap.errors import Forbidden
from resourcemap.models import Area
from resourcemap.vocab import AreaLevel

LOCATED = ("city_code", "district_code", "street_code", "community_code")


@dataclass(frozen=True)
class AreaScope:
    """The area an account is kept to, and every code inside it."""

    code: str
    level: AreaLevel
    codes: frozenset[str]

    def admits(self, code: object) -> bool:
        return isinstance(code, str) and code in self.codes

    def check_level(self, level: AreaLevel) -> None:
        """Figures for areas above the account's (a city's total for a district planner)
        would include other areas: refused."""
        if level.depth < self.level.depth:
            raise Forbidden(
                f"your account is kept to area {self.code} ({self.level.value}): "
                f"choose the level {self.level.value} or below"
            )

    def features(self, body: dict[str, Any]) -> dict[str, Any]:
        """A FeatureCollection of areas with only the features inside the scope; totals
        summed again from what is left."""
        kept = [f for f in body.get("features", []) if self.admits(_code_of(f))]
        out = {**body, "features": kept, "scope": self.code}
        if "totals" in body:
            out["totals"] = _totals([f["properties"] for f in kept])
        return out


def _code_of(feature: dict[str, Any]) -> object:
    props = feature.get("properties") or {}
    return props.get("code", feature.get("id"))


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    population = sum(float(r.get("population") or 0) for r in rows)
    covered = sum(float(r.get("covered") or 0) for r in rows)
    return {
        "population": round(population, 1),
        "covered": round(covered, 1),
        "uncovered": round(population - covered, 1),
        "share": round(covered / population, 4) if population else None,
    }


async def scope_of(principal: Principal) -> AreaScope | None:
    """The account's area with everything below it; ``None`` for accounts not kept to
    one. An area that no longer exists keeps nothing in scope (never everything)."""
    if principal.area_code is None:
        return None
    rows = await Area.all().values_list("code", "parent_id", "level")
    children: dict[str | None, list[str]] = {}
    levels: dict[str, str] = {}
    for code, parent, level in rows:
        children.setdefault(parent, []).append(code)
        levels[code] = level
    if principal.area_code not in levels:
        return AreaScope(principal.area_code, AreaLevel.COMMUNITY, frozenset())
    inside: set[str] = set()
    todo = [principal.area_code]
    while todo:
        code = todo.pop()
        if code not in inside:
            inside.add(code)
            todo.extend(children.get(code, []))
    return AreaScope(principal.area_code, AreaLevel(levels[principal.area_code]), frozenset(inside))


def located_in(code: str, relation: str = "") -> Q:
    """Listings located in area ``code`` at any level (``relation``: ``"resource__"`` to
    filter bookings by their listing)."""
    return Q(*(Q(**{f"{relation}{name}": code}) for name in LOCATED), join_type="OR")
