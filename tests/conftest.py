"""Real databases for every test: SQLite files and a real PostgreSQL server.

Each backend gets two migrated template databases per test session, one empty and one with
the demo city; every test receives its own copy (a file copy for SQLite, ``CREATE DATABASE
… TEMPLATE`` for PostgreSQL), so tests never see each other's writes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from starlette.testclient import TestClient

from resourcemap import db
from resourcemap.settings import Settings
from web.app import create_app

PG_ADMIN_URL = os.environ.get("RESOURCEMAP_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("RESOURCEMAP_REQUIRE_PG") == "1"
DEMO_SEED = 20181
ROOT = Path(__file__).parents[1]


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _pg_admin(*statements: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def _load_demo(url: str) -> None:
    from resourcemap.demo import load_demo_city

    async with db.database(url):
        await load_demo_city(DEMO_SEED)


class Backend:
    """Makes fresh databases of one dialect from session templates."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.created: list[str] = []
        self.templates: dict[str, str] = {}

    def _template(self, kind: str) -> str:
        if kind not in self.templates:
            url = self._new_empty(f"tpl_{kind}")
            asyncio.run(db.migrate(url))
            if kind == "demo":
                asyncio.run(_load_demo(url))
            self.templates[kind] = url
        return self.templates[kind]

    def _new_empty(self, label: str) -> str:
        name = f"rm_{label}_{uuid.uuid4().hex[:10]}"
        if self.name == "sqlite":
            return f"sqlite://{self.workdir / (name + '.sqlite3')}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return _pg_url(name)

    def fresh(self, kind: str = "empty") -> str:
        """A database of its own: migrated, and with the demo city when ``kind="demo"``."""
        template = self._template(kind)
        name = f"rm_test_{uuid.uuid4().hex[:12]}"
        if self.name == "sqlite":
            src = Path(template.removeprefix("sqlite://"))
            dst = self.workdir / f"{name}.sqlite3"
            shutil.copyfile(src, dst)
            return f"sqlite://{dst}"
        tpl_name = template.rsplit("/", 1)[1]
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{tpl_name}"'))
        self.created.append(name)
        return _pg_url(name)

    def drop_all(self) -> None:
        if self.name == "postgres" and self.created:
            asyncio.run(
                _pg_admin(*(f'DROP DATABASE IF EXISTS "{n}"' for n in reversed(self.created)))
            )


def _pg_reachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    return Backend("sqlite", tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL at {PG_ADMIN_URL} unreachable ({problem})"
        if REQUIRE_PG:
            pytest.fail(message + " and RESOURCEMAP_REQUIRE_PG=1")
        pytest.skip(message)
    backend = Backend("postgres", tmp_path_factory.mktemp("postgres"))
    yield backend
    backend.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each test using it runs once per database dialect."""
    found: Backend = request.getfixturevalue(f"{request.param}_backend")
    return found


@pytest.fixture
def database_url(backend: Backend) -> str:
    """A migrated, empty database of the current backend."""
    return backend.fresh("empty")


@pytest.fixture
def demo_url(backend: Backend) -> str:
    """A migrated database holding the demo city of seed ``DEMO_SEED``."""
    return backend.fresh("demo")


# The test client is one address and tests reuse a few phone numbers: request limits are
# off unless a test sets them (tests/test_booking_limits.py).
NO_LIMITS = {"booking_limit_per_address": 0, "booking_limit_per_contact": 0}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **{**NO_LIMITS, **overrides})  # type: ignore[call-arg]


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """``with make_client(url, **settings) as client:`` runs the real app through its lifespan."""

    @contextmanager
    def factory(database_url: str, **overrides: Any) -> Iterator[TestClient]:
        app = create_app(make_settings(database_url, **overrides))
        with TestClient(app) as client:
            yield client

    return factory


@pytest.fixture
def demo_client(demo_url: str, make_client: Callable[..., Any]) -> Iterator[TestClient]:
    with make_client(demo_url) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@contextmanager
def running_demo(workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``resourcemap demo`` in a subprocess, polled until it answers, like a person runs it.

    Yields the base URL and the environment that points commands at the same database.
    """
    port = _free_port()
    env = {
        **os.environ,
        "RESOURCEMAP_DATABASE_URL": f"sqlite://{workdir / 'demo.sqlite3'}",
        "RESOURCEMAP_PORT": str(port),
        # The code under test, also when another checkout is installed in editable mode.
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    with serving("demo", cwd=workdir, env=env, port=port, timeout=120) as base:
        yield base, env


@contextmanager
def serving(
    command: str, *, cwd: Path, env: dict[str, str], port: int, timeout: float
) -> Iterator[str]:
    """``resourcemap COMMAND`` in a subprocess, polled until /healthz answers; its base URL.
    The server's output is printed when it stops (pytest shows it for a failed test)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "resourcemap", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{command} exited early: {proc.stdout.read() if proc.stdout else ''}")
            try:
                if http_get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command} did not answer within {timeout:g} s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        print(out)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo server that tests only read from."""
    with running_demo(tmp_path_factory.mktemp("demo-server")) as (base, _):
        yield base
