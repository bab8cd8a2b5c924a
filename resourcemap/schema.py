"""Bringing a database up to date: the tables (tortoise-orm's migrations), then the database
functions the code calls (the booking function), reinstalled every time so they always match
the code, and the query planner's statistics. Above every feature package, since it knows
what they install."""

from __future__ import annotations

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as tortoise_migrate

from resourcemap.booking import seats
from resourcemap.db import analyse, dialect, open_db, tortoise_config
from resourcemap.models import Area, Resource


async def migrate(database_url: str) -> None:
    """Apply every pending migration (idempotent), then (re)install the database functions
    the code calls, so they always match it."""
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
        await open_db(database_url)
        await seats.install(connections.get(dialect(database_url)))
        # A database loaded before bulk writes analysed it gets the planner's statistics.
        await analyse(Resource, Area)
    finally:
        await Tortoise.close_connections()
