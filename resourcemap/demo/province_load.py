"""Load the synthetic province: listings into the database, demand as GeoParquet.

Listings go through the same writers as the demo city (one transaction, refusing to mix
with real data). The demand grid, tens of millions of points at benchmark sizes, is written
as a GeoParquet dataset partitioned by city (``geo.demand_parquet``), where coverage on
Dask reads it, instead of into the database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tortoise.transactions import in_transaction

from geo.demand_parquet import write_demand
from resourcemap import db
from resourcemap.dataset import SYNTHETIC_KEY
from resourcemap.demo import city
from resourcemap.demo.province import DEFAULT_CITIES, DEFAULT_DISTRICTS, Province, build_province
from resourcemap.errors import Conflict
from resourcemap.models import Area, DatasetInfo, Resource, SearchChange
from resourcemap.search import changes
from resourcemap.vocab import AreaLevel

DEMAND_DIR_NAME = "province-demand"


@dataclass(frozen=True)
class ProvinceSize:
    cities: int = DEFAULT_CITIES
    districts: int = DEFAULT_DISTRICTS  # per city
    points_per_cell: int = 1

    @property
    def key(self) -> str:
        """What DatasetInfo records, so the same province is not loaded twice."""
        return f"province:{self.cities}x{self.districts}x{self.points_per_cell}"


@dataclass(frozen=True)
class ProvinceSummary:
    seed: int
    areas: dict[AreaLevel, int]
    resources: int
    organisations: int
    population: int
    demand_points: int
    demand_files: int
    demand_dir: Path

    def describe(self) -> str:
        """What was loaded, in a sentence: ``2 cities, 4 districts, 24 streets, …``."""
        levels = ", ".join(_count(n, PLURALS[level]) for level, n in self.areas.items())
        return (
            f"{city.DEMO_LABEL} province (seed {self.seed}): {levels}; "
            f"{_count(self.resources, ('resource', 'resources'))}, "
            f"{_count(self.organisations, ('organisation', 'organisations'))}, "
            f"{_count(self.population, ('resident', 'residents'))} as "
            f"{_count(self.demand_points, ('demand point', 'demand points'))} in "
            f"{_count(self.demand_files, ('GeoParquet file', 'GeoParquet files'))} "
            f"under {self.demand_dir}"
        )


PLURALS = {
    AreaLevel.CITY: ("city", "cities"),
    AreaLevel.DISTRICT: ("district", "districts"),
    AreaLevel.STREET: ("street", "streets"),
    AreaLevel.COMMUNITY: ("community", "communities"),
}


def _count(n: int, words: tuple[str, str]) -> str:
    """``1 city``, ``1,234 cities``: the command line's English."""
    return f"{n:,} {words[0] if n == 1 else words[1]}"


async def load_demo_province(
    seed: int,
    size: ProvinceSize,
    demand_dir: Path,
    *,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
    generated: Callable[[int, int], None] | None = None,
) -> ProvinceSummary:
    """Generate the province (``generated(done, total)`` after each district), write its
    demand to ``demand_dir`` and its listings in one transaction."""
    say = progress or (lambda _message: None)
    loaded = await DatasetInfo.get_or_none(key=city.SEED_KEY)
    wanted = f"{seed}:{size.key}"
    if loaded is not None and loaded.value == wanted and not replace:
        raise Conflict(f"the province {wanted} is already loaded")
    say(f"generating {size.cities} cities of {size.districts} districts (seed {seed})")
    province = await asyncio.to_thread(
        build_province,
        seed,
        cities=size.cities,
        districts=size.districts,
        points_per_cell=size.points_per_cell,
        progress=generated,
    )
    say(f"writing {province.demand_weight.size:,} demand points to {demand_dir}")
    files = await asyncio.to_thread(
        write_demand,
        demand_dir,
        province.demand_lon,
        province.demand_lat,
        province.demand_weight,
        province.demand_area,
    )
    async with in_transaction(Resource._meta.default_connection) as conn:
        await city._make_room(conn, replace, say)
        await city._write_areas(conn, province, say)
        await city._write_listings(conn, province, say)
        await DatasetInfo.filter(key__in=[SYNTHETIC_KEY, city.SEED_KEY]).using_db(conn).delete()
        await DatasetInfo.bulk_create(
            [
                DatasetInfo(key=SYNTHETIC_KEY, value=f"{city.DEMO_LABEL} (province, seed {seed})"),
                DatasetInfo(key=city.SEED_KEY, value=wanted),
            ],
            using_db=conn,
        )
        await SearchChange.create(resource_id=None, op=changes.REBUILD, using_db=conn)
    await db.analyse(Resource, Area)
    say("done")
    return _summary(province, len(files), demand_dir)


def _summary(province: Province, files: int, demand_dir: Path) -> ProvinceSummary:
    return ProvinceSummary(
        seed=province.seed,
        areas=dict(Counter(a.level for a in province.areas)),
        resources=len(province.resources),
        organisations=len(province.organisations),
        population=province.population,
        demand_points=int(province.demand_weight.size),
        demand_files=files,
        demand_dir=demand_dir,
    )
