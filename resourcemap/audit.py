"""The audit log: who changed what, before and after.

Only listings, organisations and accounts are audited, never residents' bookings or
contact details; account records pass through ``accounts.account_view`` so that no
password hash reaches the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from tortoise.models import Model

from resourcemap.isotime import IsoDatetime
from resourcemap.models import AuditEntry

if TYPE_CHECKING:
    from resourcemap.accounts import Principal


async def record(
    actor: Principal | None,
    action: str,
    entity: Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await AuditEntry.create(
        actor_id=None if actor is None else actor.id,
        actor_name="cli" if actor is None else actor.username,
        action=action,
        entity=entity._meta.db_table,
        entity_id=str(entity.pk),
        before=before,
        after=after,
    )


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, on both sides."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


class AuditQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: str | None = Field(None, max_length=32)
    entity_id: str | None = Field(None, max_length=64)
    limit: int = Field(100, ge=1, le=500)


class EntryView(BaseModel):
    id: int
    at: IsoDatetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # The account's display name (the one its pages greet it with), where it has one.
    actor_display: str = ""


async def list_entries(query: AuditQuery) -> list[EntryView]:
    qs = AuditEntry.all()
    if query.entity is not None:
        qs = qs.filter(entity=query.entity)
    if query.entity_id is not None:
        qs = qs.filter(entity_id=query.entity_id)
    return [
        EntryView(
            id=e.id,
            at=e.at,
            actor=e.actor_name,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            before=e.before,
            after=e.after,
            actor_display=e.actor.display_name if e.actor is not None else "",
        )
        for e in await qs.order_by("-id").limit(query.limit).prefetch_related("actor")
    ]
