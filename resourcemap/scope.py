"""The four-level platform (市–区县–镇街–村社区, #20): planner and staff accounts kept to one
area see and change only what lies in it.

An account's area is one code at any level. What lies in it: the area and every area below
it (a district's streets and communities), and every listing whose city, district, street
or community code is that code. Enforced on the server: the domain's use cases take the
scope (planning figures are cut in :mod:`resourcemap.planning.area_cut`); pages and the API
only pass the account's scope in and the results on.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from resourcemap.accounts import Principal
from resourcemap.errors import Forbidden, InvalidInput
from resourcemap.models import Area
from resourcemap.said import N_
from resourcemap.vocab import AREA_LEVEL_SAID, AreaLevel

LOCATED = ("city_code", "district_code", "street_code", "community_code")


@dataclass(frozen=True)
class AreaScope:
    """The area an account is kept to, and every code inside it."""

    code: str
    level: AreaLevel
    codes: frozenset[str]
    name: str = ""  # the area's name, for pages to say whose figures they show

    def admits(self, code: object) -> bool:
        return isinstance(code, str) and code in self.codes

    def check_level(self, level: AreaLevel) -> None:
        """Figures for areas above the account's (a city's total for a district planner)
        would include other areas: refused."""
        if level.depth < self.level.depth:
            raise Forbidden(
                N_(
                    "your account is kept to area %(area)s (%(level)s): choose that level or "
                    "one below it",
                    area=self.code,
                    level=AREA_LEVEL_SAID[self.level],
                )
            )


async def scope_of(principal: Principal) -> AreaScope | None:
    """The account's area with everything below it; ``None`` for accounts not kept to
    one. An area that no longer exists keeps nothing in scope (never everything)."""
    if principal.area_code is None:
        return None
    return await area_scope(principal.area_code)


async def area_scope(code: str) -> AreaScope:
    """Area ``code`` with everything below it (nothing when it no longer exists)."""
    rows = await Area.all().values_list("code", "parent_id", "level", "name_zh")
    children: dict[str | None, list[str]] = {}
    levels: dict[str, str] = {}
    names: dict[str, str] = {}
    for area, parent, level, name in rows:
        children.setdefault(parent, []).append(area)
        levels[area] = level
        names[area] = name
    if code not in levels:
        return AreaScope(code, AreaLevel.COMMUNITY, frozenset())
    inside: set[str] = set()
    todo = [code]
    while todo:
        area = todo.pop()
        if area not in inside:
            inside.add(area)
            todo.extend(children.get(area, []))
    return AreaScope(code, AreaLevel(levels[code]), frozenset(inside), names[code])


def located_in(code: str, relation: str = "") -> Q:
    """Listings located in area ``code`` at any level (``relation``: ``"resource__"`` to
    filter bookings by their listing)."""
    return Q(*(Q(**{f"{relation}{name}": code}) for name in LOCATED), join_type="OR")


async def figures_area(principal: Principal, area: str | None) -> str | None:
    """The area a planner's counts cover (referrals, feedback, #23): ``area`` if asked —
    inside the area the account is kept to, if any, refused otherwise — else the account's
    area, else the whole city (``None``)."""
    if area is not None and (not area.isdigit() or len(area) != 12):
        raise InvalidInput("an area code has 12 digits", field="area")
    scope = await scope_of(principal)
    if scope is None:
        return area
    if area is not None and not scope.admits(area):
        raise Forbidden(
            N_(
                "your account is kept to area %(area)s; %(asked)s is outside it",
                area=scope.code,
                asked=area,
            )
        )
    return area or scope.code
