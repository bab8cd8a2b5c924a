"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: and so does its
database, within a bound)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import db
from resourcemap.errors import Unavailable

log = logging.getLogger("resourcemap.web")

# A load balancer's check must get its answer sooner than its own timeout (often 2-5 s).
READY_LIMIT_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    """
    summary: Liveness
    description: 200 while the process serves requests. Never waits for the database, so a
      slow or stopped database does not get a healthy process restarted.
    responses:
      200: {description: "{status: ok}"}
    """
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """
    summary: Readiness
    description: 200 when the database answers a ping within two seconds, 503 otherwise
      (with Retry-After).
    responses:
      200: {description: "{status: ok, database: sqlite or postgres}"}
      503: {description: "Database unreachable or too slow"}
    """
    url = request.app.state.settings.database_url
    try:
        await db.ping(url, limit=READY_LIMIT_SECONDS)
    except Unavailable as exc:
        return _unready(exc.retry_after)
    except Exception as exc:  # anything else the database says also means "not ready"
        log.warning("readiness check failed: %s", type(exc).__name__)
        return _unready(db.RETRY_AFTER_SECONDS)
    return JSONResponse({"status": "ok", "database": db.dialect(url)})


def _unready(retry_after: int) -> Response:
    return JSONResponse(
        {"status": "unavailable", "database": "unreachable"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )
