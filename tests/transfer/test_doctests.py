"""The examples in the import modules' docstrings run and stay true (#19)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "resourcemap.listings.phones",
    "resourcemap.planning.levels",
    "resourcemap.transfer.hsds_schedules",
    "resourcemap.transfer.hsds_terms",
    "resourcemap.transfer.report",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
