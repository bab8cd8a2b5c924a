"""Who sends an upload, known before a byte of it is read (#15).

Starlette spools a form's files to disk as it parses them; parsed first, an anonymous
request could have the server write the whole upload before learning it may not send one.
So upload endpoints ask who is there first — the session cookie or the bearer token, which
travel in the headers — and read the body only for someone who may send it. The form's CSRF
token travels in the body: it is checked once the form is read, as before.
"""

from __future__ import annotations

from starlette.requests import Request

from resourcemap.accounts import Principal
from resourcemap.errors import Unauthenticated
from resourcemap.vocab import Role
from web import auth


async def sender(request: Request, *roles: Role) -> Principal:
    """The signed-in principal holding one of ``roles``, from the headers alone:
    ``Unauthenticated`` or ``Forbidden`` before the body is read."""
    # The checks of a GET: the same session and token, without the CSRF token that is still
    # inside the unread body (the caller checks it with the form).
    headers_only = Request({**request.scope, "method": "GET"}, request.receive)
    principal = await auth.current_principal(headers_only)
    if principal is None:
        raise Unauthenticated("sign in first")
    request.state.principal = principal  # so that a 403 page still shows who is signed in
    principal.require(*roles)
    return principal
