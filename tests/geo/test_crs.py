"""geo.crs: the metric CRS chosen from the data's longitude, and projecting to and from it."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest

from geo.crs import central_meridian, metric_crs_for, to_metric, to_wgs84


def test_metric_crs_for_shenzhen_is_cgcs2000_cm_114() -> None:
    crs = metric_crs_for(113.93)
    assert crs.to_epsg() == 4547
    assert crs.name == "CGCS2000 / 3-degree Gauss-Kruger CM 114E"


def test_metric_crs_for_picks_the_nearest_central_meridian() -> None:
    crs = metric_crs_for(120.1)
    assert central_meridian(crs) == 120.0
    assert crs.to_epsg() == 4549


@pytest.mark.parametrize("cm", range(75, 136, 3))
def test_metric_crs_for_every_zone_has_its_central_meridian(cm: int) -> None:
    for lon in (cm - 1.49, cm, cm + 1.49):
        assert central_meridian(metric_crs_for(lon)) == cm


@pytest.mark.parametrize("lon", [73.4, 136.5, 0.0, -113.93, math.nan, math.inf])
def test_metric_crs_for_refuses_longitudes_outside_china(lon: float) -> None:
    with pytest.raises(ValueError, match="longitude"):
        metric_crs_for(lon)


def test_round_trip_is_exact_to_1e_7_degrees() -> None:
    rng = np.random.default_rng(1)
    lon = rng.uniform(112.5, 115.5, 10_000)
    lat = rng.uniform(18.0, 45.0, 10_000)
    crs = metric_crs_for(114.0)
    x, y = to_metric(lon, lat, crs)
    back_lon, back_lat = to_wgs84(x, y, crs)
    assert x.shape == lon.shape
    assert np.abs(back_lon - lon).max() < 1e-7
    assert np.abs(back_lat - lat).max() < 1e-7


def test_metric_axes_are_easting_then_northing() -> None:
    crs = metric_crs_for(114.0)
    x, y = to_metric([114.0, 114.01], [22.75, 22.76], crs)
    assert x[0] == pytest.approx(500_000.0, abs=1e-6)  # the false easting on the meridian
    assert x[1] > x[0] and y[1] > y[0]
    assert 2_500_000 < y[0] < 2_530_000


@pytest.mark.parametrize(("lon", "lat"), [(113.93, 22.75), (120.1, 30.3), (87.6, 43.8)])
def test_500_m_east_in_the_metric_crs_is_500_m_on_the_ellipsoid(lon: float, lat: float) -> None:
    crs = metric_crs_for(lon)
    x, y = to_metric([lon], [lat], crs)
    east_lon, east_lat = to_wgs84(x + 500.0, y, crs)
    _, _, distance = pyproj.Geod(ellps="GRS80").inv(lon, lat, east_lon[0], east_lat[0])
    assert distance == pytest.approx(500.0, abs=0.1)
