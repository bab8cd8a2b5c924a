"""Area codes of millions of points, worked through their few distinct values (#22).

A province's demand holds tens of millions of points but only tens of thousands of area
codes. NumPy sorts every point's string for ``np.unique`` and ``np.isin`` (17 s to ask
which of 3 M points lie in a set of areas); hashing the codes as integers and deciding
once per distinct code takes a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

# Rows per block when turning codes into integers: small enough to stay in cache.
_BLOCK = 16_384


def twelve_digits(code: str) -> str:
    """A Chinese statistical area code as the areas store it: DataV's 6-digit district
    codes (``440303``) and the 9-digit street codes of census tables are the 12-digit
    code's first digits.

    >>> twelve_digits("440303"), twelve_digits("440303001"), twelve_digits("E01000001")
    ('440303000000', '440303001000', 'E01000001')
    """
    return code.ljust(12, "0") if code.isdigit() and len(code) in (6, 9) else code


def sorted_codes(area: StrArray) -> tuple[StrArray, IntArray]:
    """``np.unique(area, return_inverse=True)``, by hashing instead of sorting every point:
    millions of points hold a few thousand codes, and sorting the strings was as slow as
    the nearest-service query itself (#22). Only the distinct codes are sorted.

    >>> codes, inverse = sorted_codes(np.array(["b", "a", "b", "c"]))
    >>> codes.tolist(), inverse.tolist()
    (['a', 'b', 'c'], [1, 0, 1, 2])
    >>> codes, inverse = sorted_codes(np.array(["440305", "440304", "440305"]))
    >>> codes.tolist(), inverse.tolist()
    (['440304', '440305'], [1, 0, 1])
    """
    numbers = _as_numbers(area)
    if numbers is None:
        found, distinct = pd.factorize(area, sort=False)
        strings = np.asarray(distinct, dtype=area.dtype)
    else:
        # Equal-length digit strings: hashing integers is several times faster than strings,
        # and their numeric order is the strings' order.
        found, _distinct = pd.factorize(numbers, sort=False)
        first = np.empty(int(found.max(initial=-1)) + 1, dtype=np.intp)
        first[found[::-1]] = np.arange(found.size - 1, -1, -1)
        strings = area[first]
    order = np.argsort(strings, kind="stable")
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return strings[order], rank[found]


def _as_numbers(area: StrArray) -> IntArray | None:
    """Area codes as integers when every code is the same number of digits (China's 12-digit
    codes), else ``None``."""
    width = area.dtype.itemsize // 4
    if area.size == 0 or area.dtype.kind != "U" or not 0 < width <= 18:
        return None
    chars = np.ascontiguousarray(area).view(np.uint32).reshape(area.size, width)
    if chars.min() < 48 or chars.max() > 57:  # a non-digit, or a shorter code's padding
        return None
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    numbers = np.empty(area.size, dtype=np.int64)
    # Block by block: an integer matrix product over all rows at once widens every character
    # to 8 bytes in memory first, and was 10× slower than blocks that stay in cache.
    for start in range(0, area.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        np.matmul(chars[block], powers, out=numbers[block], casting="unsafe")
    return numbers - 48 * int(powers.sum())


@dataclass(frozen=True)
class AreaIndex:
    """Points' area codes as their distinct ``codes`` (sorted) and each point's place among
    them (``inverse``): worked out once, used by every question asked of the same points."""

    codes: StrArray
    inverse: IntArray

    @classmethod
    def of(cls, area: StrArray) -> AreaIndex:
        return cls(*sorted_codes(area))

    def within(self, wanted: Collection[str]) -> BoolArray:
        """Whether each point's area is one of ``wanted``."""
        if self.inverse.size == 0 or not wanted:
            return np.zeros(self.inverse.size, dtype=bool)
        # The wanted codes keep their own width: cut to the points' width, a longer code
        # could equal a shorter one.
        hit: BoolArray = np.isin(self.codes, np.array(sorted(wanted)))
        return hit[self.inverse]


def area_in(area: StrArray, wanted: Collection[str]) -> BoolArray:
    """``np.isin(area, wanted)``, decided once per distinct code.

    >>> area_in(np.array(["440305", "440304", "440305"]), {"440305", "440306001"}).tolist()
    [True, False, True]
    """
    if area.size == 0 or not wanted:
        return np.zeros(area.size, dtype=bool)
    return AreaIndex.of(area).within(wanted)
