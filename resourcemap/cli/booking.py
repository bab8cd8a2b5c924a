"""Bookings' background work and keys: ``worker``, ``purge``, ``keygen``, ``rotate-keys``."""

from __future__ import annotations

import asyncio

import click

from resourcemap import clock, db
from resourcemap.cli.common import (
    read_settings,
    require_booking_tables,
    resolved_settings,
    run_command,
)
from resourcemap.errors import DomainError


@click.command()
@click.option("--once", is_flag=True, help="Run one round and exit (e.g. from cron).")
@click.option(
    "--interval",
    type=click.FloatRange(0.5, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between rounds.",
)
def worker(once: bool, interval: float) -> None:
    """Send notifications and reminders, pass on expired waitlist offers and run planners'
    background jobs, until Ctrl-C.

    Run it where app processes have RESOURCEMAP_RUN_WORKER=false; running several is safe.
    """
    import signal

    from resourcemap.booking.senders import build_senders
    from resourcemap.booking.worker import Worker, running_worker
    from resourcemap.planning.job_runner import running_jobs

    settings = read_settings()
    try:
        build_senders(settings)  # incomplete sender settings: say so before anything runs
    except DomainError as exc:
        raise click.ClickException(exc.reason) from None

    async def run() -> str:
        # A service like the app: every wait on the database bounded.
        async with db.database(settings.database_url, db.Timeouts.from_settings(settings)):
            await require_booking_tables()
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
            reading = clock.from_settings(settings)
            async with (
                running_worker(settings, interval=interval, clock=reading),
                running_jobs(settings, clock=reading),
            ):
                click.echo(
                    f"booking worker: a round every {interval:g} s, senders "
                    f"{', '.join(settings.senders) or 'none'}; planner jobs run here too; "
                    "Ctrl-C stops it"
                )
                await stop.wait()
            return "booking worker stopped"

    click.echo(run_command(run()))


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
def purge(dry_run: bool) -> None:
    """Delete residents' contact details and notes of bookings past the retention period.

    Bookings and waitlist entries keep their rows (for planners' counts) but lose nickname,
    phone, e-mail and note once their slot ended RESOURCEMAP_BOOKING_RETENTION_DAYS ago.
    """
    from resourcemap.booking.purge import Purged
    from resourcemap.booking.purge import purge as purge_old
    from resourcemap.referral.purge import purge as purge_referrals

    settings = read_settings()

    async def run() -> tuple[Purged, int]:
        async with db.database(settings.database_url):
            await require_booking_tables()
            now = clock.from_settings(settings).now()
            days = settings.booking_retention_days
            return (
                await purge_old(now, days, dry_run=dry_run),
                await purge_referrals(now, days, dry_run=dry_run),
            )

    done, referrals = run_command(run())
    verb = "would purge" if dry_run else "purged"
    before = done.cutoff.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    click.echo(
        f"{verb} contact details of {done.bookings} bookings, {done.waitlist_entries} "
        f"waitlist entries and {done.notifications} notifications (slots that ended before "
        f"{before}, {settings.booking_retention_days} days ago)"
    )
    click.echo(f"{verb} contact details of {referrals} referrals sent before {before}")


@click.command()
@click.option("--secret", is_flag=True, help="A secret key for RESOURCEMAP_SECRET_KEY instead.")
def keygen(secret: bool) -> None:
    """Print a new data key for RESOURCEMAP_DATA_KEYS, or with --secret a secret key for
    RESOURCEMAP_SECRET_KEY (see README: Security)."""
    import secrets

    from resourcemap.vault import generate_key

    click.echo(secrets.token_urlsafe(48) if secret else generate_key())


@click.command(name="rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored contact detail with the first key of RESOURCEMAP_DATA_KEYS.

    Idempotent and safe while the app runs; see README: Bookings and privacy.
    """
    from resourcemap.booking.rotation import Rotated
    from resourcemap.booking.rotation import rotate_keys as rotate_all
    from resourcemap.vault import Vault

    resolved = resolved_settings()
    settings = resolved.settings
    if resolved.generated:
        # Development: values sealed under the old placeholder-derived key move to the
        # generated one.
        click.echo(f"using the development data key kept in {settings.data_dir}")
    vault = Vault.from_settings(settings)

    async def run() -> Rotated:
        async with db.database(settings.database_url):
            await require_booking_tables()
            return await rotate_all(vault)

    done = run_command(run())
    click.echo(
        f"re-encrypted {done.rotated} values with the first key; "
        f"{done.current} already used it"
        + (f"; made {done.rekeyed} bookings' contact digests anew" if done.rekeyed else "")
        + (f"; {done.changed} rows changed meanwhile: run it again" if done.changed else "")
    )
    if done.unreadable:
        raise click.ClickException(
            f"{done.unreadable} values cannot be decrypted with any configured key: "
            "is an old key missing from RESOURCEMAP_DATA_KEYS?"
        )
