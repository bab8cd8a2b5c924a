"""One place that turns domain errors and bad input into HTTP answers with a reason."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from tortoise.exceptions import ValidationError as TortoiseValidationError

from resourcemap.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("resourcemap.web")

STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    TooManyRequests: 429,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Unavailable: 503,
}


def _error(
    status: int,
    error: str,
    reason: str,
    fields: dict[str, str] | None = None,
    *,
    code: str | None = None,
) -> Response:
    body: dict[str, object] = {"error": error, "reason": reason}
    if code:
        body["code"] = code
    if fields:
        body["fields"] = fields
    return JSONResponse(body, status_code=status)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    fields = {exc.field: exc.reason} if exc.field else None
    response = _error(status, type(exc).__name__, exc.reason, fields, code=exc.code)
    if isinstance(exc, Unavailable):
        # Nothing was wrong with the request: the caller may send it again after this.
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "request"
        fields.setdefault(name, err["msg"])
    reason = "; ".join(f"{k}: {v}" for k, v in fields.items())
    return _error(400, "InvalidInput", reason, fields)


async def storage_validation_error(request: Request, exc: Exception) -> Response:
    # A value the database column cannot hold that no earlier check caught: still the
    # caller's input, so a 400 with the reason rather than a 500.
    return _error(400, "InvalidInput", str(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return _error(exc.status_code, "HTTPError", str(exc.detail))
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    # Log the type and path only: request data may hold personal details.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return _error(500, "ServerError", "internal error; it has been logged")


HANDLERS = {
    DomainError: domain_error,
    ValidationError: validation_error,
    TortoiseValidationError: storage_validation_error,
    HTTPException: http_error,
    500: server_error,
}
