"""The embedded search engine: in-process, no server, the default.

Documents live in column arrays; every filter is a boolean mask over them, text matching
is a vectorised substring search per field (``numpy.strings.find``), and distance uses a
KD-tree in the city's metric CRS to shortlist candidates, then exact geodesic metres.

Substring matching rather than word segmentation is deliberate: a one- or two-character
query ("心理", "焦虑") must find every name containing it, which a segmenter that merges
words into longer tokens would miss. Latin tokens also match pinyin and initials, and a
vocabulary of Latin terms (English words, pinyin of name fragments) supplies corrections
for a token that matches nothing as typed, by Meilisearch's typo rules
(:mod:`resourcemap.search.typos`). The index itself is :mod:`.embedded_index`.
"""

from __future__ import annotations

import asyncio

import numpy as np
import numpy.typing as npt

from geo.distance import geodesic_m
from resourcemap.search import intent, ranking
from resourcemap.search.base import Criteria, Hit, SearchDocument, SearchResult, highlights
from resourcemap.search.embedded_index import Columns, build_columns
from resourcemap.search.typos import TYPOS, TypoTolerance

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# KD-tree shortlist margin: projection scale error is far below 0.5% near the central meridian.
SHORTLIST_MARGIN = 1.005


class EmbeddedBackend:
    """In-process search over column arrays; rebuilt lazily after changes.

    Rebuilding takes about a second for 10,000 documents (mostly pinyin), so it runs in a
    worker thread: searches wait for the fresh index, the rest of the app keeps answering.
    """

    name = "embedded"

    def __init__(self, typos: TypoTolerance = TYPOS) -> None:
        self.typos = typos
        self._docs: dict[int, SearchDocument] = {}
        self._columns: Columns | None = None
        self._version = 0
        self._building: tuple[int, asyncio.Task[Columns]] | None = None

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

    async def columns(self) -> Columns:
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


def _filter_mask(cols: Columns, criteria: Criteria) -> BoolArray:
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
    cols: Columns, plan: intent.QueryPlan, rows: npt.NDArray[np.intp]
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


def search_columns(cols: Columns, criteria: Criteria) -> SearchResult:
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


def _facets(cols: Columns, mask: BoolArray) -> dict[str, dict[str, int]]:
    kinds, counts = np.unique(cols.kind[mask], return_counts=True)
    services = {
        name: int(np.count_nonzero(column & mask)) for name, column in cols.tags["services"].items()
    }
    return {
        "kind": {str(k): int(c) for k, c in zip(kinds, counts, strict=True)},
        "service": {k: v for k, v in sorted(services.items()) if v},
    }
