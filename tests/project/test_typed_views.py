"""Typed views across the HTTP line (#21): what the web layer gets from the domain is a
pydantic model or a dataclass, not a ``dict[str, Any]`` whose keys only the reader knows.

A public function of ``resourcemap/`` annotated to return ``dict[str, Any]`` or
``list[dict[str, Any]]`` fails here when ``web/`` imports or calls it, unless it is in
``ALLOWED`` with the reason its answer is a dict by nature (GeoJSON, a wire format, a typed
view's own JSON form). Read from the annotations with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests import ROOT

DICT_ANSWERS = {"dict[str, Any]", "list[dict[str, Any]]"}
# Methods are matched by name (the web reaches them through instances); a method named like
# one of dict's or list's (``row.values()``) cannot be told apart that way.
CONTAINER_METHODS = set(dir(dict)) | set(dir(list))

ALLOWED = {
    "resourcemap.listings.map_points:map_points": "GeoJSON FeatureCollection for the map",
    "resourcemap.listings.views:resources_geojson": "GeoJSON FeatureCollection of resources",
    "resourcemap.planning.coverage:coverage_geojson": "GeoJSON FeatureCollection of coverage",
    "resourcemap.planning.coverage:gaps_geojson": "GeoJSON FeatureCollection of gaps",
    "resourcemap.planning.coverage:heatmap_geojson": "GeoJSON FeatureCollection (heat)",
    "resourcemap.planning.siting:sites_geojson": "GeoJSON FeatureCollection of sites",
    "resourcemap.planning.jobs:as_json": "a typed job view's own JSON form",
    "resourcemap.planning.siting:as_json": "a typed siting result's own JSON form",
    "resourcemap.transfer.report:as_dict": "a typed import report's own JSON form",
}


@dataclass(frozen=True)
class DictAnswer:
    module: str  # dotted, e.g. resourcemap.areas
    name: str
    is_method: bool

    @property
    def key(self) -> str:
        return f"{self.module}:{self.name}"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _functions(
    body: list[ast.stmt], *, in_class: bool = False
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, in_class
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _functions(node.body, in_class=True)


def _sources(folder: str) -> dict[str, str]:
    return {
        _module(path): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def dict_answers(domain: dict[str, str]) -> list[DictAnswer]:
    """Public functions and methods of the domain modules annotated to answer dicts."""
    found = []
    for module, source in domain.items():
        for node, is_method in _functions(ast.parse(source).body):
            if node.name.startswith("_") or node.returns is None:
                continue
            if ast.unparse(node.returns) in DICT_ANSWERS:
                found.append(DictAnswer(module, node.name, is_method))
    return found


@dataclass
class WebUses:
    # (module, name) imported with ``from module import name``, or read as ``alias.name``
    # where ``alias`` is a module imported from resourcemap.
    functions: set[tuple[str, str]]
    # Attribute names read anywhere (methods are reached through instances).
    attributes: set[str]


def web_uses(web: dict[str, str]) -> WebUses:
    functions: set[tuple[str, str]] = set()
    attributes: set[str] = set()
    for source in web.values():
        tree = ast.parse(source)
        modules: dict[str, str] = {}  # local name -> dotted module
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("resourcemap"):
                        modules[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("resourcemap"):
                for alias in node.names:
                    functions.add((node.module or "", alias.name))
                    # ``from resourcemap.booking import staff`` binds a module
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                attributes.add(node.attr)
                if isinstance(node.value, ast.Name) and node.value.id in modules:
                    functions.add((modules[node.value.id], node.attr))
    return WebUses(functions, attributes)


def dict_answers_web_reads(domain: dict[str, str], web: dict[str, str]) -> list[str]:
    uses = web_uses(web)
    return sorted(
        answer.key
        for answer in dict_answers(domain)
        if (
            answer.name in uses.attributes and answer.name not in CONTAINER_METHODS
            if answer.is_method
            else (answer.module, answer.name) in uses.functions
        )
    )


def test_web_gets_typed_views_not_dicts() -> None:
    read = dict_answers_web_reads(_sources("resourcemap"), _sources("web"))
    untyped = [key for key in read if key not in ALLOWED]
    assert untyped == [], (
        "the web layer reads dicts from these domain functions: return a pydantic view "
        "(see resourcemap/booking/views.py), or add them to ALLOWED with the reason"
    )


def test_every_allowed_dict_answer_still_exists() -> None:
    """An allowance outlives nothing: a converted function leaves the list."""
    keys = {answer.key for answer in dict_answers(_sources("resourcemap"))}
    assert sorted(set(ALLOWED) - keys) == []


def test_the_check_sees_dict_answers_the_web_reads() -> None:
    """The check is not blind: dict answers the web imports, reads through a module or
    calls as a method are found; typed answers, private helpers and dict answers the web
    never reads are not."""
    domain = {
        "resourcemap.things": (
            "from typing import Any\n"
            "async def list_things() -> list[dict[str, Any]]: ...\n"
            "def get_thing() -> dict[str, Any]: ...\n"
            "def typed_thing() -> Thing: ...\n"
            "def _private() -> dict[str, Any]: ...\n"
            "def unread() -> dict[str, Any]: ...\n"
            "class Desk:\n"
            "    def thing_view(self) -> dict[str, Any]: ...\n"
        )
    }
    web = {
        "web.api.things": (
            "from resourcemap import things\n"
            "from resourcemap.things import get_thing\n"
            "async def page(desk):\n"
            "    await things.list_things(); get_thing(); things.typed_thing(); desk.thing_view()\n"
        )
    }
    assert dict_answers_web_reads(domain, web) == [
        "resourcemap.things:get_thing",
        "resourcemap.things:list_things",
        "resourcemap.things:thing_view",
    ]
