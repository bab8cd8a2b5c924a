"""Chinese and English labels of every vocabulary, and lookup of a code by its label.

Import files written by people say "心理咨询" as often as ``counselling``; both are read.
Every label is a gettext message of ``vocab.py`` read through the catalogues
(``resourcemap.translations``); this module only looks codes up by label.
"""

from __future__ import annotations

from enum import StrEnum

from resourcemap.translations import vocab_label
from resourcemap.vocab import (
    LABELS,
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

# The vocabularies an import file may name by label.
IMPORTED: tuple[type[StrEnum], ...] = (
    ResourceKind,
    Service,
    Audience,
    Mode,
    Accessibility,
    Fee,
    Eligibility,
    Status,
    QualificationType,
    OrganisationType,
)


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


_LOOKUP: dict[type[StrEnum], dict[str, str]] = {
    enum: {
        _key(alias): member.value
        for member in LABELS[enum]
        for alias in (member.value, vocab_label(member, "zh"), vocab_label(member, "en"))
    }
    for enum in IMPORTED
}


def code_of(enum: type[StrEnum], text: str) -> str:
    """The code that ``text`` names: the code itself or its Chinese or English label.

    Unknown text comes back unchanged, so that validation names it in its message.

    >>> code_of(Service, "心理咨询"), code_of(Service, "Crisis intervention")
    ('counselling', 'crisis_intervention')
    """
    return _LOOKUP[enum].get(_key(text), text.strip())


def label(member: StrEnum, lang: str = "zh") -> str:
    return vocab_label(member, lang)
