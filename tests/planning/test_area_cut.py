"""A coverage analysis cut to an account's area (#20): the area's figures are the whole city's,
services outside it still cover people inside it, and teams serving an area above it serve
all of it."""

from __future__ import annotations

from geo.areatree import AreaNode, AreaTree
from geo.coverage import Supply, coverage
from geo.demand import Demand
from geo.gaps import gap_features
from resourcemap.planning.area_cut import cut
from resourcemap.planning.coverage import Analysis, CoverageQuery
from resourcemap.scope import AreaScope
from resourcemap.vocab import AreaLevel, ResourceKind
from tests.factories import square

EAST = AreaScope("s1", AreaLevel.STREET, frozenset({"s1", "c1"}), "东街道")


def _analysis(teams: tuple[tuple[ResourceKind, tuple[str, ...]], ...] = ()) -> Analysis:
    """Two streets of one community each, side by side; one room in the west community, 300 m
    from the east one's border; residents on both sides of the border."""
    tree = AreaTree.build([
        AreaNode("d1", "district", None, "测试区"),
        AreaNode("s1", "street", "d1", "东街道"),
        AreaNode("s2", "street", "d1", "西街道"),
        AreaNode("c1", "community", "s1", "东湖社区", square(114.00, 22.70, 0.01)),
        AreaNode("c2", "community", "s2", "西山社区", square(113.99, 22.70, 0.01)),
    ])  # fmt: skip
    demand = Demand.of(
        [114.0005, 114.009, 113.999], [22.705] * 3, [100, 50, 70], method="points", source="t"
    ).located(tree)
    served = [code for _, codes in teams for code in codes]
    supply = Supply.of([113.997], [22.705], served)
    kinds = (ResourceKind.COMMUNITY_ROOM,)
    counted = [*kinds, *(k for k, _ in teams)]
    return Analysis(
        CoverageQuery(), tree, demand, supply, coverage(demand, supply, tree), len(counted), "v",
        tuple((k, counted.count(k)) for k in sorted(set(counted))), kinds, teams,
    )  # fmt: skip


def test_an_areas_figures_are_the_whole_citys_and_only_its_own() -> None:
    whole = _analysis()
    east = cut(whole, EAST)
    assert [r.code for r in east.table()] == ["c1"]
    [row] = east.table()
    assert row == next(r for r in whole.table() if r.code == "c1")
    assert (row.population, row.covered) == (150.0, 100.0)  # covered from across the border
    assert east.result.population == 150.0 and east.demand.size == 2
    assert east.area is not None and east.area.name == "东街道"
    # The room across the border covers, but is neither shown nor counted as theirs.
    assert east.supply.size == 1 and east.shown_supply.size == 0
    assert east.resources == 0 and east.kind_counts == ()


def test_a_team_serving_the_district_serves_all_of_a_street_in_it() -> None:
    team = ResourceKind.VOLUNTEER_TEAM
    east = cut(_analysis(((team, ("d1",)),)), EAST)
    assert east.supply.served_areas == ("s1",)
    assert east.kind_counts == ((team, 1),)
    assert gap_features(east.tree, east.supply, 500, "community") == []
    west_only = cut(_analysis(((team, ("s2",)),)), EAST)
    assert west_only.supply.served_areas == () and west_only.resources == 0
    assert [f["id"] for f in gap_features(west_only.tree, west_only.supply, 500, "community")] == [
        "c1"
    ]


def test_an_area_that_no_longer_exists_keeps_nothing() -> None:
    gone = cut(_analysis(), AreaScope("s9", AreaLevel.COMMUNITY, frozenset()))
    assert gone.table() == [] and gone.demand.size == 0 and gone.area is None
