"""Accounts: passwords (argon2), sign-in with lockout, API tokens, and who may do what."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from resourcemap import audit
from resourcemap.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Locked,
    NotFound,
    storage_refusals,
)
from resourcemap.models import Account, ApiToken, Organisation
from resourcemap.vocab import Role

MIN_PASSWORD_LENGTH = 10
# Hashing cost grows with length: refuse absurd inputs before they reach argon2.
MAX_PASSWORD_LENGTH = 256
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
TOKEN_PREFIX = "rm_"
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so that a wrong name costs as long as a wrong
    password. Made on first use, not at import: argon2 takes a third of a second of CPU and
    64 MB, which every process start (each web worker, each command) would pay (#16)."""
    return _HASHER.hash("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    """The signed-in account as the domain sees it; ``id`` is ``None`` for the command line,
    which acts as an administrator without an account (audit entries name it "cli")."""

    id: int | None
    username: str
    role: Role
    organisation_id: int | None
    session_version: int

    @classmethod
    def of(cls, account: Account) -> Principal:
        return cls(
            id=account.id,
            username=account.username,
            role=Role(account.role),
            organisation_id=account.organisation_id,
            session_version=account.session_version,
        )

    @classmethod
    def command_line(cls) -> Principal:
        return cls(
            id=None, username="cli", role=Role.ADMIN, organisation_id=None, session_version=0
        )

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")

    def may_edit_listings_of(self, organisation_id: int | None) -> bool:
        """Admins edit every listing; staff only their own organisation's."""
        if self.role is Role.ADMIN:
            return True
        return (
            self.role is Role.STAFF
            and organisation_id is not None
            and organisation_id == self.organisation_id
        )


def check_password_strength(password: str) -> None:
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at most {MAX_PASSWORD_LENGTH} characters", field="password"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if password.isdigit() or password.isalpha():
        raise InvalidInput("password must mix letters with digits or symbols", field="password")


async def create_account(
    actor: Principal | None,
    *,
    username: str,
    password: str,
    role: Role,
    organisation_id: int | None = None,
    display_name: str = "",
) -> Account:
    """Create an account. ``actor`` is ``None`` only for the bootstrap CLI."""
    if actor is not None:
        actor.require(Role.ADMIN)
    if not USERNAME.match(username):
        raise InvalidInput(
            "username must be 3-64 lower-case letters, digits, '.', '_' or '-'",
            field="username",
        )
    check_password_strength(password)
    if role is Role.STAFF:
        if organisation_id is None:
            raise InvalidInput("staff accounts belong to an organisation", field="organisation_id")
        if not await Organisation.exists(id=organisation_id):
            raise InvalidInput(
                f"no organisation with id {organisation_id}", field="organisation_id"
            )
    elif organisation_id is not None:
        raise InvalidInput("only staff accounts belong to an organisation", field="organisation_id")
    if await Account.exists(username=username):
        raise Conflict(f"username {username!r} is taken", field="username")
    connection = Account._meta.default_connection
    async with storage_refusals("username", "this username"), in_transaction(connection):
        account = await Account.create(
            username=username,
            display_name=display_name,
            password_hash=_HASHER.hash(password),
            role=role,
            organisation_id=organisation_id,
        )
        await audit.record(actor, "create", account, after=account_view(account))
    return account


def account_view(account: Account) -> dict[str, object]:
    """What the API and the audit log show of an account: never the password hash."""
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": str(account.role),
        "organisation_id": account.organisation_id,
        "active": account.active,
    }


async def authenticate(username: str, password: str, *, now: dt.datetime) -> Principal:
    """Check a password; lock the account for a while after repeated failures.

    The message never says whether the username exists.
    """
    wrong = Forbidden("wrong username or password")
    if len(password) > MAX_PASSWORD_LENGTH or len(username) > 64:
        raise wrong
    account = await Account.get_or_none(username=username)
    if account is None or not account.active:
        _verify(_dummy_hash(), password)
        raise wrong
    if account.locked_until is not None and account.locked_until > now:
        minutes = int((account.locked_until - now).total_seconds() // 60) + 1
        raise Locked(f"too many failed sign-ins; try again in {minutes} minutes")
    if not _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCKOUT
            account.failed_logins = 0
        await account.save(update_fields=["failed_logins", "locked_until"])
        raise wrong
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
    await account.save(
        update_fields=["failed_logins", "locked_until", "last_login_at", "password_hash"]
    )
    return Principal.of(account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def list_accounts(actor: Principal) -> list[Account]:
    """Every account, by username (admins only); show them through :func:`account_view`."""
    actor.require(Role.ADMIN)
    return await Account.all().order_by("username")


async def reset_password(actor: Principal, account_id: int, new_password: str) -> Account:
    """Admins set a new password; every session of that account ends."""
    actor.require(Role.ADMIN)
    check_password_strength(new_password)
    account = await Account.get_or_none(id=account_id)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    async with in_transaction(Account._meta.default_connection):
        account.password_hash = _HASHER.hash(new_password)
        account.session_version += 1
        account.failed_logins = 0
        account.locked_until = None
        await account.save()
        await audit.record(actor, "reset_password", account)
    return account


async def principal_for_session(account_id: int, session_version: int) -> Principal | None:
    account = await Account.get_or_none(id=account_id, active=True)
    if account is None or account.session_version != session_version:
        return None
    return Principal.of(account)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(actor: Principal | None, account_id: int, name: str = "") -> str:
    """A new bearer token for an account; returned once, stored only as a hash."""
    if actor is not None and actor.id != account_id:
        actor.require(Role.ADMIN)
    account = await Account.get_or_none(id=account_id, active=True)
    if account is None:
        raise NotFound(f"no active account with id {account_id}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(account=account, name=name[:100], token_hash=_token_hash(token))
    await audit.record(actor, "issue_token", account)
    return token


async def principal_for_token(token: str, *, now: dt.datetime) -> Principal | None:
    row = await ApiToken.get_or_none(token_hash=_token_hash(token), revoked=False)
    if row is None:
        return None
    account = await Account.get_or_none(id=row.account_id, active=True)
    if account is None:
        return None
    row.last_used_at = now
    await row.save(update_fields=["last_used_at"])
    return Principal.of(account)
