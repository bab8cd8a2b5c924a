"""Logging set-up for the entry points (CLI, ASGI). Libraries never configure logging.

Mental-health data must not reach the logs: the ORM and SQLite drivers log every query
with its parameters at DEBUG (passwords' hashes, phone numbers, search positions), so
those loggers are held at WARNING whatever level the operator chooses.
"""

from __future__ import annotations

import logging
import re

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


# A booking's manage token travels in links (``/bookings/CODE?token=…``): whoever reads it
# can cancel the booking, so a URL that reaches a log line loses it on the way.
SECRET_PARAM = re.compile(r"(\b(?:token|csrf_token)=)[^&\s\"']+", re.IGNORECASE)


class RedactSecrets(logging.Filter):
    """Replaces the value of ``token=`` and ``csrf_token=`` in any log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = SECRET_PARAM.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class AbandonedHandshake(logging.Filter):
    """Drops asyncio's "Future exception was never retrieved" for a PostgreSQL TLS handshake
    that a connect timeout cancelled: asyncpg leaves the lost connection's exception on a
    future nobody awaits (MagicStack/asyncpg#1211). The timeout itself is handled and logged
    once per outage (``resourcemap.db.Outage``); this line would repeat for every attempt."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "unexpected connection_lost() call" not in record.getMessage()


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
    logging.getLogger("resourcemap").setLevel(level.upper())
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, AbandonedHandshake) for f in asyncio_log.filters):
        asyncio_log.addFilter(AbandonedHandshake())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
