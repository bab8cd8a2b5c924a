"""The embedded search engine: in-process, no server, the default.

Documents live in column arrays; every filter is a boolean mask over them, text matching
is a vectorised substring search per field (``numpy.strings.find``), and distance uses a
KD-tree in the city's metric CRS to shortlist candidates, then exact geodesic metres.

Substring matching rather than word segmentation is deliberate: a one- or two-character
query ("心理", "焦虑") must find every name containing it, which a segmenter that merges
words into longer tokens would miss. Latin tokens also match pinyin and initials, and a
vocabulary of Latin terms (English words, pinyin of name fragments) supplies corrections
for a token that matches nothing as typed, by Meilisearch's typo rules
(:mod:`resourcemap.search.typos`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyproj
from scipy.spatial import cKDTree

from geo.crs import WGS84, metric_crs_for
from geo.distance import geodesic_m
from resourcemap.needs import NEEDS
from resourcemap.search import intent, ranking, text
from resourcemap.search.base import Criteria, Hit, SearchDocument, SearchResult, highlights
from resourcemap.search.typos import TYPOS, TypoTolerance

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# How much a token found in each field adds to a document's relevance.
FIELD_WEIGHTS = {
    "name": 10.0,
    "english": 8.0,
    "initials": 6.0,
    "labels": 4.0,
    "description": 2.0,
    "address": 1.0,
}
LATIN_ONLY = {"english", "initials"}
PINYIN_WEIGHT = 8.0
TYPO_PENALTY = 0.5
# Shortest vocabulary term a typo can reach: a 5-letter word with one typo is 4 letters
# or more, a 9-letter one with two is 7 or more; 3 keeps room for lower thresholds.
MIN_TERM_LENGTH = 3
# Pinyin matches whole syllables: "xinli" finds 心理 but not 心灵 (xin-ling).
MAX_PINYIN_SYLLABLES = 8
TOKEN_CACHE_SIZE = 512
SET_CACHE_SIZE = 8
# What serving a need adds to relevance: as much as a word of it in a service label.
NEED_WEIGHT = 4.0
MULTI_TAGS = ("services", "audiences", "languages", "modes", "needs")
SINGLE_TAGS = ("kind", "status", "fee", "eligibility")
# KD-tree shortlist margin: projection scale error is far below 0.5% near the central meridian.
SHORTLIST_MARGIN = 1.005


@dataclass(frozen=True)
class _Text:
    """A text column stored once per distinct value: labels and addresses repeat a lot."""

    values: npt.NDArray[np.str_]
    inverse: npt.NDArray[np.intp]

    @classmethod
    def of(cls, values: list[str]) -> _Text:
        uniques, inverse = np.unique(np.array(values, dtype=np.str_), return_inverse=True)
        return cls(uniques, inverse)

    def find(self, token: str) -> npt.NDArray[np.intp]:
        """Position of ``token`` in every document's value (-1 where absent)."""
        found: npt.NDArray[np.intp] = np.strings.find(self.values, token)[self.inverse]
        return found


@dataclass(frozen=True)
class _Columns:
    """The index: one entry per document, in ``ids`` order."""

    docs: list[SearchDocument]
    ids: npt.NDArray[np.int64]
    kind: npt.NDArray[np.str_]
    fields: dict[str, _Text]
    tags: dict[str, dict[str, BoolArray]]
    located: BoolArray
    walk: BoolArray  # reached on foot (not a phone line, not an area-served team)
    lat: FloatArray
    lon: FloatArray
    tree: cKDTree | None
    to_metric: pyproj.Transformer
    # Area-served documents (no point, some service area) by the area codes they serve.
    serving: dict[str, npt.NDArray[np.intp]]
    pinyin: dict[str, npt.NDArray[np.int64]]
    vocabulary: list[str]
    typos: TypoTolerance
    # Residents repeat a small set of words; per-token match arrays are cached for the
    # lifetime of this index (any change builds a new one).
    _cache: OrderedDict[tuple[str, bool], tuple[BoolArray, FloatArray]] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )
    # Id sets asked about again and again (open now: the same set for a minute; bookable:
    # until policies change) as masks, keyed by the set itself.
    _sets: OrderedDict[frozenset[int], BoolArray] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )

    def among(self, ids: frozenset[int]) -> BoolArray:
        """Which documents have one of ``ids``."""
        mask = self._sets.get(ids)
        if mask is None:
            mask = np.zeros(len(self.docs), dtype=bool)
            if ids:
                mask = np.isin(self.ids, np.fromiter(ids, dtype=np.int64))
            self._sets[ids] = mask
            if len(self._sets) > SET_CACHE_SIZE:
                self._sets.popitem(last=False)
        return mask

    def need_matches(self, code: str) -> tuple[BoolArray, FloatArray]:
        """Documents serving need ``code`` or mentioning one of its words."""
        key = (f"need:{code}", False)  # never a token: tokens have no colon
        cached = self._cache.get(key)
        if cached is None:
            served = self.tags["needs"].get(code, np.zeros(len(self.docs), dtype=bool))
            hit = served.copy()
            best = np.zeros(len(self.docs), dtype=np.float64)
            for word in NEEDS[code].words:
                word_hit, word_score = self.matches(word, typo=False)
                hit |= word_hit
                best = np.maximum(best, word_score)
            cached = (hit, best + np.where(served, NEED_WEIGHT, 0.0))
            self._cache[key] = cached
            if len(self._cache) > TOKEN_CACHE_SIZE:
                self._cache.popitem(last=False)
        return cached

    def matches(self, token: str, *, typo: bool) -> tuple[BoolArray, FloatArray]:
        key = (token, typo)
        cached = self._cache.get(key)
        if cached is None:
            cached = _token_matches(self, token, typo=typo)
            self._cache[key] = cached
            if len(self._cache) > TOKEN_CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return cached


def _pinyin_terms(name: str) -> set[str]:
    """Every run of whole syllables in the pinyin of a name's Han characters."""
    syllables = text.syllables(name)
    return {
        "".join(syllables[i : i + size])
        for size in range(1, MAX_PINYIN_SYLLABLES + 1)
        for i in range(len(syllables) - size + 1)
    }


def _pinyin_postings(docs: list[SearchDocument]) -> dict[str, npt.NDArray[np.int64]]:
    postings: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        for term in _pinyin_terms(doc.name_zh):
            postings.setdefault(term, []).append(i)
    return {term: np.array(rows, dtype=np.int64) for term, rows in postings.items()}


def _vocabulary(docs: Iterable[SearchDocument], pinyin: Iterable[str]) -> list[str]:
    """Latin terms a typo can be corrected to: English words and pinyin of name fragments."""
    terms = {t for t in pinyin if len(t) >= MIN_TERM_LENGTH}
    for doc in docs:
        for source in (doc.name_en, doc.labels):
            tokens = text.tokens(source)
            terms.update(t for t in tokens if text.is_latin(t) and len(t) >= MIN_TERM_LENGTH)
    return sorted(terms)


def build_columns(docs: list[SearchDocument], typos: TypoTolerance = TYPOS) -> _Columns:
    n = len(docs)
    # One boolean column per value of every filterable field: filters are then just ANDs.
    tags: dict[str, dict[str, BoolArray]] = {name: {} for name in (*MULTI_TAGS, *SINGLE_TAGS)}
    for i, doc in enumerate(docs):
        needs = NEEDS.served_by(doc.kind, doc.services, doc.audiences)
        for name in MULTI_TAGS:
            for value in needs if name == "needs" else getattr(doc, name):
                tags[name].setdefault(value, np.zeros(n, dtype=bool))[i] = True
        for name in SINGLE_TAGS:
            tags[name].setdefault(getattr(doc, name), np.zeros(n, dtype=bool))[i] = True
    located = np.array([d.located for d in docs], dtype=bool)
    lat = np.array([d.lat if d.lat is not None else np.nan for d in docs], dtype=np.float64)
    lon = np.array([d.lon if d.lon is not None else np.nan for d in docs], dtype=np.float64)
    tree = None
    crs = metric_crs_for(float(np.nanmedian(lon)) if located.any() else 114.0)
    transformer = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    if located.any():
        x, y = transformer.transform(lon[located], lat[located])
        tree = cKDTree(np.column_stack([x, y]))

    def column(values: Iterable[str]) -> _Text:
        return _Text.of([text.normalise(v) for v in values])

    pinyin = _pinyin_postings(docs)
    serving: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        if not d.located:
            for code in d.service_area_codes:
                serving.setdefault(code, []).append(i)

    return _Columns(
        docs=docs,
        ids=np.array([d.id for d in docs], dtype=np.int64),
        kind=np.array([d.kind for d in docs], dtype=np.str_),
        fields={
            "name": column(d.name_zh for d in docs),
            "english": column(d.name_en for d in docs),
            "initials": _Text.of([text.pinyin_forms(d.name_zh)[1] for d in docs]),
            "labels": column(d.labels for d in docs),
            "description": column(d.description_zh for d in docs),
            "address": column(d.address_zh for d in docs),
        },
        tags=tags,
        located=located,
        walk=np.array([d.reach == "walk" for d in docs], dtype=bool),
        lat=lat,
        lon=lon,
        tree=tree,
        to_metric=transformer,
        serving={code: np.array(rows, dtype=np.intp) for code, rows in serving.items()},
        pinyin=pinyin,
        vocabulary=_vocabulary(docs, pinyin),
        typos=typos,
    )


class EmbeddedBackend:
    """In-process search over column arrays; rebuilt lazily after changes.

    Rebuilding takes about a second for 10,000 documents (mostly pinyin), so it runs in a
    worker thread: searches wait for the fresh index, the rest of the app keeps answering.
    """

    name = "embedded"

    def __init__(self, typos: TypoTolerance = TYPOS) -> None:
        self.typos = typos
        self._docs: dict[int, SearchDocument] = {}
        self._columns: _Columns | None = None
        self._version = 0
        self._building: tuple[int, asyncio.Task[_Columns]] | None = None

    async def prepare(self) -> None:
        """Nothing to set up in process."""

    def _changed(self) -> None:
        self._columns = None
        self._version += 1

    async def replace_all(self, documents: list[SearchDocument]) -> None:
        self._docs = {d.id: d for d in documents}
        self._changed()

    async def upsert(self, documents: list[SearchDocument]) -> None:
        self._docs.update((d.id, d) for d in documents)
        self._changed()

    async def delete(self, ids: list[int]) -> None:
        for doc_id in ids:
            self._docs.pop(doc_id, None)
        self._changed()

    async def columns(self) -> _Columns:
        """The index for the current documents, building it (once, off the loop) if needed."""
        while self._columns is None:
            version = self._version
            if self._building is None or self._building[0] != version:
                docs = sorted(self._docs.values(), key=lambda d: d.id)
                self._building = (
                    version,
                    asyncio.create_task(asyncio.to_thread(build_columns, docs, self.typos)),
                )
            try:
                built = await self._building[1]
            except BaseException:
                self._building = None  # let the next search try again
                raise
            if self._version == version:  # nothing changed while it was built
                self._columns = built
                self._building = None
        return self._columns

    async def search(self, criteria: Criteria) -> SearchResult:
        return search_columns(await self.columns(), criteria)


def _filter_mask(cols: _Columns, criteria: Criteria) -> BoolArray:
    q = criteria.query
    none = np.zeros(len(cols.docs), dtype=bool)
    mask: BoolArray = cols.tags["status"].get(q.status.value, none).copy()
    if q.kind:
        any_kind = none.copy()
        for kind in q.kind:
            any_kind |= cols.tags["kind"].get(kind.value, none)
        mask &= any_kind
    for name, value in (
        ("services", q.service),
        ("audiences", q.audience),
        ("languages", q.language),
        ("modes", q.mode),
        ("fee", q.fee),
    ):
        if value is not None:
            mask &= cols.tags[name].get(str(value), none)
    allowed = q.eligibility
    if allowed is not None:
        eligible = none.copy()
        for value in allowed:
            eligible |= cols.tags["eligibility"].get(value, none)
        mask &= eligible
    if criteria.open_ids is not None:
        mask &= cols.among(criteria.open_ids)
    if criteria.located_only:
        mask &= cols.walk
    return mask


def _text_scores(
    cols: _Columns, plan: intent.QueryPlan, rows: npt.NDArray[np.intp]
) -> tuple[BoolArray, FloatArray]:
    """Which of ``rows`` match every term, and their relevance (aligned with ``rows``)."""
    matched = np.ones(rows.size, dtype=bool)
    score = np.zeros(rows.size, dtype=np.float64)
    for term in plan.terms:
        if term.need is not None:
            hit_all, score_all = cols.need_matches(term.need)
        else:
            hit_all, score_all = cols.matches(term.text, typo=False)
        token_hit, token_score = hit_all[rows], score_all[rows]
        if term.need is None and term.latin and not token_hit.any():
            # As typed it matches nothing: a typo of a need word stands for the need,
            # anything else is corrected to the index's words.
            if term.fuzzy_need is not None:
                hit_all, score_all = cols.need_matches(term.fuzzy_need)
            elif cols.typos.allowed(term.text):
                hit_all, score_all = cols.matches(term.text, typo=True)
            token_hit, token_score = hit_all[rows], score_all[rows]
        matched &= token_hit
        score += token_score
    return matched, score


def _token_matches(cols: _Columns, token: str, *, typo: bool) -> tuple[BoolArray, FloatArray]:
    """Every document's match of one token: exact, or through typo corrections (fewest
    typos first; each typo halves what the match adds to relevance)."""
    n = len(cols.docs)
    hit = np.zeros(n, dtype=bool)
    score = np.zeros(n, dtype=np.float64)
    if typo:
        for alternative, typos in cols.typos.corrections(token, cols.vocabulary):
            exact, _ = cols.matches(alternative, typo=False)
            score += np.where(exact & ~hit, PINYIN_WEIGHT * TYPO_PENALTY**typos, 0.0)
            hit |= exact
        return hit, score
    latin = text.is_latin(token)
    for name, weight in FIELD_WEIGHTS.items():
        if name in LATIN_ONLY and not latin:
            continue
        found = cols.fields[name].find(token)
        field_hit = found >= 0
        hit |= field_hit
        # Earlier positions (prefixes of names) rank a little higher.
        score += np.where(field_hit, weight * (1.0 + 1.0 / (1.0 + np.maximum(found, 0))), 0.0)
    postings = cols.pinyin.get(token) if latin else None
    if postings is not None:
        hit[postings] = True
        score[postings] += PINYIN_WEIGHT
    return hit, score


def search_columns(cols: _Columns, criteria: Criteria) -> SearchResult:
    q = criteria.query
    n = len(cols.docs)
    if n == 0:
        return SearchResult(hits=[], total=0, facets={"kind": {}, "service": {}})
    mask = _filter_mask(cols, criteria)
    point = q.point
    if point is not None:
        # Cheap spatial narrowing first, so text matching touches only what is near.
        area_hit = np.zeros(n, dtype=bool)
        for code in criteria.point_area_codes:
            area_hit[cols.serving.get(code, [])] = True
        near = cols.located & mask
        if q.radius_m is not None and cols.tree is not None:
            lat, lon = point
            x, y = cols.to_metric.transform(lon, lat)
            shortlist = cols.tree.query_ball_point([x, y], q.radius_m * SHORTLIST_MARGIN)
            candidates = np.zeros(n, dtype=bool)
            candidates[np.flatnonzero(cols.located)[shortlist]] = True
            near &= candidates
        mask = near | (area_hit & mask)

    rows = np.flatnonzero(mask)
    plan = criteria.plan
    tokens = plan.tokens
    score = np.zeros(n, dtype=np.float64)
    if plan.terms:
        matched, row_score = _text_scores(cols, plan, rows)
        rows = rows[matched]
        score[rows] = row_score[matched]

    # Area-served matches have no distance: they are not a walk (NaN passes the radius).
    distance = np.full(n, np.nan)
    if point is not None:
        lat, lon = point
        located_rows = rows[cols.located[rows]]
        distance[located_rows] = geodesic_m(
            lat, lon, cols.lat[located_rows], cols.lon[located_rows]
        )
        if q.radius_m is not None:
            rows = rows[~(distance[rows] > q.radius_m)]

    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    idx = rows
    free = cols.tags["fee"].get("free", np.zeros(n, dtype=bool))[idx]
    boost = ranking.boosts(
        cols.among(criteria.open_now_ids)[idx], cols.among(criteria.bookable_ids)[idx], free
    )
    order = ranking.order(
        q.effective_sort,
        ids=cols.ids[idx],
        relevance=score[idx],
        boost=boost,
        distance_m=None if point is None else distance[idx],
        not_a_walk=~cols.walk[idx],
    )
    ranked = idx[order]
    page = ranked[q.offset : q.offset + q.limit]
    hits = [
        Hit(
            id=cols.docs[i].id,
            document=cols.docs[i],
            score=float(score[i]),
            distance_m=None if np.isnan(distance[i]) else float(distance[i]),
            highlights=highlights(cols.docs[i], tokens),
            reasons=intent.reasons(cols.docs[i].kind, cols.docs[i].services, plan),
        )
        for i in page
    ]
    return SearchResult(hits=hits, total=int(idx.size), facets=_facets(cols, mask))


def _facets(cols: _Columns, mask: BoolArray) -> dict[str, dict[str, int]]:
    kinds, counts = np.unique(cols.kind[mask], return_counts=True)
    services = {
        name: int(np.count_nonzero(column & mask)) for name, column in cols.tags["services"].items()
    }
    return {
        "kind": {str(k): int(c) for k, c in zip(kinds, counts, strict=True)},
        "service": {k: v for k, v in sorted(services.items()) if v},
    }
