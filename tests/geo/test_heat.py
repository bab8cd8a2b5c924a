"""Hexagon heatmap: the cells are H3's own, and the sums add up."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from geo.heat import cells_of, hex_features, hex_heat


@pytest.mark.parametrize("resolution", [7, 9, 10])
def test_cells_are_exactly_h3s(resolution: int) -> None:
    rng = np.random.default_rng(resolution)
    lon = 113.85 + rng.random(4000) * 0.15
    lat = 22.70 + rng.random(4000) * 0.10
    expected = [h3.latlng_to_cell(y, x, resolution) for x, y in zip(lon, lat, strict=True)]
    assert cells_of(lon, lat, resolution).tolist() == expected


def test_heat_sums_demand_supply_and_unmet() -> None:
    rng = np.random.default_rng(3)
    lon, lat = 113.9 + rng.random(500) * 0.05, 22.7 + rng.random(500) * 0.05
    weight = rng.integers(0, 50, 500).astype(float)
    covered = rng.random(500) < 0.6
    cells = hex_heat(lon, lat, weight, covered, lon[:7], lat[:7], 8)
    assert sum(c.demand for c in cells) == pytest.approx(weight.sum())
    assert sum(c.unmet for c in cells) == pytest.approx(weight[~covered].sum())
    assert sum(c.supply for c in cells) == 7
    feature = hex_features(cells)[0]
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    assert set(feature["properties"]) == {"cell", "demand", "supply", "unmet"}


def test_resolution_is_checked() -> None:
    with pytest.raises(ValueError, match="resolution"):
        cells_of(np.array([113.9]), np.array([22.7]), 15)
