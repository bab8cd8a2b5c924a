"""Listings in and out: ``import`` (CSV, XLSX, GeoJSON, HSDS) and ``export``."""

from __future__ import annotations

import sys
from typing import Any

import click

from resourcemap import clock, db, schema
from resourcemap.cli.common import (
    kind_names,
    read_settings,
    run_command,
)


@click.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=True))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default=None,
    help="Coordinate system of lat/lon in rows without a coord_system column, or of the "
    "boundaries with --areas (gcj02: AMap/Tencent/DataV, bd09: Baidu). Default wgs84; "
    "--areas refuses a DataV/AMap file without it.",
)
@click.option(
    "--kind",
    "default_kind",
    type=click.Choice(kind_names()),
    help="Kind of listings whose row names none (e.g. records from another HSDS directory).",
)
@click.option(
    "--areas",
    is_flag=True,
    help="The file holds administrative areas and population (GeoJSON, Shapefile or "
    "GeoPackage with code, level, name_zh, parent, population; or a DataV/AMap GeoJSON).",
)
def import_(
    path: str, dry_run: bool, coords: str | None, default_kind: str | None, areas: bool
) -> None:
    """Import listings (CSV, XLSX, GeoJSON, HSDS 3.0 JSON, or an HSDS table package: a
    folder or ZIP of CSV tables) or, with --areas, areas.

    Every row is checked first; the report lists row, column and reason of each rejected
    row, and nothing is written unless every row is valid. Listings are matched by
    external_id, so importing a corrected file again updates them.
    """
    from pathlib import Path

    from geo.chinacoords import CoordSystem
    from resourcemap.transfer.areas import import_areas
    from resourcemap.transfer.importer import SYSTEM, ImportOptions, import_listings
    from resourcemap.transfer.report import ImportReport
    from resourcemap.vocab import ResourceKind

    settings = read_settings()
    source = Path(path)
    if areas and source.is_dir():
        raise click.UsageError("--areas reads one file (GeoJSON, Shapefile or GeoPackage)")
    try:
        data = b"" if areas else _listing_bytes(source)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    options = ImportOptions(
        coords=CoordSystem(coords or "wgs84"),
        default_kind=None if default_kind is None else ResourceKind(default_kind),
        dry_run=dry_run,
        tz=settings.tz,
    )
    now = clock.from_settings(settings).now()  # read once: the import time of provenance
    bar = _ProgressBar()

    async def run() -> ImportReport:
        await schema.migrate(settings.database_url)
        async with db.database(settings.database_url):
            if areas:
                chosen = None if coords is None else CoordSystem(coords)
                return await import_areas(path, dry_run=dry_run, coords=chosen)
            name = source.name + ("/" if source.is_dir() else "")
            return await import_listings(SYSTEM, data, name, options, now=now, progress=bar)

    try:
        report = run_command(run())
    finally:
        bar.close()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


def _listing_bytes(source: Any) -> bytes:
    """A file's bytes; a folder's CSV tables (an HSDS package) as one ZIP."""
    from resourcemap.transfer.hsds_tables import zip_folder

    if not source.is_dir():
        return bytes(source.read_bytes())
    tables = sorted(p for p in source.iterdir() if p.suffix.lower() == ".csv")
    if not tables:
        raise click.ClickException(
            f"{source} holds no CSV tables (an HSDS package has services.csv)"
        )
    return zip_folder((p.name, p.read_bytes()) for p in tables)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hsds", "geojson", "csv", "xlsx"]),
    required=True,
    help="hsds: Open Referral HSDS 3.0 JSON; csv/xlsx: the columns import reads.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: standard output, for the text formats).",
)
@click.option("--organisation", "organisation_id", type=int, help="Only this organisation's.")
def export(fmt: str, out: str | None, organisation_id: int | None) -> None:
    """Export every listing, in any status, as HSDS, GeoJSON, CSV or XLSX."""
    from pathlib import Path

    from resourcemap.transfer.exporter import export_listings

    settings = read_settings()
    # The binary side of stdout (click 8.5 deprecates get_binary_stream).
    stdout = sys.stdout.buffer
    if fmt == "xlsx" and out is None and stdout.isatty():
        raise click.UsageError("xlsx is a binary file: give --out FILE")

    async def run() -> bytes:
        async with db.database(settings.database_url):
            return await export_listings(fmt, tz=settings.tz, organisation_id=organisation_id)

    data = run_command(run())
    if out is None:
        stdout.write(data)
        stdout.flush()
        return
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {len(data):,} bytes to {out}", err=True)


# Below this many listings the import is quick enough to need no progress bar.
PROGRESS_MIN_ROWS = 200


class _ProgressBar:
    """A click progress bar on stderr, opened once the importer says how many rows."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_ROWS:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="writing listings", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
