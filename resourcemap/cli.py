"""The ``resourcemap`` command line. Reads settings from the environment once, here."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from resourcemap import accounts, db
from resourcemap.errors import DomainError, NotFound
from resourcemap.logs import configure
from resourcemap.models import Account
from resourcemap.settings import Settings
from resourcemap.vocab import Role

T = TypeVar("T")


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line overrides exported for workers."""
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
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        raise click.ClickException(exc.reason) from None
    except OSError as exc:
        raise click.ClickException(f"cannot reach the database: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="resourcemap")
def main() -> None:
    """ResourceMap: map, book and plan mental-health service resources.

    Settings come from RESOURCEMAP_* environment variables or a .env file; see README.
    """


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (safe to run repeatedly)."""
    settings = _settings()
    _run(db.migrate(settings.database_url))
    click.echo(f"database is up to date ({db.dialect(settings.database_url)})")


def _serve(settings: Settings) -> None:
    import uvicorn

    # Access logs carry query strings (a resident's position, later names): keep them off.
    uvicorn.run(
        "web.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
    )


@main.command()
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
@click.option("--workers", type=int, help="Server processes (RESOURCEMAP_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app and API on the configured database."""
    settings = _settings(host=host, port=port, workers=workers)
    _run(db.migrate(settings.database_url))
    click.echo(f"ResourceMap on http://{settings.host}:{settings.port}/")
    _serve(settings)


@main.command()
@click.option("--seed", type=int, default=None, help="Random seed of the synthetic city.")
@click.option("--reset", is_flag=True, help="Replace an existing demo city.")
@click.option("--no-serve", is_flag=True, help="Only load the data, do not start the server.")
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
def demo(seed: int | None, reset: bool, no_serve: bool, host: str | None, port: int | None) -> None:
    """Load a deterministic synthetic demo city (示例数据) and serve it."""
    import resourcemap.demo as demo_city

    settings = _settings(host=host, port=port)
    chosen = demo_city.DEFAULT_SEED if seed is None else seed

    async def load() -> str:
        await db.migrate(settings.database_url)
        async with db.database(settings.database_url):
            return await demo_city.ensure_demo_city(chosen, replace=reset, progress=click.echo)

    click.echo(_run(load()))
    if no_serve:
        return
    click.echo(f"{demo_city.DEMO_LABEL}: http://{settings.host}:{settings.port}/")
    _serve(settings)


@main.group()
def user() -> None:
    """Manage accounts (the first admin is created here)."""


@user.command(name="create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), required=True, help="Account role."
)
@click.option("--organisation", "organisation_id", type=int, help="Organisation id (staff).")
@click.option("--name", "display_name", default="", help="Display name.")
@click.password_option(help="Password (asked for when not given).")
def user_create(
    username: str, role: str, organisation_id: int | None, display_name: str, password: str
) -> None:
    """Create an account, e.g. the first admin: resourcemap user create alice --role admin"""
    settings = _settings()

    async def create() -> None:
        await db.migrate(settings.database_url)
        async with db.database(settings.database_url):
            await accounts.create_account(
                None,
                username=username,
                password=password,
                role=Role(role),
                organisation_id=organisation_id,
                display_name=display_name,
            )

    _run(create())
    click.echo(f"created {role} account {username!r}")


@user.command(name="token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def user_token(username: str, name: str) -> None:
    """Issue an API token for scripts; it is printed once."""
    settings = _settings()

    async def issue() -> str:
        async with db.database(settings.database_url):
            account = await Account.get_or_none(username=username)
            if account is None:
                raise NotFound(f"no account {username!r}")
            return await accounts.issue_token(None, account.id, name)

    click.echo(_run(issue()))


@main.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_(path: str) -> None:
    """Import listings or areas from a file (not yet: arrives with the staff issue)."""
    click.echo("import: not yet available; it arrives with staff tools (issue #5)", err=True)
    sys.exit(2)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["hsds", "geojson", "csv", "xlsx"]))
def export(fmt: str | None) -> None:
    """Export listings (not yet: arrives with the staff issue)."""
    click.echo("export: not yet available; it arrives with staff tools (issue #5)", err=True)
    sys.exit(2)
