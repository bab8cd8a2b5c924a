"""Pushing listing changes to an external search server, through the change log as outbox.

The change log (``SearchChange``) is written in the same transaction as every listing
change; this worker applies it to the server in order and records how far it got
(``SearchCursor``). When the server is down nothing is lost: the cursor stays put and the
next successful run applies everything since.

Every app process runs this worker, but one pushes at a time (#22): on PostgreSQL a run
first takes a transaction-scoped advisory lock and skips its turn when another process
holds it, so N processes do not send the same changes N times. SQLite deployments are one
process.
"""

from __future__ import annotations

import asyncio
import logging
import zlib

from tortoise import connections
from tortoise.transactions import in_transaction

from resourcemap.models import SearchCursor
from resourcemap.search import changes
from resourcemap.search.base import SearchBackend, SearchUnavailable
from resourcemap.search.documents import load_documents

log = logging.getLogger("resourcemap.search")

MAX_BACKOFF_SECONDS = 30.0
# The advisory lock's key: the same number in every process of a deployment.
PUSH_LOCK = zlib.crc32(b"resourcemap search push")


class OutboxSync:
    """Applies the change log to ``backend`` and remembers the last applied sequence."""

    def __init__(self, backend: SearchBackend, *, interval: float = 1.0) -> None:
        self.backend = backend
        self.interval = interval
        self.consumer = backend.name
        # Numbers below those read that were not there yet (changes.Gaps). The cursor stored
        # stays below the oldest of them, so that a process taking over the push (or this
        # one after a restart) reads them again; this process reads on from ``_read_to``.
        self.gaps = changes.Gaps()
        self._read_to: int | None = None

    async def applied_seq(self) -> int | None:
        """The last sequence applied, or ``None`` before the first full load."""
        cursor = await SearchCursor.get_or_none(consumer=self.consumer)
        return None if cursor is None else int(cursor.seq)

    async def run_once(self) -> int:
        """Apply pending changes; return how many documents were sent or deleted (0 also
        when another process is pushing now).

        Raises :class:`SearchUnavailable` when the server cannot take them; the cursor then
        stays where it was.
        """
        name = SearchCursor._meta.default_connection or "default"
        if connections.get(name).capabilities.dialect != "postgres":
            return await self._push()
        async with in_transaction(name) as conn:
            _, rows = await conn.execute_query("SELECT pg_try_advisory_xact_lock($1)", [PUSH_LOCK])
            if not rows or not rows[0][0]:
                return 0
            return await self._push()

    async def _push(self) -> int:
        applied = await self.applied_seq()
        seq = 0 if applied is None else max(applied, self._read_to or 0)
        pending = await changes.since(seq, self.gaps)
        if applied is None or pending.rebuild:
            # First run or after a bulk load: send everything. (Numbers not there yet below
            # ``pending.seq`` are in ``gaps`` already: ``since`` read from the safe cursor.)
            documents = await load_documents()
            await self.backend.replace_all(documents)
            sent = len(documents)
        elif not pending.anything:
            sent = 0
        else:
            if pending.deletes:
                await self.backend.delete(sorted(pending.deletes))
            upserts = await load_documents(pending.upserts) if pending.upserts else []
            if upserts:
                await self.backend.upsert(upserts)
            sent = len(pending.deletes) + len(upserts)
        self._read_to = pending.seq
        runs = self.gaps.runs()
        safe = min(pending.seq, runs[0][0] - 1) if runs else pending.seq
        if safe != applied:
            await SearchCursor.update_or_create(defaults={"seq": safe}, consumer=self.consumer)
        return sent

    async def run_forever(self) -> None:
        """Keep the server in step until cancelled, backing off while it is unreachable."""
        delay = self.interval
        down = False
        prepared = False
        while True:
            try:
                if not prepared:
                    # Index settings first, at every start: a restarted server may lack them.
                    await self.backend.prepare()
                    prepared = True
                await self.run_once()
            except SearchUnavailable as exc:
                if not down:
                    log.warning("%s sync paused: %s", self.consumer, type(exc).__name__)
                down = True
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
            else:
                if down:
                    log.warning("%s sync resumed", self.consumer)
                down = False
                delay = self.interval
            await asyncio.sleep(delay)
