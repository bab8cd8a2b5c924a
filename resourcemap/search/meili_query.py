"""Meilisearch requests and answers: filters, pages, counts and distances.

The filter language is Meilisearch's; values are quoted, never pasted. Around a point,
``_geoRadius`` (a sphere) is widened by :data:`RADIUS_MARGIN`, and matches in the band where
sphere and WGS-84 ellipsoid may disagree are excluded by id (see ``meili.MeiliBackend``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from geo.distance import geodesic_m
from resourcemap.search.base import Criteria, SearchDocument
from resourcemap.search.intent import QueryPlan
from resourcemap.search.meili_index import TAGS, plan_query

RADIUS_MARGIN = 1.01  # sphere vs WGS-84 ellipsoid differ by under 0.6%
Counts = tuple[int, dict[str, dict[str, int]]]


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_list(field: str, values: Iterable[str]) -> str:
    return f"{field} IN [{', '.join(values)}]"


def ids_in(ids: Iterable[int]) -> str:
    return in_list("id", (str(i) for i in sorted(ids)))


def geo_radius(lat: float, lon: float, metres: int) -> str:
    return f"_geoRadius({lat!r}, {lon!r}, {metres})"


def base_filters(criteria: Criteria) -> list[str]:
    """The AND clauses every request of one query shares."""
    q = criteria.query
    clauses = [f"status = {quote(str(q.status))}"]
    if q.kind:
        clauses.append(in_list("kind", (quote(str(k)) for k in q.kind)))
    for field, value in zip(TAGS, (q.service, q.audience, q.language, q.mode), strict=True):
        if value is not None:
            clauses.append(f"{field} = {quote(str(value))}")
    if q.fee is not None:
        clauses.append(f"fee = {quote(str(q.fee))}")
    allowed = q.eligibility
    if allowed is not None:
        clauses.append(in_list("eligibility", (quote(e) for e in sorted(allowed))))
    if criteria.open_ids is not None:
        clauses.append(ids_in(criteria.open_ids))
    if criteria.located_only:
        clauses.append("walk = true")
    return clauses


def point_clause(
    lat: float,
    lon: float,
    radius_m: float | None,
    excluded: Sequence[int],
    area_codes: Iterable[str],
) -> str:
    """Located matches (within the radius, if any) or area-served ones covering the point."""
    located = "located = true"
    if radius_m is not None:
        located = geo_radius(lat, lon, math.ceil(radius_m * RADIUS_MARGIN))
        if excluded:
            located += f" AND NOT {ids_in(excluded)}"
    codes = sorted(area_codes)
    if not codes:
        return located
    served = f"located = false AND {in_list('service_area_codes', map(quote, codes))}"
    return f"({located}) OR ({served})"


def page_of(offset: int, limit: int) -> tuple[int, int, int]:
    """The smallest Meilisearch page (``page``, ``hitsPerPage``) holding offset..offset+limit,
    and the hits to skip in it. Page-based requests count totals and facets exhaustively."""
    size = next(p for p in range(limit, offset + limit + 1) if offset % p + limit <= p)
    return offset // size + 1, size, offset % size


def uncount(facets: dict[str, dict[str, int]], doc: SearchDocument) -> None:
    for facet, values in (("kind", (doc.kind,)), ("service", doc.services)):
        for value in values:
            left = facets[facet].get(value, 0) - 1
            if left > 0:
                facets[facet][value] = left
            else:
                facets[facet].pop(value, None)


def distances(docs: list[SearchDocument], point: tuple[float, float] | None) -> list[float | None]:
    """Geodesic metres to each located document; ``None`` without a point or a location
    (an area-served match is not a walk)."""
    distances: list[float | None] = [None for _ in docs]
    if point is None:
        return distances
    located = [
        (i, d.lat, d.lon) for i, d in enumerate(docs) if d.lat is not None and d.lon is not None
    ]
    metres = geodesic_m(*point, [c[1] for c in located], [c[2] for c in located])
    for (i, _, _), m in zip(located, metres, strict=True):
        distances[i] = float(m)
    return distances


def counts(response: dict[str, Any]) -> Counts:
    total = int(response.get("totalHits", response.get("estimatedTotalHits", 0)))
    counts = response.get("facetDistribution") or {}
    return total, {
        "kind": dict(counts.get("kind", {})),
        "service": dict(counts.get("services", {})),
    }


def add_counts(a: Counts, b: Counts) -> Counts:
    """Totals and facets of two disjoint sets of matches, together."""
    facets = {name: dict(values) for name, values in a[1].items()}
    for name, values in b[1].items():
        for value, count in values.items():
            facets[name][value] = facets[name].get(value, 0) + count
    return a[0] + b[0], facets


def unheard(plan: QueryPlan, count: Callable[[str], int]) -> QueryPlan:
    """The plan for the pass after nothing matched: a Chinese word goes by its sound only
    where, alone as typed, it matches nothing (``count`` of a query string under the
    query's filters), as the embedded engine decides it word by word."""
    terms = []
    for term in plan.terms:
        by_sound = term.sounds and not term.latin and term.need is None
        if by_sound and count(plan_query(QueryPlan((term,)), exact=True)):
            term = replace(term, sounds=None, heard=None, fuzzy_need=None)
        terms.append(term)
    return replace(plan, terms=tuple(terms))
