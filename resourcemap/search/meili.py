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
Area-served resources (no ``_geo``) whose area contains the point have distance 0 and sort
first (``distance_tier``). Totals and facets come from page-based requests, which
Meilisearch counts exhaustively (offset/limit requests only estimate).

Highlights. Chinese matches happen in the n-gram fields, so ``name_zh`` is marked here with
``text.highlight`` (as the embedded engine does); ``name_en`` comes marked by Meilisearch,
typo matches included, between private-use tags that become ``<mark>`` after escaping.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import meilisearch
from anyio import to_thread
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)
from meilisearch.index import Index

from geo.distance import geodesic_m
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
    TAGS,
    from_meili,
    plan_query,
    to_meili,
)
from resourcemap.search.typos import TYPOS

T = TypeVar("T")

RADIUS_MARGIN = 1.01  # sphere vs WGS-84 ellipsoid differ by under 0.6%
BAND_LIMIT = 1000
BATCH_SIZE = 1000
# Private-use characters as highlight tags: they survive escaping and never occur in names.
PRE_TAG, POST_TAG = "\ue000", "\ue001"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _in(field: str, values: Iterable[str]) -> str:
    return f"{field} IN [{', '.join(values)}]"


def _ids(ids: Iterable[int]) -> str:
    return _in("id", (str(i) for i in sorted(ids)))


def _geo_radius(lat: float, lon: float, metres: int) -> str:
    return f"_geoRadius({lat!r}, {lon!r}, {metres})"


def base_filters(criteria: Criteria) -> list[str]:
    """The AND clauses every request of one query shares."""
    q = criteria.query
    clauses = [f"status = {_quote(str(q.status))}"]
    if q.kind:
        clauses.append(_in("kind", (_quote(str(k)) for k in q.kind)))
    for field, value in zip(TAGS, (q.service, q.audience, q.language, q.mode), strict=True):
        if value is not None:
            clauses.append(f"{field} = {_quote(str(value))}")
    if q.fee is not None:
        clauses.append(f"fee = {_quote(str(q.fee))}")
    if criteria.open_ids is not None:
        clauses.append(_ids(criteria.open_ids))
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
        located = _geo_radius(lat, lon, math.ceil(radius_m * RADIUS_MARGIN))
        if excluded:
            located += f" AND NOT {_ids(excluded)}"
    codes = sorted(area_codes)
    if not codes:
        return located
    served = f"located = false AND {_in('service_area_codes', map(_quote, codes))}"
    return f"({located}) OR ({served})"


def _page(offset: int, limit: int) -> tuple[int, int, int]:
    """The smallest Meilisearch page (``page``, ``hitsPerPage``) holding offset..offset+limit,
    and the hits to skip in it. Page-based requests count totals and facets exhaustively."""
    size = next(p for p in range(limit, offset + limit + 1) if offset % p + limit <= p)
    return offset // size + 1, size, offset % size


def _marked(formatted: object, original: str) -> str | None:
    """Meilisearch's highlighted text as safe HTML: escape first, then tags become marks."""
    if not isinstance(formatted, str) or PRE_TAG not in formatted:
        return None
    if PRE_TAG in original or POST_TAG in original:
        return None
    return html.escape(formatted).replace(PRE_TAG, "<mark>").replace(POST_TAG, "</mark>")


def _uncount(facets: dict[str, dict[str, int]], doc: SearchDocument) -> None:
    for facet, values in (("kind", (doc.kind,)), ("service", doc.services)):
        for value in values:
            left = facets[facet].get(value, 0) - 1
            if left > 0:
                facets[facet][value] = left
            else:
                facets[facet].pop(value, None)


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
        created = self.client.create_index(self.index_uid, {"primaryKey": "id"})
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
        def run() -> None:
            index = self._index()
            # Settings first: a server that lost its data would otherwise recreate the index
            # with defaults (nothing filterable). Unchanged settings cost no reindexing.
            self._configure(index)
            cleared = index.delete_all_documents().task_uid
            self._wait(index, [cleared, *self._add(index, documents)])

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
            self._wait(index, [index.delete_documents(filter=_ids(ids)).task_uid])

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
        outer = _geo_radius(lat, lon, math.ceil(radius_m * RADIUS_MARGIN))
        inner = _geo_radius(lat, lon, math.floor(radius_m / RADIUS_MARGIN))
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
            t.need is None and t.latin and (t.fuzzy_need or TYPOS.allowed(t.text))
            for t in plan.terms
        )
        if result.total == 0 and typo_able:
            # As the embedded engine: typos only when nothing matches as typed. Meilisearch
            # alone would always add them, and pinyin is dense (yunxi 云溪 / yunqi 云栖).
            result = self._search_for(criteria, plan_query(plan, exact=False))
        return result

    def _search_for(self, criteria: Criteria, q: str) -> SearchResult:
        query = criteria.query
        index = self._index()
        filters = base_filters(criteria)
        page, per_page, skip = _page(query.offset, query.limit)
        body: dict[str, Any] = {
            "facets": ["kind", "services"],
            "page": page,
            "hitsPerPage": per_page,
            "attributesToHighlight": ["name_en"],
            "highlightPreTag": PRE_TAG,
            "highlightPostTag": POST_TAG,
            "showRankingScore": True,
            "matchingStrategy": "all",
        }
        point = query.point
        if point is not None:
            lat, lon = point
            excluded = []
            if query.radius_m is not None:
                excluded = self._beyond_radius(index, q, filters, lat, lon, query.radius_m)
            clause = point_clause(lat, lon, query.radius_m, excluded, criteria.point_area_codes)
            filters = [*filters, clause]
            if query.effective_sort == "distance":
                body["sort"] = ["distance_tier:asc", f"_geoPoint({lat!r},{lon!r}):asc"]
        response = index.search(q, {"filter": filters, **body})
        return self._result(response, criteria, skip)

    def _result(self, response: dict[str, Any], criteria: Criteria, skip: int) -> SearchResult:
        query = criteria.query
        raw = response["hits"][skip : skip + query.limit]
        docs = [from_meili(h) for h in raw]
        total = int(response.get("totalHits", response.get("estimatedTotalHits", 0)))
        counts = response.get("facetDistribution") or {}
        facets = {"kind": dict(counts.get("kind", {})), "service": dict(counts.get("services", {}))}
        point = query.point
        # With a point, area-served hits matched through their area: distance 0.
        distances: list[float | None] = [None if point is None else 0.0 for _ in docs]
        if point is not None:
            located = [
                (i, d.lat, d.lon)
                for i, d in enumerate(docs)
                if d.lat is not None and d.lon is not None
            ]
            metres = geodesic_m(*point, [c[1] for c in located], [c[2] for c in located])
            for (i, _, _), m in zip(located, metres, strict=True):
                distances[i] = float(m)
        plan = criteria.plan
        tokens = plan.tokens
        hits = []
        for h, doc, distance in zip(raw, docs, distances, strict=True):
            if query.radius_m is not None and distance is not None and distance > query.radius_m:
                # Changed since the band request (or beyond BAND_LIMIT): drop and recount.
                total -= 1
                _uncount(facets, doc)
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
        if query.effective_sort == "distance":
            # Meilisearch orders on a sphere; the page follows the ellipsoid (stable sort).
            hits.sort(key=lambda hit: hit.distance_m or 0.0)
        return SearchResult(hits=hits, total=total, facets=facets)
