"""Organisations that run resources; admins manage them."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from tortoise.transactions import in_transaction

from resourcemap import audit
from resourcemap.accounts import Principal
from resourcemap.errors import Conflict, NotFound, storage_refusals
from resourcemap.listings.edits import Input, web_address
from resourcemap.models import Organisation
from resourcemap.said import N_
from resourcemap.vocab import OrganisationType, Role


class OrganisationIn(Input):
    """What an admin gives for an organisation: no control characters (a NUL byte is a 400,
    not a database error) and a website that is an http(s) link."""

    external_id: str | None = Field(None, max_length=100)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field("", max_length=300)
    type: OrganisationType
    description: str = Field("", max_length=5000)
    website: str = Field("", max_length=300)
    phone: str = Field("", max_length=40)

    @field_validator("website")
    @classmethod
    def _website(cls, value: str) -> str:
        return web_address(value)


class OrganisationView(BaseModel):
    id: int
    external_id: str | None
    name_zh: str
    name_en: str
    type: str
    description: str
    website: str
    phone: str


def view(org: Organisation) -> OrganisationView:
    return OrganisationView(
        id=org.id,
        external_id=org.external_id,
        name_zh=org.name_zh,
        name_en=org.name_en,
        type=str(org.type),
        description=org.description,
        website=org.website,
        phone=org.phone,
    )


async def save_organisation(
    actor: Principal, data: OrganisationIn, *, organisation_id: int | None = None
) -> Organisation:
    actor.require(Role.ADMIN)
    if data.external_id is not None:
        clash = await Organisation.get_or_none(external_id=data.external_id)
        if clash is not None and clash.id != organisation_id:
            raise Conflict(f"external_id {data.external_id!r} is taken", field="external_id")
    connection = Organisation._meta.default_connection
    async with storage_refusals("external_id", "this external id"), in_transaction(connection):
        if organisation_id is None:
            org = await Organisation.create(**data.model_dump(mode="json"))
            await audit.record(actor, "create", org, after=view(org).model_dump(mode="json"))
        else:
            org_or_none = await Organisation.get_or_none(id=organisation_id)
            if org_or_none is None:
                raise NotFound(N_("no organisation with id %(id)s", id=organisation_id))
            org = org_or_none
            before = view(org).model_dump(mode="json")
            await org.update_from_dict(data.model_dump(mode="json")).save()
            old, new = audit.changed(before, view(org).model_dump(mode="json"))
            await audit.record(actor, "update", org, before=old, after=new)
    return org


async def list_organisations() -> list[OrganisationView]:
    return [view(o) for o in await Organisation.all().order_by("id")]
