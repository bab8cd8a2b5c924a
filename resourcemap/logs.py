"""Logging set-up for the entry points (CLI, ASGI). Libraries never configure logging.

Mental-health data must not reach the logs: the ORM and SQLite drivers log every query
with its parameters at DEBUG (passwords' hashes, phone numbers, search positions), so
those loggers are held at WARNING whatever level the operator chooses.
"""

from __future__ import annotations

import logging

# Loggers that would write query parameters or request details.
QUIET = (
    "tortoise",
    "tortoise.db_client",
    "aiosqlite",
    "asyncpg",
    "uvicorn.access",
    "urllib3",
    "httpx",
    "httpx2",
)


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("resourcemap").setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
