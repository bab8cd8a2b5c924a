"""Importing demand: a population raster, weighted points, or a table of the areas'
populations (the census's, of one level: communities, streets or districts) spread over
them (uniformly or by building footprints).

Points are stored as ``DemandPoint`` rows whose ``source`` is ``"<method>:<file name>"``,
so every later result can say how its demand was made. Importing under a source name that
exists replaces those points.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from tortoise.transactions import in_transaction

from geo.demand import Demand, DemandError, read_points, read_raster, spread_totals
from geo.totals import read_totals
from resourcemap.errors import InvalidInput
from resourcemap.models import Area, DemandPoint
from resourcemap.planning.coverage import load_tree

Format = Literal["raster", "points", "totals"]
BATCH_SIZE = 2000
MAX_SOURCE = 100


@dataclass(frozen=True)
class DemandImport:
    source: str
    method: str
    points: int
    population: float
    outside: int  # points in no known area
    replaced: int = 0  # areas' stored populations a census table replaced

    def describe(self) -> str:
        where = f", {self.outside:,} outside every area" if self.outside else ""
        said = (
            f"imported {self.points:,} demand points ({self.population:,.0f} people{where}) "
            f"as {self.source!r} — method {self.method}"
        )
        if self.replaced:
            areas = "area" if self.replaced == 1 else "areas"
            said += f"; the table replaced the stored population of {self.replaced:,} {areas}"
        return said


async def import_demand(
    path: str | Path,
    fmt: Format,
    *,
    buildings: str | Path | None = None,
    cell_m: float = 100.0,
    name: str | None = None,
) -> DemandImport:
    """Read ``path`` as ``fmt`` and store its demand points; see the module docstring."""
    path = Path(path)
    tree = await load_tree()
    try:
        if fmt == "raster":
            demand = await asyncio.to_thread(read_raster, path)
        elif fmt == "points":
            demand = await asyncio.to_thread(read_points, path.read_bytes(), path.name)
        else:
            given = await asyncio.to_thread(read_totals, path.read_bytes(), path.name)
            totals = await _area_totals(given, path.name)
            footprints = None if buildings is None else _read_buildings(Path(buildings))
            demand = await asyncio.to_thread(
                spread_totals, tree, totals, buildings=footprints, cell_m=cell_m, source=path.name
            )
    except DemandError as exc:
        raise InvalidInput(str(exc), field="file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror}", field="file") from None
    if demand.size == 0:
        raise InvalidInput(f"{path.name} holds no populated cells or points", field="file")
    unknown = sorted({c for c in demand.area.tolist() if c and c not in tree})
    if unknown:
        raise InvalidInput(f"unknown area codes in {path.name}: {', '.join(unknown[:5])}")
    located = demand.located(tree)
    source = f"{demand.method}:{name or path.name}"[:MAX_SOURCE]
    await _store(located, source)
    replaced = await _census_populations(totals, path.name) if fmt == "totals" else 0
    return DemandImport(
        source, demand.method, located.size, located.total, int((located.area == "").sum()),
        replaced,
    )  # fmt: skip


async def _area_totals(given: dict[str, float], name: str) -> dict[str, float]:
    """The populations ``given`` (a table's), of areas with a boundary to spread them over,
    all of one level (the census's by community, street or district: a district and its
    streets together would count their residents twice). A code of no such area is
    refused, naming it (a table of another city's spread nothing where it was meant to)."""
    rows = await Area.filter(boundary__isnull=False).values_list("code", "level")
    levels = {str(c): str(lv) for c, lv in rows}
    unknown = sorted(set(given) - set(levels))
    if unknown:
        raise InvalidInput(
            f"{name}: {len(unknown)} codes are no area with a boundary here "
            f"({', '.join(unknown[:5])}): import the areas first, or check the codes",
            field="file",
        )
    given_levels = sorted({levels[c] for c in given})
    if len(given_levels) > 1:
        raise InvalidInput(
            f"{name}: its codes are of {' and '.join(given_levels)} areas; give one level, "
            "or the residents of an area and of the areas in it are counted twice",
            field="file",
        )
    totals = {code: total for code, total in given.items() if total > 0}
    if not totals:
        raise InvalidInput(f"{name}: every population is 0", field="file")
    return totals


async def _census_populations(totals: dict[str, float], name: str) -> int:
    """A census table's figures become its areas' populations (indicators per 100,000
    residents divide by them: a DataV district's 0 said "no data" beside a million residents
    counted), and an area above them the sum of its areas' once every one of them has a
    figure: a city of four districts is not the sum of the two a table gave. How many
    stored figures it replaced (said by the import). Saved one by one, so that what is
    worked out from the areas follows."""
    replaced = 0
    async with in_transaction(Area._meta.default_connection):
        touched: set[str] = set()
        for area in await Area.filter(code__in=list(totals)):
            figure = round(totals[area.code])
            replaced += bool(area.population) and area.population != figure
            area.population, area.population_source = figure, name[:200]
            await area.save(update_fields=["population", "population_source", "updated_at"])
            if area.parent_id:
                touched.add(area.parent_id)
        while touched:
            above, touched = await Area.filter(code__in=list(touched)), set()
            for area in above:
                children = await Area.filter(parent_id=area.code)
                if not children or not all(c.population for c in children):
                    continue  # not every part counted: its own figure stays
                area.population = sum(c.population for c in children)
                area.population_source = name[:200]
                await area.save(update_fields=["population", "population_source", "updated_at"])
                if area.parent_id:
                    touched.add(area.parent_id)
    return replaced


def _read_buildings(path: Path) -> list[dict[str, object]]:
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror}", field="buildings") from None
    except ValueError:
        raise InvalidInput(f"{path.name} is not valid JSON", field="buildings") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        raise InvalidInput(f"{path.name}: expected a FeatureCollection of building footprints")
    return features


async def _store(demand: Demand, source: str) -> None:
    lon = np.round(demand.lon, 6).tolist()
    lat = np.round(demand.lat, 6).tolist()
    rows = [
        DemandPoint(lon=x, lat=y, weight=w, area_id=a or None, source=source)
        for x, y, w, a in zip(lon, lat, demand.weight.tolist(), demand.area.tolist(), strict=True)
    ]
    async with in_transaction(DemandPoint._meta.default_connection) as conn:
        await DemandPoint.filter(source=source).using_db(conn).delete()
        await DemandPoint.bulk_create(rows, batch_size=BATCH_SIZE, using_db=conn)
