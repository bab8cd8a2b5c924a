"""Real databases for every test: SQLite files and a real PostgreSQL server.

Each backend gets two migrated template databases per test session, one empty and one with
the demo city; every test receives its own copy (a file copy for SQLite, ``CREATE DATABASE
… TEMPLATE`` for PostgreSQL), so tests never see each other's writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import secrets
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
import hypothesis
import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from resourcemap import db, passwords, schema
from resourcemap.clock import FixedClock
from resourcemap.settings import Settings
from web.app import create_app

# No property test has a time limit: hypothesis's default (200 ms an example) is a timed
# assertion, which a loaded CI machine failed now and then (tests/search/test_ranking.py).
hypothesis.settings.register_profile("untimed", deadline=None)
hypothesis.settings.load_profile("untimed")

PG_ADMIN_URL = os.environ.get("RESOURCEMAP_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("RESOURCEMAP_REQUIRE_PG") == "1"
# A Redis database the tests may empty (RESOURCEMAP_REQUIRE_REDIS=1: fail when unreachable).
REDIS_URL = os.environ.get("RESOURCEMAP_TEST_REDIS", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("RESOURCEMAP_REQUIRE_REDIS") == "1"
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
    from resourcemap.demo.city import load_demo_city

    async with db.database(url):
        await load_demo_city(DEMO_SEED)


# Every database a run creates is named rm_<pid>_…, so a later run can tell the leftovers of
# a run that was killed (its process is gone) from the databases of a run still going.
DB_PREFIX = "rm_"
RUN_PREFIX = f"{DB_PREFIX}{os.getpid()}_"


async def _pg_databases() -> list[str]:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", DB_PREFIX + "%"
        )
    finally:
        await conn.close()
    return [r["datname"] for r in rows]


def _drop(*names: str) -> None:
    # FORCE ends any connection a failed test left open (PostgreSQL 13+).
    asyncio.run(_pg_admin(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names)))


def _stale(name: str) -> bool:
    """A test database whose run has ended: its process is gone."""
    owner = name.removeprefix(DB_PREFIX).split("_", 1)[0]
    if not owner.isdigit():
        # Named by an older checkout's harness: stale unless such a run is still going.
        return not _other_pytest_running()
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _other_pytest_running() -> bool:
    import psutil

    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if proc.info["pid"] != me and "pytest" in cmdline:
            return True
    return False


def drop_stale_databases() -> list[str]:
    """Drop the test databases earlier runs left behind (killed, or interrupted twice)."""
    stale = [n for n in asyncio.run(_pg_databases()) if _stale(n)]
    if stale:
        _drop(*stale)
    return stale


class _Copier:
    """``tests/pg_copier.py``: statements the server runs in their turn while the tests go on;
    each one's answer is read when it is needed."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("pg_copier.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._sent = 0
        self._read = 0
        self._answers: dict[int, str] = {}
        self._write(PG_ADMIN_URL)

    def _write(self, line: str) -> None:
        assert self.proc.stdin is not None and "\n" not in line
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def send(self, sql: str) -> int:
        """Queue ``sql``; the number to ask its answer by."""
        self._write(sql)
        self._sent += 1
        return self._sent

    def answer(self, n: int) -> str:
        """``ok`` or ``error …`` for the ``n``th statement, once it has run."""
        assert self.proc.stdout is not None
        while n not in self._answers:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"tests/pg_copier.py stopped (status {self.proc.wait()})")
            self._read += 1
            self._answers[self._read] = line.rstrip("\n")
        return self._answers.pop(n)

    def settle(self) -> None:
        """Wait until every statement sent has run."""
        if self._sent:
            self.answer(self._sent)

    def close(self) -> None:
        """Let every statement sent run, then stop."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.stdout.read()
        self.proc.stdout.close()
        self.proc.wait()


class Backend:
    """Makes fresh databases of one dialect from session templates.

    Each backend migrates one template per kind (empty, demo) per run; every test gets a copy
    (a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL) that is removed
    when the test ends, and the templates when the run ends, Ctrl-C included.

    A PostgreSQL copy takes the server a fifth of a second, and dropping one waits on every
    server process: ``tests/pg_copier.py`` does both beside the tests, copying the next
    database of a kind while the test that took the last one runs and dropping the copies of
    tests that have ended. A copy is made before any test holds it, so each test still gets
    one nobody has written to.
    """

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.templates: dict[str, str] = {}
        self._copier: _Copier | None = None
        # Per kind: the next test's copy, being made (its name and its statement's number).
        self._spare: dict[str, tuple[str, int]] = {}

    def _template(self, kind: str) -> str:
        if kind not in self.templates:
            if kind == "demo":
                # A copy of the migrated empty template: migrating takes the ORM seconds,
                # and the copy's schema is the same.
                url = self._copy_now(self._template("empty"), "tpl_demo")
                asyncio.run(_load_demo(url))
            else:
                url = self._new_empty(f"tpl_{kind}")
                asyncio.run(schema.migrate(url))
            self.templates[kind] = url
        return self.templates[kind]

    def _copy_now(self, template: str, label: str) -> str:
        """A copy of ``template`` named for this run, made before this returns."""
        if self.name == "sqlite":
            dst = self.workdir / f"{RUN_PREFIX}{label}_{uuid.uuid4().hex[:10]}.sqlite3"
            shutil.copyfile(template.removeprefix("sqlite://"), dst)
            return f"sqlite://{dst}"
        name = f"{RUN_PREFIX}{label}_{uuid.uuid4().hex[:10]}"
        tpl_name = template.rsplit("/", 1)[1]
        answer = self._server().answer(
            self._server().send(f'CREATE DATABASE "{name}" TEMPLATE "{tpl_name}"')
        )
        if answer != "ok":
            raise RuntimeError(f"copying {template} to {name}: {answer}")
        return _pg_url(name)

    def _new_empty(self, label: str) -> str:
        name = f"{RUN_PREFIX}{label}_{uuid.uuid4().hex[:10]}"
        if self.name == "sqlite":
            return f"sqlite://{self.workdir / (name + '.sqlite3')}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        return _pg_url(name)

    def fresh(self, kind: str = "empty") -> str:
        """A database of its own: migrated, and with the demo city when ``kind="demo"``."""
        template = self._template(kind)
        if self.name == "sqlite":
            src = Path(template.removeprefix("sqlite://"))
            dst = self.workdir / f"{RUN_PREFIX}t_{uuid.uuid4().hex[:12]}.sqlite3"
            shutil.copyfile(src, dst)
            return f"sqlite://{dst}"
        spare = self._spare.pop(kind, None)
        name, n = spare if spare is not None else self._copy(template)
        self._spare[kind] = self._copy(template)
        answer = self._server().answer(n)
        if answer != "ok":
            raise RuntimeError(f"copying {template} to {name}: {answer}")
        return _pg_url(name)

    def _server(self) -> _Copier:
        if self._copier is None:
            self._copier = _Copier()
        return self._copier

    def _copy(self, template: str) -> tuple[str, int]:
        name = f"{RUN_PREFIX}t_{uuid.uuid4().hex[:12]}"
        tpl_name = template.rsplit("/", 1)[1]
        return name, self._server().send(f'CREATE DATABASE "{name}" TEMPLATE "{tpl_name}"')

    def release(self, url: str) -> None:
        """Remove a database ``fresh`` made, once its test is over."""
        if self.name == "sqlite":
            path = Path(url.removeprefix("sqlite://"))
            for extra in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + extra).unlink(missing_ok=True)
            return
        # FORCE ends any connection a failed test left open (PostgreSQL 13+).
        self._server().send(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def settle(self) -> None:
        """Wait until the copies and drops asked for so far are done."""
        if self._copier is not None:
            self._copier.settle()

    def drop_all(self) -> None:
        """Drop every database of this run: templates, copies, spares (copies under way
        finish first)."""
        if self.name != "postgres":
            return
        if self._copier is not None:
            self._copier.close()
            self._copier = None
        self._spare.clear()
        ours = [n for n in asyncio.run(_pg_databases()) if n.startswith(RUN_PREFIX)]
        if ours:
            _drop(*ours)


def _pg_reachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# argon2 at the product's cost takes a tenth of a second or more of both cores per hash and per
# check, and most tests make or sign in a few accounts: they hash at argon2's least cost
# instead (the same algorithm, salts and checks). Tests marked ``real_password_cost`` (the
# sign-in pressure tests) hash at the product's cost; servers a test starts always do.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", CHEAP_HASHER)
        yield


@pytest.fixture(autouse=True)
def _password_cost(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test makes its own dummy hash, at the cost its hashes are made at."""
    monkeypatch.setattr(passwords, "_dummy", [])
    if request.node.get_closest_marker("real_password_cost") is not None:
        monkeypatch.setattr(passwords, "_HASHER", PasswordHasher())


@pytest.fixture
def redis_url() -> str:
    """A real Redis server's test database, emptied for each test (#22)."""
    import redis

    try:
        url = worker_redis_url(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))
    except ValueError as exc:
        pytest.fail(str(exc))
    try:
        with redis.Redis.from_url(url, socket_timeout=5) as client:
            client.flushdb()
    except (redis.RedisError, OSError) as exc:
        message = f"Redis at {url} unreachable ({type(exc).__name__}: {exc})"
        if REQUIRE_REDIS:
            pytest.fail(message + " and RESOURCEMAP_REQUIRE_REDIS=1")
        pytest.skip(message)
    return url


def worker_redis_url(url: str, worker: str) -> str:
    """Each pytest-xdist worker (``gw0``, ``gw1``, …) empties a Redis database of its own:
    ``url``'s database for the first, the ones below it for the others, never database 0
    (where a developer's own data usually lives) and never another worker's.

    >>> worker_redis_url("redis://h:6379/15", "gw2"), worker_redis_url("redis://h:6379/15", "")
    ('redis://h:6379/13', 'redis://h:6379/15')
    """
    if not worker:
        return url
    base, _, number = url.rpartition("/")
    index = int(worker.removeprefix("gw"))
    db = int(number) - index if number.isdigit() else -1
    if db < 1:
        raise ValueError(
            f"worker {worker} has no Redis database of its own below {url}: name one at 15 "
            "in RESOURCEMAP_TEST_REDIS, or run at most 15 workers (-n)"
        )
    return f"{base}/{db}"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio: the ORM's drivers need it."""
    return "asyncio"


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
    drop_stale_databases()
    backend = Backend("postgres", tmp_path_factory.mktemp("postgres"))
    try:
        yield backend
    finally:
        backend.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each test using it runs once per database dialect."""
    found: Backend = request.getfixturevalue(f"{request.param}_backend")
    return found


@pytest.fixture
def database_url(backend: Backend) -> Iterator[str]:
    """A migrated, empty database of the current backend."""
    url = backend.fresh("empty")
    yield url
    backend.release(url)


@pytest.fixture
def demo_url(backend: Backend) -> Iterator[str]:
    """A migrated database holding the demo city of seed ``DEMO_SEED``."""
    url = backend.fresh("demo")
    yield url
    backend.release(url)


# Secrets of this run: never a fixed value a reader of this file could sign a cookie with.
TEST_SECRET = secrets.token_urlsafe(48)
TEST_DATA_KEY = Fernet.generate_key().decode()
KEYS = {"secret_key": TEST_SECRET, "data_keys": TEST_DATA_KEY}
# The same, for commands and servers a test starts: they read what the test process wrote.
KEY_ENV = {"RESOURCEMAP_SECRET_KEY": TEST_SECRET, "RESOURCEMAP_DATA_KEYS": TEST_DATA_KEY}

# The test client is one address and tests reuse a few phone numbers: request limits and
# booking caps are off unless a test sets them (test_booking_limits.py, test_booking_caps.py).
NO_LIMITS = {
    "booking_limit_per_address": 0,
    "booking_limit_per_contact": 0,
    "booking_cap_per_contact": 0,
    "booking_cap_per_address": 0,
}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, database_url=database_url, **{**KEYS, **NO_LIMITS, **overrides})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--system-time",
        metavar="ISO",
        help="move this process's system clock to ISO (with its offset) for the whole run, "
        "ticking on from there (time-machine): proves no test reads the wall clock",
    )


def pytest_configure(config: pytest.Config) -> None:
    instant = config.getoption("--system-time", default=None)
    if instant:
        import time_machine

        traveller = time_machine.travel(dt.datetime.fromisoformat(instant), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


# The instant every test runs at unless it sets another: a Tuesday, 08:00 in Shanghai, before
# the demo and test rooms open. Tests never read the wall clock (#14): the app, the worker
# and the domain take this clock's readings, and CI runs the suite under faked system clocks.
TEST_NOW = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FixedClock:
    """The test's clock; ``clock.set(...)`` or ``clock.advance(minutes=...)`` moves it."""
    return FixedClock(TEST_NOW)


@pytest.fixture
def make_client(clock: FixedClock) -> Callable[..., Any]:
    """``with make_client(url, **settings) as client:`` runs the real app through its
    lifespan, on the test's ``clock`` unless ``clock=`` names another."""

    @contextmanager
    def factory(
        database_url: str, *, clock: FixedClock = clock, **overrides: Any
    ) -> Iterator[TestClient]:
        app = create_app(make_settings(database_url, **overrides), clock=clock)
        with TestClient(app) as client:
            yield client

    return factory


@pytest.fixture
def demo_client(demo_url: str, make_client: Callable[..., Any]) -> Iterator[TestClient]:
    with make_client(demo_url) as client:
        yield client


# Each test process picks ports from a range of its own, below Linux's ephemeral ports: a
# port found free by one xdist worker could be taken by another's server before the first
# one's bound it, and a test then talked to the other worker's server (seen once: the demo
# city's browser test got a small city's pages).
PORTS_PER_WORKER = 800
FIRST_PORT = 20000


def _free_port() -> int:
    """A port free now, of this test process's own range."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    low = FIRST_PORT + (index % 15) * PORTS_PER_WORKER
    for port in random.Random().sample(range(low, low + PORTS_PER_WORKER), PORTS_PER_WORKER):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}–{low + PORTS_PER_WORKER - 1}")


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
