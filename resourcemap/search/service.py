"""Search as the app uses it: keeps indexes in step with listings and answers queries.

One :class:`SearchService` per app process. It owns the embedded engine (always present:
it is the default backend and the fallback when Meilisearch is unreachable), follows the
listing change log so that every process sees edits made by any other, resolves which
areas contain a query point, and which resources are open at the requested time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from zoneinfo import ZoneInfo

from tortoise.exceptions import BaseORMException

from geo.locate import AreaLocator, AreaRecord
from resourcemap import opening
from resourcemap.dataset import synthetic_label
from resourcemap.errors import Unavailable
from resourcemap.models import Area
from resourcemap.search import changes
from resourcemap.search.base import (
    Criteria,
    SearchBackend,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
)
from resourcemap.search.documents import load_documents
from resourcemap.search.embedded import EmbeddedBackend
from resourcemap.search.sync import OutboxSync
from resourcemap.settings import Settings

log = logging.getLogger("resourcemap.search")


class SearchService:
    def __init__(
        self,
        tz: ZoneInfo,
        *,
        primary: SearchBackend | None = None,
        follow_interval: float = 1.0,
    ) -> None:
        self.tz = tz
        self.embedded = EmbeddedBackend()
        self.primary: SearchBackend = primary if primary is not None else self.embedded
        self.follow_interval = follow_interval
        self._seq = -1
        self._checked_at = float("-inf")
        self._locator = AreaLocator([])
        self._timetable: opening.Timetable | None = None
        self._open_cache: tuple[tuple[int, int], frozenset[int]] | None = None
        self._degraded_logged = False
        self.dataset_label: str | None = None

    @property
    def backend_name(self) -> str:
        return self.primary.name

    async def refresh(self) -> None:
        """Load every document, area and timetable from the database."""
        seq = await changes.latest_seq()
        await self.embedded.replace_all(await load_documents())
        areas = await Area.all().values_list("code", "parent_id", "boundary")
        self._locator = AreaLocator(AreaRecord(c, p, b) for c, p, b in areas)
        self._set_timetable(await opening.load_timetable())
        self.dataset_label = await synthetic_label()
        self._seq = seq

    def _set_timetable(self, timetable: opening.Timetable) -> None:
        self._timetable = timetable
        self._open_cache = None

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
        pending = await changes.since(self._seq)
        if pending.seq == self._seq:
            return
        if pending.rebuild:
            await self.refresh()
            return
        if pending.deletes:
            await self.embedded.delete(sorted(pending.deletes))
        if pending.upserts:
            await self.embedded.upsert(await load_documents(pending.upserts))
        self._set_timetable(await opening.load_timetable())
        self._seq = pending.seq

    def open_ids(self, at: dt.datetime) -> frozenset[int]:
        """Resources open at ``at``; hours have minute resolution, so a minute is cached."""
        if self._timetable is None:
            return frozenset()
        minute = (int(at.timestamp() // 60), id(self._timetable))
        if self._open_cache is None or self._open_cache[0] != minute:
            self._open_cache = (minute, opening.open_ids(self._timetable, at, self.tz))
        return self._open_cache[1]

    def point_area_codes(self, query: SearchQuery) -> frozenset[str]:
        point = query.point
        if point is None:
            return frozenset()
        return self._locator.codes_at(lat=point[0], lon=point[1])

    async def search(self, query: SearchQuery, *, now: dt.datetime) -> SearchResult:
        await self.follow()
        at = query.at or now
        criteria = Criteria(
            query=query,
            open_ids=self.open_ids(at) if query.open_now else None,
            point_area_codes=self.point_area_codes(query),
        )
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
        settings.tz, primary=primary, follow_interval=settings.search_follow_seconds
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
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
