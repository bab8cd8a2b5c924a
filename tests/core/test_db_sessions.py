"""Connections go back to the pool without a reset round trip (``db_asyncpg``), which is
only right while no code leaves session state on a connection: a session-level advisory
lock, a SET without LOCAL, a LISTEN or a cursor. This reads every SQL text in the code
and fails when one appears."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests import ROOT

# SQL here is written in capitals; a statement starts a text or follows a semicolon.
SESSION_STATE = re.compile(
    r"pg_(?:try_)?advisory_lock(?:_shared)?\s*\("  # session locks (the _xact_ ones end)
    r"|(?:\A|;)\s*(?:SET\s+(?!LOCAL\b)(?:SESSION\s+)?[a-z_.]+\s*(?:=|TO\b)"
    r"|LISTEN\s+\w+\s*(?:;|\Z)|DECLARE\s+\w+\s+(?:\w+\s+)*CURSOR\b)",
)


def _texts(path: Path) -> list[tuple[int, str]]:
    """Every string in the module; an f-string whole, its fields written as ``x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                str(v.value) if isinstance(v, ast.Constant) else "x" for v in node.values
            )
            texts.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts
        ):
            texts.append((node.lineno, node.value))
    return texts


def test_no_code_leaves_session_state_on_a_pooled_connection() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {match.group(0).strip()}"
        for package in ("resourcemap", "geo", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, text in _texts(path)
        if (match := SESSION_STATE.search(text))
    ]
    assert found == []


def test_the_check_sees_what_it_looks_for() -> None:
    for sql in (
        "SELECT pg_advisory_lock(1)",
        "SELECT 1; SET statement_timeout = 0",
        "SET search_path TO x",
        "LISTEN changes",
        "BEGIN; DECLARE c NO SCROLL CURSOR FOR SELECT 1",
    ):
        assert SESSION_STATE.search(sql), sql
    for sql in (
        "SELECT pg_try_advisory_xact_lock($1)",
        "SET LOCAL statement_timeout = 0",
        "UPDATE booking_slot SET taken = taken + 1",
        "set RESOURCEMAP_SECRET_KEY in production",
        "Listen address (RESOURCEMAP_HOST).",
    ):
        assert not SESSION_STATE.search(sql), sql
