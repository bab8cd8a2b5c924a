"""geo.chinacoords: GCJ-02 / BD-09 to WGS-84, checked against values other projects publish."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.chinacoords import (
    CoordSystem,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat)
WGS_TO_GCJ = [
    # googollee/eviltransform go/transform_test.go, "shanghai"
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    # googollee/eviltransform go/transform_test.go, "shenzhen"
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    # googollee/eviltransform go/transform_test.go, "beijing"
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    # wandergis/coordtransform README.md, wgs84togcj02(116.404, 39.915)
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]

# (gcj_lon, gcj_lat, bd_lon, bd_lat)
GCJ_TO_BD = [
    # wandergis/coordtransform README.md, gcj02tobd09(116.404, 39.915)
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.ts, "GCJ02 to BD09"
    (123.0, 45.0, 123.00636499, 45.00636899),
]


def _china_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(73.0, 135.0, 125), np.linspace(18.0, 53.5, 72))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published_values(
    wgs_lon: float, wgs_lat: float, gcj_lon: float, gcj_lat: float
) -> None:
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert float(lon) == pytest.approx(gcj_lon, abs=1e-6)
    assert float(lat) == pytest.approx(gcj_lat, abs=1e-6)


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), WGS_TO_GCJ)
def test_gcj02_to_wgs84_recovers_published_wgs84_points(
    wgs_lon: float, wgs_lat: float, gcj_lon: float, gcj_lat: float
) -> None:
    # eviltransform's own "exact" inverse only promises 0.5 m; ours is within ~1 cm.
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert float(lon) == pytest.approx(wgs_lon, abs=1e-7)
    assert float(lat) == pytest.approx(wgs_lat, abs=1e-7)


def test_gcj02_to_wgs84_improves_on_the_one_step_inverse() -> None:
    # wandergis/coordtransform README.md: gcj02towgs84(116.404, 39.915), the one-step inverse.
    one_step = (116.39775550083061, 39.91359571849836)
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    assert float(lon) == pytest.approx(one_step[0], abs=1e-5)
    assert float(lat) == pytest.approx(one_step[1], abs=1e-5)
    # Shifting ours forward lands on the input; shifting the one-step answer does not.
    ours_fwd = wgs84_to_gcj02(lon, lat)
    theirs_fwd = wgs84_to_gcj02(*one_step)
    assert abs(float(ours_fwd[0]) - 116.404) < 1e-10
    assert abs(float(ours_fwd[1]) - 39.915) < 1e-10
    assert abs(float(theirs_fwd[1]) - 39.915) > 1e-7


@pytest.mark.parametrize(("gcj_lon", "gcj_lat", "bd_lon", "bd_lat"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_published_values(
    gcj_lon: float, gcj_lat: float, bd_lon: float, bd_lat: float
) -> None:
    lon, lat = gcj02_to_bd09(gcj_lon, gcj_lat)
    assert float(lon) == pytest.approx(bd_lon, abs=1e-6)
    assert float(lat) == pytest.approx(bd_lat, abs=1e-6)


def test_wgs84_to_bd09_matches_published_value() -> None:
    # dromara/hutool hutool-core/src/test/java/cn/hutool/core/util/CoordinateUtilTest.java,
    # wgs84toBd09Test2 (which cites tool.lu/coordinate).
    lon, lat = wgs84_to_bd09(122.99395597, 44.99804071)
    assert float(lon) == pytest.approx(123.00636516028885, abs=1e-6)
    assert float(lat) == pytest.approx(45.00636909189589, abs=1e-6)


def test_bd09_to_gcj02_agrees_with_the_published_one_step_inverse_and_is_exact() -> None:
    # wandergis/coordtransform README.md: bd09togcj02(116.404, 39.915), a one-step inverse
    # that is off by ~4e-7° here; ours differs by that much and maps back exactly.
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.39762729119315, abs=1e-6)
    assert float(lat) == pytest.approx(39.90865673957631, abs=1e-6)
    back_lon, back_lat = gcj02_to_bd09(lon, lat)
    assert abs(float(back_lon) - 116.404) < 1e-10
    assert abs(float(back_lat) - 39.915) < 1e-10


def test_wgs84_gcj02_round_trip_is_within_1e_7_degrees_across_china() -> None:
    lon, lat = _china_grid()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-7
    assert np.abs(back_lat - lat).max() < 1e-7


def test_wgs84_bd09_round_trip_is_within_1e_7_degrees_across_china() -> None:
    lon, lat = _china_grid()
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-7
    assert np.abs(back_lat - lat).max() < 1e-7


@given(
    st.floats(min_value=73.0, max_value=135.0),
    st.floats(min_value=3.0, max_value=53.5),
)
def test_to_wgs84_inverts_every_forward_shift(lon: float, lat: float) -> None:
    for system, forward in ((CoordSystem.GCJ02, wgs84_to_gcj02), (CoordSystem.BD09, wgs84_to_bd09)):
        back_lon, back_lat = to_wgs84(*forward(lon, lat), system)
        assert abs(float(back_lon) - lon) < 1e-7
        assert abs(float(back_lat) - lat) < 1e-7


def test_to_wgs84_moves_a_shenzhen_gcj02_point_a_few_hundred_metres() -> None:
    # What a user would see if conversion were skipped: the pin is off by a city block or more.
    lon, lat = to_wgs84(113.93, 22.75, CoordSystem.GCJ02)
    _, _, metres = GEOD.inv(113.93, 22.75, float(lon), float(lat))
    assert 100 < metres < 1000


def test_to_wgs84_moves_a_shenzhen_bd09_point_further_than_gcj02() -> None:
    gcj_lon, gcj_lat = to_wgs84(113.93, 22.75, CoordSystem.GCJ02)
    bd_lon, bd_lat = to_wgs84(113.93, 22.75, CoordSystem.BD09)
    _, _, gcj_metres = GEOD.inv(113.93, 22.75, float(gcj_lon), float(gcj_lat))
    _, _, bd_metres = GEOD.inv(113.93, 22.75, float(bd_lon), float(bd_lat))
    assert bd_metres > gcj_metres > 100


# Tokyo, London, and eviltransform's matlab edge cases (Denver, Brisbane, Rio de Janeiro).
OUTSIDE_CHINA = [
    (139.6917, 35.6895),
    (-0.1278, 51.5074),
    (-104.9903, 39.7392),
    (153.0251, -27.4698),
    (-43.1729, -22.9068),
]


def test_wgs84_gcj02_leave_points_outside_china_unchanged() -> None:
    lon, lat = np.array(OUTSIDE_CHINA).T
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)
    out_lon, out_lat = to_wgs84(lon, lat, "gcj02")
    np.testing.assert_array_equal(out_lon, lon)


def test_bounding_box_is_the_published_one() -> None:
    lon, _ = wgs84_to_gcj02([72.0039, 72.0041, 137.8346, 137.8348], [30.0, 30.0, 30.0, 30.0])
    assert lon[0] == 72.0039 and lon[3] == 137.8348
    assert lon[1] != 72.0041 and lon[2] != 137.8346


@pytest.mark.parametrize("system", list(CoordSystem))
def test_to_wgs84_turns_nan_into_nan_and_leaves_other_points_alone(system: CoordSystem) -> None:
    lon, lat = to_wgs84([math.nan, 113.93, 113.93], [22.75, math.nan, 22.75], system)
    assert np.isnan(lon[0]) and np.isnan(lat[1])
    assert np.isfinite(lon[2]) and np.isfinite(lat[2])
    expected_lon, expected_lat = to_wgs84(113.93, 22.75, system)
    assert lon[2] == expected_lon and lat[2] == expected_lat
    all_nan = to_wgs84(math.nan, math.nan, system)
    assert np.isnan(all_nan[0]) and np.isnan(all_nan[1])


def test_to_wgs84_keeps_shapes_and_returns_float_arrays() -> None:
    lon = np.full((3, 4), 113.93)
    lat = np.full((3, 4), 22.75)
    out_lon, out_lat = to_wgs84(lon, lat, CoordSystem.BD09)
    assert out_lon.shape == out_lat.shape == (3, 4)
    assert out_lon.dtype == np.float64
    scalar_lon, _ = to_wgs84(113.93, 22.75, "gcj02")
    assert isinstance(scalar_lon, np.ndarray) and scalar_lon.shape == ()
    empty_lon, empty_lat = to_wgs84([], [], CoordSystem.GCJ02)
    assert empty_lon.shape == empty_lat.shape == (0,)


def test_to_wgs84_wgs84_is_an_unchanged_copy() -> None:
    lon = np.array([113.93, 121.47])
    out_lon, _ = to_wgs84(lon, [22.75, 31.23], CoordSystem.WGS84)
    np.testing.assert_array_equal(out_lon, lon)
    out_lon[0] = 0.0
    assert lon[0] == 113.93


def test_to_wgs84_accepts_system_names_and_refuses_unknown_ones() -> None:
    assert to_wgs84(113.93, 22.75, "bd09")[0] == to_wgs84(113.93, 22.75, CoordSystem.BD09)[0]
    with pytest.raises(ValueError, match="mars"):
        to_wgs84(113.93, 22.75, "mars")
