"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: and so does its
database, within a bound)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import db
from resourcemap.errors import Unavailable
from resourcemap.search.service import SearchService

log = logging.getLogger("resourcemap.web")

# A load balancer's check must get its answer sooner than its own timeout (often 2-5 s).
READY_LIMIT_SECONDS = 2.0
# Asked again this soon while the search index builds (seconds to a minute).
BUILDING_RETRY_SECONDS = 5


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
    description: 200 when the database answers a ping within two seconds and the search
      index is built (a province's takes about a minute after a start), 503 otherwise (with
      Retry-After), so a load balancer sends no resident to a process still building it.
    responses:
      200: {description: "{status: ok, database: sqlite or postgres, search: ready}"}
      503: {description: "Database unreachable or too slow, or the search index building"}
    """
    url = request.app.state.settings.database_url
    try:
        await db.ping(url, limit=READY_LIMIT_SECONDS)
    except Unavailable as exc:
        return _unready(exc.retry_after)
    except Exception as exc:  # anything else the database says also means "not ready"
        log.warning("readiness check failed: %s", type(exc).__name__)
        return _unready(db.RETRY_AFTER_SECONDS)
    database = db.dialect(url)
    search: SearchService = request.app.state.search
    if not await search.embedded.wait_ready(READY_LIMIT_SECONDS):
        return JSONResponse(
            {"status": "unavailable", "database": database, "search": "building"},
            status_code=503,
            headers={"Retry-After": str(BUILDING_RETRY_SECONDS)},
        )
    return JSONResponse({"status": "ok", "database": database, "search": "ready"})


def _unready(retry_after: int) -> Response:
    return JSONResponse(
        {"status": "unavailable", "database": "unreachable"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )
