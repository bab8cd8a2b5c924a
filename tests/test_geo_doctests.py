"""The examples in the coverage modules' docstrings run and stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "geo.access",
    "geo.areatree",
    "geo.coverage",
    "geo.demand",
    "geo.gaps",
    "geo.map_legend",
    "geo.maps",
    "geo.heat",
    "geo.network",
    "geo.partitioned",
    "geo.siting",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
