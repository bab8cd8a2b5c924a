"""The code map as a checked contract: no module imports one that imports it back, however
indirectly (import-linter, in CI, checks the layers the README draws)."""

from __future__ import annotations

import grimp

PACKAGES = ("resourcemap", "geo", "web")


def _cycles() -> list[list[str]]:
    """Groups of modules that reach each other through imports (Tarjan's strongly connected
    components). Imports for type checking only are left out: they never run."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycles() == []


def test_the_core_imports_no_feature() -> None:
    """Settings, the database, errors and the models sit under every feature package."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    core = ["resourcemap.db", "resourcemap.errors", "resourcemap.settings", "resourcemap.clock"]
    features = ("booking", "search", "listings", "planning", "transfer", "demo")
    for module in core:
        reached = graph.find_upstream_modules(module)
        upward = sorted(m for m in reached if m.split(".")[1:2] and m.split(".")[1] in features)
        assert upward == [], f"{module} imports {upward}"
