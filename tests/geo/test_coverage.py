"""Coverage against answers worked out by hand: the rim, area edges, empty areas, teams."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage import (
    TOLERANCE_M,
    AreaSums,
    Supply,
    coverage,
    within_radius,
)
from geo.demand import Demand
from geo.gaps import gap_features
from tests.geo_cases import geodesic_offsets, lonlat, two_communities

LON, LAT = 113.93, 22.75


@pytest.mark.parametrize("radius", [500.0, 250.0, 1234.5])
def test_point_exactly_at_the_radius_is_covered(radius: float) -> None:
    distances = [radius, radius - 0.01, radius + 0.01, radius + 2 * TOLERANCE_M]
    for azimuth in (0.0, 45.0, 90.0, 200.0):
        lon, lat = geodesic_offsets(LON, LAT, distances, azimuth)
        assert within_radius(lon, lat, [LON], [LAT], radius).tolist() == [
            True,
            True,
            False,
            False,
        ]


def test_rim_decided_by_geodesic_distance_far_from_the_central_meridian() -> None:
    # 115.4°E is 1.4° from zone 114°E's central meridian: the projected distance of a
    # point at 500 m is about 0.07 m longer there, which the rim check must see through.
    lon, lat = geodesic_offsets(115.4, 30.0, [500.0, 500.02], azimuth=90.0)
    assert within_radius(lon, lat, [115.4], [30.0], 500).tolist() == [True, False]


def test_nearest_service_need_not_be_the_one_that_covers() -> None:
    lon, lat = geodesic_offsets(LON, LAT, [499.0], azimuth=0.0)
    far_lon, far_lat = geodesic_offsets(LON, LAT, [2000.0])
    assert within_radius(lon, lat, [far_lon[0], LON], [far_lat[0], LAT], 500).tolist() == [True]
    assert not within_radius(lon, lat, [], [], 500).any()


def test_coverage_across_a_community_boundary() -> None:
    tree = two_communities()
    # A room in c1, 300 m west of the edge c1|c2 (x = 1000 m).
    s_lon, s_lat = lonlat([700], [500])
    # People in c2: 150 m beyond the edge (450 m away, covered) and 250 m beyond (550 m).
    # People in c1: at the room's door, and 600 m west of it.
    lon, lat = lonlat([1150, 1250, 700, 100], [500, 500, 500, 500])
    demand = Demand.of(lon, lat, [10, 20, 5, 7], method="points", source="hand")
    result = coverage(demand, Supply.of(s_lon, s_lat), tree, 500)
    rows = {r.code: r for r in result.table(tree, "community")}
    assert (rows["c1"].population, rows["c1"].covered, rows["c1"].uncovered) == (12, 5, 7)
    assert (rows["c2"].population, rows["c2"].covered) == (30, 10)
    assert rows["c2"].share == pytest.approx(1 / 3)
    street = {r.code: r for r in result.table(tree, "street")}
    assert (street["s1"].population, street["s1"].covered) == (42, 15)
    assert result.covered is not None and result.covered.tolist() == [True, False, True, False]
    assert result.demand_method == "points" and result.demand_source == "hand"


def test_zero_population_area_has_no_share_and_still_appears() -> None:
    tree = two_communities()
    lon, lat = lonlat([500], [500])
    demand = Demand.of(lon, lat, [100], method="points", source="hand")
    result = coverage(demand, Supply.of(lon, lat), tree)
    rows = {r.code: r for r in result.table(tree, "community")}
    assert set(rows) == {"c1", "c2", "c3", "c4"}
    assert rows["c3"].population == 0 and rows["c3"].share is None
    assert rows["c1"].share == 1.0
    # A zero-weight point is counted as a point but adds no one.
    zero = Demand.of(*lonlat([2500], [500]), [0.0], method="points", source="hand")
    rows = {r.code: r for r in coverage(zero, Supply.of([], []), tree).table(tree, "community")}
    assert rows["c3"].points == 1 and rows["c3"].share is None


def test_volunteer_team_covers_every_community_of_the_street_it_serves() -> None:
    tree = two_communities()
    lon, lat = lonlat([100, 2900, -1000], [100, 900, 500])
    demand = Demand.of(lon, lat, [1, 2, 4], method="points", source="hand")
    by_street = coverage(demand, Supply.of([], [], served_areas=["s1"]), tree)
    assert by_street.covered is not None
    assert by_street.covered.tolist() == [True, True, False]
    by_community = coverage(demand, Supply.of([], [], served_areas=["c3"]), tree)
    assert by_community.covered_population == 2
    unknown = coverage(demand, Supply.of([], [], served_areas=["nope"]), tree)
    assert unknown.covered_population == 0


def test_points_outside_every_area_get_their_own_row() -> None:
    tree = two_communities()
    lon, lat = lonlat([500, 500], [500, 5000])
    result = coverage(
        Demand.of(lon, lat, [1, 3], method="points", source="h"), Supply.of([], []), tree
    )
    rows = {r.code: r for r in result.table(tree, "community")}
    assert rows[""].population == 3 and rows[""].name == "(outside every area)"
    assert result.population == 4


def test_point_on_a_shared_edge_is_counted_once() -> None:
    tree = two_communities()
    lon, lat = lonlat([1000], [500])
    result = coverage(
        Demand.of(lon, lat, [9], method="points", source="h"), Supply.of([], []), tree
    )
    rows = result.table(tree, "community")
    assert sum(r.population for r in rows) == 9


def test_gap_polygons_are_area_minus_circles() -> None:
    tree = two_communities()
    # A circle of 500 m in the middle of c1 (1 km square): the gap is the square's corners.
    s_lon, s_lat = lonlat([500], [500])
    features = {f["id"]: f for f in gap_features(tree, Supply.of(s_lon, s_lat), 500, "community")}
    corners = 1.0 - np.pi * 0.25
    assert features["c1"]["properties"]["gap_share"] == pytest.approx(corners, abs=2e-3)
    assert features["c2"]["properties"]["gap_share"] == pytest.approx(1.0)
    # A team serving c2 and a big circle over c1 leave only c3 and c4.
    big = gap_features(tree, Supply.of(s_lon, s_lat, ["c2"]), 800, "community")
    assert sorted(f["id"] for f in big) == ["c3", "c4"]
    assert gap_features(tree, Supply.of([], [], ["d1"]), 500, "street") == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-2500, 3500), st.floats(-500, 1500), st.floats(0, 50)), max_size=30
    ),
    st.lists(st.tuples(st.floats(-2500, 3500), st.floats(-500, 1500)), max_size=5),
    st.floats(10, 2000),
)
def test_coverage_never_exceeds_population_and_grows_with_radius(
    people: list[tuple[float, float, float]], rooms: list[tuple[float, float]], radius: float
) -> None:
    tree = two_communities()
    lon, lat = lonlat([p[0] for p in people], [p[1] for p in people])
    demand = Demand.of(lon, lat, [p[2] for p in people], method="points", source="h")
    supply = Supply.of(*lonlat([r[0] for r in rooms], [r[1] for r in rooms]))
    small = coverage(demand, supply, tree, radius)
    large = coverage(demand, supply, tree, radius * 1.5)
    for level in ("community", "street", "district"):
        for row in small.table(tree, level):
            assert 0 <= row.covered <= row.population + 1e-9
    assert small.covered is not None and large.covered is not None
    assert not (small.covered & ~large.covered).any()
    assert small.population == pytest.approx(sum(p[2] for p in people))


def test_area_sums_concat_refuses_overlapping_partitions() -> None:
    a = AreaSums.of(np.array(["c1"]), np.array([1.0]), np.array([True]))
    with pytest.raises(ValueError, match="disjoint"):
        AreaSums.concat([a, a])


def test_bad_radius_is_refused_with_a_reason() -> None:
    for radius in (0, -5, float("nan"), 1e9):
        with pytest.raises(ValueError, match="radius"):
            within_radius([LON], [LAT], [LON], [LAT], radius)
