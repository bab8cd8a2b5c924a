"""The Meilisearch adapter: the search port served by a Meilisearch server.

How text, needs and documents are spelt for the index is :mod:`.meili_index`; this module
sends requests and reads answers.

Typos. Latin tokens are first sent as one-word phrases, which match exactly; only when
nothing matches is the query sent again as plain words, with typos tolerated by the index's
``typoTolerance`` — the thresholds of :data:`resourcemap.search.typos.TYPOS` (one typo from
5 letters, two from 9, a first-letter typo counting as two), which the embedded engine
applies too — and a word that is a typo of a need word sent as that need. Meilisearch alone
would add typo matches to exact ones, and pinyin is dense: "yunxi" (云溪) would find yunqi
(云栖).

Geometry. ``_geoRadius`` uses a sphere, so the filter widens the radius by 1% and a first
request lists matches in the band where sphere and ellipsoid may disagree; those beyond
the exact geodesic radius are excluded by id, so totals, facets and pages stay exact.
Around a point the order is :mod:`.ranking`'s, computed here as in the embedded engine:
area-served matches (no ``_geo``, their area containing the point) come in one request,
places nearest-first in pages until no farther place could still rank into the page
(boosts shrink a distance by at most :data:`~.ranking.MIN_FACTOR`). Totals and facets
come from page-based requests, which Meilisearch counts exhaustively (offset/limit
requests only estimate).

Highlights. Chinese matches happen in the n-gram fields, so ``name_zh`` is marked here with
``text.highlight`` (as the embedded engine does); ``name_en`` comes marked by Meilisearch,
typo matches included, between private-use tags that become ``<mark>`` after escaping.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import meilisearch
import numpy as np
from anyio import to_thread
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)
from meilisearch.index import Index

from geo.distance import geodesic_m
from resourcemap.search import meili_query as mq
from resourcemap.search import ranking
from resourcemap.search.base import (
    Criteria,
    Hit,
    SearchDocument,
    SearchResult,
    SearchUnavailable,
    highlights,
)
from resourcemap.search.intent import reasons
from resourcemap.search.meili_index import (
    SETTINGS,
    from_meili,
    plan_query,
    to_meili,
)
from resourcemap.search.ranking import MIN_FACTOR
from resourcemap.search.typos import TYPOS

T = TypeVar("T")

BAND_LIMIT = 1000
# Places fetched nearest-first per request when ranking around a point; most answers need one.
RERANK_PAGE = 100
MAX_PAGE = 1000
BATCH_SIZE = 1000
# Private-use characters as highlight tags: they survive escaping and never occur in names.
PRE_TAG, POST_TAG = "\ue000", "\ue001"


def _marked(formatted: object, original: str) -> str | None:
    """Meilisearch's highlighted text as safe HTML: escape first, then tags become marks."""
    if not isinstance(formatted, str) or PRE_TAG not in formatted:
        return None
    if PRE_TAG in original or POST_TAG in original:
        return None
    return html.escape(formatted).replace(PRE_TAG, "<mark>").replace(POST_TAG, "</mark>")


def _guarded(call: Callable[[], T]) -> T:
    """Run a client call; outages become :class:`SearchUnavailable` (never with the key)."""
    try:
        return call()
    except (MeilisearchCommunicationError, MeilisearchTimeoutError, OSError) as exc:
        # requests' exceptions are OSErrors; their messages name the URL, never headers.
        raise SearchUnavailable(f"Meilisearch unreachable ({type(exc).__name__})") from exc
    except MeilisearchApiError as exc:
        status = exc.status_code
        if status >= 500 or status in (401, 403) or exc.code == "index_not_found":
            raise SearchUnavailable(f"Meilisearch answered {status} ({exc.code})") from exc
        raise


# The index a full reload fills before it swaps places with the live one.
STAGING_SUFFIX = "_reload"


class MeiliBackend:
    """:class:`~resourcemap.search.base.SearchBackend` on a Meilisearch index.

    The official client is synchronous (``requests``); every call runs in a worker thread.
    ``timeout`` bounds each HTTP request, ``task_timeout`` each wait for an indexing task.
    """

    name = "meilisearch"

    def __init__(
        self,
        url: str,
        api_key: str | None,
        index_uid: str = "resources",
        *,
        timeout: float = 2.0,
        task_timeout: float = 60.0,
        client: meilisearch.Client | None = None,
    ) -> None:
        if client is None:
            # requests takes float seconds; the client's annotation says int.
            client = meilisearch.Client(url, api_key, timeout=timeout)  # type: ignore[arg-type]
        self.client = client
        self.index_uid = index_uid
        self.task_timeout = task_timeout

    def __repr__(self) -> str:
        return f"MeiliBackend({self.client.config.url!r}, index_uid={self.index_uid!r})"

    def _index(self) -> Index:
        # A fresh Index per operation: the client's request helper rewrites its header
        # dict on every call, so one shared across worker threads would race.
        return self.client.index(self.index_uid)

    async def _run(self, call: Callable[[], T]) -> T:
        return await to_thread.run_sync(_guarded, call)

    def _wait(self, index: Index, uids: Iterable[int], *, tolerate: str = "") -> None:
        for uid in uids:
            task = index.wait_for_task(uid, timeout_in_ms=int(self.task_timeout * 1000))
            code = (task.error or {}).get("code")
            if task.status != "succeeded" and not (tolerate and code == tolerate):
                raise SearchUnavailable(f"Meilisearch task {uid} {task.status} ({code})")

    def _configure(self, index: Index) -> None:
        created = self.client.create_index(index.uid, {"primaryKey": "id"})
        self._wait(index, [created.task_uid], tolerate="index_already_exists")
        self._wait(index, [index.update_settings(dict(SETTINGS)).task_uid])

    async def prepare(self) -> None:
        await self.apply_settings()

    async def apply_settings(self) -> None:
        """Create the index if missing and apply :data:`SETTINGS`; waits until applied."""
        await self._run(lambda: self._configure(self._index()))

    def _add(self, index: Index, documents: list[SearchDocument]) -> list[int]:
        bodies = [to_meili(d) for d in documents]
        tasks = index.add_documents_in_batches(bodies, BATCH_SIZE, primary_key="id")
        return [t.task_uid for t in tasks]

    async def replace_all(self, documents: list[SearchDocument]) -> None:
        """Every document anew, atomically (#22): they go into a staging index with the same
        settings, which then swaps places with the live one — a search during a reload sees
        the old documents or the new, never an empty or half-filled index."""

        def run() -> None:
            index = self._index()
            # Settings first: a server that lost its data would otherwise recreate the index
            # with defaults (nothing filterable). Unchanged settings cost no reindexing.
            self._configure(index)
            staging = self.client.index(f"{self.index_uid}{STAGING_SUFFIX}")
            # What an interrupted reload left behind starts afresh.
            dropped = self.client.delete_index(staging.uid).task_uid
            self._wait(staging, [dropped], tolerate="index_not_found")
            self._configure(staging)
            self._wait(staging, self._add(staging, documents))
            swapped = self.client.swap_indexes([{"indexes": [self.index_uid, staging.uid]}])
            self._wait(index, [swapped.task_uid])
            self._wait(staging, [self.client.delete_index(staging.uid).task_uid])

        await self._run(run)

    async def upsert(self, documents: list[SearchDocument]) -> None:
        def run() -> None:
            index = self._index()
            self._wait(index, self._add(index, documents))

        if documents:
            await self._run(run)

    async def delete(self, ids: list[int]) -> None:
        def run() -> None:
            index = self._index()
            self._wait(index, [index.delete_documents(filter=mq.ids_in(ids)).task_uid])

        if ids:
            await self._run(run)

    async def search(self, criteria: Criteria) -> SearchResult:
        if criteria.open_ids is not None and not criteria.open_ids:
            return SearchResult(hits=[], total=0, facets={"kind": {}, "service": {}})
        return await self._run(lambda: self._search(criteria))

    def _beyond_radius(
        self, index: Index, q: str, filters: list[str], lat: float, lon: float, radius_m: float
    ) -> list[int]:
        """Ids of matches the widened sphere radius admits but the exact radius does not."""
        outer = mq.geo_radius(lat, lon, math.ceil(radius_m * mq.RADIUS_MARGIN))
        inner = mq.geo_radius(lat, lon, math.floor(radius_m / mq.RADIUS_MARGIN))
        body = {
            "filter": [*filters, f"{outer} AND NOT {inner}"],
            "limit": BAND_LIMIT,
            "attributesToRetrieve": ["id", "_geo"],
            "matchingStrategy": "all",
        }
        hits = [h for h in index.search(q, body)["hits"] if h.get("_geo")]
        metres = geodesic_m(
            lat,
            lon,
            [float(h["_geo"]["lat"]) for h in hits],
            [float(h["_geo"]["lng"]) for h in hits],
        )
        return sorted(int(h["id"]) for h, m in zip(hits, metres, strict=True) if m > radius_m)

    def _search(self, criteria: Criteria) -> SearchResult:
        plan = criteria.plan
        result = self._search_for(criteria, plan_query(plan, exact=True))
        typo_able = any(
            t.need is None and ((t.latin and (t.fuzzy_need or TYPOS.allowed(t.text))) or t.sounds)
            for t in plan.terms
        )
        if result.total == 0 and typo_able:
            # As the embedded engine: typos only when nothing matches as typed. Meilisearch
            # alone would always add them, and pinyin is dense (yunxi 云溪 / yunqi 云栖).
            index, filters = self._index(), mq.base_filters(criteria)
            # hitsPerPage 0: the count only, exhaustive.
            plan = mq.unheard(
                plan, lambda q: index.search(q, {"filter": filters, "hitsPerPage": 0})["totalHits"]
            )
            result = self._search_for(criteria, plan_query(plan, exact=False))
        return result

    def _body(self, criteria: Criteria, page: int, per_page: int) -> dict[str, Any]:
        return {
            "facets": ["kind", "services"],
            "page": page,
            "hitsPerPage": per_page,
            "attributesToHighlight": ["name_en"],
            "highlightPreTag": PRE_TAG,
            "highlightPostTag": POST_TAG,
            "showRankingScore": True,
            "matchingStrategy": "all",
        }

    def _search_for(self, criteria: Criteria, q: str) -> SearchResult:
        query = criteria.query
        index = self._index()
        filters = mq.base_filters(criteria)
        point = query.point
        if point is None or query.effective_sort == "relevance":
            page, per_page, skip = mq.page_of(query.offset, query.limit)
            if point is not None:
                filters = [*filters, self._point_clause(index, q, filters, criteria)]
            response = index.search(q, {"filter": filters, **self._body(criteria, page, per_page)})
            raw = response["hits"][skip : skip + query.limit]
            total, facets = mq.counts(response)
            return self._result(raw, total, facets, criteria)
        return self._ranked(index, q, filters, criteria)

    def _point_clause(self, index: Index, q: str, filters: list[str], criteria: Criteria) -> str:
        query = criteria.query
        lat, lon = query.point or (0.0, 0.0)
        excluded = []
        if query.radius_m is not None:
            excluded = self._beyond_radius(index, q, filters, lat, lon, query.radius_m)
        return mq.point_clause(lat, lon, query.radius_m, excluded, criteria.point_area_codes)

    def _ranked(self, index: Index, q: str, filters: list[str], criteria: Criteria) -> SearchResult:
        """Matches around a point in :mod:`.ranking` order: area-served ones in one request,
        places nearest-first in pages until no place further away could still rank in."""
        query = criteria.query
        lat, lon = query.point or (0.0, 0.0)
        want = query.offset + query.limit
        excluded = []
        if query.radius_m is not None:
            excluded = self._beyond_radius(index, q, filters, lat, lon, query.radius_m)
        located = mq.point_clause(lat, lon, query.radius_m, excluded, ())
        total, facets = 0, dict[str, dict[str, int]](kind={}, service={})
        raw: list[dict[str, Any]] = []
        codes = sorted(criteria.point_area_codes)
        if codes and not criteria.located_only:
            served = f"located = false AND {mq.in_list('service_area_codes', map(mq.quote, codes))}"
            body = self._body(criteria, 1, BAND_LIMIT)
            response = index.search(q, {"filter": [*filters, served], **body})
            raw += response["hits"]
            total, facets = mq.add_counts((total, facets), mq.counts(response))
        # Meilisearch measures on a sphere: allow for its error when bounding the rest.
        slack = MIN_FACTOR if query.effective_sort == "best" else 1.0
        page, per_page = 1, min(MAX_PAGE, max(RERANK_PAGE, want))
        while True:
            body = self._body(criteria, page, per_page)
            body["sort"] = [f"_geoPoint({lat!r},{lon!r}):asc"]
            response = index.search(q, {"filter": [*filters, located], **body})
            hits = response["hits"]
            raw += hits
            if page == 1:
                total, facets = mq.add_counts((total, facets), mq.counts(response))
            places = [h for h in raw if h.get("_geo")]
            if len(hits) < per_page or not places:
                break
            last = hits[-1].get("_geo") or {}
            reach = geodesic_m(lat, lon, [float(last["lat"])], [float(last["lng"])])[0]
            ranked = self._rank(raw, criteria)
            if len(ranked) >= want and ranked[want - 1][1] < reach / mq.RADIUS_MARGIN * slack:
                break
            page += 1
        ranked = self._rank(raw, criteria)
        kept = []
        for hit, _, distance in ranked:
            if query.radius_m is not None and distance is not None and distance > query.radius_m:
                # Changed since the band request (or beyond BAND_LIMIT): drop and recount.
                total -= 1
                mq.uncount(facets, from_meili(hit))
                continue
            kept.append(hit)
        return self._result(kept[query.offset : want], total, facets, criteria)

    def _rank(
        self, raw: list[dict[str, Any]], criteria: Criteria
    ) -> list[tuple[dict[str, Any], float, float | None]]:
        """Hits in ranking order, with their ranking metres and distance."""
        query = criteria.query
        docs = [from_meili(h) for h in raw]
        distance = np.array(mq.distances(docs, query.point), dtype=np.float64)
        walk = np.array([d.reach == "walk" for d in docs], dtype=bool)
        boost = ranking.boosts(
            np.array([d.id in criteria.open_now_ids for d in docs], dtype=bool),
            np.array([d.id in criteria.bookable_ids for d in docs], dtype=bool),
            np.array([d.fee == "free" for d in docs], dtype=bool),
        )
        ids = np.array([d.id for d in docs], dtype=np.int64)
        relevance = np.array([float(h.get("_rankingScore", 0.0)) for h in raw])
        order = ranking.order(
            query.effective_sort,
            ids=ids,
            relevance=relevance,
            boost=boost,
            distance_m=distance,
            not_a_walk=~walk,
        )
        shown = boost if query.effective_sort == "best" else np.zeros_like(boost)
        metres = ranking.rank_metres(distance, ~walk, shown)
        return [
            (raw[i], float(metres[i]), None if np.isnan(distance[i]) else float(distance[i]))
            for i in order
        ]

    def _result(
        self,
        raw: list[dict[str, Any]],
        total: int,
        facets: dict[str, dict[str, int]],
        criteria: Criteria,
    ) -> SearchResult:
        query = criteria.query
        docs = [from_meili(h) for h in raw]
        distances = mq.distances(docs, query.point)
        plan = criteria.plan
        tokens = plan.tokens
        hits = []
        for h, doc, distance in zip(raw, docs, distances, strict=True):
            if query.radius_m is not None and distance is not None and distance > query.radius_m:
                total -= 1
                mq.uncount(facets, doc)
                continue
            marks = highlights(doc, tokens)
            # Meilisearch also marks words it matched with a typo.
            name_en = _marked((h.get("_formatted") or {}).get("name_en"), doc.name_en)
            if name_en is not None:
                marks["name_en"] = name_en
            hits.append(
                Hit(
                    id=doc.id,
                    document=doc,
                    score=float(h.get("_rankingScore", 0.0)),
                    distance_m=distance,
                    highlights=marks,
                    reasons=reasons(doc.kind, doc.services, plan),
                )
            )
        return SearchResult(hits=hits, total=total, facets=facets)
