"""Area codes worked through their distinct values answer exactly as NumPy's own
``np.unique`` and ``np.isin`` over every point, whatever the codes look like."""

from __future__ import annotations

import numpy as np
import pytest

from geo.codes import area_in, sorted_codes

SHAPES = {
    "12-digit codes": [f"4403{i:08d}" for i in range(0, 9000, 7)],
    "mixed widths": ["4403", "440305", "440305001", "440305001001", "44"],
    "letters and digits": ["A1", "b2", "440305", "东区", ""],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_same_answers_as_numpy_over_every_point(shape: str) -> None:
    rng = np.random.default_rng(7)
    pool = np.array(SHAPES[shape])
    area = pool[rng.integers(0, pool.size, 50_000)]
    codes, inverse = sorted_codes(area)
    unique, numpy_inverse = np.unique(area, return_inverse=True)
    assert codes.tolist() == unique.tolist()
    assert np.array_equal(inverse, numpy_inverse)
    wanted = set(pool[::3].tolist()) | {"440305001001999", "nowhere"}
    assert np.array_equal(area_in(area, wanted), np.isin(area, list(wanted)))


def test_a_longer_code_never_matches_a_shorter_one() -> None:
    area = np.array(["440305001001"] * 3)
    assert not area_in(area, {"4403050010019"}).any()
    assert area_in(area[::2], {"440305001001"}).all()  # a strided view of the points
