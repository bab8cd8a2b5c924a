"""An edit as every app process takes it in (#22), against what that cost before, in one run.

Every app process follows the listing change log (``SearchService.follow``): it re-indexes
the edited listings and brings its open-now timetable up to date. Until 2026-12-04 the
timetable part read every listing's hours again: on 200,000 listings, seconds of CPU in
every process for every edit, and the event loop blocked meanwhile. This bench makes staff
edits (a listing's name and its Monday hours, logged for followers as the staff API logs
them), then times a process following each one and the first search that finds it (by its
new name, open at its new hour); the baseline is a full timetable read (what each edit cost
before), measured in the same run.

    python bench/follow.py --database FILE   # a database of many listings: made by
        # bench/search.py --resources 200000 --database FILE, or by
        # RESOURCEMAP_DATABASE_URL=sqlite:///FILE resourcemap demo --scale province --no-serve

The edits are written to FILE (one listing's name and hours per edit): use a copy.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from tortoise.transactions import in_transaction

from resourcemap import db
from resourcemap.listings import opening
from resourcemap.models import OpeningHours, Resource
from resourcemap.search import changes
from resourcemap.search.base import SearchQuery
from resourcemap.search.service import SearchService
from resourcemap.settings import Settings
from resourcemap.vocab import Status

MONDAY_1230 = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def mb(value: float) -> str:
    return f"{value / 2**20:,.0f} MB"


def peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def edit(resource_id: int, name: str) -> None:
    """What a staff edit writes: the listing, its hours, and the change log entry."""
    async with in_transaction():
        await Resource.filter(id=resource_id).update(name_zh=name)
        await OpeningHours.filter(resource_id=resource_id).delete()
        await OpeningHours.create(resource_id=resource_id, weekday=0, opens=720, closes=840)
        await changes.record([resource_id])


async def run(database_url: str, edits: int) -> None:
    async with db.database(database_url):
        service = SearchService(Settings(database_url=database_url).tz, follow_interval=3600)
        started = time.perf_counter()
        await service.refresh()
        await service.embedded.wait_ready(3600)
        took = time.perf_counter() - started
        print(f"listings: {await Resource.all().count():,}; loaded and indexed in {took:.0f} s")
        active: list[Any] = (
            await Resource.filter(status=Status.ACTIVE, always_open=False)
            .order_by("id")
            .values_list("id", flat=True)
        )
        ids = [int(i) for i in active]
        process = psutil.Process()
        resident, high = process.memory_info().rss, peak()
        walls, cpus = [], []
        for k in range(edits):
            target = ids[(k + 1) * len(ids) // (edits + 1)]
            name = f"星海心灵驿站新址{k}"
            await edit(target, name)
            wall, cpu = time.perf_counter(), time.process_time()
            await service.follow(force=True)
            found = await service.search(
                SearchQuery(q=name, open_now=True, at=MONDAY_1230), now=MONDAY_1230
            )
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert [h.id for h in found.hits] == [target], "the edit is not searchable"
        after_edits = peak()
        print(
            f"edit -> found by its new name and hour, {edits} edits: median "
            f"{statistics.median(walls) * 1000:.0f} ms wall, "
            f"{statistics.median(cpus) * 1000:.0f} ms CPU; "
            f"peak resident growth {mb(max(0, after_edits - max(high, resident)))}"
        )
        old_walls, old_cpus = [], []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            await opening.load_timetable()
            old_walls.append(time.perf_counter() - wall)
            old_cpus.append(time.process_time() - cpu)
        print(
            f"baseline, every listing's hours read again (each edit before): median "
            f"{statistics.median(old_walls) * 1000:.0f} ms wall, "
            f"{statistics.median(old_cpus) * 1000:.0f} ms CPU; "
            f"peak resident growth {mb(max(0, peak() - max(after_edits, resident)))}"
        )
        print(
            f"edit -> found / baseline (CPU): "
            f"{statistics.median(cpus) / statistics.median(old_cpus):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="SQLite file (edited)")
    parser.add_argument("--edits", type=int, default=5, help="edits to follow (5)")
    args = parser.parse_args()
    if not args.database.exists():
        sys.exit(f"{args.database}: no such file")
    asyncio.run(run(f"sqlite:///{args.database.resolve()}", args.edits))


if __name__ == "__main__":
    main()
