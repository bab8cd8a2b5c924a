"""Async tests run on the anyio pytest plugin (#21): ``@pytest.mark.anyio`` on an ``async def
test_…``, the database opened with ``async with db.database(url)`` or by an async fixture. Not
a sync test wrapping its body in a nested ``async def go()`` that ``asyncio.run`` or
``run_in_db`` runs on an event loop of its own."""

from __future__ import annotations

import ast
import textwrap

from tests.conftest import ROOT

# Where a nested ``go`` is the point, and why.
ALLOWED = {
    ("tests/factories.py", "run_in_db"): "the bridge for sync tests (TestClient, CliRunner "
    "and hypothesis tests, which run their own event loops) to reach the ORM between calls",
    ("tests/booking/test_properties.py", "_run"): "one hypothesis example; the property is "
    "sync because its example count depends on the backend fixture, so it is built inside the "
    "test, and each example opens the database on a loop of its own",
}


def nested_go(source: str) -> list[tuple[str, int]]:
    """The functions defining a coroutine named ``go`` inside them, with its line."""
    tree = ast.parse(source)
    found: list[tuple[str, int]] = []
    for outer in ast.walk(tree):
        if not isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(outer):
            if (
                inner is not outer
                and isinstance(inner, ast.AsyncFunctionDef)
                and inner.name == "go"
            ):
                found.append((outer.name, inner.lineno))
    return found


def _in_tests() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for name, line in nested_go(path.read_text(encoding="utf-8")):
            found[(path.relative_to(ROOT).as_posix(), name)] = line
    return found


def test_no_test_runs_its_body_in_a_nested_go() -> None:
    wrapped = [
        f"{path}:{line} ({name})"
        for (path, name), line in _in_tests().items()
        if (path, name) not in ALLOWED
    ]
    assert wrapped == [], (
        "write `@pytest.mark.anyio async def test_…` and `async with db.database(url):` "
        "instead of a nested `async def go()` (see tests/booking/test_desk.py)"
    )


def test_every_allowed_nested_go_is_still_there() -> None:
    assert sorted(set(ALLOWED) - set(_in_tests())) == [], "no longer needed: drop it from ALLOWED"


def test_the_check_sees_a_nested_go_and_nothing_else() -> None:
    source = textwrap.dedent(
        """
        async def go() -> None: ...

        def test_wrapped(database_url):
            async def go() -> None:
                pass

            run_in_db(database_url, go)

        async def test_plain(database_url):
            async def stored() -> None: ...
        """
    )
    assert nested_go(source) == [("test_wrapped", 5)]
