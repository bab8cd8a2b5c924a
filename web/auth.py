"""Who is asking: a signed session cookie (pages) or a bearer token (scripts).

Sessions are Starlette's signed cookies (HttpOnly, SameSite=Lax, Secure in production)
holding only the account id, its session version and a CSRF token (and for a resident,
a one-off message's name and, for two hours, the code of a booking just made: no token,
no contact, nothing of the service). Any unsafe request
authenticated by the cookie must echo the CSRF token (``X-CSRF-Token`` header or a
``csrf_token`` form field); bearer tokens are not sent by browsers on their own, so they
need none.
"""

from __future__ import annotations

import secrets
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request

from resourcemap import accounts, tokens
from resourcemap.accounts import Principal
from resourcemap.errors import Forbidden, Unauthenticated
from resourcemap.said import N_
from resourcemap.settings import Environment, Settings
from resourcemap.vocab import Role
from web import clock
from web.params import json_body

SESSION_SECONDS = 8 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def session_middleware(settings: Settings) -> Middleware:
    return Middleware(
        SessionMiddleware,
        secret_key=settings.signing_secret(),
        session_cookie="rm_session",
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=settings.environment is Environment.PRODUCTION,
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def start_session(request: Request, principal: Principal) -> str:
    request.session.clear()
    request.session.update({"uid": principal.id, "ver": principal.session_version})
    return csrf_token(request)


def end_session(request: Request) -> None:
    """Forget the session in this browser only (it was found stale)."""
    request.session.clear()


async def sign_out(request: Request) -> None:
    """End the session on the server too: the account's session version moves on, so a
    copy of this cookie (or any other session of the account) no longer works (#15)."""
    uid, version = request.session.get("uid"), request.session.get("ver")
    if isinstance(uid, int) and isinstance(version, int):
        await accounts.end_sessions(uid, version)
    request.session.clear()


async def current_principal(request: Request, *, form_csrf: str | None = None) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = await tokens.principal_for(
            header[7:].strip(),
            now=clock.now(request),
            lifetime=request.app.state.settings.token_lifetime,
        )
        if principal is None:
            raise Unauthenticated("the bearer token is not valid, revoked or expired")
        return principal
    uid, version = request.session.get("uid"), request.session.get("ver")
    if not isinstance(uid, int) or not isinstance(version, int):
        return None
    principal = await accounts.principal_for_session(uid, version)
    if principal is None:
        end_session(request)
        return None
    if request.method in UNSAFE and not csrf_ok(
        request, request.headers.get(CSRF_HEADER) or form_csrf or ""
    ):
        raise Forbidden(N_("missing or wrong CSRF token; reload the page and try again"))
    return principal


def from_another_site(request: Request) -> bool:
    """Whether a browser says this request was made by a page of another site.

    Sign-in CSRF (#15): a page elsewhere must not sign its visitor in to an account of its
    choosing. JSON bodies already need a preflight this app never grants; on top of that,
    a browser's ``Sec-Fetch-Site`` and ``Origin`` are checked. Scripts send neither.
    """
    if request.headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    ours = {
        request.headers.get("host", ""),
        urlsplit(str(request.app.state.settings.public_url)).netloc,
    }
    return urlsplit(origin).netloc not in ours - {""}


def csrf_ok(request: Request, sent: str) -> bool:
    """Whether ``sent`` is this session's CSRF token.

    The token lives in the session cookie, which is signed with the secret key, so a form
    field that matches it could only come from a page this site served to this browser.
    Residents' forms (no account) use the same check as staff forms.
    """
    expected = request.session.get("csrf")
    # compare_digest refuses non-ASCII text with a TypeError: such a token is simply wrong.
    return (
        bool(sent)
        and sent.isascii()
        and isinstance(expected, str)
        and secrets.compare_digest(sent.encode(), expected.encode())
    )


async def require(request: Request, *roles: Role, form_csrf: str | None = None) -> Principal:
    """The signed-in principal, which must hold one of ``roles`` (any role if none given)."""
    principal = await current_principal(request, form_csrf=form_csrf)
    if principal is None:
        raise Unauthenticated("sign in first")
    if roles:
        principal.require(*roles)
    return principal


Body = TypeVar("Body", bound=BaseModel)


async def with_body(request: Request, model: type[Body], *roles: Role) -> tuple[Principal, Body]:
    """The signed-in principal, holding one of ``roles``, then what they sent read as
    ``model``: the API's preamble of every write. Who is asking is checked first, so a
    stranger learns nothing of the fields."""
    principal = await require(request, *roles)
    return principal, model.model_validate(await json_body(request))


async def staff_with_body(request: Request, model: type[Body]) -> tuple[Principal, Body]:
    """A staff member or admin, then what they sent (see ``with_body``)."""
    return await with_body(request, model, Role.STAFF, Role.ADMIN)
