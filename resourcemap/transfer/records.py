"""Stored listings as every exporter needs them: the ``ResourceIn`` plus what input lacks.

Every exported listing has an ``external_id``, because imports match rows by it. A listing
made in the app has none; it is exported as ``<instance id>:<id>``, where the instance id
is a random UUID this database keeps (docs/hsds-mapping.md, "Identifiers"). The importer
reads such a key as that listing, which then keeps the key as its ``external_id``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from resourcemap.listings.edits import ResourceIn, stored_input
from resourcemap.models import DatasetInfo, Organisation, Resource
from resourcemap.scope import located_in

INSTANCE_KEY = "hsds_instance_id"  # DatasetInfo key of this database's instance id
MAX_ID = 2**31 - 1  # resource ids are 32-bit integers


@dataclass(frozen=True)
class ExportRecord:
    """One listing: its input form (what an import reads back), the stored row (ids, area
    codes, timestamps, source) and its organisation."""

    data: ResourceIn
    resource: Resource
    organisation: Organisation | None

    @property
    def provenance(self) -> list[dict[str, str]]:
        return provenance_chain(self.resource)


async def instance_id() -> str:
    """This database's instance id, made on first use and then kept."""
    info, _ = await DatasetInfo.get_or_create(
        key=INSTANCE_KEY, defaults={"value": str(uuid.uuid4())}
    )
    return info.value


def own_key(instance: str, resource_id: int) -> str:
    return f"{instance}:{resource_id}"


def parse_own_key(instance: str, key: str) -> int | None:
    """The resource id in a key made by :func:`own_key` for this instance, else None."""
    match = re.fullmatch(re.escape(instance) + r":([0-9]{1,10})", key)
    return None if match is None or int(match[1]) > MAX_ID else int(match[1])


def provenance_chain(resource: Resource) -> list[dict[str, str]]:
    """The import steps of a listing, oldest first: those its record carried, then the
    import that wrote it (none for a listing made in the app)."""
    chain = [dict(step) for step in resource.earlier_sources or []]
    if resource.source_file or resource.imported_at is not None:
        chain.append(
            {
                "file": resource.source_file,
                "format": resource.source_format,
                "record": resource.source_record,
                "imported_at": (
                    "" if resource.imported_at is None else resource.imported_at.isoformat()
                ),
                "imported_by": resource.imported_by,
            }
        )
    return chain


async def load_records(
    *, organisation_id: int | None = None, area_code: str | None = None
) -> list[ExportRecord]:
    """Every listing (any status) in id order, or only one organisation's, or only those
    located in the area an account is kept to (#20)."""
    query = Resource.all().order_by("id")
    if organisation_id is not None:
        query = query.filter(organisation_id=organisation_id)
    if area_code is not None:
        query = query.filter(located_in(area_code))
    resources = await query.prefetch_related(
        "hours", "exceptions", "qualifications", "organisation"
    )
    instance = await instance_id() if any(not r.external_id for r in resources) else ""
    return [
        ExportRecord(stored_input(r, own_key(instance, r.id)), r, r.organisation) for r in resources
    ]
