"""The ``resourcemap`` command line. Reads settings from the environment once, here."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from resourcemap import accounts, clock, db, keys
from resourcemap.errors import DomainError, NotFound
from resourcemap.logs import configure
from resourcemap.models import Account
from resourcemap.settings import Settings
from resourcemap.vocab import Role

T = TypeVar("T")


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line overrides exported for workers, and
    the secrets resolved (generated once in development)."""
    return _resolved(**overrides).settings


def _resolved(**overrides: Any) -> keys.Resolved:
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"RESOURCEMAP_{key.upper()}"] = str(value)
    try:
        settings = Settings()
    except ValidationError as exc:
        lines = [
            f"  RESOURCEMAP_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else f"  {e['msg']}"
            for e in exc.errors()
        ]
        raise click.ClickException("invalid settings:\n" + "\n".join(lines)) from None
    configure(settings.log_level)
    try:
        return keys.resolve(settings)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _listening(**overrides: Any) -> Settings:
    """Settings for a command that listens. With generated development secrets it listens on
    this machine only: development sends cookies without ``Secure`` and no HSTS, and such an
    install was never given secrets someone chose to protect it."""
    resolved = _resolved(**overrides)
    settings = resolved.settings
    if resolved.generated and not keys.is_loopback(settings.host):
        raise click.ClickException(
            f"refusing to listen on {settings.host} with generated development secrets; set "
            "RESOURCEMAP_ENVIRONMENT=production with RESOURCEMAP_SECRET_KEY and "
            "RESOURCEMAP_DATA_KEYS (`resourcemap keygen --secret`, `resourcemap keygen`), or "
            "listen on 127.0.0.1"
        )
    _require_free_port(settings)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        raise click.ClickException(exc.reason) from None
    except OSError as exc:
        raise click.ClickException(f"cannot reach the database: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="resourcemap")
def main() -> None:
    """ResourceMap: map, book and plan mental-health service resources.

    Settings come from RESOURCEMAP_* environment variables or a .env file; see README.
    """


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (safe to run repeatedly)."""
    settings = _settings()
    _run(db.migrate(settings.database_url))
    click.echo(f"database is up to date ({db.dialect(settings.database_url)})")


def _require_free_port(settings: Settings) -> None:
    """Say plainly when the address is taken, before any slow start-up work."""
    import socket

    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {settings.host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port in TIME_WAIT from a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"port {settings.port} on {settings.host} is not available ({exc.strerror}); "
                "choose another with --port or RESOURCEMAP_PORT, or stop what is using it"
            ) from None


def _serve(settings: Settings) -> None:
    """Become uvicorn's own command (exec) serving ``web.asgi:app``.

    The schema was migrated once, here, before any worker starts: workers only open it.
    uvicorn starts its workers with multiprocessing's "spawn", which runs the parent's main
    script again in each of them before they can answer the supervisor's health check; for
    the ``resourcemap`` script that meant importing this whole command line first, and on a
    busy machine the check killed workers still doing so (#16). uvicorn's own ``__main__``
    is never run again, so each worker imports the app only. ``-P`` and ``--app-dir``: the
    ``web`` package next to this ``resourcemap`` one, never one in the working directory.
    """
    app_dir = Path(__file__).resolve().parents[1]
    argv = [
        *(sys.executable, "-P", "-m", "uvicorn", "web.asgi:app", "--app-dir", str(app_dir)),
        *("--host", settings.host, "--port", str(settings.port)),
        *("--workers", str(settings.workers), "--log-level", settings.log_level),
        # Access logs carry query strings (a resident's position, later names): off.
        "--no-access-log",
        *("--timeout-worker-healthcheck", str(settings.worker_healthcheck_timeout)),
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


@main.command()
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
@click.option("--workers", type=int, help="Server processes (RESOURCEMAP_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app and API on the configured database."""
    settings = _listening(host=host, port=port, workers=workers)
    _run(db.migrate(settings.database_url))
    click.echo(f"ResourceMap on http://{settings.host}:{settings.port}/")
    _serve(settings)


@main.command()
@click.option("--seed", type=int, default=None, help="Random seed of the synthetic city.")
@click.option("--reset", is_flag=True, help="Replace an existing demo city.")
@click.option("--no-serve", is_flag=True, help="Only load the data, do not start the server.")
@click.option("--host", help="Listen address (RESOURCEMAP_HOST).")
@click.option("--port", type=int, help="Listen port (RESOURCEMAP_PORT).")
def demo(seed: int | None, reset: bool, no_serve: bool, host: str | None, port: int | None) -> None:
    """Load a deterministic synthetic demo city (示例数据) and serve it."""
    import resourcemap.demo as demo_city

    settings = _settings(host=host, port=port) if no_serve else _listening(host=host, port=port)
    chosen = demo_city.DEFAULT_SEED if seed is None else seed

    async def load() -> str:
        await db.migrate(settings.database_url)
        async with db.database(settings.database_url):
            return await demo_city.ensure_demo_city(chosen, replace=reset, progress=click.echo)

    click.echo(_run(load()))
    if no_serve:
        return
    click.echo(f"{demo_city.DEMO_LABEL}: http://{settings.host}:{settings.port}/")
    _serve(settings)


@main.group()
def user() -> None:
    """Manage accounts (the first admin is created here)."""


@user.command(name="create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), required=True, help="Account role."
)
@click.option("--organisation", "organisation_id", type=int, help="Organisation id (staff).")
@click.option("--name", "display_name", default="", help="Display name.")
@click.password_option(help="Password (asked for when not given).")
def user_create(
    username: str, role: str, organisation_id: int | None, display_name: str, password: str
) -> None:
    """Create an account, e.g. the first admin: resourcemap user create alice --role admin"""
    settings = _settings()

    async def create() -> None:
        await db.migrate(settings.database_url)
        async with db.database(settings.database_url):
            await accounts.create_account(
                None,
                username=username,
                password=password,
                role=Role(role),
                organisation_id=organisation_id,
                display_name=display_name,
            )

    _run(create())
    click.echo(f"created {role} account {username!r}")


@user.command(name="token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def user_token(username: str, name: str) -> None:
    """Issue an API token for scripts; it is printed once."""
    settings = _settings()

    async def issue() -> str:
        async with db.database(settings.database_url):
            account = await Account.get_or_none(username=username)
            if account is None:
                raise NotFound(f"no account {username!r}")
            return await accounts.issue_token(None, account.id, name)

    click.echo(_run(issue()))


# Below this many listings the import is quick enough to need no progress bar.
PROGRESS_MIN_ROWS = 200


def _kinds() -> list[str]:
    from resourcemap.vocab import ResourceKind

    return [k.value for k in ResourceKind]


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


@main.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinate system of lat/lon in rows without a coord_system column "
    "(gcj02: AMap/Tencent, bd09: Baidu).",
)
@click.option(
    "--kind",
    "default_kind",
    type=click.Choice(_kinds()),
    help="Kind of listings whose row names none (e.g. records from another HSDS directory).",
)
@click.option(
    "--areas",
    is_flag=True,
    help="The file holds administrative areas and population "
    "(GeoJSON, Shapefile or GeoPackage with code, level, name_zh, parent, population).",
)
def import_(path: str, dry_run: bool, coords: str, default_kind: str | None, areas: bool) -> None:
    """Import listings (CSV, XLSX, GeoJSON, HSDS 3.0 JSON) or, with --areas, areas.

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

    settings = _settings()
    try:
        data = b"" if areas else Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    options = ImportOptions(
        coords=CoordSystem(coords),
        default_kind=None if default_kind is None else ResourceKind(default_kind),
        dry_run=dry_run,
    )
    bar = _ProgressBar()

    async def run() -> ImportReport:
        await db.migrate(settings.database_url)
        async with db.database(settings.database_url):
            if areas:
                return await import_areas(path, dry_run=dry_run)
            return await import_listings(
                SYSTEM,
                data,
                Path(path).name,
                options,
                now=clock.from_settings(settings).now(),
                progress=bar,
            )

    try:
        report = _run(run())
    finally:
        bar.close()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@main.command()
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

    settings = _settings()
    # The binary side of stdout (click 8.5 deprecates get_binary_stream).
    stdout = sys.stdout.buffer
    if fmt == "xlsx" and out is None and stdout.isatty():
        raise click.UsageError("xlsx is a binary file: give --out FILE")

    async def run() -> bytes:
        async with db.database(settings.database_url):
            return await export_listings(fmt, tz=settings.tz, organisation_id=organisation_id)

    data = _run(run())
    if out is None:
        stdout.write(data)
        stdout.flush()
        return
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {len(data):,} bytes to {out}", err=True)


@main.command()
@click.option("--once", is_flag=True, help="Run one round and exit (e.g. from cron).")
@click.option(
    "--interval",
    type=click.FloatRange(0.5, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between rounds.",
)
def worker(once: bool, interval: float) -> None:
    """Send notifications and reminders and pass on expired waitlist offers, until Ctrl-C.

    Run it where app processes have RESOURCEMAP_RUN_WORKER=false; running several is safe.
    """
    import signal

    from resourcemap.booking.senders import build_senders
    from resourcemap.booking.worker import Worker, running_worker

    settings = _settings()
    try:
        build_senders(settings)  # incomplete sender settings: say so before anything runs
    except DomainError as exc:
        raise click.ClickException(exc.reason) from None

    async def run() -> str:
        # A service like the app: every wait on the database bounded.
        async with db.database(settings.database_url, db.Timeouts.from_settings(settings)):
            await _require_booking_tables()
            if once:
                reading = clock.from_settings(settings)
                done = await Worker(settings, clock=reading).run_once(reading.now())
                if not done.ok:
                    raise click.ClickException("a step failed; see the log")
                sent = done.dispatched
                return (
                    f"offers expired: {done.offers_expired}, reminders queued: "
                    f"{done.reminders_queued}, sent: {sent.sent if sent else 0}, "
                    f"retrying: {sent.retrying if sent else 0}, "
                    f"failed: {sent.failed if sent else 0}"
                )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            async with running_worker(
                settings, interval=interval, clock=clock.from_settings(settings)
            ):
                click.echo(
                    f"booking worker: a round every {interval:g} s, senders "
                    f"{', '.join(settings.senders) or 'none'}; Ctrl-C stops it"
                )
                await stop.wait()
            return "booking worker stopped"

    click.echo(_run(run()))


async def _require_booking_tables() -> None:
    from tortoise.exceptions import DBConnectionError, OperationalError

    from resourcemap.models import Notification

    try:
        await Notification.filter(id=0).exists()
    except DBConnectionError as exc:
        raise click.ClickException(f"cannot reach the database: {exc}") from None
    except OperationalError:
        raise click.ClickException(
            "the database has no booking tables yet; run `resourcemap migrate` first"
        ) from None


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
def purge(dry_run: bool) -> None:
    """Delete residents' contact details and notes of bookings past the retention period.

    Bookings and waitlist entries keep their rows (for planners' counts) but lose nickname,
    phone, e-mail and note once their slot ended RESOURCEMAP_BOOKING_RETENTION_DAYS ago.
    """
    from resourcemap.booking.purge import Purged
    from resourcemap.booking.purge import purge as purge_old

    settings = _settings()

    async def run() -> Purged:
        async with db.database(settings.database_url):
            await _require_booking_tables()
            return await purge_old(
                clock.from_settings(settings).now(),
                settings.booking_retention_days,
                dry_run=dry_run,
            )

    done = _run(run())
    verb = "would purge" if dry_run else "purged"
    before = done.cutoff.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    click.echo(
        f"{verb} contact details of {done.bookings} bookings, {done.waitlist_entries} "
        f"waitlist entries and {done.notifications} notifications (slots that ended before "
        f"{before}, {settings.booking_retention_days} days ago)"
    )


@main.command()
@click.option("--secret", is_flag=True, help="A secret key for RESOURCEMAP_SECRET_KEY instead.")
def keygen(secret: bool) -> None:
    """Print a new data key for RESOURCEMAP_DATA_KEYS, or with --secret a secret key for
    RESOURCEMAP_SECRET_KEY (see README: Security)."""
    import secrets

    from resourcemap.vault import generate_key

    click.echo(secrets.token_urlsafe(48) if secret else generate_key())


@main.command(name="rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored contact detail with the first key of RESOURCEMAP_DATA_KEYS.

    Idempotent and safe while the app runs; see README: Bookings and privacy.
    """
    from resourcemap.booking.rotation import Rotated
    from resourcemap.booking.rotation import rotate_keys as rotate_all
    from resourcemap.vault import Vault

    resolved = _resolved()
    settings = resolved.settings
    if resolved.generated:
        # Development: values sealed under the old placeholder-derived key move to the
        # generated one.
        click.echo(f"using the development data key kept in {settings.data_dir}")
    vault = Vault.from_settings(settings)

    async def run() -> Rotated:
        async with db.database(settings.database_url):
            await _require_booking_tables()
            return await rotate_all(vault)

    done = _run(run())
    click.echo(
        f"re-encrypted {done.rotated} values with the first key; "
        f"{done.current} already used it"
        + (f"; {done.changed} rows changed meanwhile: run it again" if done.changed else "")
    )
    if done.unreadable:
        raise click.ClickException(
            f"{done.unreadable} values cannot be decrypted with any configured key: "
            "is an old key missing from RESOURCEMAP_DATA_KEYS?"
        )


@main.command(name="import-demand")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["raster", "points", "totals"]),
    required=True,
    help="raster: population GeoTIFF; points: CSV/GeoJSON with lon, lat, weight; "
    "totals: spread the communities' populations (PATH names the data, e.g. the census table).",
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

    from resourcemap.demand_import import Format
    from resourcemap.demand_import import import_demand as run_import

    settings = _settings()

    async def run() -> str:
        await db.migrate(settings.database_url)
        async with db.database(settings.database_url):
            done = await run_import(
                path, cast(Format, fmt), buildings=buildings, cell_m=cell_m, name=name
            )
            return done.describe()

    click.echo(_run(run()))


@main.command()
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
    default="community",
    show_default=True,
    help="Areas the table reports.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(_kinds()),
    help="Resource kinds that count (repeatable; default every kind but hotlines).",
)
@click.option("--demand", "demand_source", help="Demand source (default: the latest imported).")
@click.option(
    "--streets",
    type=click.Path(exists=True, dir_okay=False),
    help="Street network (GeoJSON lines): walking distance instead of straight.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="Report to write: .html (standalone map and table), .csv or .geojson.",
)
def coverage(
    radius_m: float,
    level: str,
    kinds: tuple[str, ...],
    demand_source: str | None,
    streets: str | None,
    out: str,
) -> None:
    """Who lives within the service circle, per area: writes a map report, CSV or GeoJSON."""
    import json
    from pathlib import Path

    from pydantic import ValidationError as QueryError

    from resourcemap import coverage as cov
    from resourcemap.coverage_report import report_html
    from resourcemap.dataset import synthetic_label

    suffix = Path(out).suffix.lower()
    if suffix not in (".html", ".csv", ".geojson", ".json"):
        raise click.UsageError("--out must end in .html, .csv or .geojson")
    if streets is not None and suffix == ".html":
        raise click.UsageError("with --streets, write the table: --out FILE.csv or FILE.geojson")
    try:
        query = cov.CoverageQuery(
            radius_m=radius_m, level=level, kind=kinds or None, demand=demand_source
        )
    except QueryError as exc:
        raise click.UsageError("; ".join(e["msg"] for e in exc.errors())) from None
    graph = None
    if streets is not None:
        from geo.network import NetworkError, graph_from_geojson

        try:
            graph = graph_from_geojson(json.loads(Path(streets).read_bytes()))
        except (ValueError, NetworkError) as exc:
            raise click.ClickException(f"{streets}: {exc}") from None
    settings = _settings()
    steps = ["reading", "computing", "gaps", "hexagons", "writing"]

    async def run() -> tuple[str, str]:
        async with db.database(settings.database_url):
            service = cov.CoverageService()
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

    text, summary = _run(run())
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"{summary}\nwrote {out}")
