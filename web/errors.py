"""One place that turns domain errors and bad input into HTTP answers with a reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from html import escape

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Scope

from resourcemap.errors import (
    STORAGE_INPUT_ERRORS,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
)
from resourcemap.vault import Undecryptable
from web import i18n
from web.i18n import _

log = logging.getLogger("resourcemap.web")
MAX_FIELDS = 20


class StaleForm(Exception):
    """A form came without this session's CSRF token: an old page, another tab, or a page of
    another site trying to act as the person."""


@dataclass(frozen=True)
class Problem:
    """How one kind of error is answered: its status, and the title and words (message ids,
    translated where shown) of the page that says so outside the API."""

    status: int
    title: str
    detail: str


def N_(message: str) -> str:
    """Marks a message for extraction; ``_`` translates it where it is shown."""
    return message


# The one table from error class to answer; the first class an error is an instance of wins.
PROBLEMS: dict[type[Exception], Problem] = {
    UnsupportedMediaType: Problem(
        415, N_("Please check your input"), N_("Something in the request is wrong.")
    ),
    InvalidInput: Problem(
        400, N_("Please check your input"), N_("Something in the request is wrong.")
    ),
    ValidationError: Problem(
        400, N_("Please check your input"), N_("Something in the request is wrong.")
    ),
    Unauthenticated: Problem(401, N_("Please sign in"), N_("Sign in to see this page.")),
    StaleForm: Problem(
        403,
        N_("This page has expired"),
        N_("Please go back, reload the page and try again. Nothing was changed."),
    ),
    Forbidden: Problem(403, N_("Not allowed"), N_("Your account may not do this.")),
    NotFound: Problem(
        404, N_("Not found"), N_("This page does not exist, or the link is incomplete.")
    ),
    Conflict: Problem(
        409,
        N_("This cannot be done online now"),
        N_("Please choose another time, or call the service."),
    ),
    TooLarge: Problem(
        413, N_("Too large"), N_("The file or form is too large. Please send a smaller one.")
    ),
    TooManyRequests: Problem(
        429, N_("Too many requests"), N_("Please wait a minute and try again.")
    ),
    Unavailable: Problem(
        503,
        N_("The service is busy"),
        N_("Please try again in a moment. Nothing was changed."),
    ),
}
OTHER = Problem(400, N_("Please check your input"), N_("Something in the request is wrong."))
# Starlette's own refusals: an address no route has (or a path parameter of the wrong
# shape), and a form's address opened as a page (a bookmark, a reload).
HTTP_PROBLEMS: dict[int, Problem] = {
    404: PROBLEMS[NotFound],
    405: Problem(
        405,
        N_("This address is for a form"),
        N_("It cannot be opened as a page. Please go back and use the page's buttons."),
    ),
}


def problem_of(exc: Exception) -> Problem:
    if isinstance(exc, HTTPException):
        return HTTP_PROBLEMS.get(exc.status_code, replace(OTHER, status=exc.status_code))
    return next((p for cls, p in PROBLEMS.items() if isinstance(exc, cls)), OTHER)


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


class BodyTooLarge(Exception):
    """A request body over its limit (``web.middleware``): 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit:,} bytes")
        self.limit = limit


def too_large_response(path: str, limit: int) -> Response:
    """413: JSON under /api, a short page in the reader's language elsewhere (the page of
    a form or file that was too big: nothing of it was read)."""
    reason = f"the request body is larger than the limit of {limit:,} bytes"
    if path.startswith("/api/"):
        return _error(413, "TooLarge", reason)
    size = f"{limit / 1_048_576:g} MB" if limit >= 1_048_576 else f"{limit // 1024} KB"
    title = escape(_("Too large"))
    detail = escape(
        _("The file or form is larger than %(size)s. Please send a smaller one.", size=size)
    )
    back = escape(_("Back to the form"))
    page = (
        f'<!doctype html><html lang="{i18n.current().tag}"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><h1>{title}</h1><p>{detail}</p>"
        f'<p><a href="{escape(path)}">{back}</a></p></html>'
    )
    return HTMLResponse(page, status_code=413)


def nul_in_query_response(path: str, name: str) -> Response:
    """400 for a query parameter holding a NUL byte (``web.middleware``): no parameter takes
    one, and PostgreSQL refuses it in a statement (a 500 otherwise, #16)."""
    reason = f"{name} contains a NUL byte"
    if path.startswith("/api/"):
        return _error(400, "InvalidInput", reason, {name: "contains a NUL byte"})
    title = escape(_("Please check your input"))
    detail = escape(_("Something in the request is wrong."))
    page = (
        f'<!doctype html><html lang="{i18n.current().tag}"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><h1>{title}</h1><p>{detail}</p></html>"
    )
    return HTMLResponse(page, status_code=400)


async def body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return too_large_response(request.url.path, exc.limit)


async def domain_error(request: Request, exc: Exception) -> Response:
    """The JSON answer of the API (``web.app`` sends pages to the page shell instead)."""
    assert isinstance(exc, DomainError)
    status = problem_of(exc).status
    fields = {exc.field: exc.reason} if exc.field else None
    response = _error(status, type(exc).__name__, exc.reason, fields, code=exc.code)
    if isinstance(exc, Unavailable | TooManyRequests):
        # The caller may send it again after this (a limit, or nothing wrong with it at all).
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    fields: dict[str, str] = {}
    errors = exc.errors(include_url=False, include_input=False)
    for err in errors:
        name = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "request"
        fields.setdefault(name, err["msg"])
        if len(fields) == MAX_FIELDS:
            # A body of thousands of unknown keys gets a short answer, not a long one.
            break
    reason = "; ".join(f"{k}: {v}" for k, v in list(fields.items())[:5])
    if len(errors) > len(fields):
        reason += f" (and {len(errors) - len(fields)} more problems)"
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


def unhandled(scope: Scope, exc: Exception) -> Response:
    """The answer to an exception nothing else handled (``web.middleware``)."""
    # Log the type and path only: request data may hold personal details.
    log.error("unhandled %s on %s %s", type(exc).__name__, scope["method"], scope["path"])
    if isinstance(exc, Undecryptable):  # what to put right, which the type does not say
        log.error("%s: is the key that sealed it missing from RESOURCEMAP_DATA_KEYS?", exc)
    log.debug("the unhandled exception", exc_info=exc)  # the code's lines, never its values
    return _error(500, "ServerError", "internal error; it has been logged")


HANDLERS = {
    BodyTooLarge: body_too_large,
    DomainError: domain_error,
    ValidationError: validation_error,
    **dict.fromkeys(STORAGE_INPUT_ERRORS, storage_validation_error),
    HTTPException: http_error,
}
