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

from resourcemap.edits import ResourceIn
from resourcemap.hours import hhmm
from resourcemap.models import DatasetInfo, Organisation, Resource

INSTANCE_KEY = "hsds_instance_id"  # DatasetInfo key of this database's instance id
MAX_ID = 2**31 - 1  # resource ids are 32-bit integers


@dataclass(frozen=True)
class ExportRecord:
    """One listing: its input form (what an import reads back), the stored row (ids, area
    codes, timestamps, source) and its organisation."""

    data: ResourceIn
    resource: Resource
    organisation: Organisation | None


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


def as_input(r: Resource, key: str | None = None) -> ResourceIn:
    """A stored resource with hours, exceptions and qualifications fetched, as input.

    Mirrors ``edits.current_input`` for many resources at once (one query per relation).
    """
    plain = {
        name: getattr(r, name)
        for name in ResourceIn.model_fields
        if name not in ("hours", "exceptions", "qualifications", "organisation_id")
    }
    return ResourceIn.model_validate(
        {
            **plain,
            "external_id": r.external_id or key,
            "organisation_id": r.organisation_id,  # type: ignore[attr-defined]
            "hours": [
                {"weekday": h.weekday, "opens": hhmm(h.opens), "closes": hhmm(h.closes)}
                for h in sorted(r.hours, key=lambda h: (h.weekday, h.opens))
            ],
            "exceptions": [
                {
                    "start_date": e.start_date,
                    "end_date": e.end_date,
                    "closed": e.closed,
                    "opens": None if e.opens is None else hhmm(e.opens),
                    "closes": None if e.closes is None else hhmm(e.closes),
                    "note": e.note,
                }
                for e in sorted(r.exceptions, key=lambda e: (e.start_date, e.id))
            ],
            "qualifications": [
                {
                    "type": q.type,
                    "certificate_number": q.certificate_number,
                    "issuer": q.issuer,
                    "issued_on": q.issued_on,
                    "verified_on": q.verified_on,
                }
                for q in sorted(r.qualifications, key=lambda q: q.id)
            ],
        }
    )


async def load_records(*, organisation_id: int | None = None) -> list[ExportRecord]:
    """Every listing (any status) in id order, or only one organisation's."""
    query = Resource.all().order_by("id")
    if organisation_id is not None:
        query = query.filter(organisation_id=organisation_id)
    resources = await query.prefetch_related(
        "hours", "exceptions", "qualifications", "organisation"
    )
    instance = await instance_id() if any(not r.external_id for r in resources) else ""
    return [
        ExportRecord(as_input(r, own_key(instance, r.id)), r, r.organisation) for r in resources
    ]
