"""Accounts from the command line: ``user create`` (the first admin), ``user list``,
``user password`` (an administrator locked out, a forgotten password) and ``user token``."""

from __future__ import annotations

import click

from geo.codes import twelve_digits
from resourcemap import accounts, clock, db, schema, tokens
from resourcemap.accounts import Principal
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
@click.option(
    "--area",
    "area_code",
    default=None,
    help="Area code the account is kept to (a district's planner or staff; 6 or 9 digits "
    "are read as 12).",
)
@click.password_option(help="Password (asked for when not given).")
def user_create(
    username: str,
    role: str,
    organisation_id: int | None,
    display_name: str,
    area_code: str | None,
    password: str,
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
                area_code=None if area_code is None else twelve_digits(area_code.strip()),
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


@user.command(name="list")
def user_list() -> None:
    """Every account: username, role, organisation, area, and whether it may sign in."""
    settings = read_settings()
    now = clock.from_settings(settings).now()

    async def listed() -> list[Account]:
        async with db.database(settings.database_url):
            return await accounts.list_accounts(Principal.command_line())

    for a in run_command(listed()):
        state = "deactivated" if not a.active else "active"
        if a.active and a.locked_until is not None and a.locked_until > now:
            state = "locked after failed sign-ins"
        where = f"organisation {a.organisation_id}" if a.organisation_id else "-"
        click.echo(f"{a.username}\t{a.role.value}\t{where}\t{a.area_code or '-'}\t{state}")


@user.command(name="password")
@click.argument("username")
@click.password_option(help="The new password (asked for when not given).")
def user_password(username: str, password: str) -> None:
    """Set a new password (an administrator locked out, or who forgot it): the account is
    unlocked, and its sessions and API tokens end."""
    settings = read_settings()

    async def reset() -> None:
        async with db.database(settings.database_url):
            account = await Account.get_or_none(username=username.strip().lower())
            if account is None:
                raise NotFound(f"no account {username!r}: `resourcemap user list` shows them")
            await accounts.reset_password(
                Principal.command_line(),
                account.id,
                password,
                now=clock.from_settings(settings).now(),
            )

    run_command(reset())
    click.echo(f"new password set for {username!r}; its sessions and tokens ended")
