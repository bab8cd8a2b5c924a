"""From stored listings to search documents: the one bridge between ORM and search.

A province holds hundreds of thousands of listings: they are read a batch at a time and
only the columns a document needs, so a full load never holds every listing's ORM object
at once, and values many documents share (kinds, services, labels) are kept once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from resourcemap.models import Resource
from resourcemap.search.base import SearchDocument
from resourcemap.search.needs import NEEDS
from resourcemap.translations import vocab_label
from resourcemap.vocab import Audience, ResourceKind, Service

# Listings read per query on a full load: bounds the ORM objects alive at once, and how
# long the event loop is held turning them into documents (5,000 held it ~0.9 s while a
# province's process reloaded in the background, which residents' searches waited out).
BATCH = 1_000
FIELDS = (
    *("id", "kind", "name_zh", "name_en", "description_zh", "address_zh", "services"),
    *("audiences", "languages", "modes", "fee", "status", "phone", "always_open", "lat"),
    *("lon", "service_area_codes", "eligibility", "eligibility_note_zh"),
    *("eligibility_note_en", "address_en"),
)
H = TypeVar("H", bound=Hashable)


def _both(member: StrEnum) -> list[str]:
    return [vocab_label(member, "zh"), vocab_label(member, "en")]


@lru_cache(maxsize=4096)
def _labels(kind: str, services: tuple[str, ...], audiences: tuple[str, ...]) -> str:
    """The listing's labels in both languages, so that either finds it; once per distinct
    (kind, services, audiences)."""
    parts = _both(ResourceKind(kind))
    parts.extend(NEEDS.kind_words.get(ResourceKind(kind), ()))
    for code in services:
        if code in Service._value2member_map_:
            parts.extend(_both(Service(code)))
            parts.extend(NEEDS.service_words.get(Service(code), ()))
    for code in audiences:
        if code in Audience._value2member_map_:
            parts.extend(_both(Audience(code)))
    return " ".join(dict.fromkeys(parts))


class _Shared:
    """One object per distinct value: equal tuples and strings of many documents are one."""

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: H) -> H:
        kept: H = self._seen.setdefault(value, value)
        return kept


def document(r: Resource, shared: _Shared | None = None) -> SearchDocument:
    one = shared or _Shared()
    kind, services, audiences = one(str(r.kind)), one(tuple(r.services)), one(tuple(r.audiences))
    return SearchDocument(
        id=r.id,
        kind=kind,
        name_zh=r.name_zh,
        name_en=r.name_en,
        description_zh=r.description_zh,
        address_zh=r.address_zh,
        services=services,
        audiences=audiences,
        languages=one(tuple(r.languages)),
        modes=one(tuple(r.modes)),
        fee=one(str(r.fee)),
        status=one(str(r.status)),
        phone=r.phone,
        always_open=r.always_open,
        lat=r.lat,
        lon=r.lon,
        service_area_codes=one(tuple(r.service_area_codes)),
        labels=_labels(kind, services, audiences),
        eligibility=one(str(r.eligibility)),
        eligibility_note_zh=one(r.eligibility_note_zh),
        eligibility_note_en=one(r.eligibility_note_en),
        address_en=r.address_en or "",
    )


async def load_documents(
    ids: Iterable[int] | None = None, *, known: Mapping[int, SearchDocument] | None = None
) -> list[SearchDocument]:
    """Documents for the given resources, or for all of them, in id order. A document equal
    to one of ``known`` (those loaded before) is that object: a reload after a bulk import
    then holds one copy of every listing that did not change, not two (the old index
    answers until the new one is built), and the new copies are garbage batch by batch."""
    shared = _Shared()
    before = known or {}

    def kept(r: Resource) -> SearchDocument:
        doc = document(r, shared)
        same = before.get(doc.id)
        return same if same == doc else doc

    if ids is not None:
        found = await Resource.filter(id__in=list(ids)).only(*FIELDS).order_by("id")
        return [kept(r) for r in found]
    documents: list[SearchDocument] = []
    while True:
        after = documents[-1].id if documents else None
        qs = Resource.all() if after is None else Resource.filter(id__gt=after)
        batch = await qs.only(*FIELDS).order_by("id").limit(BATCH)
        documents += [kept(r) for r in batch]
        if len(batch) < BATCH:
            return documents
