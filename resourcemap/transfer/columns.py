"""The columns of a listings file and how each becomes a ``ResourceIn`` field, both ways.

Columns are named like the ``ResourceIn`` fields (a few aliases such as ``latitude`` or
``名称`` are read too). Three ``organisation_*`` columns name the organisation instead of
its database id, so that a file moves between databases: an ``organisation_id`` or
``organization_id`` column, as other directories' files have, is read as the
organisation's *external* id, never as one of our database ids. ``coord_system`` says per
row whether ``lat``/``lon`` are WGS-84, GCJ-02 or BD-09. ``provenance`` carries the import
steps a listing went through before (JSON, as exported). Lists, hours, exceptions and
qualifications are compact text (see :mod:`resourcemap.transfer.texts`) in CSV and XLSX,
and may be JSON arrays in GeoJSON properties.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from geo.chinacoords import CoordSystem
from resourcemap.listings import phones
from resourcemap.listings.edits import ResourceIn
from resourcemap.models import Organisation, Resource
from resourcemap.said import N_, Said, said, said_of
from resourcemap.transfer import texts
from resourcemap.transfer.labels import code_of
from resourcemap.transfer.report import Problem
from resourcemap.vocab import (
    Accessibility,
    Audience,
    Eligibility,
    Fee,
    Mode,
    OrganisationType,
    QualificationType,
    ResourceKind,
    Service,
    Status,
)

ORGANISATION_COLUMNS = ("organisation_external_id", "organisation_name_zh", "organisation_type")
# The listing eligibility fields arrive with another change too (migration 0009): map them
# only where ResourceIn has them.
HAS_ELIGIBILITY = "eligibility" in ResourceIn.model_fields
ELIGIBILITY_COLUMNS = ("eligibility", "eligibility_note", "eligibility_note_en")
# What the exporters write, in this order; the importer reads all of them.
COLUMNS: tuple[str, ...] = (
    "external_id",
    "kind",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    *ORGANISATION_COLUMNS,
    "services",
    "audiences",
    "languages",
    "modes",
    "accessibility",
    "accessibility_note",
    "accessibility_note_en",
    "fee",
    "fee_note",
    "fee_note_en",
    *(ELIGIBILITY_COLUMNS if HAS_ELIGIBILITY else ()),
    "phone",
    "email",
    "website",
    "capacity",
    "always_open",
    "status",
    "lat",
    "lon",
    "coord_system",
    "address_zh",
    "address_en",
    "community_code",
    "service_area_codes",
    "hours",
    "exceptions",
    "qualifications",
    "foreign_fields",
    "provenance",
)
KNOWN = frozenset(COLUMNS)
JSON_COLUMNS = ("foreign_fields", "provenance")

ALIASES: dict[str, str] = {
    "id": "external_id",
    "编号": "external_id",
    "类型": "kind",
    "name": "name_zh",
    "名称": "name_zh",
    "latitude": "lat",
    "纬度": "lat",
    "longitude": "lon",
    "lng": "lon",
    "经度": "lon",
    "address": "address_zh",
    "地址": "address_zh",
    "电话": "phone",
    "community": "community_code",
    "社区代码": "community_code",
    "opening_hours": "hours",
    "开放时间": "hours",
    "坐标系": "coord_system",
    **{f"organization{c.removeprefix('organisation')}": c for c in ORGANISATION_COLUMNS},
    # Other directories' organisation ids are external ids; ours never come from files.
    "organisation_id": "organisation_external_id",
    "organization_id": "organisation_external_id",
    "organisation_name": "organisation_name_zh",
    "organization_name": "organisation_name_zh",
    "eligibility_note_zh": "eligibility_note",
    "机构编号": "organisation_external_id",
    "机构名称": "organisation_name_zh",
    "机构类型": "organisation_type",
    "服务区域": "service_area_codes",
    "收费": "fee",
    "收费说明": "fee_note",
    "eligibility_description": "eligibility_note",
}

ENUM_LISTS: dict[str, type[StrEnum]] = {
    "services": Service,
    "audiences": Audience,
    "modes": Mode,
    "accessibility": Accessibility,
}
ENUMS: dict[str, type[StrEnum]] = {
    "kind": ResourceKind,
    "fee": Fee,
    "status": Status,
    "eligibility": Eligibility,
}
PLAIN_LISTS = ("languages", "service_area_codes")
NESTED = {
    "hours": texts.parse_hours,
    "exceptions": texts.parse_exceptions,
    "qualifications": texts.parse_qualifications,
}
# A leading apostrophe keeps spreadsheets from running a cell as a formula (CSV export).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class OrgRef:
    """An organisation as a file names it: by external id, else by its Chinese name."""

    external_id: str | None
    name_zh: str
    type: str | None = None
    name_en: str = ""
    description: str = ""
    website: str = ""
    phone: str = ""

    @property
    def key(self) -> str:
        return f"ext:{self.external_id}" if self.external_id else f"name:{self.name_zh}"

    @property
    def column(self) -> str:
        return "organisation_external_id" if self.external_id else "organisation_name_zh"


@dataclass
class Candidate:
    """One row on its way to a ``ResourceIn``: the input, and what is already known wrong."""

    row: int
    values: dict[str, Any]
    organisation: OrgRef | None = None
    coord_system: CoordSystem | None = None
    problems: list[Problem] = field(default_factory=list)
    # ResourceIn field → the name a report shows (HSDS files name their own properties).
    columns: Mapping[str, str] = field(default_factory=dict)
    provenance: list[dict[str, str]] = field(default_factory=list)
    """Earlier import steps the record carries (our exports write them)."""
    record: str = ""
    """How provenance names the record: ``row 5``, ``feature 2``, an HSDS id."""
    notes: list[Said] = field(default_factory=list)
    """What the row says that is not kept; reported, never a reason to refuse."""
    hints: dict[str, str | Said] = field(default_factory=dict)
    """Column → a sentence added to a problem reported on that column."""
    confirmed: dt.datetime | None = None  # see resourcemap.transfer.confirmed
    unconfirmed: bool = False

    def reject(self, column: str, reason: str | Said) -> None:
        hint = self.hints.get(column)
        reason = said(reason)
        self.problems.append(
            Problem.of(self.row, column, reason.then(said(hint)) if hint else reason)
        )

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


def canonical(header: object) -> str:
    """A header as a column name: trimmed, lower-case, ``_`` for spaces and dashes."""
    text = str(header or "").strip().lstrip("\ufeff")
    name = re.sub(r"[\s\-]+", "_", text).lower()
    return ALIASES.get(name, ALIASES.get(text, name))


def unknown_columns(headers: Iterable[str]) -> list[str]:
    return [h for h in headers if h and h not in KNOWN]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def _float(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        number = float(_text(value).replace("，", "."))
    except ValueError:
        return value  # validation names it
    return number if math.isfinite(number) else value


def _coord_system(value: Any) -> CoordSystem:
    key = re.sub(r"[\s\-_]", "", _text(value)).lower()
    try:
        return CoordSystem(key)
    except ValueError:
        raise ValueError(N_("%(value)r is not wgs84, gcj02 or bd09", value=value)) from None


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else texts.split_list(_text(value))


def _json_cell(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ValueError(texts.json_refusal(exc)) from None


def read_provenance(value: Any) -> list[dict[str, str]]:
    """Earlier import steps as exported: a list of objects of text values."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(N_("provenance is a JSON list of objects (file, format, record, …)"))
    steps = [{str(k): str(v) for k, v in step.items() if v is not None} for step in value]
    return steps[-MAX_STEPS:]


MAX_STEPS = 10  # earlier import steps kept per listing


def from_row(row: int, raw: Mapping[str, Any], shown: Mapping[str, str] | None = None) -> Candidate:
    """A row of canonical column names (strings from CSV/XLSX, JSON values from GeoJSON);
    ``shown`` names columns as the file wrote them (aliases), for the report."""
    names = dict(shown or {})
    names.setdefault("eligibility_note_zh", names.get("eligibility_note", "eligibility_note"))
    cand = Candidate(row, {}, columns=names)
    values = cand.values
    present = {k: v for k, v in raw.items() if v is not None and _text(v) != ""}
    for name, value in present.items():
        try:
            if name in ENUM_LISTS:
                values[name] = [code_of(ENUM_LISTS[name], _text(v)) for v in _listed(value)]
            elif name in PLAIN_LISTS:
                values[name] = [_text(v) for v in _listed(value)]
            elif name in ENUMS:
                values[name] = code_of(ENUMS[name], _text(value))
            elif name in NESTED:
                if isinstance(value, list) or _text(value).lower() in texts.EMPTY_MARKERS:
                    values[name] = value if isinstance(value, list) else []
                else:
                    values[name] = NESTED[name](_text(value))
            elif name == "always_open":
                values[name] = value if isinstance(value, bool) else texts.parse_bool(_text(value))
            elif name in ("lat", "lon"):
                values[name] = _float(value)
            elif name == "coord_system":
                cand.coord_system = _coord_system(value)
            elif name == "capacity":
                values[name] = value if isinstance(value, int) else _text(value)
            elif name == "phone" and isinstance(value, int | float) and not isinstance(value, bool):
                problem = phones.numeric_cell_problem(_text(value))
                if problem is not None:
                    raise ValueError(problem)
                values[name] = _text(value)
            elif name == "eligibility_note":
                values["eligibility_note_zh"] = _text(value)
            elif name == "foreign_fields":
                values[name] = _json_cell(name, value)
            elif name == "provenance":
                cand.provenance = read_provenance(_json_cell(name, value))
            elif name not in ORGANISATION_COLUMNS:
                values[name] = _text(value)
        except (texts.TextError, ValueError) as exc:
            cand.reject(cand.column(name), said_of(exc))
    for q in values.get("qualifications", []):
        if isinstance(q, dict) and isinstance(q.get("type"), str):
            q["type"] = code_of(QualificationType, q["type"])
    ext, name_zh = present.get("organisation_external_id"), present.get("organisation_name_zh")
    if ext is not None or name_zh is not None:
        org_type = present.get("organisation_type")
        cand.organisation = OrgRef(
            external_id=None if ext is None else _text(ext),
            name_zh="" if name_zh is None else _text(name_zh),
            type=None if org_type is None else code_of(OrganisationType, _text(org_type)),
        )
    elif "organisation_type" in present:
        cand.reject(
            cand.column("organisation_type"),
            N_("give organisation_external_id or organisation_name_zh"),
        )
    return cand


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def to_row(
    data: ResourceIn,
    organisation: Organisation | None,
    *,
    provenance: list[dict[str, str]] | None = None,
    guard_formulas: bool = False,
) -> dict[str, Any]:
    """A listing as one CSV/XLSX row of :data:`COLUMNS` (text, except lat/lon/capacity)."""
    plain = data.model_dump(mode="json")
    plain["eligibility_note"] = plain.get("eligibility_note_zh", "")
    row: dict[str, Any] = {}
    for name in COLUMNS:
        value = plain.get(name)
        if name in JSON_COLUMNS:
            value = provenance if name == "provenance" else value
            row[name] = json.dumps(value, ensure_ascii=False) if value else ""
        elif name in ENUM_LISTS or name in PLAIN_LISTS:
            row[name] = texts.join_list(value or [])
        elif name == "hours":
            row[name] = texts.format_hours(value or [])
        elif name == "exceptions":
            row[name] = texts.format_exceptions(value or [])
        elif name == "qualifications":
            row[name] = texts.format_qualifications(value or [])
        elif name == "always_open":
            row[name] = "true" if value else "false"
        elif name == "coord_system":
            row[name] = CoordSystem.WGS84.value
        elif name in ORGANISATION_COLUMNS:
            row[name] = _organisation_cell(name, organisation)
        elif name in ("lat", "lon", "capacity"):
            row[name] = value
        else:
            row[name] = "" if value is None else str(value)
    if guard_formulas:
        row = {k: _cell(v) if isinstance(v, str) else v for k, v in row.items()}
    return row


def to_properties(
    data: ResourceIn,
    organisation: Organisation | None,
    provenance: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A listing as GeoJSON properties: the same columns, lists and nested parts as JSON."""
    plain = data.model_dump(mode="json", exclude={"lat", "lon", "organisation_id"})
    plain["eligibility_note"] = plain.get("eligibility_note_zh", "")
    props = {k: plain[k] for k in COLUMNS if k in plain}
    for name in ORGANISATION_COLUMNS:
        props[name] = _organisation_cell(name, organisation) or None
    props["foreign_fields"] = data.foreign_fields or None
    props["provenance"] = provenance or None
    return props


def _organisation_cell(name: str, organisation: Organisation | None) -> str:
    if organisation is None:
        return ""
    if name == "organisation_external_id":
        return organisation.external_id or ""
    if name == "organisation_name_zh":
        return organisation.name_zh
    return str(organisation.type)


def resource_key(resource: Resource) -> str:
    return resource.external_id or f"#{resource.id}"
