"""Accounts of staff, planners and admins, their API tokens, and the audit log."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from resourcemap.models.listings import Organisation
from resourcemap.vocab import Role


class Account(Model):
    """A person who signs in. Residents never need one."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=100, default="")
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16)
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    organisation_id: int | None  # the key, as tortoise sets it
    active = fields.BooleanField(default=True)
    failed_logins = fields.SmallIntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    # Bumped when the password or the role changes, on deactivation and on sign-out:
    # sessions signed before it stop working (#15).
    session_version = fields.IntField(default=1)
    # Planners and staff may be kept to one area (any level, 市 to 村社区) and what lies
    # in it; empty: not kept to an area (#20).
    area_code = fields.CharField(max_length=12, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"


class ApiToken(Model):
    """A bearer token for scripts. Only its SHA-256 is stored, the token is shown once."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="tokens", on_delete=fields.CASCADE
    )
    account_id: int  # the key, as tortoise sets it
    name = fields.CharField(max_length=100, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    # Empty on tokens issued before expiry existed: they expire a lifetime after creation.
    expires_at = fields.DatetimeField(null=True)
    revoked = fields.BooleanField(default=False)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class AuditEntry(Model):
    """Who changed what, with the record before and after. Never holds residents' data."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None  # the key, as tortoise sets it
    actor_name = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=32)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64, default="", db_index=True)
    before: dict[str, Any] | None = fields.JSONField(null=True)
    after: dict[str, Any] | None = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"
