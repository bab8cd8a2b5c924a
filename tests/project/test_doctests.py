"""The examples in docstrings run and stay true: every module of the product that has one."""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests import ROOT

MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for package in ("resourcemap", "geo", "web")
    for path in (ROOT / package).rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8") and "migrations" not in path.parts
)


def test_the_modules_with_examples_are_found() -> None:
    assert {"geo.coverage", "resourcemap.clock", "resourcemap.settings"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
