"""Accounts: passwords (argon2), sign-in with lockout, API tokens, and who may do what."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from resourcemap import audit, passwords
from resourcemap.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    storage_refusals,
)
from resourcemap.models import Account, ApiToken, Area, Organisation
from resourcemap.said import N_, Said
from resourcemap.vocab import ROLE_NAMES, Role

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
MAX_PASSWORD_LENGTH = passwords.MAX_LENGTH
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# One answer to every refused sign-in, whether the name is unknown, the password wrong or
# the account locked: none of them may tell a stranger that a user name exists (#15).
REFUSED = (
    f"wrong username or password; after {MAX_FAILED_LOGINS} failed sign-ins an account is "
    f"locked for {LOCKOUT.seconds // 60} minutes"
)
log = logging.getLogger(__name__)


def either(*roles: Role) -> Said:
    """Roles as one phrase, "admin or staff", each word read in the reader's language."""
    phrase = ROLE_NAMES[roles[-1]]
    for role in reversed(roles[:-1]):
        phrase = N_("%(first)s or %(second)s", first=ROLE_NAMES[role], second=phrase)
    return phrase


@dataclass(frozen=True)
class Principal:
    """The signed-in account as the domain sees it; ``id`` is ``None`` for the command line,
    which acts as an administrator without an account (audit entries name it "cli")."""

    id: int | None
    username: str
    role: Role
    organisation_id: int | None
    session_version: int
    # The area (any level) a planner or staff account is kept to; None: not kept (#20).
    area_code: str | None = None
    display_name: str = ""  # how the person is greeted; the username where none is set

    @classmethod
    def of(cls, account: Account) -> Principal:
        return cls(
            id=account.id,
            username=account.username,
            role=Role(account.role),
            organisation_id=account.organisation_id,
            session_version=account.session_version,
            area_code=None if account.role == Role.ADMIN else account.area_code,
            display_name=account.display_name,
        )

    @classmethod
    def command_line(cls) -> Principal:
        return cls(
            id=None, username="cli", role=Role.ADMIN, organisation_id=None, session_version=0
        )

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(N_("this needs the role %(roles)s", roles=either(*roles)))

    def in_area(self, codes: Iterable[str]) -> bool:
        """Whether something located in the areas ``codes`` (a listing's city, district,
        street and community) lies in this account's area; always, for accounts not kept
        to one (admins never are)."""
        return self.area_code is None or self.area_code in set(codes)

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
    passwords.check_strength(password)


async def refusals(
    *,
    username: str,
    password: str,
    role: Role,
    organisation_id: int | None,
    area_code: str | None,
) -> list[InvalidInput | Conflict]:
    """Everything wrong with a new account, each naming its field: a form says them all at
    once (one a submission took an administrator four tries)."""
    found: list[InvalidInput | Conflict] = []
    if not USERNAME.match(username):
        found.append(
            InvalidInput(
                N_("username must be 3-64 lower-case letters, digits, '.', '_' or '-'"),
                field="username",
            )
        )
    elif await Account.exists(username=username):
        found.append(Conflict(N_("username %(name)r is taken", name=username), field="username"))
    try:
        check_password_strength(password)
    except InvalidInput as exc:
        found.append(exc)
    try:
        await _check_organisation(role, organisation_id)
    except InvalidInput as exc:
        found.append(exc)
    try:
        await _check_area(role, area_code)
    except InvalidInput as exc:
        found.append(exc)
    return found


async def create_account(
    actor: Principal | None,
    *,
    username: str,
    password: str,
    role: Role,
    organisation_id: int | None = None,
    display_name: str = "",
    area_code: str | None = None,
) -> Account:
    """Create an account. ``actor`` is ``None`` only for the bootstrap CLI."""
    if actor is not None:
        actor.require(Role.ADMIN)
    problems = await refusals(
        username=username,
        password=password,
        role=role,
        organisation_id=organisation_id,
        area_code=area_code,
    )
    if problems:
        raise problems[0]
    connection = Account._meta.default_connection
    async with storage_refusals("username", "this username"), in_transaction(connection):
        account = await Account.create(
            username=username,
            display_name=display_name,
            password_hash=await passwords.hash_password(password),
            role=role,
            organisation_id=organisation_id,
            area_code=area_code,
        )
        await audit.record(actor, "create", account, after=account_view(account))
    return account


async def _check_organisation(role: Role, organisation_id: int | None) -> None:
    if role is Role.STAFF:
        if organisation_id is None:
            raise InvalidInput(
                N_("staff accounts belong to an organisation"), field="organisation_id"
            )
        if not await Organisation.exists(id=organisation_id):
            raise InvalidInput(
                N_("no organisation with id %(id)s", id=organisation_id), field="organisation_id"
            )
    elif organisation_id is not None:
        raise InvalidInput(
            N_("only staff accounts belong to an organisation"), field="organisation_id"
        )


async def _check_area(role: Role, area_code: str | None) -> None:
    if area_code is None:
        return
    if role is Role.ADMIN:
        raise InvalidInput(
            N_("admins are not kept to an area"), field="area_code", code="admin_not_kept"
        )
    if not await Area.exists(code=area_code):
        raise InvalidInput(
            N_("unknown area code %(code)r", code=area_code), field="area_code", code="unknown_area"
        )


def account_view(account: Account) -> dict[str, object]:
    """What the API and the audit log show of an account: never the password hash."""
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": str(account.role),
        "organisation_id": account.organisation_id,
        "area_code": account.area_code,
        "active": account.active,
    }


async def authenticate(
    username: str, password: str, *, now: dt.datetime, address: str = "unknown"
) -> Principal:
    """Check a password; lock the account for a while after repeated failures.

    Every refusal says the same (:data:`REFUSED`) and costs the same argon2 check. Failures
    are counted by the database itself, one attempt at a time: an attempt first takes one of
    the account's :data:`MAX_FAILED_LOGINS` tries and gives it back only when the password
    is right, so 40 parallel guesses get five checks, not forty (#15). Refusals are logged
    with the user name and the caller's address, never the password.
    """
    if len(password) > MAX_PASSWORD_LENGTH or len(username) > 64:
        log.warning("sign-in refused: user=%r address=%s (over-long input)", username[:64], address)
        raise Forbidden(REFUSED)
    account = await Account.get_or_none(username=username)
    if account is None or not account.active:
        await passwords.verify(None, password)
        why = "no such account" if account is None else "account deactivated"
        log.warning("sign-in failed: user=%r address=%s (%s)", username, address, why)
        raise Forbidden(REFUSED)
    unlocked = Q(locked_until=None) | Q(locked_until__lte=now)
    took_a_try = await Account.filter(
        unlocked, id=account.id, failed_logins__lt=MAX_FAILED_LOGINS
    ).update(failed_logins=F("failed_logins") + 1)
    if not took_a_try:
        # Locked, or the last tries are being checked right now: lock it (if not yet).
        await _lock(account.id, now)
        await passwords.verify(None, password)
        log.warning("sign-in refused: user=%r address=%s (account locked)", username, address)
        raise Forbidden(REFUSED)
    if not await passwords.verify(account.password_hash, password):
        # The try stays spent; once all are spent, the account locks.
        locked = await Account.filter(
            unlocked, id=account.id, failed_logins__gte=MAX_FAILED_LOGINS
        ).update(locked_until=now + LOCKOUT, failed_logins=0)
        log.warning("sign-in failed: user=%r address=%s (wrong password)", username, address)
        if locked:
            log.warning(
                "account locked for %d minutes: user=%r address=%s",
                LOCKOUT.seconds // 60,
                username,
                address,
            )
        raise Forbidden(REFUSED)
    # Right password: the tries come back, unless parallel failures locked it meanwhile.
    signed = await Account.filter(unlocked, id=account.id).update(
        failed_logins=0, locked_until=None, last_login_at=now
    )
    if not signed:
        log.warning("sign-in refused: user=%r address=%s (account locked)", username, address)
        raise Forbidden(REFUSED)
    if passwords.needs_rehash(account.password_hash):
        new_hash = await passwords.hash_password(password)
        await Account.filter(id=account.id).update(password_hash=new_hash)
    return Principal.of(account)


async def _lock(account_id: int, now: dt.datetime) -> None:
    unlocked = Q(locked_until=None) | Q(locked_until__lte=now)
    locked = await Account.filter(unlocked, id=account_id).update(
        locked_until=now + LOCKOUT, failed_logins=0
    )
    if locked:
        log.warning("account locked for %d minutes: id=%d", LOCKOUT.seconds // 60, account_id)


async def list_accounts(actor: Principal) -> list[Account]:
    """Every account, by username (admins only); show them through :func:`account_view`."""
    actor.require(Role.ADMIN)
    return await Account.all().order_by("username")


async def _account(account_id: int) -> Account:
    account = await Account.get_or_none(id=account_id)
    if account is None:
        raise NotFound(N_("no account with id %(id)s", id=account_id))
    return account


async def reset_password(
    actor: Principal, account_id: int, new_password: str, *, now: dt.datetime
) -> Account:
    """Admins set a new password; every session and every API token of that account ends."""
    actor.require(Role.ADMIN)
    check_password_strength(new_password)
    account = await _account(account_id)
    new_hash = await passwords.hash_password(new_password)
    async with in_transaction(Account._meta.default_connection):
        account.password_hash = new_hash
        account.session_version += 1
        account.failed_logins = 0
        account.locked_until = None
        await account.save()
        await _revoke_tokens(account.id, now)
        await audit.record(actor, "reset_password", account)
    return account


async def set_active(
    actor: Principal, account_id: int, active: bool, *, now: dt.datetime
) -> Account:
    """Admins deactivate an account (its sessions and tokens end, it cannot sign in) or
    reactivate it (it signs in again; its old tokens stay revoked)."""
    actor.require(Role.ADMIN)
    account = await _account(account_id)
    if not active and account.id == actor.id:
        raise InvalidInput(N_("you cannot deactivate your own account"), field="active")
    if account.active == active:
        return account
    before = account_view(account)
    async with in_transaction(Account._meta.default_connection):
        account.active = active
        account.session_version += 1
        await account.save(update_fields=["active", "session_version"])
        if not active:
            await _revoke_tokens(account.id, now)
        old, new = audit.changed(before, account_view(account))
        action = "activate" if active else "deactivate"
        await audit.record(actor, action, account, before=old, after=new)
    return account


async def _revoke_tokens(account_id: int, now: dt.datetime) -> None:
    await ApiToken.filter(account_id=account_id, revoked=False).update(revoked=True, revoked_at=now)


async def end_sessions(account_id: int, session_version: int) -> None:
    """Sign-out: every session signed with this version stops working. A cookie of an
    older version ends nothing (it is not valid anyway)."""
    await Account.filter(id=account_id, session_version=session_version).update(
        session_version=F("session_version") + 1
    )


async def change_role(
    actor: Principal,
    account_id: int,
    role: Role,
    organisation_id: int | None,
    area_code: str | None = None,
) -> Account:
    """Admins change an account's role, organisation and area; its sessions end, so that
    the person signs in again under the new role rather than keeping the old one's pages."""
    actor.require(Role.ADMIN)
    account = await _account(account_id)
    await _check_organisation(role, organisation_id)
    await _check_area(role, area_code)
    if account.id == actor.id and role is not Role.ADMIN:
        raise InvalidInput(N_("you cannot take away your own admin role"), field="role")
    before = account_view(account)
    if (Role(account.role), account.organisation_id, account.area_code) == (
        role,
        organisation_id,
        area_code,
    ):
        return account
    async with in_transaction(Account._meta.default_connection):
        account.role = role
        account.organisation_id = organisation_id
        account.area_code = area_code
        account.session_version += 1
        fields = ["role", "organisation_id", "area_code", "session_version"]
        await account.save(update_fields=fields)
        old, new = audit.changed(before, account_view(account))
        await audit.record(actor, "change_role", account, before=old, after=new)
    return account


async def principal_for_session(account_id: int, session_version: int) -> Principal | None:
    account = await Account.get_or_none(id=account_id, active=True)
    if account is None or account.session_version != session_version:
        return None
    return Principal.of(account)
