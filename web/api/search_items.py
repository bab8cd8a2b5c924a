"""One search result as the API and the resident page show it, and the JSON answer.

A result card is mostly the listing itself (names, kind, services, address): that part is
built once per indexed document and reused while the index holds it; what depends on the
query (distance, open now, highlights, why it matched, score) is added per answer.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson
from starlette.responses import Response

from resourcemap.search.base import Hit, SearchDocument
from resourcemap.search.service import SearchService
from resourcemap.translations import vocab_label
from resourcemap.vocab import ResourceKind

EMPTY: Mapping[int, dt.datetime] = MappingProxyType({})
# Listings whose fixed part is kept: more than any few pages of answers reach at once.
CACHED_DOCUMENTS = 8_192


class _Fixed:
    """The query-independent part of each document's card, by the document object itself
    (an edit makes a new document, so a cached card never outlives what it shows)."""

    def __init__(self, size: int = CACHED_DOCUMENTS) -> None:
        self.size = size
        self._cards: dict[int, tuple[SearchDocument, dict[str, Any]]] = {}

    def __call__(self, d: SearchDocument) -> dict[str, Any]:
        cached = self._cards.get(id(d))
        if cached is not None and cached[0] is d:
            return cached[1]
        if len(self._cards) >= self.size:
            self._cards.clear()  # cheaper than an LRU, and answers repeat within seconds
        card = _fixed_card(d)
        self._cards[id(d)] = (d, card)
        return card


@functools.cache
def _kind_parts(kind: str) -> tuple[dict[str, str], str]:
    """A kind's labels and placement, the same on every card of the kind (shared)."""
    member = ResourceKind(kind)
    return {"zh": vocab_label(member, "zh"), "en": vocab_label(member, "en")}, member.info.placement


def _fixed_card(d: SearchDocument) -> dict[str, Any]:
    # The document's own tuples, not copies as lists: JSON writes them alike, and a page of
    # cards in a dense district reads twenty documents no cache holds.
    kind_label, placement = _kind_parts(d.kind)
    return {
        "id": d.id,
        "name_zh": d.name_zh,
        "name_en": d.name_en,
        "kind": d.kind,
        "kind_label": kind_label,
        "placement": placement,
        "services": d.services,
        "audiences": d.audiences,
        "languages": d.languages,
        "modes": d.modes,
        "fee": d.fee,
        "eligibility": d.eligibility,
        "eligibility_note": {"zh": d.eligibility_note_zh, "en": d.eligibility_note_en},
        "phone": d.phone,
        "always_open": d.always_open,
        "location": None if d.lat is None or d.lon is None else {"lat": d.lat, "lon": d.lon},
        "address_zh": d.address_zh,
        "address_en": d.address_en,
        "service_area_codes": d.service_area_codes,
        # walk: distance and minutes on foot; phone ("phone service for your area") and
        # area ("serves your community") are never shown as a walk.
        "reach": d.reach,
    }


fixed_card = _Fixed()


def result_item(
    hit: Hit,
    open_now: frozenset[int],
    bookable: frozenset[int] = frozenset(),
    opens_at: Mapping[int, dt.datetime] = EMPTY,
) -> dict[str, Any]:
    """One result card: the listing's fixed part (shared: never change it in place) and
    what this answer says about it (``opens_at``: when the closed ones open next)."""
    d = hit.document
    fixed = fixed_card(d)
    walk = fixed["reach"] == "walk"
    opens = opens_at.get(d.id)
    return {
        **fixed,
        "open_now": d.always_open or d.id in open_now,
        "opens_at": None if opens is None else opens.isoformat(),
        "distance_m": None if hit.distance_m is None or not walk else round(hit.distance_m, 1),
        "walk_minutes": hit.walk_minutes,
        "bookable": d.id in bookable,
        "highlight": hit.highlights,
        "matched_because": [dict(vars(r)) for r in hit.reasons],
        "score": round(hit.score, 3),
    }


def result_items(
    service: SearchService, hits: Sequence[Hit], at: dt.datetime
) -> list[dict[str, Any]]:
    """The cards of ``hits`` as at ``at``: open now or when each opens next, bookable."""
    open_now = service.open_ids(at)
    opens_at = service.opens_next([h.document.id for h in hits], at)
    return [result_item(h, open_now, service.bookable_ids, opens_at) for h in hits]


def json_answer(content: Any) -> Response:
    """``content`` as JSON, serialised by orjson (the same JSON as Starlette's
    ``JSONResponse``, several times faster for a page of result cards)."""
    return Response(orjson.dumps(content), media_type="application/json")
