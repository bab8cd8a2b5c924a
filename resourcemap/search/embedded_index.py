# Over 400 lines: one index dataclass; its build and its matching share private helpers.
"""The embedded engine's index: documents as column arrays, and what one token matches.

Text columns are stored once per distinct value (labels and addresses repeat a lot) and
searched as substrings through an inverted index of their characters and character pairs
(:mod:`.substrings`), so a token costs what it matches, not what is indexed; a token's
matches are sorted document rows with their relevance (:class:`Match`), never a column as
long as the index. Every filterable value is a boolean column, so filters are ANDs; pinyin
of names is a postings list of whole-syllable runs; a grid of cells in the city's metric CRS
(:mod:`.grid`) holds the located documents. Per-token matches and typo corrections are
cached for the lifetime of an index. An index is never extended: an edit retires the document's
row (:meth:`Columns.retire`, its status bits cleared so no filter passes it) and the engine
indexes the new version in a small second index (see :mod:`.embedded`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj

from geo.clusters import finest_cells
from geo.crs import WGS84, easting_and_scale, metric_crs_for
from geo.crs import transformer as crs_transformer
from resourcemap.search import ranking, text
from resourcemap.search.base import SearchDocument
from resourcemap.search.grid import PointGrid
from resourcemap.search.needs import NEEDS
from resourcemap.search.pinyin_index import Postings, pinyin_postings
from resourcemap.search.substrings import DENSE_SHARE, Found, Text, distinct, firsts
from resourcemap.search.typos import TYPOS, TypoTolerance, Vocabulary

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
RowArray = npt.NDArray[np.signedinteger[Any]]  # rows: int64, or int32 in pinyin postings

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
# Cached matches hold at most this many rows in all (about 16 bytes each; a match's column
# counts as half a row per document, 8 bytes).
TOKEN_CACHE_ROWS = 4_000_000
# A match holding more than 1/COLUMN_SHARE of the rows is read through a column of its
# relevance by row (8 bytes a document: 1.6 MB at 200,000), ~5-15x faster than a binary
# search among the candidates near a point, from a few thousand of them on.
COLUMN_SHARE = 64
SET_CACHE_SIZE = 8
BOOST_CACHE_SIZE = 4  # 1.6 MB each at 200,000 documents
# What serving a need adds to relevance: as much as a word of it in a service label.
NEED_WEIGHT = 4.0
MULTI_TAGS = ("services", "audiences", "languages", "modes", "needs")
SINGLE_TAGS = ("kind", "status", "fee", "eligibility")


@dataclass(frozen=True)
class Match:
    """What one token (or need) matches in an index: sorted rows, their relevance."""

    rows: IntArray
    score: FloatArray
    # A match of many rows also as a column of relevance by row, NaN where it does not
    # match (:meth:`within`): built at its first use, kept as long as the match is.
    _column: list[FloatArray] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def none(cls) -> Match:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))

    def dense(self, n: int) -> tuple[BoolArray, FloatArray]:
        """As a hit mask and a relevance column over ``n`` rows (as :func:`scan_matches`)."""
        hit = np.zeros(n, dtype=bool)
        score = np.zeros(n, dtype=np.float64)
        hit[self.rows] = True
        score[self.rows] = self.score
        return hit, score

    def many(self, n: int) -> bool:
        """Whether this match holds enough of ``n`` rows to be read through a column."""
        return self.rows.size * COLUMN_SHARE > n

    def column(self, n: int) -> FloatArray:
        """Relevance by row over ``n`` rows, NaN where this match does not hold the row."""
        if self._column:
            return self._column[0]
        column = np.full(n, np.nan)
        column[self.rows] = self.score
        if self.many(n):
            self._column.append(column)
        return column

    def within(self, rows: npt.NDArray[np.intp], n: int) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Which of the sorted ``rows`` (of ``n``) this match holds (their places in
        ``rows``) and their relevance: read from its column when it holds many rows (one
        gather; a binary search of 30,000 candidates in 150,000 matches took ~1 ms), else a
        binary search of the shorter list in the longer one, or when both are long, one
        pass over a column made for the occasion."""
        if self.many(n) or min(rows.size, self.rows.size) * DENSE_SHARE > n:
            return picked(self.column(n), rows)
        if rows.size <= self.rows.size:
            at = np.searchsorted(self.rows, rows)
            at[at == self.rows.size] = 0
            keep = np.flatnonzero(self.rows[at] == rows) if self.rows.size else at[:0]
            return keep, self.score[at[keep]]
        at = np.searchsorted(rows, self.rows)
        inside = np.flatnonzero(at < rows.size)
        same = inside[rows[at[inside]] == self.rows[inside]]
        return at[same], self.score[same]


def picked(
    column: FloatArray, rows: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Which of ``rows`` have a relevance in ``column`` (not NaN): their places, and it."""
    mine = column[rows]
    keep = np.flatnonzero(~np.isnan(mine))
    return keep, mine[keep]


@dataclass(frozen=True)
class Columns:
    """The index: one entry per document, in the grid's order (:func:`build_columns`)."""

    docs: list[SearchDocument]  # in the grid's order (see :func:`build_columns`)
    ids: npt.NDArray[np.int64]
    # The ids sorted, and the row of each: where an id is, by bisection.
    sorted_ids: npt.NDArray[np.int64]
    by_id: npt.NDArray[np.intp]
    given: npt.NDArray[np.intp]  # each row's place in the documents the build was given
    kinds: list[str]  # sorted; ``kind_code`` indexes it (facets count codes)
    kind_code: npt.NDArray[np.intp]
    fields: dict[str, Text]
    tags: dict[str, dict[str, BoolArray]]
    located: BoolArray
    walk: BoolArray  # reached on foot (not a phone line, not an area-served team)
    lat: FloatArray
    lon: FloatArray
    cells: npt.NDArray[np.uint64]  # H3 cell at geo.clusters.FINEST, for map clusters
    x: FloatArray  # metric coordinates (NaN where not located): planar distance bounds
    y: FloatArray
    grid: PointGrid  # the located documents, for "within a radius"
    to_metric: pyproj.Transformer
    # The metric CRS's false easting and central scale: how far planar metres may be from
    # geodesic ones near a point (:func:`.distances.margin`).
    frame: tuple[float, float]
    # Area-served documents (no point, some service area) by the area codes they serve.
    serving: dict[str, npt.NDArray[np.intp]]
    pinyin: Postings
    vocabulary: Vocabulary
    typos: TypoTolerance
    # Residents repeat a small set of words; per-token matches are cached for the
    # lifetime of this index (any change builds a new one), as are typo corrections.
    _cache: OrderedDict[tuple[str, bool], Match] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )
    _cached_rows: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)
    _corrections: dict[str, list[tuple[str, int]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Every need's relevance by row (NaN: neither serving it nor mentioning its words),
    # kept apart from the words' cache (there are a few dozen needs, and residents name
    # them most): worked out with a full index (:meth:`prepare_needs`), so that a
    # resident's first 焦虑 in a process does not. 1.6 MB a need at 200,000 documents, in
    # the index's file, which the workers of a machine map together (:mod:`.index_shared`).
    _needs: dict[str, FloatArray] = field(default_factory=dict, compare=False, repr=False)
    # The facet numbers (:mod:`.facets`): on the index, so that they go with it (a module's
    # cache of them kept old indexes' arrays, and with them their mapped files, alive).
    _facets: list[Any] = field(default_factory=list, compare=False, repr=False)
    # Id sets asked about again and again (open now: the same set for a minute; bookable:
    # until policies change) as masks, keyed by the set object's identity: an equal set in
    # another object would be compared element by element on every lookup (a dict compares
    # keys whose hashes match), ~2 ms per search for 100,000 open listings.
    _sets: OrderedDict[int, tuple[frozenset[int], BoolArray]] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )

    # Every document's ranking boost for the open-now and bookable sets asked about (the
    # same objects for a minute), keyed as ``_sets`` is: a search reads its matches' boosts
    # in one gather, not in three and the sum of them.
    _boosts: OrderedDict[tuple[int, int], tuple[frozenset[int], frozenset[int], FloatArray]] = (
        field(default_factory=OrderedDict, compare=False, repr=False)
    )

    def boosts(self, open_now: frozenset[int], bookable: frozenset[int]) -> FloatArray:
        """Every document's boost (:func:`.ranking.boosts`) when ``open_now`` are open and
        ``bookable`` book online."""
        key = (id(open_now), id(bookable))
        cached = self._boosts.get(key)
        if cached is not None and cached[0] is open_now and cached[1] is bookable:
            return cached[2]
        free = self.tags["fee"].get("free")
        if free is None:
            free = np.zeros(len(self.docs), dtype=bool)
        column = ranking.boosts(self.among(open_now), self.among(bookable), free)
        self._boosts[key] = (open_now, bookable, column)  # the sets kept: their ids stay theirs
        if len(self._boosts) > BOOST_CACHE_SIZE:
            self._boosts.popitem(last=False)
        return column

    def among(self, ids: frozenset[int]) -> BoolArray:
        """Which documents have one of ``ids``."""
        cached = self._sets.get(id(ids))
        if cached is not None and cached[0] is ids:
            return cached[1]
        mask = np.zeros(len(self.docs), dtype=bool)
        if ids:
            mask = np.isin(self.ids, np.fromiter(ids, dtype=np.int64))
        self._sets[id(ids)] = (ids, mask)  # the set is kept: its id stays its own
        if len(self._sets) > SET_CACHE_SIZE:
            self._sets.popitem(last=False)
        return mask

    def need_matches(self, code: str) -> Match:
        """Documents serving need ``code`` or mentioning one of its words (as if each were
        a query token; the words together score like one word at its first place)."""
        every = np.arange(len(self.docs), dtype=np.intp)
        keep, score = self.need_within(code, every)
        return Match(every[keep].astype(np.int64), score)

    def need_within(
        self, code: str, rows: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """:meth:`need_matches` among the sorted ``rows`` only, as :meth:`Match.within`
        answers: one gather from the need's column (a need is served by most of a
        province's listings, so its candidates near a point are tens of thousands)."""
        return picked(self._need_column(code), rows)

    def _need_column(self, code: str) -> FloatArray:
        column = self._needs.get(code)
        if column is None:
            words = _words_matches(self, NEEDS[code].words)
            column = np.full(len(self.docs), np.nan)
            column[words.rows] = words.score
            served = self.tags["needs"].get(code)
            if served is not None:
                # Serving adds NEED_WEIGHT to what its words score there (0 without them).
                column[served & np.isnan(column)] = 0.0
                column[served] += NEED_WEIGHT
            self._needs[code] = column
        return column

    def prepare_needs(self) -> None:
        """Work out every need's column now (in the build's thread), not in a search."""
        for need in NEEDS:
            self._need_column(need.code)

    def _remember(self, key: tuple[str, bool], match: Match) -> None:
        self._cache[key] = match
        self._cached_rows[0] += self._weight(match)
        while self._cached_rows[0] > TOKEN_CACHE_ROWS and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_rows[0] -= self._weight(dropped)

    def _weight(self, match: Match) -> int:
        """What a cached match counts for: its rows, and half a row per document for the
        column it has (or will have: it is built at its first use)."""
        n = len(self.docs)
        return match.rows.size + (n // 2 if match.many(n) else 0)

    def corrections(self, token: str) -> list[tuple[str, int]]:
        """What ``token`` may stand for with typos in this index's vocabulary."""
        found = self._corrections.get(token)
        if found is None:
            if len(self._corrections) >= TOKEN_CACHE_ROWS // 1000:
                self._corrections.clear()
            found = self._corrections[token] = self.typos.corrections(token, self.vocabulary)
        return found

    def retire(self, ids: Iterable[int]) -> int:
        """Take these documents out of every answer (edited or deleted since this index was
        built): their status bits are cleared, and every search starts from a status.
        Work is per retired document, not per indexed one. Returns how many were here."""
        wanted = np.fromiter(ids, dtype=np.int64)
        at = np.searchsorted(self.sorted_ids, wanted)
        here = at < self.sorted_ids.size
        here[here] = self.sorted_ids[at[here]] == wanted[here]
        rows = self.by_id[at[here]]
        for column in self.tags["status"].values():
            column[rows] = False
        return int(rows.size)

    def corrected(self, token: str, corrections: list[tuple[str, int]]) -> Match:
        """Matches of ``token`` through corrections found in several indexes (not cached:
        the corrections depend on the other indexes)."""
        return _token_matches(self, token, typo=True, corrections=corrections)

    def matches(self, token: str, *, typo: bool) -> Match:
        key = (token, typo)
        cached = self._cache.get(key)
        if cached is None:
            cached = _token_matches(self, token, typo=typo)
            self._remember(key, cached)
        else:
            self._cache.move_to_end(key)
        return cached


def _vocabulary(docs: Iterable[SearchDocument], pinyin: Iterable[str]) -> list[str]:
    """Latin terms a typo can be corrected to: English words and pinyin of name fragments."""
    terms = {t for t in pinyin if len(t) >= MIN_TERM_LENGTH}
    # Each distinct text once: documents of a kind share their labels.
    sources = {doc.name_en for doc in docs} | {doc.labels for doc in docs}
    for source in sources:
        tokens = text.tokens(source)
        terms.update(t for t in tokens if text.is_latin(t) and len(t) >= MIN_TERM_LENGTH)
    return sorted(terms)


def build_columns(
    docs: list[SearchDocument],
    typos: TypoTolerance = TYPOS,
    transformer: pyproj.Transformer | None = None,
) -> Columns:
    """Index ``docs``; ``transformer`` reuses another index's metric CRS.

    The rows are in the grid's order, not the documents': located documents cell by cell
    (row-major), then the others in the order given. What lies within a radius is then a
    few runs of consecutive rows, found already sorted, and every column read for them is
    read nearly in sequence (in a dense district a circle holds tens of thousands)."""
    given, transformer = _grid_order(docs, transformer)
    docs = [docs[i] for i in given.tolist()]
    n = len(docs)
    # One boolean column per value of every filterable field: filters are then just ANDs.
    # The rows of each value first, each column made once from them (a column made per
    # document, as setdefault's argument, was 35 % of a province's build).
    rows: dict[str, dict[str, list[int]]] = {name: {} for name in (*MULTI_TAGS, *SINGLE_TAGS)}
    served: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}
    for i, doc in enumerate(docs):
        key = (doc.kind, doc.services, doc.audiences)  # shared by many documents
        needs = served.get(key)
        if needs is None:
            needs = served[key] = NEEDS.served_by(*key)
        for name in MULTI_TAGS:
            for value in needs if name == "needs" else getattr(doc, name):
                rows[name].setdefault(value, []).append(i)
        for name in SINGLE_TAGS:
            rows[name].setdefault(getattr(doc, name), []).append(i)
    tags = {name: {v: _marked(n, at) for v, at in values.items()} for name, values in rows.items()}
    located = np.array([d.located for d in docs], dtype=bool)
    lat = np.array([d.lat if d.lat is not None else np.nan for d in docs], dtype=np.float64)
    lon = np.array([d.lon if d.lon is not None else np.nan for d in docs], dtype=np.float64)
    x_all, y_all = _metric(docs, transformer)
    grid = PointGrid.of(x_all[located], y_all[located], np.flatnonzero(located))

    def column(values: Iterable[str]) -> Text:
        normal: dict[str, str] = {}  # documents share values: normalise each once
        return Text.of([normal.get(v) or normal.setdefault(v, text.normalise(v)) for v in values])

    pinyin = pinyin_postings(docs)
    serving: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        if not d.located:
            for code in d.service_area_codes:
                serving.setdefault(code, []).append(i)

    kinds, kind_code = np.unique(np.array([d.kind for d in docs], np.str_), return_inverse=True)
    ids = np.array([d.id for d in docs], dtype=np.int64)
    by_id = np.argsort(ids, kind="stable")
    return Columns(
        docs=docs,
        ids=ids,
        sorted_ids=ids[by_id],
        by_id=by_id,
        given=given,
        kinds=[str(k) for k in kinds],
        kind_code=kind_code,
        fields={
            "name": column(d.name_zh for d in docs),
            "english": column(d.name_en for d in docs),
            "initials": Text.of([text.pinyin_forms(d.name_zh)[1] for d in docs]),
            "labels": column(d.labels for d in docs),
            "description": column(d.description_zh for d in docs),
            "address": column(d.address_zh for d in docs),
        },
        tags=tags,
        located=located,
        walk=np.array([d.reach == "walk" for d in docs], dtype=bool),
        lat=lat,
        lon=lon,
        cells=finest_cells(lat, lon),
        x=x_all,
        y=y_all,
        grid=grid,
        to_metric=transformer,
        frame=_frame(transformer),
        serving={code: np.array(rows, dtype=np.intp) for code, rows in serving.items()},
        pinyin=pinyin,
        vocabulary=Vocabulary(_vocabulary(docs, pinyin)),
        typos=typos,
    )


def _marked(n: int, rows: list[int]) -> BoolArray:
    """A column of ``n`` rows, true at ``rows``."""
    column = np.zeros(n, dtype=bool)
    column[rows] = True
    return column


def _frame(transformer: pyproj.Transformer) -> tuple[float, float]:
    target = transformer.target_crs
    if target is None:
        raise ValueError("the index's projection has no target CRS")
    return easting_and_scale(target)


def _metric(
    docs: list[SearchDocument], transformer: pyproj.Transformer
) -> tuple[FloatArray, FloatArray]:
    """The documents' metric coordinates (NaN where not located)."""
    located = np.array([d.located for d in docs], dtype=bool)
    x = np.full(len(docs), np.nan)
    y = np.full(len(docs), np.nan)
    if located.any():
        lon = np.array([d.lon for d in docs if d.located], dtype=np.float64)
        lat = np.array([d.lat for d in docs if d.located], dtype=np.float64)
        x[located], y[located] = transformer.transform(lon, lat)
    return x, y


def _grid_order(
    docs: list[SearchDocument], transformer: pyproj.Transformer | None
) -> tuple[npt.NDArray[np.intp], pyproj.Transformer]:
    """Where each row's document is in ``docs`` (located ones in the grid's order, then the
    others as given), and the metric CRS (the city's, unless ``transformer`` is given)."""
    located = np.array([d.located for d in docs], dtype=bool)
    if transformer is None:
        lons = [d.lon for d in docs if d.lon is not None]
        crs = metric_crs_for(float(np.median(lons)) if located.any() else 114.0)
        transformer = crs_transformer(WGS84, crs)
    x, y = _metric(docs, transformer)
    in_cells = PointGrid.of(x[located], y[located], np.flatnonzero(located)).rows
    return np.concatenate((in_cells, np.flatnonzero(~located))).astype(np.intp), transformer


def _field_score(weight: float, positions: IntArray) -> FloatArray:
    # Earlier positions (prefixes of names) rank a little higher.
    score: FloatArray = weight * (1.0 + 1.0 / (1.0 + np.maximum(positions, 0)))
    return score


@dataclass(frozen=True)
class _InField:
    """A token found in one text field, scored by :func:`_field_score` with ``weight``."""

    found: Found
    weight: float


Scored = tuple[RowArray, FloatArray]  # rows and what each adds to relevance


def _scored(part: _InField | Scored) -> Scored:
    if isinstance(part, _InField):
        return part.found.rows, _field_score(part.weight, part.found.positions)
    return part


def _summed(n: int, parts: list[_InField | Scored]) -> Match:
    """Every row (of ``n``) found in any part, with its scores added up in the parts'
    order (the order the dense sums used, so totals are the same to the last bit)."""
    if not parts:
        return Match.none()
    size = sum(p.found.documents if isinstance(p, _InField) else p[0].size for p in parts)
    if size * DENSE_SHARE > n:
        # Many rows: sum into a column, then read the rows back (no sorting). A field
        # found in many documents is scored per distinct value and spread at once.
        hit = np.zeros(n, dtype=bool)
        total = np.zeros(n, dtype=np.float64)
        for part in parts:
            if isinstance(part, _InField) and part.found.documents * DENSE_SHARE > n:
                scores = _field_score(part.weight, part.found.at)
                column = part.found.column(scores, 0.0)
                hit |= column > 0  # every found place scores above 0; + 0.0 changes no sum
                total += column
            else:
                rows, score = _scored(part)
                hit[rows] = True
                total[rows] += score
        found = np.flatnonzero(hit)
        return Match(found, total[found])
    scored = [_scored(p) for p in parts]
    rows = distinct(np.concatenate([r for r, _ in scored])).astype(np.int64, copy=False)
    score = np.zeros(rows.size, dtype=np.float64)
    for part_rows, part_score in scored:
        score[np.searchsorted(rows, part_rows)] += part_score
    return Match(rows, score)


def _words_matches(cols: Columns, words: Iterable[str]) -> Match:
    """Every document's match of any of ``words``, as :func:`_token_matches` would find
    each of them exactly, scored by the first of them in each field."""
    normal = sorted({text.normalise(w) for w in words}, key=len, reverse=True)
    latin = [w for w in normal if text.is_latin(w)]
    parts: list[_InField | Scored] = []
    for name, weight in FIELD_WEIGHTS.items():
        chosen = latin if name in LATIN_ONLY else normal
        if chosen:
            parts.append(_InField(cols.fields[name].find_first(chosen), weight))
    for word in latin:
        postings = cols.pinyin.get(word)
        if postings is not None:
            parts.append((postings, np.full(postings.size, PINYIN_WEIGHT)))
    return _summed(len(cols.docs), parts)


def _token_matches(
    cols: Columns, token: str, *, typo: bool, corrections: list[tuple[str, int]] | None = None
) -> Match:
    """Every document's match of one token: exact, or through typo corrections (fewest
    typos first; each typo halves what the match adds to relevance)."""
    if typo:
        if corrections is None:
            corrections = cols.corrections(token)
        if not corrections:
            return Match.none()
        # A row takes the score of the first correction that finds it.
        found = [cols.matches(alternative, typo=False).rows for alternative, _ in corrections]
        every = np.concatenate(found)
        rows, first = firsts(every)
        penalty = np.concatenate(
            [
                np.full(f.size, PINYIN_WEIGHT * TYPO_PENALTY**typos)
                for f, (_, typos) in zip(found, corrections, strict=True)
            ]
        )
        return Match(rows, penalty[first])
    latin = text.is_latin(token)
    parts: list[_InField | Scored] = []
    for name, weight in FIELD_WEIGHTS.items():
        if name in LATIN_ONLY and not latin:
            continue
        parts.append(_InField(cols.fields[name].find(token), weight))
    postings = cols.pinyin.get(token) if latin else None
    if postings is not None:
        parts.append((postings, np.full(postings.size, PINYIN_WEIGHT)))
    return _summed(len(cols.docs), parts)


def scan_matches(cols: Columns, token: str) -> tuple[BoolArray, FloatArray]:
    """One token's exact matches by reading every value of every field: the reference
    the indexed :meth:`Columns.matches` must agree with (tests only)."""
    n = len(cols.docs)
    hit = np.zeros(n, dtype=bool)
    score = np.zeros(n, dtype=np.float64)
    latin = text.is_latin(token)
    for name, weight in FIELD_WEIGHTS.items():
        if name in LATIN_ONLY and not latin:
            continue
        found = cols.fields[name].scan(token)
        field_hit = found >= 0
        hit |= field_hit
        score += np.where(field_hit, weight * (1.0 + 1.0 / (1.0 + np.maximum(found, 0))), 0.0)
    postings = cols.pinyin.get(token) if latin else None
    if postings is not None:
        hit[postings] = True
        score[postings] += PINYIN_WEIGHT
    return hit, score
