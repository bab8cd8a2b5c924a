"""Commands that set up and serve: ``migrate``, ``serve``, ``demo``."""

from __future__ import annotations

import click

from resourcemap import db, schema
from resourcemap.cli.common import (
    listening_settings,
    read_settings,
    run_command,
    serve_app,
)


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


@click.command()
@click.option("--seed", type=int, default=None, help="Random seed of the synthetic city.")
@click.option("--reset", is_flag=True, help="Replace an existing demo city.")
@click.option("--no-serve", is_flag=True, help="Only load the data, do not start the server.")
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
def demo(seed: int | None, reset: bool, no_serve: bool, host: str | None, port: int | None) -> None:
    """Load a deterministic synthetic demo city (示例数据) and serve it."""
    import resourcemap.demo.city as demo_city

    settings = (
        read_settings(host=host, port=port)
        if no_serve
        else listening_settings(host=host, port=port)
    )
    chosen = demo_city.DEFAULT_SEED if seed is None else seed

    async def load() -> str:
        await schema.migrate(settings.database_url)
        async with db.database(settings.database_url):
            return await demo_city.ensure_demo_city(chosen, replace=reset, progress=click.echo)

    click.echo(run_command(load()))
    if no_serve:
        return
    click.echo(f"{demo_city.DEMO_LABEL}: http://{settings.host}:{settings.port}/")
    serve_app(settings)
