"""What every command shares: settings read once from the environment (secrets resolved),
running a coroutine with domain errors as messages, and starting the web server."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import click
from pydantic import ValidationError
from tortoise.exceptions import ConfigurationError, OperationalError

from resourcemap import keys
from resourcemap.errors import DomainError
from resourcemap.listings import holidays
from resourcemap.logs import configure
from resourcemap.settings import Settings

T = TypeVar("T")


def read_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line overrides exported for workers, and
    the secrets resolved (generated once in development)."""
    return resolved_settings(**overrides).settings


def resolved_settings(**overrides: Any) -> keys.Resolved:
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"RESOURCEMAP_{key.upper()}"] = str(value)
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = [
            f"  RESOURCEMAP_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else f"  {e['msg']}"
            for e in exc.errors()
        ]
        raise click.ClickException("invalid settings:\n" + "\n".join(lines)) from None
    configure(settings.log_level)
    try:
        return keys.resolve(settings)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def listening_settings(**overrides: Any) -> Settings:
    """Settings for a command that listens. With generated development secrets it listens on
    this machine only: development sends cookies without ``Secure`` and no HSTS, and such an
    install was never given secrets someone chose to protect it."""
    resolved = resolved_settings(**overrides)
    settings = resolved.settings
    if resolved.generated and not keys.is_loopback(settings.host):
        raise click.ClickException(
            f"refusing to listen on {settings.host} with generated development secrets; set "
            "RESOURCEMAP_ENVIRONMENT=production with RESOURCEMAP_SECRET_KEY and "
            "RESOURCEMAP_DATA_KEYS (`resourcemap keygen --secret`, `resourcemap keygen`), or "
            "listen on 127.0.0.1"
        )
    require_free_port(settings)
    # Said here, before anything starts, not as a traceback from every server process (a
    # parent with its workers dead kept running, listening nowhere).
    if settings.holidays_file is not None:
        try:
            holidays.read(settings.holidays_file)
        except DomainError as exc:
            raise click.ClickException(exc.reason) from None
    if settings.redis_url is not None and importlib.util.find_spec("redis") is None:
        raise click.ClickException(
            "RESOURCEMAP_REDIS_URL is set but the redis client is not installed: "
            "pip install 'resourcemap[redis]'"
        )
    if settings.streets_file and not Path(settings.streets_file).is_file():
        raise click.ClickException(
            f"RESOURCEMAP_STREETS_FILE: no file at {settings.streets_file} (or leave it empty "
            "for straight-line distances)"
        )
    return settings


# What the database says of a schema never made ("no such table: account", "relation
# "account" does not exist"): a command run before `resourcemap migrate`. Not a function
# or a column that does not exist, which is no missing schema.
NO_SCHEMA = re.compile(r"no such table|relation \S+ does not exist")
# What PostgreSQL answers a connection it will not take: the URL names something wrong.
REFUSED = (
    asyncpg.InvalidCatalogNameError,  # no such database
    asyncpg.InvalidAuthorizationSpecificationError,  # no such role, a wrong password
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


def run_command(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; what goes wrong in a way an operator can put right is
    said in a line naming the setting, never as a traceback."""
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        raise click.ClickException(exc.reason) from None
    except OSError as exc:
        raise click.ClickException(f"cannot reach the database: {exc}") from None
    except REFUSED as exc:
        raise click.ClickException(
            f"the database refused the connection: {exc} (RESOURCEMAP_DATABASE_URL)"
        ) from None
    except ConfigurationError as exc:  # "Port is not an integer", "No path specified"
        raise click.ClickException(f"RESOURCEMAP_DATABASE_URL: {exc}") from None
    except OperationalError as exc:
        if NO_SCHEMA.search(str(exc)):
            raise click.ClickException(
                f"the database has no ResourceMap tables yet ({exc}): run "
                "`resourcemap migrate` first"
            ) from None
        raise


def require_free_port(settings: Settings) -> None:
    """Say plainly when the address is taken, before any slow start-up work."""
    import socket

    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {settings.host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port in TIME_WAIT from a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"port {settings.port} on {settings.host} is not available ({exc.strerror}); "
                "choose another with --port or RESOURCEMAP_PORT, or stop what is using it"
            ) from None


def serve_app(settings: Settings) -> None:
    """Become uvicorn's own command (exec) serving ``web.asgi:app``.

    The schema was migrated once, here, before any worker starts: workers only open it.
    uvicorn starts its workers with multiprocessing's "spawn", which runs the parent's main
    script again in each of them before they can answer the supervisor's health check; for
    the ``resourcemap`` script that meant importing this whole command line first, and on a
    busy machine the check killed workers still doing so (#16). uvicorn's own ``__main__``
    is never run again, so each worker imports the app only. ``-P`` and ``--app-dir``: the
    ``web`` package next to this ``resourcemap`` one, never one in the working directory.
    """
    app_dir = Path(__file__).resolve().parents[2]
    argv = [
        *(sys.executable, "-P", "-m", "uvicorn", "web.asgi:app", "--app-dir", str(app_dir)),
        *("--host", settings.host, "--port", str(settings.port)),
        *("--workers", str(settings.workers), "--log-level", settings.log_level),
        # Access logs carry query strings (a resident's position, later names): off.
        "--no-access-log",
        *("--timeout-worker-healthcheck", str(settings.worker_healthcheck_timeout)),
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


async def require_booking_tables() -> None:
    from tortoise.exceptions import DBConnectionError, OperationalError

    from resourcemap.models import Notification

    try:
        await Notification.filter(id=0).exists()
    except DBConnectionError as exc:
        raise click.ClickException(f"cannot reach the database: {exc}") from None
    except OperationalError:
        raise click.ClickException(
            "the database has no booking tables yet; run `resourcemap migrate` first"
        ) from None


def kind_names() -> list[str]:
    from resourcemap.vocab import ResourceKind

    return [k.value for k in ResourceKind]
