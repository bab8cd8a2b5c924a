"""The search port: what every backend accepts, stores and returns.

Backends index :class:`SearchDocument` records and answer :class:`SearchQuery` with
:class:`SearchResult`. What the port guarantees (exercised by one contract test suite run
against every backend):

- text: every query token must match; Chinese tokens match as substrings of names,
  descriptions, addresses, kind and service labels (so one- and two-character queries and
  words a segmenter would merge still match); Latin tokens match English names and labels,
  pinyin of whole syllables ("xinli" finds 心理, not 心灵) and initials; a Latin token that
  matches nothing is retried with typos by Meilisearch's rules (:mod:`.typos`: one from 5
  letters, two from 9, a transposition is one, a wrong first letter two);
- filters (kind, service, audience, language, fee, mode, status, ``open_ids``) combine with AND;
- with a point: ``distance_m`` is the geodesic distance in metres, ``radius_m`` is exact at
  the boundary, and area-served resources whose service area contains the point
  (``area_codes`` of the point intersect their ``service_area_codes``) have distance 0;
- ``total`` counts every match; ``facets`` count matches per kind and per service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from resourcemap.search import text
from resourcemap.search.intent import MatchReason, QueryPlan, parse
from resourcemap.vocab import Audience, Fee, Mode, ResourceKind, Service, Status

MAX_LIMIT = 100
WALK_METRES_PER_MINUTE = 80.0  # 4.8 km/h, a calm adult walking pace


class SearchUnavailable(Exception):
    """The backend cannot answer now (e.g. Meilisearch is unreachable)."""


@dataclass(frozen=True)
class SearchDocument:
    """One resource as the search backends see it: public fields only, no personal data."""

    id: int
    kind: str
    name_zh: str
    name_en: str
    description_zh: str
    address_zh: str
    services: tuple[str, ...]
    audiences: tuple[str, ...]
    languages: tuple[str, ...]
    modes: tuple[str, ...]
    fee: str
    status: str
    phone: str
    always_open: bool
    lat: float | None
    lon: float | None
    service_area_codes: tuple[str, ...]
    # Labels of kind and services in both languages, so "医院" or "counselling" find them.
    labels: str = ""

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


HIGHLIGHTED = ("name_zh", "name_en", "description_zh", "address_zh")


def highlights(doc: SearchDocument, tokens: list[str]) -> dict[str, str]:
    """The document's text fields with the query tokens marked, as safe HTML.

    Chinese tokens mark Chinese fields, Latin tokens the English name; fields without a
    match are left out.
    """
    han = [t for t in tokens if not text.is_latin(t)]
    latin = [t for t in tokens if text.is_latin(t)]
    marked: dict[str, str] = {}
    for name in HIGHLIGHTED:
        value = text.highlight(getattr(doc, name), latin if name == "name_en" else han)
        if value is not None:
            marked[name] = value
    return marked


class SearchQuery(BaseModel):
    """A validated search request; the web layer builds it from query parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field("", max_length=100)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=200_000)
    kind: tuple[ResourceKind, ...] = ()
    service: Service | None = None
    audience: Audience | None = None
    language: str | None = Field(None, max_length=16)
    fee: Fee | None = None
    mode: Mode | None = None
    status: Status = Status.ACTIVE
    open_now: bool = False
    at: dt.datetime | None = None
    sort: Literal["distance", "relevance"] | None = None
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000)

    @model_validator(mode="after")
    def _coherent(self) -> SearchQuery:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        if self.radius_m is not None and self.lat is None:
            raise ValueError("radius_m needs lat and lon")
        if self.sort == "distance" and self.lat is None:
            raise ValueError("sort=distance needs lat and lon")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("at must include a UTC offset, e.g. 2026-10-01T10:00+08:00")
        return self

    @property
    def point(self) -> tuple[float, float] | None:
        return None if self.lat is None or self.lon is None else (self.lat, self.lon)

    @property
    def effective_sort(self) -> Literal["distance", "relevance"]:
        if self.sort is not None:
            return self.sort
        return "relevance" if self.q.strip() or self.point is None else "distance"


@dataclass(frozen=True)
class Criteria:
    """A query as backends receive it: the parsed request plus facts the app resolved.

    ``open_ids`` is the set of resources open at the requested time (``None`` when the
    request does not ask for open-now); ``point_area_codes`` are the codes of every
    administrative area containing the query point, for matching area-served resources.
    """

    query: SearchQuery
    open_ids: frozenset[int] | None = None
    point_area_codes: frozenset[str] = frozenset()

    @cached_property
    def plan(self) -> QueryPlan:
        """The query's words and needs (:mod:`resourcemap.search.intent`), parsed once."""
        return parse(self.query.q)


@dataclass(frozen=True)
class Hit:
    id: int
    document: SearchDocument
    score: float
    distance_m: float | None = None
    highlights: dict[str, str] = field(default_factory=dict)
    # Why it matched the needs the query names ("焦虑 → 心理咨询").
    reasons: tuple[MatchReason, ...] = ()

    @property
    def walk_minutes(self) -> int | None:
        if self.distance_m is None:
            return None
        return max(1, round(self.distance_m / WALK_METRES_PER_MINUTE))


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    degraded: bool = False


class SearchBackend(Protocol):
    """What an adapter implements. Every method may raise :class:`SearchUnavailable`."""

    name: str

    async def prepare(self) -> None:
        """Create the index and apply its settings; idempotent, called at start."""

    async def replace_all(self, documents: list[SearchDocument]) -> None:
        """Replace the whole index with these documents."""

    async def upsert(self, documents: list[SearchDocument]) -> None:
        """Add or replace documents by id."""

    async def delete(self, ids: list[int]) -> None:
        """Remove documents by id (unknown ids are ignored)."""

    async def search(self, criteria: Criteria) -> SearchResult:
        """Answer one query."""
