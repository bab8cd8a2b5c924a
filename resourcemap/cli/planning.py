"""Planners' data and reports: ``import-demand`` and ``coverage``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from resourcemap import clock, db, schema
from resourcemap.cli.common import (
    kind_names,
    read_settings,
    run_command,
)


@click.command(name="import-demand")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["raster", "points", "totals"]),
    required=True,
    help="raster: population GeoTIFF; points: CSV/GeoJSON with lon, lat, weight; "
    "totals: a CSV of the areas' populations (code, population: the census table, of one "
    "level: communities, streets or districts; 6- and 9-digit codes are read as 12), spread "
    "over each area.",
)
@click.option(
    "--buildings",
    type=click.Path(exists=True, dir_okay=False),
    help="Building footprints (GeoJSON) to spread totals over, by floor area.",
)
@click.option(
    "--cell",
    "cell_m",
    type=float,
    default=100.0,
    show_default=True,
    help="Grid spacing in metres when spreading totals uniformly.",
)
@click.option("--name", help="Source name stored with the points (default: the file name).")
def import_demand(
    path: str, fmt: str, buildings: str | None, cell_m: float, name: str | None
) -> None:
    """Import demand (where people live) for coverage analysis."""
    from typing import cast

    from resourcemap.planning.demand import Format
    from resourcemap.planning.demand import import_demand as run_import

    settings = read_settings()

    async def run() -> str:
        await schema.migrate(settings.database_url)
        async with db.database(settings.database_url):
            done = await run_import(
                path, cast(Format, fmt), buildings=buildings, cell_m=cell_m, name=name
            )
            return done.describe()

    click.echo(run_command(run()))


@click.command()
@click.option(
    "--radius",
    "radius_m",
    type=float,
    default=500.0,
    show_default=True,
    help="Service circle radius in metres.",
)
@click.option(
    "--level",
    type=click.Choice(["city", "district", "street", "community"]),
    default=None,
    help="Areas the table reports (default: community, or the deepest level the loaded "
    "areas have; a level they lack is refused).",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(kind_names()),
    help=(
        "Resource kinds that count (repeatable; default every service point: "
        "not hotlines or volunteer teams)."
    ),
)
@click.option("--demand", "demand_source", help="Demand source (default: the latest imported).")
@click.option(
    "--streets",
    type=click.Path(exists=True, dir_okay=False),
    help="Street network (GeoJSON lines): walking distance instead of straight.",
)
@click.option(
    "--demand-parquet",
    "demand_parquet",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="GeoParquet demand dataset (e.g. the province demo's) instead of stored demand, "
    "computed on RESOURCEMAP_DASK_SCHEDULER when set; writes the table (.csv).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="Report to write: .html (standalone map and table), .csv or .geojson.",
)
def coverage(
    radius_m: float,
    level: str | None,
    kinds: tuple[str, ...],
    demand_source: str | None,
    streets: str | None,
    demand_parquet: Path | None,
    out: str,
) -> None:
    """Who lives within the service circle, per area: writes a map report, CSV or GeoJSON."""
    import json

    from pydantic import ValidationError as QueryError

    from resourcemap.dataset import synthetic_label
    from resourcemap.planning import coverage as cov
    from resourcemap.planning.jobs import demand_dataset
    from resourcemap.planning.levels import area_levels, choose_level
    from resourcemap.planning.report import report_html
    from resourcemap.vocab import AreaLevel

    suffix = Path(out).suffix.lower()
    if suffix not in (".html", ".csv", ".geojson", ".json"):
        raise click.UsageError("--out must end in .html, .csv or .geojson")
    if streets is not None and suffix == ".html":
        raise click.UsageError("with --streets, write the table: --out FILE.csv or FILE.geojson")
    if demand_parquet is not None:
        if suffix != ".csv" or streets is not None or demand_source is not None:
            raise click.UsageError(
                "with --demand-parquet, write the table (--out FILE.csv), without --streets "
                "or --demand"
            )
        _dataset_coverage(demand_parquet, radius_m, level, kinds, Path(out))
        return
    try:
        cov.CoverageQuery(radius_m=radius_m, kind=kinds or None, demand=demand_source)
    except QueryError as exc:
        raise click.UsageError("; ".join(e["msg"] for e in exc.errors())) from None
    graph = None
    if streets is not None:
        from geo.network import NetworkError, graph_from_geojson

        try:
            graph = graph_from_geojson(json.loads(Path(streets).read_bytes()))
        except (ValueError, NetworkError) as exc:
            raise click.ClickException(f"{streets}: {exc}") from None
    settings = read_settings()
    steps = ["reading", "computing", "gaps", "hexagons", "writing"]

    async def run() -> tuple[str, str]:
        async with db.database(settings.database_url):
            chosen = choose_level(None if level is None else AreaLevel(level), await area_levels())
            if chosen.note:
                click.echo(f"coverage {chosen.note}")
            query = cov.CoverageQuery(
                radius_m=radius_m, level=chosen.level, kind=kinds or None, demand=demand_source
            )
            service = cov.CoverageService(dataset=demand_dataset(settings))
            with click.progressbar(length=len(steps), label="coverage", file=sys.stderr) as bar:

                def step(message: str) -> None:
                    bar.label = message
                    bar.update(1)

                if graph is not None or suffix != ".html":
                    analysis = await service.analyse(query, streets=graph, progress=step)
                    if suffix == ".csv":
                        text = cov.coverage_csv(analysis)
                    else:
                        text = json.dumps(cov.coverage_geojson(analysis), ensure_ascii=False)
                else:
                    text = await report_html(
                        service,
                        query,
                        now=clock.from_settings(settings).now(),  # the report's date
                        tz=settings.tz,
                        dataset_label=await synthetic_label(),
                        progress=step,
                    )
                bar.update(len(steps))
                analysis = await service.analyse(query, streets=graph)
        r = analysis.result
        share = "—" if r.share is None else f"{r.share:.1%}"
        return text, (
            f"{r.covered_population:,.0f} of {r.population:,.0f} residents ({share}) within "
            f"{r.radius_m:g} m ({r.mode}); demand: {r.demand_method} from {r.demand_source!r}"
        )

    text, summary = run_command(run())
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"{summary}\nwrote {out}")


def _dataset_coverage(
    directory: Path, radius_m: float, level: str | None, kinds: tuple[str, ...], out: Path
) -> None:
    from pydantic import ValidationError as QueryError

    from resourcemap.planning.coverage import CoverageQuery
    from resourcemap.planning.dataset_coverage import dataset_coverage
    from resourcemap.vocab import AreaLevel, ResourceKind

    try:
        query = CoverageQuery(
            radius_m=radius_m,
            level=AreaLevel(level or "community"),
            kind=tuple(ResourceKind(k) for k in kinds) or None,
        )
    except QueryError as exc:
        raise click.UsageError("; ".join(e["msg"] for e in exc.errors())) from None
    settings = read_settings()

    async def run() -> str:
        async with db.database(settings.database_url):
            done = await dataset_coverage(directory, query, settings.dask_scheduler)
        out.write_text(done.csv(), encoding="utf-8")
        r = done.result
        where = f"{done.workers} Dask workers" if done.workers else "this process"
        share = "—" if r.share is None else f"{r.share:.1%}"
        return (
            f"{r.covered_population:,.0f} of {r.population:,.0f} residents ({share}) within "
            f"{r.radius_m:g} m of {done.resources:,} resources; demand: "
            f"{int(r.sums.points.sum()):,} points from {directory}, computed by {where}\n"
            f"wrote {out}"
        )

    click.echo(run_command(run()))
