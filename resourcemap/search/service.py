# Over 400 lines: one service object keeps the indexes, timetable and their caches in step.
"""Search as the app uses it: keeps indexes in step with listings and answers queries.

One :class:`SearchService` per app process. It owns the embedded engine (always present:
it is the default backend and the fallback when Meilisearch is unreachable), follows the
listing change log so that every process sees edits made by any other, resolves which
areas contain a query point, and which resources are open at the requested time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import BaseORMException

from geo.locate import AreaLocator, AreaRecord
from resourcemap import heap, tasks
from resourcemap.areas import AreasVersion, areas_version
from resourcemap.dataset import synthetic_label
from resourcemap.errors import Unavailable
from resourcemap.listings import opening
from resourcemap.models import Area, BookingPolicy
from resourcemap.search import changes, index_shared
from resourcemap.search.base import (
    Criteria,
    Hit,
    SearchBackend,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    Wanted,
    Widening,
)
from resourcemap.search.documents import load_documents
from resourcemap.search.embedded import EmbeddedBackend
from resourcemap.search.sync import OutboxSync
from resourcemap.settings import Settings
from resourcemap.vocab import Fee, ResourceKind

log = logging.getLogger("resourcemap.search")
# "Nothing within 1 km; showing within 3 km": the distances a search widens to, in turn.
WIDEN_STEPS_M = (500.0, 1000.0, 3000.0, 5000.0, 10_000.0, 20_000.0)
# Booking policies change without a listing change; look again at least this often.
BOOKABLE_REFRESH_S = 60.0
CRISIS_LINES = 5
# Next openings kept per process (a few MB): more than the listings many pages show.
OPENS_KEPT = 20_000
Opening = tuple[dt.datetime, dt.datetime, dt.datetime | None]  # valid from, until; opens


class SearchService:
    def __init__(
        self,
        tz: ZoneInfo,
        *,
        primary: SearchBackend | None = None,
        follow_interval: float = 1.0,
        shared_index_dir: Path | None = None,
    ) -> None:
        self.tz = tz
        self.embedded = EmbeddedBackend(shared_dir=shared_index_dir)
        self.primary: SearchBackend = primary if primary is not None else self.embedded
        self.follow_interval = follow_interval
        self._seq = -1
        self._gaps = changes.Gaps()  # numbers below ``_seq`` not seen yet
        self._checked_at = float("-inf")
        self._locator = AreaLocator([])
        self._areas_at: AreasVersion | None = None  # what the areas were at when read
        self._timetable: opening.Timetable | None = None
        self._open_cache: tuple[tuple[int, int], frozenset[int]] | None = None
        # Each closed place's next opening, and from when until when it holds (opens_next).
        self._opens_cache: tuple[opening.Timetable, dict[int, Opening]] | None = None
        self._degraded_logged = False
        self.dataset_label: str | None = None
        self.bookable_ids: frozenset[int] = frozenset()
        self._codes_at: tuple[tuple[float, float], frozenset[str]] | None = None
        self._bookable_at = float("-inf")
        self._reloading: asyncio.Task[None] | None = None  # a reload after a bulk change

    @property
    def backend_name(self) -> str:
        return self.primary.name

    async def refresh(self) -> None:
        """Load every document, area and timetable from the database."""
        seq = await changes.latest_seq()
        # Changes numbered before ``seq`` whose transactions are still open are not in what
        # is read now: asked for again until they come (see changes.Gaps).
        gaps = changes.Gaps()
        gaps.missed(await changes.missing_below(seq))
        await self.embedded.replace_all(await load_documents(known=self.embedded.documents))
        heap.trim()  # the rows the documents were read from
        await self._load_areas()
        self._set_timetable(await opening.load_timetable())
        # After the hours, not beside them: what reading a province's hours and building
        # its index each hold for a while (~0.1 and ~0.3 GB) added up to a worker's peak.
        self.embedded.build_soon()
        await self._load_bookable()
        self.dataset_label = await synthetic_label()
        self._seq, self._gaps = seq, gaps

    async def _load_areas(self) -> None:
        """Which areas hold a point, read again only when the areas changed: a listings
        import logs a full reload too, and reading a province's 27,400 boundaries and
        shaping them held the event loop ~1.7 s, the longest wait of any search then."""
        version = await areas_version()
        if version == self._areas_at:
            return
        areas = await Area.all().values_list("code", "parent_id", "boundary")
        self._locator = AreaLocator(AreaRecord(c, p, b) for c, p, b in areas)
        self._areas_at = version
        self._codes_at = None

    def _reload_in_background(self) -> None:
        """Reload everything after a bulk change (an import) while searches answer from the
        indexes as they are: reading a province's documents again takes ~30 s, which the
        search that noticed the change waited for (33 s at 200,000 listings). Once done,
        edits made meanwhile follow as usual."""
        if self._reloading is None:
            self._reloading = asyncio.create_task(self._reload(), name="search-reload")

    async def _reload(self) -> None:
        try:
            await self.refresh()
        except (OSError, BaseORMException, Unavailable) as exc:  # the next follow tries again
            log.warning("reloading search after a bulk change failed (%s)", type(exc).__name__)
        finally:
            self._reloading = None

    async def stop_reloading(self) -> None:
        """Stop a background reload (the process is stopping)."""
        await tasks.cancel(self._reloading)

    async def _load_bookable(self) -> None:
        ids: list[Any] = await BookingPolicy.filter(enabled=True).values_list(
            "resource_id", flat=True
        )
        bookable = frozenset(int(i) for i in ids)
        if bookable != self.bookable_ids:  # the same object while nothing changed: see among()
            self.bookable_ids = bookable
        self._bookable_at = time.monotonic()

    def _set_timetable(self, timetable: opening.Timetable) -> None:
        self._timetable = timetable
        self._open_cache = self._opens_cache = None

    async def follow(self, *, force: bool = False) -> None:
        """Apply changes other processes logged since we last looked (at most once per
        ``follow_interval`` seconds unless forced)."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.follow_interval:
            return
        self._checked_at = now
        if self._seq < 0:
            await self.refresh()
            return
        if now - self._bookable_at > BOOKABLE_REFRESH_S:
            await self._load_bookable()
        pending = await changes.since(self._seq, self._gaps)
        if not pending.anything:
            self._seq = pending.seq  # numbers of changes that carry nothing to apply
            return
        if pending.rebuild:
            if self.embedded.large:
                self._reload_in_background()
            else:
                await self.refresh()
            return
        if pending.deletes:
            await self.embedded.delete(sorted(pending.deletes))
        if pending.upserts:
            await self.embedded.upsert(await load_documents(pending.upserts))
        # Only the changed resources' hours: reading every one's again cost each process
        # ~8 s of CPU and ~0.9 GB for a moment per edit at 200,000 listings.
        changed = pending.upserts | pending.deletes
        fresh = await opening.load_timetable(changed)
        timetable = self._timetable
        self._set_timetable(fresh if timetable is None else timetable.replaced(changed, fresh))
        await self._load_bookable()
        self._seq = pending.seq

    def open_ids(self, at: dt.datetime) -> frozenset[int]:
        """Resources open at ``at``; hours have minute resolution, so a minute is cached."""
        if self._timetable is None:
            return frozenset()
        minute = (int(at.timestamp() // 60), id(self._timetable))
        if self._open_cache is None or self._open_cache[0] != minute:
            self._open_cache = (minute, opening.open_ids(self._timetable, at, self.tz))
        return self._open_cache[1]

    def opens_next(self, ids: Iterable[int], at: dt.datetime) -> dict[int, dt.datetime]:
        """When each of ``ids`` closed at ``at`` opens within a week (local time): "Closed
        now" alone leaves a resident at dawn not knowing whether to wait or go elsewhere."""
        timetable = self._timetable
        if timetable is None:
            return {}
        closed = set(ids) - self.open_ids(at)  # 24/7 lines are open unless closed by name
        if self._opens_cache is None or self._opens_cache[0] is not timetable:
            self._opens_cache = (timetable, {})
        known = self._opens_cache[1]
        asked = {i for i in closed if not (i in known and known[i][0] <= at < known[i][1])}
        if asked:
            found = opening.next_openings(timetable, asked, at, self.tz)
            # A place is closed from ``at`` until it opens, so that opening comes next all
            # that time; "not within a week" holds for the rest of the local day.
            midnight = dt.datetime.combine(
                at.astimezone(self.tz).date() + dt.timedelta(days=1), dt.time(), tzinfo=self.tz
            )
            if len(known) + len(asked) > OPENS_KEPT:
                known.clear()
            known.update((i, (at, found.get(i, midnight), found.get(i))) for i in asked)
        return {i: when for i in closed if (when := known[i][2]) is not None}

    def point_area_codes(self, query: SearchQuery) -> frozenset[str]:
        point = query.point
        if point is None:
            return frozenset()
        # One search asks about its point a few times (probes, crisis lines).
        if self._codes_at is None or self._codes_at[0] != point:
            self._codes_at = (point, self._locator.codes_at(lat=point[0], lon=point[1]))
        return self._codes_at[1]

    def criteria(
        self,
        query: SearchQuery,
        at: dt.datetime,
        *,
        located_only: bool = False,
        wanted: Wanted = "page",
    ) -> Criteria:
        """What the backends need besides the query: areas at the point, open and bookable
        listings (for open-now and the ranking boosts)."""
        open_now = self.open_ids(at)
        return Criteria(
            query=query,
            open_ids=open_now if query.open_now else None,
            point_area_codes=self.point_area_codes(query),
            open_now_ids=open_now,
            bookable_ids=self.bookable_ids,
            located_only=located_only,
            wanted=wanted,
        )

    async def members_only(self, query: SearchQuery, found: int, *, now: dt.datetime) -> int:
        """How many places for particular people only (a school's pupils) match ``query``
        besides the ``found`` it answered: those it leaves out unless ``eligible`` asks for
        them."""
        if query.eligibility is None:
            return 0
        at = query.at or now
        # As the list answered it ("free", "english" as filters): counted as typed, it
        # offered 16 places that "Show them" then did not show.
        everyone = (await self.as_answered(query, at)).model_copy(update={"eligible": ("all",)})
        criteria = self.criteria(everyone, at, wanted="total")
        return (await self._answer(criteria)).total - found

    async def search(self, query: SearchQuery, *, now: dt.datetime) -> SearchResult:
        """Answer a query: widened when nothing to walk to lies within its radius, and with
        the 24/7 lines first when it speaks of self-harm or suicide. While the database does
        not answer, from the index this process holds, marked ``degraded`` (#16)."""
        stale = False
        try:
            await self.follow()
        except Unavailable:
            if self._seq < 0:  # nothing loaded yet: nothing to answer from
                raise
            stale = True
        at = query.at or now
        asked = query
        query, criteria, result = await self._as_answered(query, at, self._answer)
        free_from_words = asked.fee is None and query.fee is not None
        english_from_words = asked.language is None and query.language is not None
        if query.widen and query.radius_m is not None and query.point is not None:
            result = await self._widened(criteria, result, at)
        if criteria.plan.crisis:
            result = await self._crisis_first(criteria, result, at)
        result = replace(
            result, free_from_words=free_from_words, english_from_words=english_from_words
        )
        return replace(result, degraded=True) if stale else result

    async def as_answered(self, query: SearchQuery, at: dt.datetime) -> SearchQuery:
        """``query`` as :meth:`search` answers it (the words for "free" as the fee filter;
        the concern alone when the whole matches nothing): the map asks for this one, so
        that it shows what the list lists. Counted only where the words name a concern
        beside others: a map view (each pan) searches once, not twice."""
        criteria = self._words_read(self.criteria(query, at, wanted="total"), at)
        if criteria.plan.concerns_only() is None:
            return criteria.query
        answered, _criteria, _result = await self._as_answered(
            criteria.query, at, self.embedded.search, wanted="total"
        )
        return answered

    def _words_read(self, criteria: Criteria, at: dt.datetime) -> Criteria:
        """ "免费心理咨询", "english speaking therapist": no listing's text says 免费 or
        English; the words ask for the fee filter, or the language one."""
        plan, query = criteria.plan, criteria.query
        if not plan.free and not plan.english:
            return criteria
        asked: dict[str, Any] = {"q": plan.query_text}
        if plan.free:
            asked["fee"] = query.fee or Fee.FREE
        if plan.english:
            asked["language"] = query.language or "en"
        return self.criteria(query.model_copy(update=asked), at, wanted=criteria.wanted)

    async def _as_answered(
        self,
        query: SearchQuery,
        at: dt.datetime,
        answer: Callable[[Criteria], Awaitable[SearchResult]],
        *,
        wanted: Wanted = "page",
    ) -> tuple[SearchQuery, Criteria, SearchResult]:
        criteria = self._words_read(self.criteria(query, at, wanted=wanted), at)
        query = criteria.query
        result = await answer(criteria)
        concerns = criteria.plan.concerns_only()
        if result.total == 0 and concerns is not None:
            # "老人记性差": no listing says 老人; answer for the concern, and say so.
            kept = {t.text for t in concerns.terms}
            ignored = tuple(t.text for t in criteria.plan.terms if t.text not in kept)
            query = query.model_copy(update={"q": concerns.query_text})
            criteria = self.criteria(query, at, wanted=wanted)
            result = replace(await answer(criteria), ignored=ignored)
        return query, criteria, result

    async def _answer(self, criteria: Criteria) -> SearchResult:
        if self.primary is self.embedded:
            return await self.embedded.search(criteria)
        try:
            result = await self.primary.search(criteria)
        except SearchUnavailable as exc:
            # Once per outage: a flood of identical warnings would hide everything else.
            if not self._degraded_logged:
                log.warning(
                    "%s unavailable (%s); answering from the embedded engine",
                    self.primary.name,
                    type(exc).__name__,
                )
                self._degraded_logged = True
            return replace(await self.embedded.search(criteria), degraded=True)
        if self._degraded_logged:
            log.warning("%s answers again", self.primary.name)
            self._degraded_logged = False
        return result

    async def nearest_walk(
        self,
        query: SearchQuery,
        at: dt.datetime,
        *,
        any_filters: bool = False,
        beyond_m: float = 0.0,
    ) -> Hit | None:
        """The nearest place one walks to that matches ``query`` at any distance; with
        ``any_filters``, whatever its filters (the words and who the resident is stay).

        Asked within the widening steps beyond ``beyond_m`` first, then at any distance:
        the nearest within a circle is the nearest of all, and a circle costs what lies in
        it, while "any distance" ranks every match of a province (~4 ms at 200,000). When
        the first circle holds nothing, whether anything matches at all is asked before the
        wider ones: cheap when nothing does (no point, no distances), and then the wider
        circles are spared (in a city's centre 20 km hold every listing: at 200,000, asking
        each circle cost ~10 ms a search, as at night with open-now, when little is open)."""
        if query.point is None:
            return None
        keep = {"q", "lat", "lon", "eligible", "status", "at"} if any_filters else None
        base = query.model_dump(include=keep) if keep else query.model_dump()
        steps = [s for s in WIDEN_STEPS_M if s > beyond_m]
        for k, radius in enumerate((*steps, None)):
            if k == 1:  # anything at all, asked without a point
                anywhere = {"lat": None, "lon": None, "radius_m": None, "sort": "relevance"}
                if (await self._walks(base | anywhere, at, wanted="total")).total == 0:
                    return None
            found = await self._walks(base | {"radius_m": radius, "sort": "nearest"}, at)
            if found.hits:
                return found.hits[0]
        return None

    async def _walks(
        self, fields: dict[str, Any], at: dt.datetime, *, wanted: Wanted = "hits"
    ) -> SearchResult:
        """Places one walks to for the query ``fields``: the first of them and the total."""
        probe = SearchQuery.model_validate({**fields, "limit": 1, "offset": 0})
        return await self._answer(self.criteria(probe, at, located_only=True, wanted=wanted))

    async def _widened(
        self, criteria: Criteria, result: SearchResult, at: dt.datetime
    ) -> SearchResult:
        query = criteria.query
        radius = query.radius_m
        if radius is None:
            return result
        if query.offset == 0 and any(h.document.reach == "walk" for h in result.hits):
            return result  # something to walk to is on the first page: nothing to widen
        whole = query.offset == 0 and result.total <= len(result.hits)
        if not whole:  # a place to walk to may be further down the list: ask
            within = query.model_copy(update={"sort": "nearest", "limit": 1, "offset": 0})
            probe = self.criteria(within, at, located_only=True, wanted="hits")
            if (await self._answer(probe)).hits:
                return result
        nearest = await self.nearest_walk(query, at, beyond_m=radius)
        if nearest is None or nearest.distance_m is None:
            return result  # nothing to walk to at any distance: widening would not help
        shown = next((s for s in WIDEN_STEPS_M if s > radius and s >= nearest.distance_m), None)
        wider = query.model_copy(update={"radius_m": shown})
        widened = await self._answer(replace(criteria, query=wider))
        return replace(
            widened, widened=Widening(asked_m=radius, shown_m=shown), ignored=result.ignored
        )

    async def _crisis_first(
        self, criteria: Criteria, result: SearchResult, at: dt.datetime
    ) -> SearchResult:
        """The 24/7 lines (those serving the point's area first) lead the first page,
        whatever the filters."""
        if criteria.query.offset > 0:
            return replace(result, crisis=True)
        point = criteria.query.point
        lines: list[Hit] = []
        for near in (True, False) if point is not None else (False,):
            ask = SearchQuery(kind=(ResourceKind.HOTLINE,), limit=CRISIS_LINES, eligible=("all",))
            if near and point is not None:
                ask = ask.model_copy(update={"lat": point[0], "lon": point[1]})
            found = await self._answer(self.criteria(ask, at, wanted="hits"))
            lines += [h for h in found.hits if h.document.always_open]
        first: list[Hit] = []
        for line in lines:
            if line.id not in {h.id for h in first}:
                first.append(line)
        first = first[:CRISIS_LINES]
        shown = {h.id for h in first}
        rest = [h for h in result.hits if h.id not in shown]
        return replace(result, hits=first + rest, crisis=True)


def _primary(settings: Settings) -> SearchBackend | None:
    if not settings.meili_url:
        return None
    from resourcemap.search.meili import MeiliBackend

    key = settings.meili_key.get_secret_value() if settings.meili_key else None
    return MeiliBackend(settings.meili_url, key)


@asynccontextmanager
async def running_search(settings: Settings) -> AsyncIterator[SearchService]:
    """The search service of one app process, with its Meilisearch sync when configured.

    Never fails to start for want of a server: an unreachable database or Meilisearch is
    logged, and the service catches up once they answer.
    """
    primary = _primary(settings)
    service = SearchService(
        settings.tz,
        primary=primary,
        follow_interval=settings.search_follow_seconds,
        shared_index_dir=settings.search_index_dir or index_shared.default_dir(),
    )
    try:
        await service.refresh()
    except (OSError, BaseORMException, Unavailable) as exc:
        log.warning(
            "database not ready at start (%s); search loads on first use", type(exc).__name__
        )
    task: asyncio.Task[None] | None = None
    if primary is not None:
        task = asyncio.create_task(OutboxSync(primary).run_forever(), name="search-sync")
    try:
        yield service
    finally:
        await service.stop_reloading()
        await service.embedded.stop_building()
        await tasks.cancel(task)
