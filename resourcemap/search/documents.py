"""From stored listings to search documents: the one bridge between ORM and search."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from resourcemap.models import Resource
from resourcemap.search.base import SearchDocument
from resourcemap.translations import vocab_label
from resourcemap.vocab import Audience, ResourceKind, Service


def _both(member: StrEnum) -> list[str]:
    return [vocab_label(member, "zh"), vocab_label(member, "en")]


def _labels(kind: str, services: Iterable[str], audiences: Iterable[str]) -> str:
    """The listing's labels in both languages, so that either finds it."""
    parts = _both(ResourceKind(kind))
    for code in services:
        if code in Service._value2member_map_:
            parts.extend(_both(Service(code)))
    for code in audiences:
        if code in Audience._value2member_map_:
            parts.extend(_both(Audience(code)))
    return " ".join(parts)


def document(r: Resource) -> SearchDocument:
    return SearchDocument(
        id=r.id,
        kind=str(r.kind),
        name_zh=r.name_zh,
        name_en=r.name_en,
        description_zh=r.description_zh,
        address_zh=r.address_zh,
        services=tuple(r.services),
        audiences=tuple(r.audiences),
        languages=tuple(r.languages),
        modes=tuple(r.modes),
        fee=str(r.fee),
        status=str(r.status),
        phone=r.phone,
        always_open=r.always_open,
        lat=r.lat,
        lon=r.lon,
        service_area_codes=tuple(r.service_area_codes),
        labels=_labels(str(r.kind), r.services, r.audiences),
        eligibility=str(r.eligibility),
        eligibility_note_zh=r.eligibility_note_zh,
        eligibility_note_en=r.eligibility_note_en,
    )


async def load_documents(ids: Iterable[int] | None = None) -> list[SearchDocument]:
    """Documents for the given resources, or for all of them."""
    qs = Resource.all() if ids is None else Resource.filter(id__in=list(ids))
    return [document(r) for r in await qs.order_by("id")]
