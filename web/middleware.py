"""The one middleware every request passes: size limits, language, security headers.

- **Size limits, before anything reads the body** (authentication included): a request
  whose declared length is over its limit is refused at once, and a body sent without a
  length is counted while it streams in; over the limit the answer is 413 with a reason.
  Imports have their own, larger limit; everything else the JSON and form limit.
- **Language**: chosen once per request (``?lang=``, the cookie, zh-CN) and made current for
  gettext, for every page and error page alike; asked for with ``?lang=``, it is
  remembered in a cookie.
- **Security headers, one set for every response**: a Content-Security-Policy with no
  inline script, frames refused (the planner's own map documents allow framing by this
  site only), ``nosniff``, no referrer (manage links carry a booking's token), HSTS in
  production, and ``Cache-Control: no-store`` on everything but static files unless an
  endpoint chose otherwise — answers that name a resident are never kept by a cache.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resourcemap.settings import Environment, Settings
from web import i18n
from web.errors import BodyTooLarge, nul_in_query_response, too_large_response, unhandled

IMPORT_PATHS = ("/api/v1/imports", "/staff/import", "/planning/siting")
STATIC_PREFIX = "/static/"
DEFAULT_RETRY_AFTER = 60  # seconds: the shortest window of the per-minute limits


def content_security_policy(settings: Settings) -> str:
    tiles = ""
    if settings.tile_url:
        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            # Tile servers with {s} subdomains: allow the whole host family.
            host = (
                parts.netloc.replace("a.", "*.", 1) if "{s}" in settings.tile_url else parts.netloc
            )
            tiles = f" {parts.scheme}://{host}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            # Inline style attributes in a few templates and Leaflet's own; never script.
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{tiles}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-src 'self'",
            "frame-ancestors 'none'",
        )
    )


class FrontDoor:
    """Pure ASGI middleware (no response buffering, streaming untouched)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.body_limit = settings.body_limit_bytes
        self.import_limit = settings.import_limit_bytes
        self.csp = content_security_policy(settings)
        self.hsts = settings.environment is Environment.PRODUCTION

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        lang, asked = i18n.choose_from(scope)
        i18n.activate(lang)
        send = self._headers(send, path, lang, asked)
        limit = self.import_limit if path.startswith(IMPORT_PATHS) else self.body_limit
        if (name := _nul_parameter(scope)) is not None:
            await nul_in_query_response(path, name)(scope, _no_receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            # Refused before anything reads the body, sign-in included.
            await too_large_response(path, limit)(scope, _no_receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _counting(receive, limit), tracked)
        except Exception as exc:
            if started:
                raise
            # Here rather than in Starlette's outer error middleware, so that a 500 carries
            # the same headers as every other answer.
            await unhandled(scope, exc)(scope, _no_receive, send)

    def _headers(self, send: Send, path: str, lang: i18n.Language, asked: bool) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                self._secure(headers, static=path.startswith(STATIC_PREFIX))
                _retry_after(message)
                if asked:
                    headers.append(
                        "set-cookie",
                        f"{i18n.COOKIE}={lang.tag}; Max-Age={i18n.COOKIE_SECONDS}; Path=/; "
                        "HttpOnly; SameSite=Lax",
                    )
            await send(message)

        return send_with_headers

    def _secure(self, headers: MutableHeaders, *, static: bool) -> None:
        own = headers.get("content-security-policy")
        if own is None:
            headers["Content-Security-Policy"] = self.csp
            headers["X-Frame-Options"] = "DENY"
        elif "frame-ancestors" not in own:
            # An endpoint's own policy (the planner's sandboxed map documents): framed by
            # this site's pages only.
            headers["Content-Security-Policy"] = own + "; frame-ancestors 'self'"
            headers["X-Frame-Options"] = "SAMEORIGIN"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
        if self.hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if not static and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"


def _retry_after(message: Message) -> None:
    """Every 429 says when to try again (#16): the limit's own figure where it gave one."""
    if message["status"] == 429:
        headers = MutableHeaders(scope=message)
        if "retry-after" not in headers:
            headers["Retry-After"] = str(DEFAULT_RETRY_AFTER)


def _nul_parameter(scope: Scope) -> str | None:
    """The name of a query parameter holding a NUL byte (``%00``), if any."""
    raw: bytes = scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "query"
    return None


def _counting(receive: Receive, limit: int) -> Receive:
    """``receive`` that refuses a body growing past ``limit`` while it streams in."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


async def _no_receive() -> MutableMapping[str, Any]:
    return {"type": "http.disconnect"}
