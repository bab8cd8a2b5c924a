"""geo.synthetic: the demo district's shapes and population grid, without a database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.synthetic import (
    TOTAL_POPULATION,
    SyntheticGeography,
    generate_geography,
    largest_remainder,
    sample_near_population,
)


@pytest.fixture(scope="module")
def geo() -> SyntheticGeography:
    return generate_geography(np.random.default_rng(20181))


def test_district_is_about_14_by_11_km_near_the_requested_centre(geo: SyntheticGeography) -> None:
    xmin, ymin, xmax, ymax = shapely.bounds(geo.district_m)
    assert 12_000 < xmax - xmin < 17_000
    assert 9_500 < ymax - ymin < 14_000
    centre = shapely.centroid(geo.district)
    assert abs(centre.x - 113.93) < 0.02 and abs(centre.y - 22.75) < 0.02
    assert geo.district.is_valid and geo.district.geom_type == "Polygon"


def test_communities_and_streets_tile_the_district(geo: SyntheticGeography) -> None:
    area = geo.district_m.area
    for parts in (geo.communities_m, geo.streets_m):
        assert shapely.is_valid(parts).all()
        assert abs(shapely.union_all(parts).area - area) < 1e-6 * area
        assert abs(shapely.area(parts).sum() - area) < 1e-6 * area  # so no overlaps
    assert len(geo.streets) == 6 and len(geo.communities) == 30
    assert np.bincount(geo.community_street).min() >= 3


def test_grid_is_100_m_and_sums_to_the_population(geo: SyntheticGeography) -> None:
    grid = geo.grid
    assert grid.population.sum() == TOTAL_POPULATION
    assert grid.population.min() >= 0
    assert grid.size == pytest.approx(geo.district_m.area / 100**2, rel=0.01)
    assert geo.community_population().sum() == TOTAL_POPULATION
    assert geo.street_population().sum() == TOTAL_POPULATION
    # A few dense cores: the busiest cells hold many times the median.
    assert np.percentile(grid.population, 99) > 4 * np.median(grid.population)


def test_every_grid_cell_lies_in_its_community(geo: SyntheticGeography) -> None:
    own = geo.communities[geo.grid.community]
    assert shapely.intersects_xy(own, geo.grid.lon, geo.grid.lat).all()


def test_same_seed_same_geography_and_different_seed_different() -> None:
    a = generate_geography(np.random.default_rng(5))
    b = generate_geography(np.random.default_rng(5))
    c = generate_geography(np.random.default_rng(6))
    assert shapely.equals_exact(a.communities, b.communities, tolerance=0).all()
    assert np.array_equal(a.grid.population, b.grid.population)
    assert not a.district.equals(c.district)


def test_sampled_points_fall_inside_the_requested_communities(geo: SyntheticGeography) -> None:
    which = np.repeat(np.arange(len(geo.communities)), 20)
    lon, lat = sample_near_population(geo, which, np.random.default_rng(0))
    assert shapely.contains_xy(geo.communities[which], lon, lat).all()


@pytest.mark.parametrize(
    ("weights", "total", "expected"),
    [([1, 1, 1], 10, [4, 3, 3]), ([0.5, 0.25, 0.25], 4, [2, 1, 1]), ([3, 0, 1], 7, [5, 0, 2])],
)
def test_largest_remainder_sums_exactly(
    weights: list[float], total: int, expected: list[int]
) -> None:
    assert largest_remainder(weights, total).tolist() == expected


def test_largest_remainder_refuses_weights_without_mass() -> None:
    with pytest.raises(ValueError, match="positive sum"):
        largest_remainder([0, 0], 5)
