"""The README's code map, written from the modules' own docstrings.

Each package and module is one line: its path and the first sentence of its docstring. A
module without a docstring is named with nothing after it, which the check reports, so the
map and the tree cannot drift apart: ``tests/project/test_codemap.py`` fails when the
README's map is not what this script writes.

    python tools/codemap.py          print the map
    python tools/codemap.py --write  replace the map between the README's markers
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("resourcemap", "geo", "web")
# Data, not code: each migration says what it changes in its own docstring.
SKIP = {"migrations"}
BEGIN = "<!-- code map: tools/codemap.py writes what follows -->"
END = "<!-- end of code map -->"
WIDTH = 100


def summary(path: Path) -> str:
    """The first sentence of ``path``'s docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"(.+?[.。])(\s|$)", text)
    return match.group(1) if match else text


def lines(package: Path, depth: int = 0) -> list[str]:
    """One line per module and sub-package under ``package``, sorted, packages after modules."""
    out: list[str] = []
    indent = "  " * depth
    init = package / "__init__.py"
    name = package.name + "/"
    out.append(_row(indent + name, summary(init) if init.exists() else ""))
    children = sorted(package.iterdir())
    for child in children:
        if child.suffix == ".py" and child.name != "__init__.py":
            out.append(_row(indent + "  " + child.name, summary(child)))
    for child in children:
        if child.is_dir() and (child / "__init__.py").exists() and child.name not in SKIP:
            out.extend(lines(child, depth + 1))
    return out


def _row(label: str, text: str) -> str:
    """``label`` in the first column, ``text`` wrapped beside it."""
    column = 28
    head = f"{label:<{column}}" if len(label) < column else label + " "
    return textwrap.fill(
        text or "-", WIDTH, initial_indent=head, subsequent_indent=" " * column
    ).rstrip()


def codemap() -> str:
    rows: list[str] = []
    for name in PACKAGES:
        rows.extend(lines(ROOT / name))
    return "\n".join(["```", *rows, "```"])


def readme_map(readme: str) -> str | None:
    """The map as the README holds it, or ``None`` without markers."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < 0:
        return None
    return readme[start + len(BEGIN) : end].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    text = codemap()
    if not args.write:
        print(text)
        return 0
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    if readme_map(readme) is None:
        print("README.md has no code map markers", file=sys.stderr)
        return 1
    start, end = readme.find(BEGIN) + len(BEGIN), readme.find(END)
    readme_path.write_text(readme[:start] + "\n" + text + "\n" + readme[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
