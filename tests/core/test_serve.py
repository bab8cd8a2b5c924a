"""``resourcemap serve`` under load (#16): the schema is migrated once, before any worker
starts; then the command becomes uvicorn's own, whose workers import the app only (never
the command line again) and get the health-check time the settings give them. Workers never
migrate. ``python bench/startup.py`` measures a 4-worker start and what a worker's memory is.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest
from click.testing import CliRunner

from resourcemap import cli
from tests.conftest import KEY_ENV, ROOT, _free_port


class Exec(Exception):
    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.argv = argv


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_serve_migrates_once_then_becomes_uvicorn_with_the_health_check_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "served.sqlite3"
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{target}")
    monkeypatch.setenv("RESOURCEMAP_PORT", str(_free_port()))
    monkeypatch.setenv("RESOURCEMAP_WORKER_HEALTHCHECK_TIMEOUT", "45")

    def execv(path: str, argv: list[str]) -> NoReturn:
        assert "notification" in _tables(target)  # migrated before the server starts
        raise Exec(argv)

    monkeypatch.setattr(os, "execv", execv)
    # The variable rather than --workers, which the command exports for its workers.
    monkeypatch.setenv("RESOURCEMAP_WORKERS", "4")
    result = CliRunner().invoke(cli.main, ["serve"])
    assert isinstance(result.exception, Exec), result.output
    argv = result.exception.argv
    assert argv[:5] == [sys.executable, "-P", "-m", "uvicorn", "web.asgi:app"]
    options = {
        name: value
        for name, value in zip(argv[5:], [*argv[6:], ""], strict=True)
        if name.startswith("--") and not value.startswith("--")
    }
    assert options["--app-dir"] == str(ROOT)  # the web package next to this resourcemap
    assert options["--workers"] == "4"
    assert options["--timeout-worker-healthcheck"] == "45"
    assert "--no-access-log" in argv


def test_a_worker_never_migrates(tmp_path: Path) -> None:
    """The app a worker imports only opens the database: on one never migrated it starts
    (and says the database is not ready), and leaves the file without a table."""
    target = tmp_path / "unmigrated.sqlite3"
    sqlite3.connect(target).close()
    script = (
        "import asyncio, web.asgi\n"
        "async def main():\n"
        "    async with web.asgi.app.router.lifespan_context(web.asgi.app):\n"
        "        pass\n"
        "asyncio.run(main())\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": f"sqlite://{target}",
        "RESOURCEMAP_RUN_WORKER": "false",
        **KEY_ENV,
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "database not ready at start" in done.stderr
    assert _tables(target) == set()
