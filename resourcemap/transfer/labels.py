"""Chinese and English labels of every vocabulary, and lookup of a code by its label.

Import files written by people say "心理咨询" as often as ``counselling``; both are read.
Every label comes from ``vocab.py``; this module only looks codes up by label.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from resourcemap.vocab import (
    ACCESSIBILITY_LABELS,
    AUDIENCE_LABELS,
    ELIGIBILITY_LABELS,
    FEE_LABELS,
    KIND_INFO,
    MODE_LABELS,
    ORGANISATION_TYPE_LABELS,
    QUALIFICATION_LABELS,
    SERVICE_LABELS,
    STATUS_LABELS,
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

KIND_LABELS: dict[ResourceKind, tuple[str, str]] = {
    kind: (info.label_zh, info.label_en) for kind, info in KIND_INFO.items()
}

LABELS: dict[type[StrEnum], Mapping[Any, tuple[str, str]]] = {
    ResourceKind: KIND_LABELS,
    Service: SERVICE_LABELS,
    Audience: AUDIENCE_LABELS,
    Mode: MODE_LABELS,
    Accessibility: ACCESSIBILITY_LABELS,
    Fee: FEE_LABELS,
    Eligibility: ELIGIBILITY_LABELS,
    Status: STATUS_LABELS,
    QualificationType: QUALIFICATION_LABELS,
    OrganisationType: ORGANISATION_TYPE_LABELS,
}


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


_LOOKUP: dict[type[StrEnum], dict[str, str]] = {
    enum: {
        _key(alias): member.value
        for member, (zh, en) in labels.items()
        for alias in (member.value, zh, en)
    }
    for enum, labels in LABELS.items()
}


def code_of(enum: type[StrEnum], text: str) -> str:
    """The code that ``text`` names: the code itself or its Chinese or English label.

    Unknown text comes back unchanged, so that validation names it in its message.

    >>> code_of(Service, "心理咨询"), code_of(Service, "Crisis intervention")
    ('counselling', 'crisis_intervention')
    """
    return _LOOKUP[enum].get(_key(text), text.strip())


def label(member: StrEnum, lang: str = "zh") -> str:
    zh, en = LABELS[type(member)][member]
    return zh if lang == "zh" else en
