"""The README's code map is the tree as it is: every package and module, with what its own
docstring says it owns (``tools/codemap.py --write`` brings the map up to date)."""

from __future__ import annotations

import importlib.util
import re

from tests import ROOT

_spec = importlib.util.spec_from_file_location("codemap", ROOT / "tools" / "codemap.py")
assert _spec is not None and _spec.loader is not None
codemap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(codemap)


def test_the_readme_map_is_the_tree_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    held = codemap.readme_map(readme)
    assert held is not None, "README.md lost its code map markers"
    assert held == codemap.codemap(), "code map is stale: run python tools/codemap.py --write"


def test_every_module_says_what_it_owns() -> None:
    """A module without a docstring would appear in the map as a bare name ("-")."""
    bare = [line.split()[0] for line in codemap.codemap().splitlines() if line.endswith(" -")]
    assert bare == []


def test_the_map_names_every_module_of_the_tree() -> None:
    names = set(re.findall(r"^\s*(\S+\.py)\b", codemap.codemap(), re.MULTILINE))
    for package in codemap.PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path.name == "__init__.py":
                continue
            assert path.name in names, path


LONG = 400
REASON = "# Over 400 lines: "


def test_a_long_module_says_why_at_its_top() -> None:
    """Small modules named after their concept; one that grows past 400 lines either splits or
    says in its first line why it should not."""
    unexplained = []
    for package in codemap.PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            long = text.count("\n") > LONG
            if long and not text.startswith(REASON):
                unexplained.append(str(path.relative_to(ROOT)))
            if text.startswith(REASON):
                assert long, f"{path}: no longer over {LONG} lines, drop the reason"
    assert unexplained == []
