"""Listings as Open Referral HSDS 3.0 service records (docs/hsds-mapping.md).

Each listing becomes one ``service`` with everything nested, the shape of
``schema/compiled/service_with_definitions.json``; an export is a JSON list of them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap.listings.edits import ExceptionIn, ResourceIn
from resourcemap.models import Area, Organisation
from resourcemap.transfer import hsds_terms as t
from resourcemap.transfer.columns import HAS_ELIGIBILITY
from resourcemap.transfer.hsds_in import fee_of
from resourcemap.transfer.labels import label
from resourcemap.transfer.records import ExportRecord
from resourcemap.vocab import Fee


@dataclass(frozen=True)
class Context:
    """What every record needs besides itself."""

    instance: str
    areas: Mapping[str, Area]
    tz: ZoneInfo
    synthetic: bool = False

    @property
    def offset_hours(self) -> float:
        offset = dt.datetime.now(self.tz).utcoffset() or dt.timedelta()
        return offset.total_seconds() / 3600

    @property
    def offset_text(self) -> str:
        minutes = int(self.offset_hours * 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def time(self, hhmm: str, local: bool = False) -> str:
        """``hhmm`` with our zone's offset; as given (``local``) for a foreign record whose
        times came without one."""
        return hhmm if local else hhmm + self.offset_text


def _without_empty(record: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional values: ``format: uri``/``email`` fields refuse ``""``."""
    return {k: v for k, v in record.items() if v not in ("", None, [])}


def organization(org: Organisation, instance: str) -> dict[str, Any]:
    org_id = t.record_id("organization", org.external_id, instance, org.id)
    attributes = [t.attribute("organization", org_id, "organisation-type", str(org.type))]
    if org.external_id and not t.is_uuid(org.external_id):
        attributes.append(t.field_attribute("organization", org_id, "external_id", org.external_id))
    if org.source:
        attributes.append(t.field_attribute("organization", org_id, "source", org.source))
    phones = [
        {"id": t.child_id("phone", org_id, org.phone), "organization_id": org_id}
        | {"number": org.phone, "type": "voice"}
    ]
    return {
        **_without_empty(
            {
                "id": org_id,
                "name": org.name_zh,
                "alternate_name": org.name_en,
                "website": org.website if org.website.startswith(("http://", "https://")) else "",
                "phones": phones if org.phone else [],
            }
        ),
        "description": org.description,  # required, "" allowed
        "attributes": attributes,
    }


def _weekly(
    service_id: str, ctx: Context, days: list[int], opens: str, closes: str, local: bool = False
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "id": t.child_id("schedule", service_id, days, opens, closes),
        "service_id": service_id,
        "freq": "WEEKLY",
        "wkst": "MO",
        "byday": ",".join(t.WEEKDAY_CODES[d] for d in days),
        "opens_at": ctx.time(opens, local),
        "closes_at": ctx.time(closes, local),
    }
    if not local:
        schedule["timezone"] = ctx.offset_hours
    return schedule


def _exception(service_id: str, ctx: Context, e: ExceptionIn, local: bool) -> dict[str, Any]:
    key = (str(e.start_date), str(e.end_date), e.closed, e.opens, e.closes, e.note)
    schedule_id = t.child_id("schedule", service_id, *key)
    schedule: dict[str, Any] = {"id": schedule_id, "service_id": service_id}
    if not e.closed and e.opens is not None and e.closes is not None:
        schedule = _weekly(service_id, ctx, list(range(7)), e.opens, e.closes, local)
        schedule["id"] = schedule_id
    schedule |= {"valid_from": str(e.start_date), "valid_to": str(e.end_date)}
    if e.note:
        schedule["description"] = e.note
    state = "closed" if e.closed else "open"
    schedule["attributes"] = [t.field_attribute("schedule", schedule_id, "hours_exception", state)]
    return schedule


def schedules(service_id: str, data: ResourceIn, ctx: Context) -> list[dict[str, Any]]:
    """Weekly hours (one schedule per distinct interval), always-open, and exceptions;
    without a UTC offset when a foreign record gave its times without one."""
    local = bool(data.foreign_fields.get("times_without_offset"))
    result: list[dict[str, Any]] = []
    if data.always_open:
        always = _weekly(service_id, ctx, list(range(7)), "00:00", "24:00", local)
        result.append(always | {"description": t.ALWAYS_OPEN_DESCRIPTION})
    days: dict[tuple[str, str], list[int]] = defaultdict(list)
    for h in data.hours:
        days[(h.opens, h.closes)].append(h.weekday)
    for (opens, closes), weekdays in sorted(days.items(), key=lambda kv: (min(kv[1]), kv[0])):
        result.append(_weekly(service_id, ctx, sorted(weekdays), opens, closes, local))
    result += [_exception(service_id, ctx, e, local) for e in data.exceptions]
    return result


ADDRESS_REQUIRED = ("address_1", "city", "state_province", "postal_code", "country")


def _address(location_id: str, rec: ExportRecord, ctx: Context) -> dict[str, Any]:
    r = rec.resource
    kept = rec.data.foreign_fields.get("address")
    if isinstance(kept, dict) and rec.data.address_zh in (
        kept.get("address_1"),
        t.address_line(kept),
    ):
        # A foreign record's address comes back as it came in (while its text is
        # unchanged); the fields HSDS requires are "" where it said nothing.
        return {
            "id": t.child_id("address", location_id, rec.data.address_zh),
            "location_id": location_id,
            **dict.fromkeys(ADDRESS_REQUIRED, ""),
            "address_type": "physical",
            **{k: str(v) for k, v in kept.items()},
        }

    def name(code: str) -> str:
        area = ctx.areas.get(code)
        return area.name_zh if area is not None else ""

    division = r.community_code or r.street_code or r.district_code or r.city_code
    return {
        "id": t.child_id("address", location_id, rec.data.address_zh),
        "location_id": location_id,
        "address_1": rec.data.address_zh,
        "city": name(r.city_code),
        "region": name(r.district_code),
        "state_province": t.PROVINCES.get(division[:2], ""),
        "postal_code": "",
        "country": "CN",
        "address_type": "physical",
    }


def location(key: str, org_id: str | None, rec: ExportRecord, ctx: Context) -> dict[str, Any]:
    data, r = rec.data, rec.resource
    location_id = t.stable_id("location", key)
    accessibility = []
    for code in data.accessibility:
        acc_id = t.child_id("accessibility", location_id, code.value)
        accessibility.append(
            {
                "id": acc_id,
                "location_id": location_id,
                "description": label(code),
                "attributes": [t.attribute("accessibility", acc_id, "accessibility", code.value)],
            }
        )
    if data.accessibility_note:
        note_id = t.child_id("accessibility", location_id, "note", data.accessibility_note)
        accessibility.append(
            {"id": note_id, "location_id": location_id, "description": data.accessibility_note}
        )
    attributes = []
    if data.address_en:
        attributes.append(t.field_attribute("location", location_id, "address_en", data.address_en))
    division = r.community_code or r.street_code or r.district_code or r.city_code
    return _without_empty(
        {
            "id": location_id,
            "location_type": "physical",
            "organization_id": org_id,
            "name": data.name_zh,
            "alternate_name": data.name_en,
            "latitude": data.lat,
            "longitude": data.lon,
            "external_identifier": division,
            "external_identifier_type": t.DIVISION_CODE if division else "",
            "addresses": [_address(location_id, rec, ctx)] if data.address_zh else [],
            "accessibility": accessibility,
            "attributes": attributes,
        }
    )


def _service_attributes(service_id: str, rec: ExportRecord, ctx: Context) -> list[dict[str, Any]]:
    data, r = rec.data, rec.resource
    attrs = [t.attribute("service", service_id, "kind", data.kind.value)]
    if HAS_ELIGIBILITY:
        attrs.append(t.attribute("service", service_id, "eligibility", data.eligibility.value))
    for short, codes in (("service", data.services), ("audience", data.audiences)):
        attrs += [t.attribute("service", service_id, short, c.value) for c in codes]
    attrs += [t.attribute("service", service_id, "mode", m.value) for m in data.modes]
    for q in data.qualifications:
        value = json.dumps(
            {
                "certificate_number": q.certificate_number,
                "issuer": q.issuer,
                "issued_on": None if q.issued_on is None else str(q.issued_on),
                "verified_on": None if q.verified_on is None else str(q.verified_on),
            },
            ensure_ascii=False,
        )
        attrs.append(t.attribute("service", service_id, "qualification", q.type.value, value))
    fields = {
        "external_id": "" if t.is_uuid(data.external_id) else (data.external_id or ""),
        "description_en": data.description_en,
        "capacity": str(data.capacity),
        "source": r.source,
        "synthetic": "true" if ctx.synthetic else "",
        "eligibility_note_en": data.eligibility_note_en if HAS_ELIGIBILITY else "",
        "provenance": json.dumps(rec.provenance, ensure_ascii=False) if rec.provenance else "",
        "foreign_fields": (
            json.dumps(data.foreign_fields, ensure_ascii=False) if data.foreign_fields else ""
        ),
    }
    if data.lat is None:  # no location to carry them
        attrs += [
            t.attribute("service", service_id, "accessibility", a.value) for a in data.accessibility
        ]
        fields["accessibility_note"] = data.accessibility_note
    attrs += [t.field_attribute("service", service_id, k, v) for k, v in fields.items() if v]
    return attrs


def _service_area(service_id: str, code: str, ctx: Context) -> dict[str, Any]:
    area_id = t.child_id("service_area", service_id, code)
    area = ctx.areas.get(code)
    item: dict[str, Any] = {
        "id": area_id,
        "service_id": service_id,
        "name": area.name_zh if area is not None else code,
    }
    if area is not None and area.boundary:
        item |= {"extent": json.dumps(area.boundary, ensure_ascii=False), "extent_type": "geojson"}
    item["attributes"] = [t.field_attribute("service_area", area_id, "area_code", code)]
    return item


def cost_options(service_id: str, data: ResourceIn) -> list[dict[str, Any]]:
    """A foreign record's own cost options while the fee still follows from them; else ours:
    ``free`` (amount 0) or ``paid``, no currency (we store none); none when unknown."""
    kept = data.foreign_fields.get("cost_options")
    if isinstance(kept, list) and kept and fee_of(kept) == data.fee.value:
        return [
            {"id": t.child_id("cost_option", service_id, i, c), "service_id": service_id, **c}
            for i, c in enumerate(kept)
        ]
    if data.fee is Fee.UNKNOWN:
        return []
    option = {
        "id": t.child_id("cost_option", service_id, data.fee.value),
        "service_id": service_id,
        "option": data.fee.value,
    }
    return [option | ({"amount": 0} if data.fee is Fee.FREE else {})]


def metadata(service_id: str, rec: ExportRecord) -> list[dict[str, Any]]:
    """Each import step of the listing as an HSDS ``metadata`` entry, for other tools (ours
    read the lossless ``resourcemap-field:provenance`` attribute)."""
    return [
        {
            "id": t.child_id("metadata", service_id, step),
            "resource_id": service_id,
            "resource_type": "service",
            "last_action_date": step.get("imported_at", "")[:10],
            "last_action_type": "import",
            "field_name": "",
            "previous_value": "",
            "replacement_value": " ".join(
                p
                for p in (step.get("file", ""), step.get("format", ""), step.get("record", ""))
                if p
            ),
            "updated_by": step.get("imported_by", ""),
        }
        for step in rec.provenance
    ]


def service(rec: ExportRecord, ctx: Context) -> dict[str, Any]:
    """One listing as a full HSDS ``service`` record."""
    data, r = rec.data, rec.resource
    key = t.record_key(data.external_id, ctx.instance, r.id)
    service_id = t.record_id("service", data.external_id, ctx.instance, r.id)
    org = None if rec.organisation is None else organization(rec.organisation, ctx.instance)
    org_id = None if org is None else org["id"]
    record: dict[str, Any] = {
        "id": service_id,
        "organization_id": org_id,
        "name": data.name_zh,
        "alternate_name": data.name_en,
        "description": data.description_zh,
        "url": data.website,
        "email": data.email,
        "status": t.STATUS_OUT[data.status],
        "fees_description": data.fee_note,
        "accreditations": "；".join(
            f"{label(q.type)} {q.certificate_number}（{q.issuer}）" for q in data.qualifications
        ),
        "eligibility_description": data.eligibility_note_zh if HAS_ELIGIBILITY else "",
        "assured_date": (
            r.verified_at.astimezone(ctx.tz).date().isoformat() if r.verified_at else ""
        ),
        "last_modified": r.updated_at.astimezone(ctx.tz).isoformat(timespec="milliseconds"),
        "organization": org,
        "phones": [
            {"id": t.child_id("phone", service_id, data.phone), "service_id": service_id}
            | {"number": data.phone, "type": "voice"}
        ]
        if data.phone
        else [],
        "schedules": schedules(service_id, data, ctx),
        "service_areas": [_service_area(service_id, c, ctx) for c in data.service_area_codes],
        "languages": [
            _without_empty(
                {
                    "id": t.child_id("language", service_id, code),
                    "service_id": service_id,
                    "code": code,
                    "name": t.LANGUAGE_NAMES.get(code, ""),
                }
            )
            for code in data.languages
        ],
        "cost_options": cost_options(service_id, data),
        "attributes": _service_attributes(service_id, rec, ctx),
        "metadata": metadata(service_id, rec),
    }
    if data.lat is not None:
        loc = location(key, org_id, rec, ctx)
        record["service_at_locations"] = [
            {
                "id": t.stable_id("service_at_location", key),
                "service_id": service_id,
                "location_id": loc["id"],
                "location": loc,
            }
        ]
    return _without_empty(record)
