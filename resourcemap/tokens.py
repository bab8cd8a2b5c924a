"""API tokens for scripts: issued with an expiry, listed and revoked by their owner and by
admins, their last use recorded (#15).

A token is shown once and stored only as its SHA-256 (a token is 256 random bits: a salt
would add nothing). It stops working when it expires, when it is revoked, and when its
account's password is reset or the account is deactivated (both revoke every token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from resourcemap import audit
from resourcemap.accounts import Principal
from resourcemap.errors import NotFound
from resourcemap.models import Account, ApiToken
from resourcemap.said import N_
from resourcemap.vocab import Role

PREFIX = "rm_"
DEFAULT_LIFETIME = dt.timedelta(days=90)
# Last use is written at most this often per token: not one write per request.
LAST_USE_STEP = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenView:
    """What an owner or an admin sees of a token: never the token or its hash."""

    id: int
    account_id: int
    username: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool

    def as_json(self) -> dict[str, object]:
        def iso(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "account_id": self.account_id,
            "username": self.username,
            "name": self.name,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
            "active": self.active,
        }


@dataclass(frozen=True)
class Issued:
    token: str
    view: TokenView


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(row: ApiToken, lifetime: dt.timedelta) -> dt.datetime:
    # Tokens issued before expiry existed carry none: a lifetime after they were made.
    return row.expires_at if row.expires_at is not None else row.created_at + lifetime


def _view(row: ApiToken, username: str, now: dt.datetime, lifetime: dt.timedelta) -> TokenView:
    expires = _expiry(row, lifetime)
    return TokenView(
        id=row.id,
        account_id=row.account_id,
        username=username,
        name=row.name,
        created_at=row.created_at,
        expires_at=expires,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        active=not row.revoked and expires > now,
    )


def _may_manage(actor: Principal, account_id: int) -> bool:
    return actor.role is Role.ADMIN or actor.id == account_id


async def issue(
    actor: Principal | None,
    account_id: int,
    name: str = "",
    *,
    now: dt.datetime,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> Issued:
    """A new bearer token for an account, valid for ``lifetime``; for oneself, or (admins
    and the command line) for anyone."""
    if actor is not None and actor.id != account_id:
        actor.require(Role.ADMIN)
    account = await Account.get_or_none(id=account_id, active=True)
    if account is None:
        raise NotFound(N_("no active account with id %(id)s", id=account_id))
    token = PREFIX + secrets.token_urlsafe(32)
    row = await ApiToken.create(
        account=account, name=name[:100], token_hash=_hash(token), expires_at=now + lifetime
    )
    await audit.record(actor, "issue_token", account, after={"token_id": row.id})
    return Issued(token, _view(row, account.username, now, lifetime))


async def list_tokens(
    actor: Principal,
    account_id: int | None = None,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> list[TokenView]:
    """The tokens of ``account_id`` (default: the actor's own), newest first; admins may
    name any account, or ``None`` with ``all`` semantics through :func:`all_tokens`."""
    target = actor.id if account_id is None else account_id
    if target is None or not _may_manage(actor, target):
        actor.require(Role.ADMIN)
    rows = await ApiToken.filter(account_id=target).order_by("-id")
    account = await Account.get_or_none(id=target)
    username = "" if account is None else account.username
    return [_view(r, username, now, lifetime) for r in rows]


async def all_tokens(
    actor: Principal, *, now: dt.datetime, lifetime: dt.timedelta = DEFAULT_LIFETIME
) -> list[TokenView]:
    """Every token still in force, newest first (admins)."""
    actor.require(Role.ADMIN)
    rows = await ApiToken.filter(revoked=False).order_by("-id").prefetch_related("account")
    views = [_view(r, r.account.username, now, lifetime) for r in rows]
    return [v for v in views if v.active]


async def revoke(actor: Principal, token_id: int, *, now: dt.datetime) -> None:
    """Revoke one token: its owner or an admin. Others are told there is no such token."""
    row = await ApiToken.get_or_none(id=token_id)
    if row is None or not _may_manage(actor, row.account_id):
        raise NotFound(N_("no token with id %(id)s", id=token_id))
    if not row.revoked:
        row.revoked, row.revoked_at = True, now
        await row.save(update_fields=["revoked", "revoked_at"])
        account = await Account.get(id=row.account_id)
        await audit.record(actor, "revoke_token", account, after={"token_id": row.id})


async def revoke_all(account_id: int, *, now: dt.datetime) -> int:
    """Revoke every token of an account (password reset, deactivation); how many."""
    return await ApiToken.filter(account_id=account_id, revoked=False).update(
        revoked=True, revoked_at=now
    )


async def principal_for(
    token: str, *, now: dt.datetime, lifetime: dt.timedelta = DEFAULT_LIFETIME
) -> Principal | None:
    """Who a bearer token speaks for, or ``None`` (unknown, revoked, expired, or its
    account deactivated). Records the use."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = await ApiToken.get_or_none(token_hash=_hash(token), revoked=False)
    if row is None or _expiry(row, lifetime) <= now:
        return None
    account = await Account.get_or_none(id=row.account_id, active=True)
    if account is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_STEP:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return Principal.of(account)
