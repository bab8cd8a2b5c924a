"""Liveness with a real database round trip."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import db

log = logging.getLogger("resourcemap.web")


async def healthz(request: Request) -> Response:
    """
    summary: Health check
    description: 200 when the database answers, 503 otherwise.
    responses:
      200: {description: "{status: ok}"}
      503: {description: Database unreachable}
    """
    settings = request.app.state.settings
    try:
        await db.ping(settings.database_url)
    except Exception as exc:  # any failure of the database means "not healthy"
        log.warning("health check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": db.dialect(settings.database_url)})
