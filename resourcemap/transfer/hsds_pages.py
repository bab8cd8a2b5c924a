"""Which HSDS records a JSON document holds, as service records to import.

HSDS 3.0 APIs answer with several shapes (``schema/compiled/*.json``, ``examples/``): a
service (``GET /services/{id}``), a page ``{"contents": [...], "total_items": …}`` of
services, service-at-locations, organizations or taxonomy terms, or one organization or
service-at-location. Services are read as they are; a service_at_location with its
``service`` and ``location`` becomes that service at that one location; an organization
with its ``services`` becomes those services (with the organization); records that hold no
service (an organization without services, a location, a taxonomy or term) are refused
with what they are, rather than misread as services without a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resourcemap.said import N_, Said
from resourcemap.transfer.readers import UnreadableFile

# Keys only an organization record has (organization.json), and only taxonomy records.
ORGANIZATION_KEYS = frozenset(
    {
        "tax_status",
        "tax_id",
        "year_incorporated",
        "legal_status",
        "logo",
        "parent_organization_id",
        "organization_identifiers",
        "programs",
    }
)
TAXONOMY_KEYS = frozenset({"taxonomy", "taxonomy_detail", "term_uri", "taxonomy_id", "version"})
LOCATION_KEYS = frozenset({"latitude", "longitude", "location_type", "addresses"})
SERVICE_KEYS = frozenset(
    {"status", "service_at_locations", "organization", "organization_id", "cost_options"}
)


@dataclass(frozen=True)
class Record:
    """One service to read (``service``), or why an item is none (``refusal``)."""

    service: dict[str, Any] | None
    refusal: str | Said = ""


def items_of(document: Any) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return list(document["contents"])
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list):
        return document
    raise UnreadableFile(
        N_("HSDS JSON is a service object, a list of them, or a page with contents")
    )


def _organization_services(item: dict[str, Any]) -> list[Record]:
    services = item.get("services")
    name = item.get("name") if isinstance(item.get("name"), str) else ""
    if not isinstance(services, list) or not services:
        return [
            Record(
                None,
                N_(
                    "this is an HSDS organization record (%(name)r), not a service, and it "
                    "lists no services: import its services (a services page, or the "
                    "organization with its services nested)",
                    name=name,
                ),
            )
        ]
    organization = {k: v for k, v in item.items() if k not in ("services", "locations")}
    return [
        Record({**s, "organization": s.get("organization") or organization})
        if isinstance(s, dict)
        else Record(None, N_("a service of this organization is not a JSON object"))
        for s in services
    ]


def _service_at_location(item: dict[str, Any]) -> Record:
    service = dict(item["service"])
    link = {k: v for k, v in item.items() if k != "service"}
    if isinstance(link.get("location"), dict):
        service["service_at_locations"] = [link]
    return Record(service)


def records_of(document: Any) -> list[Record]:
    """The services of ``document`` in order, one :class:`Record` per service (or refused
    record); raises :class:`UnreadableFile` for a document of no HSDS shape."""
    records: list[Record] = []
    for item in items_of(document):
        if not isinstance(item, dict):
            records.append(Record(None, N_("not a JSON object")))
            continue
        keys = set(item)
        if isinstance(item.get("service"), dict):
            records.append(_service_at_location(item))
        elif isinstance(item.get("services"), list) or (keys & ORGANIZATION_KEYS):
            records += _organization_services(item)
        elif keys & TAXONOMY_KEYS and not keys & SERVICE_KEYS:
            records.append(
                Record(
                    None, N_("this is an HSDS taxonomy or taxonomy term, which holds no service")
                )
            )
        elif keys & LOCATION_KEYS and not keys & SERVICE_KEYS:
            records.append(
                Record(
                    None,
                    N_(
                        "this is an HSDS location, not a service: import the services, with "
                        "their locations nested in service_at_locations"
                    ),
                )
            )
        else:
            records.append(Record(item))
    return records
