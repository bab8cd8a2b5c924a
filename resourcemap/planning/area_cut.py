"""A coverage analysis cut to the area an account is kept to (#20).

The city is analysed whole — a service point across the street from an area covers people
inside it — and then cut: the areas of the account's area and below, the residents who live
there, their coverage, and the service points inside it. An area's figures are therefore
the same whether a planner kept to it or one who sees the whole city reads them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from geo.coverage import Supply
from resourcemap.scope import AreaScope

if TYPE_CHECKING:
    from resourcemap.planning.coverage import Analysis


def cut(analysis: Analysis, scope: AreaScope) -> Analysis:
    """``analysis`` as an account kept to ``scope`` sees it."""
    whole = analysis.tree
    tree = whole.within(scope.code)
    inside = set(tree.index)
    rows = analysis.demand.rows_in(inside)
    result = analysis.result
    covered = None if result.covered is None else result.covered[rows]
    # A team serving an area above this one serves all of it.
    above: set[str] = set()
    parent = whole.node(scope.code).parent if inside else None
    while parent is not None and parent in whole:
        above.add(parent)
        parent = whole.node(parent).parent

    def served_here(codes: tuple[str, ...]) -> list[str]:
        return [c if c in inside else scope.code for c in codes if c in inside or c in above]

    s = analysis.supply
    served = served_here(s.served_areas)
    located = tree.locate(s.lon, s.lat) != "" if s.size else np.zeros(0, dtype=bool)
    point_kinds = tuple(k for k, here in zip(analysis.point_kinds, located, strict=False) if here)
    teams = tuple((k, codes) for k, codes in analysis.team_areas if served_here(codes))
    kinds = Counter([*point_kinds, *(k for k, _ in teams)])
    return replace(
        analysis,
        tree=tree,
        demand=analysis.demand.take(rows),
        supply=Supply.of(s.lon, s.lat, served),
        result=replace(result, sums=result.sums.only(inside), covered=covered),
        resources=sum(kinds.values()),
        kind_counts=tuple(sorted(kinds.items())),
        point_kinds=point_kinds,
        team_areas=teams,
        area=tree.node(scope.code) if scope.code in tree else None,
        shown=Supply.of(s.lon[located], s.lat[located], served),
    )
