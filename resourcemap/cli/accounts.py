"""Accounts from the command line: ``user create`` (the first admin) and ``user token``."""

from __future__ import annotations

import click

from resourcemap import accounts, clock, db, schema, tokens
from resourcemap.cli.common import (
    read_settings,
    run_command,
)
from resourcemap.errors import NotFound
from resourcemap.models import Account
from resourcemap.vocab import Role


@click.group()
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
    settings = read_settings()

    async def create() -> None:
        await schema.migrate(settings.database_url)
        async with db.database(settings.database_url):
            await accounts.create_account(
                None,
                username=username,
                password=password,
                role=Role(role),
                organisation_id=organisation_id,
                display_name=display_name,
            )

    run_command(create())
    click.echo(f"created {role} account {username!r}")


@user.command(name="token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def user_token(username: str, name: str) -> None:
    """Issue an API token for scripts; it is printed once."""
    settings = read_settings()

    async def issue() -> str:
        async with db.database(settings.database_url):
            account = await Account.get_or_none(username=username)
            if account is None:
                raise NotFound(f"no account {username!r}")
            issued = await tokens.issue(
                None,
                account.id,
                name,
                now=clock.from_settings(settings).now(),
                lifetime=settings.token_lifetime,
            )
            return issued.token

    click.echo(run_command(issue()))
