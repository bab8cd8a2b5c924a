"""The embedded search engine: in-process, no server, the default.

Documents live in column arrays; every filter is a boolean mask over them, text matching
is a vectorised substring search per field (``numpy.strings.find``), and distance uses a
grid of cells in the city's metric CRS to shortlist candidates, then exact geodesic metres.

Substring matching rather than word segmentation is deliberate: a one- or two-character
query ("心理", "焦虑") must find every name containing it, which a segmenter that merges
words into longer tokens would miss. Latin tokens also match pinyin and initials, and a
vocabulary of Latin terms (English words, pinyin of name fragments) supplies corrections
for a token that matches nothing as typed, by Meilisearch's typo rules
(:mod:`resourcemap.search.typos`). The index itself is :mod:`.embedded_index`; which of its
rows match a search is :mod:`.matching`, and this module ranks them.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resourcemap import heap, tasks
from resourcemap.search import distances, index_build, intent, ranking
from resourcemap.search.base import Criteria, Hit, SearchDocument, SearchResult, highlights
from resourcemap.search.embedded_index import Columns, build_columns
from resourcemap.search.facets import count_facets, sum_facets
from resourcemap.search.matching import Found, coords, joined, match_rows
from resourcemap.search.typos import TYPOS, TypoTolerance

log = logging.getLogger("resourcemap.search")

# Documents from which the index is built ahead: as soon as they are loaded, with what its
# first searches would work out (every need's matches, the loop's projection). At 200,000
# the build takes about a minute and a need's first search ~20 ms; a district's few hundred
# build in a fraction of a second at the first search, and preparing every need (~80 ms, a
# fixed cost per word) and the loop's projection (~75 ms per thread: each test app has its
# own) would cost more than the searches that ever ask.
AHEAD_AT = 10_000

# Documents from which the large index is built in a process of its own (on Linux), so
# that a worker never holds a build beside the index answering: see
# :func:`.index_build.build_apart`.
APART_AT = 10_000

# Documents edited since the large index was built before it is rebuilt in the background:
# indexing this many takes ~0.2 s, and each edit re-indexes all of them.
COMPACT_AFTER = 256


class EmbeddedBackend:
    """In-process search over column arrays: a large index built once, a small one for edits.

    Building the large index takes seconds (about 17 s for 50,000 documents, mostly pinyin),
    so it runs off the loop (a large one in a process of its own: :mod:`.index_build`) and
    only for a full reload. An edit (upsert or delete) retires the document's row in the
    large index and re-indexes just the documents edited since that index was built, in a
    small second index searched together with it: an edit is searchable at once, and what
    it costs grows with the edits, not with the listing count. When more than
    :data:`COMPACT_AFTER` documents are in the small index, the large one is rebuilt in the
    background; searches keep using both until it is ready.

    ``work`` counts documents indexed (for tests and benchmarks: work, not time).
    """

    name = "embedded"

    def __init__(
        self,
        typos: TypoTolerance = TYPOS,
        *,
        compact_after: int = 0,
        shared_dir: Path | None = None,
    ) -> None:
        self.typos = typos
        # Where the machine's processes share their large indexes (:mod:`.index_shared`);
        # None: each builds its own.
        self.shared_dir = shared_dir
        self.compact_after = compact_after or COMPACT_AFTER
        self._docs: dict[int, SearchDocument] = {}
        self._columns: Columns | None = None  # the large index
        self._edits: Columns | None = None  # the small one: documents in ``_edited``
        self._edited: set[int] = set()
        self._version = 0  # bumped by a full reload: the large index must be rebuilt
        self._building: tuple[int, asyncio.Task[Columns]] | None = None
        self._compacting: asyncio.Task[None] | None = None
        # Edited since the latest build (a first one, a reload's or a compaction's) took
        # its copy of the documents: what it lacks when it is installed.
        self._since_copy: set[int] = set()
        self._soon: asyncio.Task[None] | None = None  # a build no search waits for yet
        # The indexes before a full reload, answering until its index is built.
        self._previous: list[Columns] | None = None
        self.work = IndexWork()

    async def prepare(self) -> None:
        """Nothing to set up in process."""

    @property
    def documents(self) -> Mapping[int, SearchDocument]:
        """The documents indexed, by id (not to be changed)."""
        return self._docs

    async def replace_all(self, documents: list[SearchDocument]) -> None:
        self._docs = {d.id: d for d in documents}
        if len(self._docs) < AHEAD_AT:
            self._previous = None
        elif self._columns is not None:
            # A large index answers as it was until the new one is built, which then takes
            # over at once (an atomic swap, as Meilisearch's): otherwise every search, and
            # every process's /readyz at the same moment, would wait for about a minute.
            # Its edited documents stay edited: an edit meanwhile re-indexes them too.
            self._previous = [s for s in (self._columns, self._edits) if s is not None]
        # (A reload during a reload: the indexes from before the first keep answering.)
        if self._previous is None:
            self._edited.clear()
        self._columns, self._edits = None, None
        self._version += 1

    async def upsert(self, documents: list[SearchDocument]) -> None:
        self._docs.update((d.id, d) for d in documents)
        self._edit({d.id for d in documents})

    async def delete(self, ids: list[int]) -> None:
        for doc_id in ids:
            self._docs.pop(doc_id, None)
        self._edit(set(ids))

    def _edit(self, ids: set[int]) -> None:
        self._since_copy |= ids
        if self._columns is None:
            # Not built yet: the build under way takes the edit when it is installed, as
            # a compaction does. Starting it over instead meant that on a province, where
            # a build takes about a minute, a steady trickle of staff edits kept a process
            # from ever finishing it, and its /readyz at "building".
            if self._previous is not None:
                # The indexes answering during a reload take the edit as a built one would.
                base = self._previous[0]
                base.retire(ids)
                self._edited = (self._edited | ids) & self._docs.keys()
                edits = self._index_edits(base)
                self._previous = [base] if edits is None else [base, edits]
            return
        self._columns.retire(ids)
        self._edited |= ids
        self._edited &= self._docs.keys()  # deleted documents need no row anywhere
        self._edits = self._index_edits(self._columns)
        self._compact_if_many()

    def _compact_if_many(self) -> None:
        if len(self._edited) > self.compact_after and self._compacting is None:
            self._compacting = asyncio.create_task(self._compact())

    def _index_edits(self, base: Columns) -> Columns | None:
        docs = [self._docs[i] for i in sorted(self._edited)]
        self.work.documents += len(docs)
        return build_columns(docs, self.typos, base.to_metric) if docs else None

    def _build_copy(self) -> Coroutine[Any, Any, Columns]:
        """A build of the documents as they are now, off the loop (see :meth:`_install`)."""
        self._since_copy = set()
        docs = sorted(self._docs.values(), key=lambda d: d.id)
        self.work.documents += len(docs)
        self.work.full_builds += 1
        ahead = len(docs) >= AHEAD_AT
        if len(docs) >= APART_AT and index_build.CAN_FORK:
            return index_build.in_own_thread(
                index_build.build_apart, docs, self.typos, ahead, self.shared_dir
            )
        return index_build.in_own_thread(index_build.build, docs, self.typos, ahead)

    def _install(self, built: Columns) -> None:
        """Make ``built`` the large index: the documents edited since it took its copy are
        retired from it and indexed in the small one."""
        built.retire(self._since_copy)
        _warm(built)
        self._columns = built
        self._edited = self._since_copy & self._docs.keys()
        self._edits = self._index_edits(built)

    async def _compact(self) -> None:
        """Rebuild the large index off the loop; edits made meanwhile stay in the small one."""
        version = self._version
        try:
            built = await self._build_copy()
            if self._version != version or self._columns is None:
                return  # a full reload came in: its own build wins
            self._install(built)
            self._settle()
        finally:
            self._compacting = None

    async def columns(self) -> Columns:
        """The large index for the current documents, building it (once, off the loop)."""
        while self._columns is None:
            version = self._version
            if self._building is None or self._building[0] != version:
                self._building = (version, asyncio.create_task(self._build_copy()))
            task = self._building[1]
            try:
                # Shielded: a search given up on (a client gone) does not take the build
                # every other search waits for with it.
                built = await asyncio.shield(task)
            except BaseException:
                if task.done() and self._building is not None and self._building[1] is task:
                    self._building = None  # the build failed: the next search tries again
                raise
            # The first search to wake installs it; the others find it installed.
            if self._columns is None and self._version == version:
                self._install(built)
                self._building = None
                if self._previous is not None:
                    self._previous = None
                    heap.trim()  # the index and documents from before a reload go back
                self._settle()
                self._compact_if_many()
        return self._columns

    def _settle(self) -> None:
        """Keep the garbage collector off a large index from now on (see heap.settle). A
        small one is not worth the full collection this costs (tests install thousands)."""
        if self.large:
            heap.settle()

    @property
    def large(self) -> bool:
        """Whether the documents are many (from :data:`AHEAD_AT`): what needs doing for all
        of them is done ahead, in the background, not in a search."""
        return len(self._docs) >= AHEAD_AT

    @property
    def ready(self) -> bool:
        """Whether a search answers without waiting for the large index to be built."""
        return self._columns is not None or self._previous is not None

    def build_soon(self) -> None:
        """Start building a large index now, in the background: otherwise the first search
        after a start or a full reload waits for it (about a minute for a province's
        200,000 listings). A small one (under :data:`AHEAD_AT`) waits for its first search."""
        if self.large:
            self._start_building()

    def _start_building(self) -> None:
        if self._columns is None and self._soon is None:
            self._soon = asyncio.create_task(self._build_soon(), name="search-index")

    async def _build_soon(self) -> None:
        try:
            await self.columns()
        except index_build.IndexBuildStopped:
            pass  # stopped with this process: nothing to say
        except Exception as exc:  # the next search builds it again, and says why if it fails
            log.warning("building the search index failed (%s)", type(exc).__name__)
        finally:
            self._soon = None

    async def wait_ready(self, timeout: float) -> bool:
        """Whether the large index is ready within ``timeout`` seconds (building it if
        nothing has started it); waiting gives up without stopping the build."""
        self._start_building()
        soon = self._soon
        if soon is not None:
            await asyncio.wait({soon}, timeout=timeout)
        return self.ready

    async def stop_building(self) -> None:
        """Stop waiting for a background build (the process is stopping)."""
        await tasks.cancel(self._soon)

    async def segments(self) -> list[Columns]:
        """The indexes a search reads: the large one, and the edits' when there are any;
        during a large index's full reload, the ones from before it."""
        if self._columns is None and self._previous is not None:
            self._start_building()
            return self._previous
        base = await self.columns()
        return [base] if self._edits is None else [base, self._edits]

    async def search(self, criteria: Criteria) -> SearchResult:
        return search_segments(await self.segments(), criteria)


def _warm(built: Columns) -> None:
    """Ready a large index's projection for the searches' thread (the event loop's). PROJ
    sets a transformer up once per thread: ~75 ms, which the first search near a point
    would pay."""
    if len(built.docs) >= AHEAD_AT:
        built.to_metric.transform(114.0, 22.5)


@dataclass
class IndexWork:
    """Documents indexed, and how many times every document was (full builds)."""

    documents: int = 0
    full_builds: int = 0


def search_columns(cols: Columns, criteria: Criteria) -> SearchResult:
    return search_segments([cols], criteria)


def search_segments(
    segments: list[Columns], criteria: Criteria, *, every_distance: bool = False
) -> SearchResult:
    """Answer from several indexes as from one: every index's matches ranked together.
    ``every_distance`` computes geodesic metres for every match (the reference)."""
    q, plan, point = criteria.query, criteria.plan, criteria.query.point
    # Nearer first: only the matches that may reach the page need geodesic metres.
    settle = not every_distance and point is not None and q.effective_sort in ("best", "nearest")
    found = match_rows(segments, criteria, exact=not settle)
    no_facets: dict[str, dict[str, int]] = {"kind": {}, "service": {}}
    if not found:
        return SearchResult(hits=[], total=0, facets=no_facets)
    total = sum(f.rows.size for f in found)
    if criteria.wanted == "total":  # nothing ranked: the count is the answer
        return SearchResult(hits=[], total=total, facets=no_facets)

    first = q.offset + q.limit
    counted = found  # every match: the total and the facets
    distance = joined([f.distance for f in found])
    not_a_walk = joined([~f.cols.walk[f.rows] for f in found])
    if settle:
        # Only the matches that may reach the page are settled and ranked.
        lead = distances.may_lead(distance, not_a_walk, first, max(f.margin for f in found))
        if lead is not None:
            found = _kept(found, lead)
            distance, not_a_walk = distance[lead], not_a_walk[lead]
    boost = joined(
        [f.cols.boosts(criteria.open_now_ids, criteria.bookable_ids)[f.rows] for f in found]
    )
    score = joined([f.score for f in found])
    if settle and point is not None:
        distance = distances.settle_for_page(
            q.effective_sort,
            distance,
            joined([f.exact if f.exact is not None else np.ones(f.rows.size, bool) for f in found]),
            first,
            boost,
            not_a_walk,
            coords(found),
            point,
            max(f.margin for f in found),
        )
    order = ranking.order(
        q.effective_sort,
        ids=joined([f.cols.ids[f.rows] for f in found]),
        relevance=score,
        boost=boost,
        distance_m=None if point is None else distance,
        not_a_walk=not_a_walk,
        first=first,
    )
    # Where each index's matches begin in the joined arrays: a hit's index and row.
    starts = list(itertools.accumulate((f.rows.size for f in found), initial=0))
    tokens = plan.tokens
    hits = []
    for i in order[q.offset :].tolist():
        k = bisect.bisect_right(starts, i) - 1
        doc = found[k].cols.docs[int(found[k].rows[i - starts[k]])]
        hits.append(
            Hit(
                id=doc.id,
                document=doc,
                score=float(score[i]),
                distance_m=None if np.isnan(distance[i]) else float(distance[i]),
                highlights=highlights(doc, tokens),
                reasons=intent.reasons(doc.kind, doc.services, plan),
            )
        )
    if criteria.wanted != "page":
        return SearchResult(hits=hits, total=total, facets=no_facets)
    parts = [count_facets(f.cols, f.rows) for f in counted]
    return SearchResult(hits=hits, total=total, facets=sum_facets(parts))


def _kept(found: list[Found], positions: npt.NDArray[np.intp]) -> list[Found]:
    """Every index's matches at ``positions`` of their joined arrays (sorted)."""
    kept = []
    start = 0
    for f in found:
        mine = positions[(positions >= start) & (positions < start + f.rows.size)] - start
        start += f.rows.size
        exact = None if f.exact is None else f.exact[mine]
        kept.append(replace(f, rows=f.rows[mine], score=f.score[mine],
                            distance=f.distance[mine], exact=exact))  # fmt: skip
    return kept
