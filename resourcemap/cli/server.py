"""Commands that set up and serve: ``migrate``, ``serve``, ``demo``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from resourcemap import db, schema
from resourcemap.cli.common import (
    listening_settings,
    read_settings,
    run_command,
    serve_app,
)
from resourcemap.models import Account

F = TypeVar("F", bound=Callable[..., Any])


@click.command()
def migrate() -> None:
    """Create or upgrade the database schema (safe to run repeatedly)."""
    settings = read_settings()
    run_command(schema.migrate(settings.database_url))
    click.echo(f"database is up to date ({db.dialect(settings.database_url)})")


@click.command()
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
@click.option("--workers", type=int, help="Server processes (RESOURCEMAP_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app and API on the configured database."""
    settings = listening_settings(host=host, port=port, workers=workers)
    run_command(schema.migrate(settings.database_url))
    click.echo(f"ResourceMap on http://{settings.host}:{settings.port}/")
    serve_app(settings)


NO_ACCOUNT = (
    "Staff and planner pages (/staff, /planning) need an account, and there is none yet: "
    "resourcemap user create admin --role admin (then sign in at /login)"
)


def _province_option(name: str, most: int, default: int, help: str) -> Callable[[F], F]:
    return click.option(
        name, type=click.IntRange(1, most), default=default, show_default=True, help=help
    )


@click.command()
@click.option("--seed", type=int, default=None, help="Random seed of the synthetic city.")
@click.option("--reset", is_flag=True, help="Replace an existing demo city.")
@click.option("--no-serve", is_flag=True, help="Only load the data, do not start the server.")
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
@click.option(
    "--scale",
    type=click.Choice(["city", "province"]),
    default="city",
    show_default=True,
    help="One demo district, or a province of many cities (for benchmarks).",
)
@_province_option("--cities", 29, 20, "Province: number of cities.")
@_province_option(
    "--districts", 44, 4, "Province: districts per city (each ~290 resources, 1.1 M residents)."
)
@_province_option("--points-per-cell", 1000, 1, "Province: demand points per populated 100 m cell.")
@click.option(
    "--demand-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Province: GeoParquet demand directory [default: DATA_DIR/province-demand].",
)
def demo(
    seed: int | None,
    reset: bool,
    no_serve: bool,
    host: str | None,
    port: int | None,
    scale: str,
    cities: int,
    districts: int,
    points_per_cell: int,
    demand_dir: Path | None,
) -> None:
    """Load a deterministic synthetic demo city or province (示例数据) and serve it."""
    import resourcemap.demo.city as demo_city

    settings = (
        read_settings(host=host, port=port)
        if no_serve
        else listening_settings(host=host, port=port)
    )
    chosen = demo_city.DEFAULT_SEED if seed is None else seed

    # Where the province's demand goes: where the app's background jobs look for it too.
    dataset = demand_dir or settings.demand_dataset or settings.data_dir / "province-demand"

    async def load() -> tuple[str, bool]:
        """What was loaded, and whether anyone can sign in yet."""
        await schema.migrate(settings.database_url)
        async with db.database(settings.database_url):
            if scale == "province":
                said = await _load_province(
                    chosen, (cities, districts, points_per_cell), dataset, reset
                )
            else:
                said = await demo_city.ensure_demo_city(chosen, replace=reset, progress=click.echo)
            return said, await Account.exists()

    said, accounts = run_command(load())
    click.echo(said)
    if not accounts:
        # The staff and planner pages are half the product: say how to reach them (someone
        # trying the demo found only the residents' pages, and no word of the others).
        click.echo(NO_ACCOUNT)
    province = scale == "province"
    if no_serve:
        named = province and demand_dir is not None
        given = f"RESOURCEMAP_DEMAND_DATASET={dataset} " if named else ""
        click.echo(f"To serve it: {given}resourcemap serve")
        return
    if province:
        # The server's processes read their settings from the environment.
        os.environ["RESOURCEMAP_DEMAND_DATASET"] = str(dataset)
    click.echo(f"{demo_city.DEMO_LABEL}: http://{settings.host}:{settings.port}/")
    serve_app(settings)


async def _load_province(
    seed: int, size: tuple[int, int, int], demand_dir: Path, reset: bool
) -> str:
    from resourcemap.demo.province_load import ProvinceSize, load_demo_province

    chosen = ProvinceSize(*size)
    with click.progressbar(
        length=chosen.cities * chosen.districts, label="generating districts", file=sys.stderr
    ) as bar:
        last = [0]

        def generated(done: int, _total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        summary = await load_demo_province(
            seed, chosen, demand_dir, replace=reset, progress=click.echo, generated=generated
        )
    return summary.describe()
