# Over 400 lines: one HSDS service record read field by field.
"""Reading Open Referral HSDS 3.0 services into listings (docs/hsds-mapping.md, read backwards).

Accepted shapes: see :mod:`resourcemap.transfer.hsds_pages` (services, pages of them,
service-at-locations, organizations with their services). What we export reads back
exactly; a foreign record (one without our ``resourcemap-kind`` term) is read for what it
says and nothing is invented:

- a service with one located ``service_at_location`` (or none) is one listing keyed by the
  service id; at several locations, one listing per location keyed by the
  ``service_at_location`` id. Reports count services from 1.
- organisations are matched by their HSDS id as *external* id (created when missing).
- no ``cost_options`` means the fee is ``unknown``, never free; ``fees_description`` (or the
  deprecated ``fees``, or the cost options' own text) is the fee note.
- schedules: :mod:`resourcemap.transfer.hsds_schedules`. The service's own schedules win;
  without any, those of its ``service_at_location``, else of its ``location``.
- what the model has no field for but an export must give back (the address's parts, the
  cost options, times without a UTC offset) is kept in ``foreign_fields``.
- ``service_areas`` are ours when they carry our ``area_code`` attribute; free text is
  reported, not guessed.
"""

from __future__ import annotations

import json
from typing import Any

from resourcemap.said import N_, Said, said_of
from resourcemap.transfer import confirmed
from resourcemap.transfer import hsds_terms as t
from resourcemap.transfer.budget import charge
from resourcemap.transfer.columns import HAS_ELIGIBILITY, Candidate, OrgRef, read_provenance
from resourcemap.transfer.hsds_pages import records_of
from resourcemap.transfer.hsds_schedules import Schedules, Zone, read_schedules
from resourcemap.transfer.readers import Parsed
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
    "eligibility": "attributes (resourcemap-eligibility)",
    "eligibility_note_zh": "eligibility_description",
    "eligibility_note_en": "attributes (resourcemap-field:eligibility_note_en)",
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
    "foreign_fields": "location.addresses, cost_options",
    "organisation_external_id": "organization.id",
    "organisation_name_zh": "organization.name",
    "organisation_type": "organization.attributes (resourcemap-organisation-type)",
}
# HSDS organisations carry no type of ours: new ones are filed as NGOs, staff can change it.
FOREIGN_ORGANISATION_TYPE = OrganisationType.NGO
NOTE_LENGTH = 500
ADDRESS_PARTS = (
    "attention",
    "address_1",
    "address_2",
    "city",
    "region",
    "state_province",
    "postal_code",
    "country",
    "address_type",
)
COST_PARTS = ("option", "amount", "currency", "amount_description", "valid_from", "valid_to")
# Phone types that do not answer a resident's call.
NOT_VOICE = frozenset({"fax", "sms", "text", "pager", "video"})


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _organisation(service: dict[str, Any]) -> OrgRef | None:
    org = service.get("organization")
    if not isinstance(org, dict):
        org_id = _text(service.get("organization_id"))
        return OrgRef(external_id=org_id, name_zh="") if org_id else None
    found = t.read_attributes(org.get("attributes"))
    types = [code for code, _ in found.get("organisation-type", [])]
    phone = _phone(_list(org.get("phones")))
    website = _text(org.get("website"))
    return OrgRef(
        external_id=t.field_value(found, "external_id") or _text(org.get("id")) or None,
        name_zh=_text(org.get("name")),
        type=types[0] if types else FOREIGN_ORGANISATION_TYPE.value,
        name_en=_text(org.get("alternate_name")),
        description=_text(org.get("description")),
        website=website if website.startswith(("http://", "https://")) else "",
        phone=phone or "",
    )


def _phone(phones: list[dict[str, Any]]) -> str | None:
    """The first number a resident can call (not a fax), with its extension."""
    for p in phones:
        if _text(p.get("type")).lower() in NOT_VOICE or not _text(p.get("number")):
            continue
        extension = p.get("extension")
        ext = str(extension).strip() if isinstance(extension, int | str) else ""
        return _text(p.get("number")) + (f" ext. {ext}" if ext else "")
    return None


def fee_of(cost_options: list[dict[str, Any]]) -> str:
    """What the cost options say about the fee; ``unknown`` when they do not say."""
    options = [_text(c.get("option")).lower() for c in cost_options]
    amounts = [c["amount"] for c in cost_options if isinstance(c.get("amount"), int | float)]
    if any(a > 0 for a in amounts) or "paid" in options:
        return Fee.PAID.value
    if (amounts and all(a == 0 for a in amounts)) or "free" in options:
        return Fee.FREE.value
    return Fee.UNKNOWN.value


def _cost_text(cost_options: list[dict[str, Any]]) -> str:
    parts = []
    for c in cost_options:
        amount = c.get("amount")
        money = " ".join(
            p
            for p in (
                f"{amount:g}" if isinstance(amount, int | float) else "",
                _text(c.get("currency")).upper(),
                _text(c.get("amount_description")),
            )
            if p
        )
        option = _text(c.get("option"))
        parts.append(f"{option}: {money}" if option and money else option or money)
    return "; ".join(p for p in parts if p)


def _kept(items: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{k: c[k] for k in keys if c.get(k) not in (None, "")} for c in items]


def _languages(service: dict[str, Any], candidate_notes: list[Said]) -> list[str]:
    codes = []
    for lang in _list(service.get("languages")):
        given = _text(lang.get("code")) or _text(lang.get("name"))
        if not given:
            continue
        code = t.language_code(given)
        if code is None:
            candidate_notes.append(
                N_("language %(given)r is not kept: it names no language code", given=given)
            )
        elif code not in codes:
            codes.append(code)
    return codes


def _qualifications(found: dict[str, list[tuple[str, str | None]]]) -> list[dict[str, Any]]:
    result = []
    for code, value in found.get("qualification", []):
        try:
            details = json.loads(value) if value else {}
        except ValueError:
            details = {}
        result.append({"type": code, **(details if isinstance(details, dict) else {})})
    return result


class _Service:
    """One service record on its way to one or more candidates."""

    def __init__(self, number: int, service: dict[str, Any], zone: Zone) -> None:
        self.number = number
        self.service = service
        self.zone = zone
        self.found = t.read_attributes(service.get("attributes"))
        self.codes = {short: [c for c, _ in pairs] for short, pairs in self.found.items()}
        # A record we wrote has our kind: it lists every audience, mode and language, so
        # none listed means none; a foreign record that lists none gets our defaults.
        self.ours = bool(self.codes.get("kind"))
        self.notes: list[Said] = []
        self.hints: dict[str, str | Said] = {}

    def values(self) -> dict[str, Any]:
        """What the service says of every listing made from it (no location fields)."""
        s, found, codes = self.service, self.found, self.codes
        costs = _list(s.get("cost_options"))
        title, alternate = _text(s.get("name")), _text(s.get("alternate_name"))
        description = _text(s.get("description"))
        # Another directory's record written in another language (no Chinese character in
        # its name): its name and description are the English ones too, so English pages
        # show them as English, not marked "(in Chinese)"; its alias is not a translation.
        foreign_words = not self.ours and t.in_another_language(title)
        values: dict[str, Any] = {
            "name_zh": title,
            "name_en": title if foreign_words else alternate,
            "description_zh": description,
            "fee": fee_of(costs),
            "fee_note": self._cut(
                _text(s.get("fees_description"))
                or ("" if self.ours else _text(s.get("fees")) or _cost_text(costs)),
                NOTE_LENGTH,
                "fees_description",
            ),
            "email": _text(s.get("email")),
            "website": _text(s.get("url")),
            "services": codes.get("service", []),
            "accessibility": codes.get("accessibility", []),
            "qualifications": _qualifications(found),
            "service_area_codes": self._service_areas(),
        }
        status = _text(s.get("status")).lower()
        values["status"] = t.STATUS_IN[status].value if status in t.STATUS_IN else status or None
        # Whom it serves is not invented ("everyone" beside an "adult" note read as a
        # contradiction): a record that does not say lists none. How it serves does get
        # the default (in person) unless said, or a search for in-person help missed it.
        values["audiences"] = codes.get("audience", [])
        if "mode" in codes or self.ours:
            values["modes"] = codes.get("mode", [])
        if self.ours:
            values["kind"] = codes["kind"][0]
        languages = _languages(s, self.notes)
        if languages or self.ours:
            values["languages"] = languages
        else:
            self.notes.append(N_("languages not given: listed as Chinese (zh)"))
        if not self.ours and not values["services"]:
            self.notes.append(
                N_(
                    "services not given: a search by service does not find the listing "
                    "until staff tick them"
                )
            )
        phone = _phone(_list(s.get("phones")))
        if phone is not None:
            values["phone"] = phone
        if HAS_ELIGIBILITY:
            values["eligibility_note_zh"] = self._cut(
                _text(s.get("eligibility_description")), 300, "eligibility_description"
            )
            if codes.get("eligibility"):
                values["eligibility"] = codes["eligibility"][0]
        if foreign_words:
            if t.in_another_language(description):
                values["description_en"] = description
            note = values.get("eligibility_note_zh", "")
            if t.in_another_language(note):
                values["eligibility_note_en"] = note
            if alternate and alternate != title:
                self.notes.append(
                    N_(
                        "alternate_name %(alias)r is not kept: a listing has one name",
                        alias=alternate,
                    )
                )
        for name in ("description_en", "capacity", "accessibility_note", "eligibility_note_en"):
            value = t.field_value(found, name)
            if value is not None and (name != "eligibility_note_en" or HAS_ELIGIBILITY):
                values[name] = value
        if not self.ours and costs:
            values["foreign_fields"] = {"cost_options": _kept(costs, COST_PARTS)}
        kept = t.field_value(found, "foreign_fields")
        if self.ours and kept:
            try:
                values["foreign_fields"] = json.loads(kept)
            except ValueError:
                values["foreign_fields"] = kept  # validation names it
        return values

    def _cut(self, text: str, limit: int, name: str) -> str:
        if len(text) <= limit:
            return text
        self.notes.append(
            N_(
                "%(name)s is longer than %(limit)s characters: cut to %(limit)s",
                name=name,
                limit=limit,
            )
        )
        return text[:limit]

    def _service_areas(self) -> list[str]:
        codes = []
        for i, area in enumerate(_list(self.service.get("service_areas"))):
            code = t.field_value(t.read_attributes(area.get("attributes")), "area_code")
            if code:
                codes.append(code)
                continue
            text = _text(area.get("name")) or _text(area.get("description"))
            if text:
                hint = N_(
                    "service_areas[%(i)s] %(text)r is text, not an area code: give the "
                    "areas' statistical division codes (our resourcemap-field:area_code)",
                    i=i,
                    text=text[:60],
                )
                self.hints[COLUMNS["service_area_codes"]] = hint
                self.notes.append(
                    N_(
                        "service areas given as text are not kept: ResourceMap takes the areas' "
                        "statistical division codes"
                    )
                )
        return codes

    def schedules(self, sal: dict[str, Any], location: dict[str, Any], k: int) -> Schedules:
        """The service's own schedules, else its service_at_location's, else its location's."""
        levels = [
            (self.service.get("schedules"), "schedules"),
            (sal.get("schedules"), f"service_at_locations[{k}].schedules"),
            (location.get("schedules"), f"service_at_locations[{k}].location.schedules"),
        ]
        for listed, where in levels:
            if _list(listed):
                chosen = read_schedules(_list(listed), self.zone, where)
                lower = [w for lst, w in levels if _list(lst) and w != where]
                if lower and where == "schedules":
                    self.notes.append(
                        N_(
                            "location schedules not used: the service has its own (a "
                            "service's own hours win)"
                        )
                    )
                return chosen
        return Schedules()

    def candidate(self, key: str, record: str, sched: Schedules) -> Candidate:
        values = {**self.values(), "external_id": key, **sched.values()}
        if sched.times_read and not sched.offsets_given and not self.ours:
            foreign = values.setdefault("foreign_fields", {})
            foreign["times_without_offset"] = True
        candidate = Candidate(
            self.number,
            _clean(values),
            _organisation(self.service),
            columns=COLUMNS,
            record=record,
            notes=self.notes + sched.notes,
            hints=dict(self.hints),
        )
        for cell, reason in sched.problems:
            candidate.reject(cell, reason)
        confirmed.read_assured(candidate, _text(self.service.get("assured_date")), self.zone)
        provenance = t.field_value(self.found, "provenance")
        if provenance:
            try:
                candidate.provenance = read_provenance(json.loads(provenance))
            except ValueError as exc:
                candidate.reject("attributes (resourcemap-field:provenance)", said_of(exc))
        return candidate

    def located(self, values: dict[str, Any], sal: dict[str, Any], loc: dict[str, Any]) -> None:
        """Add what a location says: point, address, area code, accessibility, phone."""
        values["lat"], values["lon"] = loc.get("latitude"), loc.get("longitude")
        addresses = _list(loc.get("addresses"))
        physical = [a for a in addresses if a.get("address_type") == "physical"] or addresses
        if physical:
            values["address_zh"] = _text(physical[0].get("address_1"))
            if not self.ours:
                address = _kept([physical[0]], ADDRESS_PARTS)[0]
                values.setdefault("foreign_fields", {})["address"] = address
                # Another country's address is one line of its parts, in its own language.
                line = t.address_line(address)
                if t.in_another_language(line):
                    values["address_zh"] = values["address_en"] = line
        found = t.read_attributes(loc.get("attributes"))
        address_en = t.field_value(found, "address_en")
        if address_en is not None:
            values["address_en"] = address_en
        if loc.get("external_identifier_type") == t.DIVISION_CODE:
            values["community_code"] = _text(loc.get("external_identifier"))
        notes = []
        for entry in _list(loc.get("accessibility")):
            codes = [
                c for c, _ in t.read_attributes(entry.get("attributes")).get("accessibility", [])
            ]
            if codes:
                values["accessibility"] = [*values.get("accessibility", []), *codes]
            elif _text(entry.get("description")):
                notes.append(_text(entry.get("description")))
        if notes:
            note = self._cut("；".join(notes), NOTE_LENGTH, "accessibility")
            values["accessibility_note"] = note
            if not self.ours and t.in_another_language(note):  # English pages show it too
                values["accessibility_note_en"] = note
        if "phone" not in values:
            phone = _phone(_list(sal.get("phones")) or _list(loc.get("phones")))
            if phone is not None:
                values["phone"] = phone


def candidates_of(number: int, service: dict[str, Any], zone: Zone) -> list[Candidate]:
    """The listings one HSDS service becomes."""
    reader = _Service(number, service, zone)
    service_key = t.field_value(reader.found, "external_id") or _text(service.get("id"))
    located = [
        (k, sal, sal["location"])
        for k, sal in enumerate(_list(service.get("service_at_locations")))
        if isinstance(sal.get("location"), dict)
        and sal["location"].get("latitude") is not None
        and sal["location"].get("longitude") is not None
    ]
    if not located:
        sched = read_schedules(_list(service.get("schedules")), zone, "schedules")
        return [reader.candidate(service_key, service_key, sched)]
    result = []
    for k, sal, location in located:
        key = service_key if len(located) == 1 else _text(sal.get("id"))
        cand = reader.candidate(key, key, reader.schedules(sal, location, k))
        reader.located(cand.values, sal, location)
        cand.values = _clean(cand.values)
        result.append(cand)
    return result


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Absent beats empty: defaults of ``ResourceIn`` apply to what the record does not say."""
    return {k: v for k, v in values.items() if v not in (None, "")}


def read_services(
    services: list[tuple[int, dict[str, Any] | None, str | Said]], zone: Zone, parsed: Parsed
) -> Parsed:
    """``(number, service or None, refusal)`` triples → candidates and problems."""
    for number, service, refusal in services:
        if service is None:
            bad = Candidate(number, {}, columns=COLUMNS)
            bad.reject("", refusal)
            parsed.problems += bad.problems
            continue
        parsed.candidates.extend(candidates_of(number, service, zone))
    return parsed


def read_hsds(document: Any, zone: Zone) -> Parsed:
    records = records_of(document)
    for r in records:
        charge(1, len(r.service) if r.service else 1)
    numbered = [(i, r.service, r.refusal) for i, r in enumerate(records, start=1)]
    return read_services(numbered, zone, Parsed("hsds", row_label="service"))
