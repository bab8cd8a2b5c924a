"""The ``resourcemap`` command line, one module per group of commands. Settings are read
from the environment once, in ``common``."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="resourcemap")
def main() -> None:
    """ResourceMap: map, book and plan mental-health service resources.

    Settings come from RESOURCEMAP_* environment variables or a .env file; see README.
    """


def _register() -> None:
    from resourcemap.cli import accounts, booking, planning, server, transfer

    for command in (
        server.migrate,
        server.serve,
        server.demo,
        accounts.user,
        transfer.import_,
        transfer.export,
        booking.worker,
        booking.purge,
        booking.keygen,
        booking.rotate_keys,
        planning.import_demand,
        planning.coverage,
    ):
        main.add_command(command)


_register()
