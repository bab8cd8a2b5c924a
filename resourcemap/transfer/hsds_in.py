"""Reading Open Referral HSDS 3.0 JSON into listings (docs/hsds-mapping.md, read backwards).

Accepted shapes: one full ``service`` record (``schema/compiled/service_with_definitions.json``,
organization and ``service_at_locations[].location`` nested), a JSON list of them, or an HSDS
API page ``{"contents": [...], "total_items": …}`` of them. What we export reads back exactly.

A service with one located ``service_at_location`` (or none) is one listing keyed by the
service id; a service at several locations becomes one listing per location, keyed by the
``service_at_location`` id. Rows in reports count services from 1. Only weekly schedules
are read (their ``valid_from``/``valid_to`` ignored, unless our ``hours_exception``
attribute marks them as a dated exception); ``MONTHLY`` rules, contacts, programs, funding
and ages are ignored.
"""

from __future__ import annotations

import json
import re
from typing import Any

from resourcemap.transfer import hsds_terms as t
from resourcemap.transfer.columns import Candidate, OrgRef
from resourcemap.transfer.readers import Parsed, UnreadableFile
from resourcemap.vocab import Fee, OrganisationType

# The HSDS place of each field, as reports name it.
COLUMNS: dict[str, str] = {
    "external_id": "id",
    "kind": "attributes (resourcemap-kind)",
    "name_zh": "name",
    "name_en": "alternate_name",
    "description_zh": "description",
    "description_en": "attributes (resourcemap-field:description_en)",
    "services": "attributes (resourcemap-service)",
    "audiences": "attributes (resourcemap-audience)",
    "languages": "languages",
    "modes": "attributes (resourcemap-mode)",
    "accessibility": "location.accessibility",
    "accessibility_note": "location.accessibility",
    "fee": "cost_options",
    "fee_note": "fees_description",
    "phone": "phones",
    "email": "email",
    "website": "url",
    "capacity": "attributes (resourcemap-field:capacity)",
    "status": "status",
    "lat": "location.latitude",
    "lon": "location.longitude",
    "address_zh": "location.addresses",
    "address_en": "location.attributes (resourcemap-field:address_en)",
    "community_code": "location.external_identifier",
    "service_area_codes": "service_areas",
    "hours": "schedules",
    "exceptions": "schedules",
    "qualifications": "attributes (resourcemap-qualification)",
    "organisation_id": "organization",
    "organisation_external_id": "organization.id",
    "organisation_name_zh": "organization.name",
    "organisation_type": "organization.attributes (resourcemap-organisation-type)",
}
# HSDS organisations carry no type of ours: new ones are filed as NGOs, staff can change it.
FOREIGN_ORGANISATION_TYPE = OrganisationType.NGO
NOTE_LENGTH = 300
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def services_of(document: Any) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return list(document["contents"])
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list):
        return document
    raise UnreadableFile("HSDS JSON is a service object, a list of them, or a page with contents")


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _time(value: Any) -> str | None:
    match = _TIME.match(_text(value))
    return None if match is None else f"{int(match[1]):02d}:{match[2]}"


def _days(byday: Any) -> list[int]:
    codes = [c.strip().upper() for c in _text(byday).split(",") if c.strip()]
    return sorted({t.WEEKDAY_CODES.index(c) for c in codes if c in t.WEEKDAY_CODES})


def read_schedules(schedules: list[dict[str, Any]]) -> dict[str, Any]:
    """Weekly schedules → ``hours`` and ``always_open``; dated ones → ``exceptions``."""
    hours: set[tuple[int, str, str]] = set()
    exceptions: list[dict[str, Any]] = []
    always_open = False
    for s in schedules:
        state = t.field_value(t.read_attributes(s.get("attributes")), "hours_exception")
        opens, closes = _time(s.get("opens_at")), _time(s.get("closes_at"))
        if closes == "00:00" and opens not in (None, "00:00"):
            closes = "24:00"  # open until midnight
        valid_from, valid_to = _text(s.get("valid_from")), _text(s.get("valid_to"))
        if state is not None:  # ours; a foreign dated schedule is read as weekly hours
            closed = state == "closed" or opens is None or closes is None
            exceptions.append(
                {
                    "start_date": valid_from or valid_to,
                    "end_date": valid_to or valid_from,
                    "closed": closed,
                    "opens": None if closed else opens,
                    "closes": None if closed else closes,
                    "note": _text(s.get("description"))[:NOTE_LENGTH],
                }
            )
            continue
        days = _days(s.get("byday"))
        if s.get("freq", "WEEKLY") != "WEEKLY" or not days or opens is None or closes is None:
            continue
        if days == list(range(7)) and (opens, closes) == ("00:00", "24:00"):
            always_open = True
            continue
        hours |= {(d, opens, closes) for d in days}
    return {
        "hours": [{"weekday": d, "opens": o, "closes": c} for d, o, c in sorted(hours)],
        "exceptions": exceptions,
        "always_open": always_open,
    }


def _organisation(service: dict[str, Any]) -> OrgRef | None:
    org = service.get("organization")
    if not isinstance(org, dict):
        org_id = _text(service.get("organization_id"))
        return OrgRef(external_id=org_id, name_zh="") if org_id else None
    found = t.read_attributes(org.get("attributes"))
    types = [code for code, _ in found.get("organisation-type", [])]
    phones = _list(org.get("phones"))
    website = _text(org.get("website"))
    return OrgRef(
        external_id=t.field_value(found, "external_id") or _text(org.get("id")) or None,
        name_zh=_text(org.get("name")),
        type=types[0] if types else FOREIGN_ORGANISATION_TYPE.value,
        name_en=_text(org.get("alternate_name")),
        description=_text(org.get("description")),
        website=website if website.startswith(("http://", "https://")) else "",
        phone=_text(phones[0].get("number")) if phones else "",
    )


def _fee(cost_options: list[dict[str, Any]]) -> str | None:
    options = [_text(c.get("option")).lower() for c in cost_options]
    for option in options:
        if option in (Fee.FREE, Fee.PAID):
            return option
    if any(c.get("amount") == 0 for c in cost_options):
        return Fee.FREE.value
    return Fee.PAID.value if cost_options else None


def _qualifications(found: dict[str, list[tuple[str, str | None]]]) -> list[dict[str, Any]]:
    result = []
    for code, value in found.get("qualification", []):
        try:
            details = json.loads(value) if value else {}
        except ValueError:
            details = {}
        result.append({"type": code, **(details if isinstance(details, dict) else {})})
    return result


def _service_values(service: dict[str, Any]) -> dict[str, Any]:
    """What a service says of every listing made from it (without location fields)."""
    found = t.read_attributes(service.get("attributes"))
    codes = {short: [c for c, _ in pairs] for short, pairs in found.items()}
    values: dict[str, Any] = {
        "name_zh": _text(service.get("name")),
        "name_en": _text(service.get("alternate_name")),
        "description_zh": _text(service.get("description")),
        "fee_note": _text(service.get("fees_description")),
        "email": _text(service.get("email")),
        "website": _text(service.get("url")),
        "services": codes.get("service", []),
        "accessibility": codes.get("accessibility", []),
        "qualifications": _qualifications(found),
        "service_area_codes": [
            code
            for area in _list(service.get("service_areas"))
            if (code := t.field_value(t.read_attributes(area.get("attributes")), "area_code"))
        ],
        **read_schedules(_list(service.get("schedules"))),
    }
    status = _text(service.get("status")).lower()
    values["status"] = t.STATUS_IN[status].value if status in t.STATUS_IN else status or None
    # A record we wrote (it has our kind) lists every audience, mode and language, so
    # none listed means none; a foreign record that lists none gets our defaults.
    ours = bool(codes.get("kind"))
    for short, name in (("audience", "audiences"), ("mode", "modes")):
        if short in codes or ours:
            values[name] = codes.get(short, [])
    if ours:
        values["kind"] = codes["kind"][0]
    languages = [_text(lang.get("code")) for lang in _list(service.get("languages"))]
    if any(languages) or ours:
        values["languages"] = [code for code in languages if code]
    fee = _fee(_list(service.get("cost_options")))
    if fee is not None:
        values["fee"] = fee
    phones = _list(service.get("phones"))
    if phones:
        values["phone"] = _text(phones[0].get("number"))
    for name in ("description_en", "capacity", "accessibility_note"):
        value = t.field_value(found, name)
        if value is not None:
            values[name] = value
    return values


def _located(values: dict[str, Any], sal: dict[str, Any], location: dict[str, Any]) -> None:
    """Add what a location says: point, address, area code, accessibility, hours."""
    values["lat"], values["lon"] = location.get("latitude"), location.get("longitude")
    addresses = _list(location.get("addresses"))
    physical = [a for a in addresses if a.get("address_type") == "physical"] or addresses
    if physical:
        values["address_zh"] = _text(physical[0].get("address_1"))
    found = t.read_attributes(location.get("attributes"))
    address_en = t.field_value(found, "address_en")
    if address_en is not None:
        values["address_en"] = address_en
    if location.get("external_identifier_type") == t.DIVISION_CODE:
        values["community_code"] = _text(location.get("external_identifier"))
    notes = []
    for entry in _list(location.get("accessibility")):
        codes = [c for c, _ in t.read_attributes(entry.get("attributes")).get("accessibility", [])]
        if codes:
            values["accessibility"] = [*values["accessibility"], *codes]
        elif _text(entry.get("description")):
            notes.append(_text(entry.get("description")))
    if notes:
        values["accessibility_note"] = "；".join(notes)
    if "phone" not in values:
        phones = _list(sal.get("phones")) or _list(location.get("phones"))
        if phones:
            values["phone"] = _text(phones[0].get("number"))
    extra = read_schedules(_list(sal.get("schedules")) + _list(location.get("schedules")))
    if extra["hours"] or extra["exceptions"] or extra["always_open"]:
        merged = {(h["weekday"], h["opens"], h["closes"]) for h in values["hours"] + extra["hours"]}
        values["hours"] = [{"weekday": d, "opens": o, "closes": c} for d, o, c in sorted(merged)]
        values["exceptions"] = values["exceptions"] + extra["exceptions"]
        values["always_open"] = values["always_open"] or extra["always_open"]


def candidates_of(number: int, service: Any) -> list[Candidate]:
    """The listings one HSDS service becomes."""
    if not isinstance(service, dict):
        bad = Candidate(number, {}, columns=COLUMNS)
        bad.reject("service", "not a JSON object")
        return [bad]
    base = _service_values(service)
    found = t.read_attributes(service.get("attributes"))
    service_key = t.field_value(found, "external_id") or _text(service.get("id"))
    organisation = _organisation(service)
    located = [
        (sal, sal["location"])
        for sal in _list(service.get("service_at_locations"))
        if isinstance(sal.get("location"), dict)
        and sal["location"].get("latitude") is not None
        and sal["location"].get("longitude") is not None
    ]
    if not located:
        values = {**base, "external_id": service_key}
        return [Candidate(number, _clean(values), organisation, columns=COLUMNS)]
    result = []
    for sal, location in located:
        key = service_key if len(located) == 1 else _text(sal.get("id"))
        values = {**base, "external_id": key}
        _located(values, sal, location)
        result.append(Candidate(number, _clean(values), organisation, columns=COLUMNS))
    return result


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Absent beats empty: defaults of ``ResourceIn`` apply to what the record does not say."""
    return {k: v for k, v in values.items() if v not in (None, "")}


def read_hsds(document: Any) -> Parsed:
    parsed = Parsed("hsds")
    for number, service in enumerate(services_of(document), start=1):
        parsed.candidates.extend(candidates_of(number, service))
    return parsed
