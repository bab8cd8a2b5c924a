"""What HSDS export and import share: stable UUIDs, our taxonomies, status and province tables.

See docs/hsds-mapping.md ("Identifiers", "Controlled vocabularies become our own taxonomies").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from resourcemap.said import Said, pN_
from resourcemap.translations import locale_of, read, vocab_label
from resourcemap.vocab import (
    Accessibility,
    Audience,
    Eligibility,
    Mode,
    OrganisationType,
    QualificationType,
    ResourceKind,
    Service,
    Status,
)

# Fixed forever: every ResourceMap instance derives the same ids from the same keys.
RESOURCEMAP_NS = uuid.UUID("6f1e3c1a-52c1-5d0e-9b7a-2f6d1c0e8a41")
DIVISION_CODE = "cn-stats-division-code"
PREFIX = "resourcemap-"

TAXONOMY_ENUMS: dict[str, type[StrEnum]] = {
    "kind": ResourceKind,
    "service": Service,
    "audience": Audience,
    "mode": Mode,
    "accessibility": Accessibility,
    "qualification": QualificationType,
    "organisation-type": OrganisationType,
    "eligibility": Eligibility,
}
TAXONOMY_DESCRIPTIONS: dict[str, str] = {
    "kind": "ResourceMap resource kinds (social-psychological service system pilot)",
    "service": "ResourceMap services offered",
    "audience": "ResourceMap audiences served",
    "mode": "ResourceMap modes of delivery",
    "accessibility": "ResourceMap accessibility features",
    "qualification": "ResourceMap practitioner qualifications",
    "organisation-type": "ResourceMap organisation types",
    "eligibility": "ResourceMap eligibility: who may use a listing",
    "field": "ResourceMap fields that HSDS 3.0 has no place for; value carries the value",
}
# HSDS 1.x and Ohana name accessibility features by words (Ohana's list: cd,
# deaf_interpreter, disabled_parking, elevator, ramp, restroom, tape_braille, tty,
# wheelchair, wheelchair_van). Those meaning one of ours become it, and so read in the
# page's language; the rest stay the record's own words in its accessibility note. A ramp
# alone does not make a place usable from a wheelchair, nor a restroom an accessible one
# unless it says so: only the plain equivalents are here.
ACCESSIBILITY_WORDS: dict[str, Accessibility] = {
    "wheelchair": Accessibility.WHEELCHAIR,
    "wheelchair_accessible": Accessibility.WHEELCHAIR,
    "elevator": Accessibility.ELEVATOR,
    "lift": Accessibility.ELEVATOR,
    "accessible_restroom": Accessibility.ACCESSIBLE_TOILET,
    "accessible_toilet": Accessibility.ACCESSIBLE_TOILET,
    "tape_braille": Accessibility.BRAILLE,
    "braille": Accessibility.BRAILLE,
    "deaf_interpreter": Accessibility.SIGN_LANGUAGE,
    "sign_language": Accessibility.SIGN_LANGUAGE,
    "hearing_loop": Accessibility.HEARING_LOOP,
}


# Our fields HSDS has no place for, as terms: named in Chinese, described in English.
FIELD_TERMS: dict[str, Said] = {
    "external_id": pN_("HSDS field", "External identifier"),
    "description_en": pN_("HSDS field", "Description in English"),
    "address_en": pN_("HSDS field", "Address in English"),
    "capacity": pN_("HSDS field", "Bookable places per slot"),
    "source": pN_("HSDS field", "Source of the record"),
    "area_code": pN_("HSDS field", "Statistical division code of the area"),
    "hours_exception": pN_("HSDS field", "Dated exception to the weekly hours: closed or open"),
    "accessibility_note": pN_("HSDS field", "Accessibility note"),
    "synthetic": pN_("HSDS field", "Synthetic demo data, not a real listing"),
    "provenance": pN_(
        "HSDS field", "Import steps of the record: file, format, record, time, account"
    ),
    "eligibility_note_en": pN_("HSDS field", "Eligibility note in English"),
    "foreign_fields": pN_(
        "HSDS field",
        "What another directory's record said that ResourceMap has no field for (JSON)",
    ),
}

STATUS_OUT: dict[Status, str] = {
    Status.ACTIVE: "active",
    Status.SUSPENDED: "temporarily closed",
    Status.CLOSED: "defunct",
}
STATUS_IN: dict[str, Status] = {
    "active": Status.ACTIVE,
    "inactive": Status.SUSPENDED,
    "temporarily closed": Status.SUSPENDED,
    "defunct": Status.CLOSED,
}
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ALWAYS_OPEN_DESCRIPTION = "24小时 全年无休"

# First two digits of a statistical division code → province-level division (34).
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
LANGUAGE_NAMES = {"zh": "中文", "yue": "粤语", "en": "English", "nan": "闽南语", "wuu": "吴语"}


def _language_names() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for locale in ("en", "zh"):
        names |= {str(v).casefold(): str(k) for k, v in Locale(locale).languages.items()}
    return names


_LANGUAGE_NAMES: dict[str, str] = {}


def language_code(text: str) -> str | None:
    """A language code from a code or an English or Chinese name, as other directories list
    them (``Spanish``, ``Chinese (Cantonese)``, ``粤语``); None when it names none.

    >>> language_code("Chinese (Mandarin)"), language_code("Chinese (Cantonese)")
    ('zh', 'yue')
    """
    if not _LANGUAGE_NAMES:
        _LANGUAGE_NAMES.update(_language_names())
    name = text.strip()
    if LANGUAGE_CODE.match(name):
        return name
    outer, _, inner = name.partition("(")
    for candidate in (inner.rstrip(") ").casefold(), name.casefold(), outer.strip().casefold()):
        if candidate in _LANGUAGE_NAMES:
            return _LANGUAGE_NAMES[candidate]
    return None


def stable_id(*parts: object) -> str:
    """``uuid5(RESOURCEMAP_NS, "part:part:…")`` as text."""
    return str(uuid.uuid5(RESOURCEMAP_NS, ":".join(str(p) for p in parts)))


def is_uuid(text: str | None) -> bool:
    if not text or len(text) != 36:
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return all(text[i] == "-" for i in (8, 13, 18, 23))


def record_key(external_id: str | None, instance: str, our_id: int) -> str:
    """The key a record's ids derive from: its external id, else instance and our id."""
    return external_id if external_id else f"{instance}:{our_id}"


def record_id(table: str, external_id: str | None, instance: str, our_id: int) -> str:
    """A top-level record's id: a UUID external id as is, else derived from the key."""
    if is_uuid(external_id):
        assert external_id is not None
        return external_id
    return stable_id(table, record_key(external_id, instance, our_id))


def child_id(table: str, parent_id: str, *content: object) -> str:
    return stable_id(table, parent_id, json.dumps(content, ensure_ascii=False, default=str))


def taxonomy_name(short: str) -> str:
    return PREFIX + short


def term(short: str, code: str) -> dict[str, Any]:
    """The ``taxonomy_term`` object of one of our codes, with its taxonomy nested."""
    if short == "field":
        field = FIELD_TERMS[code]
        name, description = read(field, locale_of("zh")), read(field, locale_of("en"))
    else:
        member = TAXONOMY_ENUMS[short](code)
        name, description = vocab_label(member, "zh"), vocab_label(member, "en")
    taxonomy = taxonomy_name(short)
    taxonomy_id = stable_id("taxonomy", taxonomy)
    return {
        "id": stable_id("taxonomy_term", taxonomy, code),
        "code": code,
        "name": name,
        "description": description,
        "taxonomy": taxonomy,
        "taxonomy_id": taxonomy_id,
        "language": "zh",
        "taxonomy_detail": {
            "id": taxonomy_id,
            "name": taxonomy,
            "description": TAXONOMY_DESCRIPTIONS[short],
        },
    }


def attribute(
    link_entity: str, link_id: str, short: str, code: str, value: str | None = None
) -> dict[str, Any]:
    """An ``attribute`` classifying the record ``link_id`` with one of our codes."""
    the_term = term(short, code)
    item: dict[str, Any] = {
        "id": child_id("attribute", link_id, short, code, value),
        "link_id": link_id,
        "link_entity": link_entity,
        "link_type": short,
        "taxonomy_term_id": the_term["id"],
        "taxonomy_term": the_term,
    }
    if value is not None:
        item["value"] = value
    return item


def field_attribute(link_entity: str, link_id: str, name: str, value: str) -> dict[str, Any]:
    return attribute(link_entity, link_id, "field", name, value)


def read_attributes(attributes: Any) -> dict[str, list[tuple[str, str | None]]]:
    """Our attributes of a record: short taxonomy name → ``(code, value)`` pairs.

    Attributes of other taxonomies, or without a nested term, are ignored.
    """
    found: dict[str, list[tuple[str, str | None]]] = {}
    for attr in attributes if isinstance(attributes, list) else []:
        if not isinstance(attr, dict):
            continue
        the_term = attr.get("taxonomy_term") or {}
        taxonomy = the_term.get("taxonomy") or (the_term.get("taxonomy_detail") or {}).get("name")
        code = the_term.get("code")
        if isinstance(taxonomy, str) and taxonomy.startswith(PREFIX) and isinstance(code, str):
            value = attr.get("value")
            found.setdefault(taxonomy.removeprefix(PREFIX), []).append(
                (code, value if isinstance(value, str) else None)
            )
    return found


def field_value(found: dict[str, list[tuple[str, str | None]]], name: str) -> str | None:
    return next((v for code, v in found.get("field", []) if code == name), None)


_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def in_another_language(text: str) -> bool:
    """Text of a foreign record written in another language: some, and no Chinese character
    in it (English pages show it as English, not marked "(in Chinese)").

    >>> in_another_language("Open Door"), in_another_language("东湖"), in_another_language("")
    (True, False, False)
    """
    return bool(text) and not _CHINESE.search(text)


def address_line(parts: Mapping[str, Any]) -> str:
    """An HSDS address's parts as one line, as a resident reads it.

    >>> address_line({"address_1": "1 Main St", "city": "Springfield", "state_province": "IL",
    ...               "postal_code": "62701", "country": "US"})
    '1 Main St, Springfield, IL 62701'
    """
    text = {k: str(parts.get(k) or "").strip() for k in ADDRESS_LINE}
    region = " ".join(p for p in (text["state_province"], text["postal_code"]) if p)
    return ", ".join(p for p in (text["address_1"], text["address_2"], text["city"], region) if p)


ADDRESS_LINE = ("address_1", "address_2", "city", "state_province", "postal_code")
