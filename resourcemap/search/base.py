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
- eligibility: listings open to the public only, unless ``eligible`` names who the resident
  is (students, employees, …: those listings come back) or ``all``;
- with a point: ``distance_m`` is the geodesic distance in metres, ``radius_m`` is exact at
  the boundary, and area-served resources whose service area contains the point
  (``area_codes`` of the point intersect their ``service_area_codes``) match with no
  distance (they are not a walk);
- order: :mod:`.ranking` (``best``: nearer first with gentle boosts for open now, books
  online and free; ``nearest``; ``relevance``), the same on every backend;
- ``total`` counts every match; ``facets`` count matches per kind and per service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from resourcemap.search import text
from resourcemap.search.intent import MatchReason, QueryPlan, parse
from resourcemap.search.ranking import Sort
from resourcemap.vocab import Audience, Eligibility, Fee, Mode, ResourceKind, Service, Status

MAX_LIMIT = 100
# Who a resident may say they are (vocab.Eligibility), or "all": every listing.
EligibleAs = Literal["public", "students", "employees", "area_residents", "referral", "all"]
WALK_METRES_PER_MINUTE = 80.0  # 4.8 km/h, a calm adult walking pace
Reach = Literal["walk", "phone", "area"]


class SearchUnavailable(Exception):
    """The backend cannot answer now (e.g. Meilisearch is unreachable)."""


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """One resource as the search backends see it: public fields only, no personal data.
    (Slots: a province's index holds hundreds of thousands, and a ``__dict__`` each
    would cost more than their text.)"""

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
    eligibility: str = Eligibility.PUBLIC.value
    eligibility_note_zh: str = ""
    eligibility_note_en: str = ""
    # Shown, not searched: English pages show it where the listing has one.
    address_en: str = ""

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def reach(self) -> Reach:
        """How a resident gets this service: a walk, by phone, or it comes to their area."""
        return reach_of(self.kind, self.modes, located=self.located)


def reach_of(kind: str, modes: Sequence[str], *, located: bool) -> Reach:
    """How a resident gets a service of ``kind`` offered in ``modes``: by phone (a hotline,
    or by phone only), a walk to its point, or it comes to their area."""
    if kind == "hotline" or (modes and set(modes) <= {"phone"}):
        return "phone"
    return "walk" if located else "area"


HIGHLIGHTED = ("name_zh", "name_en", "description_zh", "address_zh")


def highlights(doc: SearchDocument, tokens: list[str]) -> dict[str, str]:
    """The document's text fields with the query tokens marked, as safe HTML.

    Chinese tokens mark Chinese fields, Latin tokens the English name; fields without a
    match are left out. Residents repeat a few words, so the same cards are marked again
    and again: answers are kept (shared: never change one in place).
    """
    if not tokens:
        return {}
    key = (id(doc), tuple(tokens))
    kept = _MARKS.get(key)
    if kept is not None and kept[0] is doc:
        return kept[1]
    if len(_MARKS) >= MARKS_KEPT:
        _MARKS.clear()  # cheaper than an LRU, and answers repeat within seconds
    marked = _marked(doc, key[1])
    _MARKS[key] = (doc, marked)
    return marked


# Marked cards kept, by the document object's identity (the document is kept with its
# card, so its id stays its own): hashing a document's ~25 fields for a cache's key cost
# as much as a dozen lookups (an edit makes a new document, so a card never outlives it).
MARKS_KEPT = 8192
_MARKS: dict[tuple[int, tuple[str, ...]], tuple[SearchDocument, dict[str, str]]] = {}


def _marked(doc: SearchDocument, tokens: tuple[str, ...]) -> dict[str, str]:
    han = [t for t in tokens if not text.is_latin(t)]
    latin = [t for t in tokens if text.is_latin(t)]
    marked: dict[str, str] = {}
    for name in HIGHLIGHTED:
        value = text.highlight(getattr(doc, name), latin if name == "name_en" else han)
        if value is not None:
            marked[name] = value
    return marked


# The longest query: the search box's maxlength, and where the page cuts a longer one.
Q_MAX_LENGTH = 100
# The widest circle a search takes, in metres.
MAX_RADIUS_M = 200_000


class SearchQuery(BaseModel):
    """A validated search request; the web layer builds it from query parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field("", max_length=Q_MAX_LENGTH)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=MAX_RADIUS_M)
    kind: tuple[ResourceKind, ...] = ()
    service: Service | None = None
    audience: Audience | None = None
    language: str | None = Field(None, max_length=16)
    fee: Fee | None = None
    mode: Mode | None = None
    # Who the resident is, for members-only listings ("students", "employees", …), or "all".
    eligible: tuple[EligibleAs, ...] = ()
    status: Status = Status.ACTIVE
    open_now: bool = False
    # An instant of this era: years near 1 or 9999 overflow when moved to the local zone.
    at: dt.datetime | None = Field(
        None, ge=dt.datetime(1900, 1, 1, tzinfo=dt.UTC), le=dt.datetime(2999, 12, 31, tzinfo=dt.UTC)
    )
    # best (default) | nearest | relevance (resourcemap.search.ranking); "distance" is the
    # old name of nearest.
    sort: Literal["best", "nearest", "relevance", "distance"] | None = None
    # With a radius and nothing to walk to within it: look further, step by step.
    widen: bool = True
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000)

    @model_validator(mode="after")
    def _coherent(self) -> SearchQuery:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        if self.radius_m is not None and self.lat is None:
            raise ValueError("radius_m needs lat and lon")
        if self.sort in ("nearest", "distance") and self.lat is None:
            raise ValueError(f"sort={self.sort} needs lat and lon")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("at must include a UTC offset, e.g. 2026-10-01T10:00+08:00")
        return self

    @property
    def eligibility(self) -> frozenset[str] | None:
        """Eligibility values a match may have; ``None``: any."""
        if "all" in self.eligible:
            return None
        return frozenset({Eligibility.PUBLIC.value, *self.eligible})

    @property
    def point(self) -> tuple[float, float] | None:
        return None if self.lat is None or self.lon is None else (self.lat, self.lon)

    @property
    def effective_sort(self) -> Sort:
        if self.sort == "distance":
            return "nearest"
        return self.sort or "best"


@lru_cache(maxsize=4096)
def plan_of(q: str) -> QueryPlan:
    """Residents repeat a small set of queries: each is parsed once."""
    return parse(q)


Wanted = Literal["page", "hits", "total"]


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
    # For ranking (whatever the filters): open at the query's time, taking bookings online.
    open_now_ids: frozenset[int] = frozenset()
    bookable_ids: frozenset[int] = frozenset()
    # Only places one walks to (no phone lines, no area-served teams).
    located_only: bool = False
    # What the caller reads: a page with its facets, or only the hits (a probe for the
    # nearest place, the crisis lines), or only the total ("does anything match at all?").
    # A backend may always answer more: a hint that spares the work nobody reads.
    wanted: Wanted = "page"

    @property
    def plan(self) -> QueryPlan:
        """The query's words and needs (:mod:`resourcemap.search.intent`)."""
        return plan_of(self.query.q)


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
        """Minutes on foot; ``None`` for what is not a walk (a phone line, a team)."""
        if self.distance_m is None or self.document.reach != "walk":
            return None
        return max(1, round(self.distance_m / WALK_METRES_PER_MINUTE))


@dataclass(frozen=True)
class Widening:
    """Nothing to walk to within the asked distance, so the search looked further."""

    asked_m: float
    shown_m: float | None  # None: at any distance


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    degraded: bool = False
    # Words of self-harm or suicide: the 24/7 lines lead the first page.
    crisis: bool = False
    widened: Widening | None = None
    # Words left out: with them, the concern the query named matched nothing.
    ignored: tuple[str, ...] = ()
    # The query's words asked for free services ("免费", "free"): answered with the fee filter.
    free_from_words: bool = False
    # Words such as "english speaking" or 英语 asked for services in English.
    english_from_words: bool = False


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
