"""Static files served compressed, under content-hashed names, cached for good.

Pages link ``asset("/app.css")``, which names the file with a hash of its bytes
(``/static/app.3f2a1b9c0d.css``): such a URL never changes meaning, so it is sent with
``Cache-Control: public, max-age=31536000, immutable`` and a repeat visit downloads only the
HTML. The plain name still answers (relative references inside CSS, old pages), revalidated
by ETag. Text files go out gzip-compressed (Brotli too when the ``brotli`` package is
installed) when the browser accepts it; each file is compressed once per process, at its
first request, at the highest level, and kept in memory (the whole folder is < 1 MB).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

try:  # optional: Brotli is ~15% smaller than gzip on Leaflet; gzip is always there
    BROTLI: ModuleType | None = importlib.import_module("brotli")
except ImportError:  # pragma: no cover - depends on the installation
    BROTLI = None

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt", ".html", ".map"}
HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<ext>\.[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str
    media_type: str

    @functools.cached_property
    def gzip(self) -> bytes:
        return gzip.compress(self.body, compresslevel=9, mtime=0)

    @functools.cached_property
    def brotli(self) -> bytes | None:
        return None if BROTLI is None else BROTLI.compress(self.body, quality=11)


@functools.cache
def load(relative: str) -> Asset | None:
    """The file under the static folder (``vendor/leaflet/leaflet.js``), or None."""
    path = (STATIC_DIR / relative).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        return None
    body = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    return Asset(body, hashlib.sha256(body).hexdigest()[:10], media_type)


def asset(path: str) -> str:
    """``/app.css`` → ``/static/app.<hash>.css``: the URL pages link (templates call it)."""
    relative = path.lstrip("/")
    found = load(relative)
    if found is None:
        return f"{PREFIX}/{relative}"
    stem, dot, ext = relative.rpartition(".")
    return f"{PREFIX}/{stem}.{found.digest}.{ext}" if dot else f"{PREFIX}/{relative}"


def _encoding(accepted: str, item: Asset, suffix: str) -> tuple[str | None, bytes]:
    if suffix not in COMPRESSIBLE:
        return None, item.body
    names = {part.split(";")[0].strip().lower() for part in accepted.split(",")}
    if "br" in names and item.brotli is not None:
        return "br", item.brotli
    if "gzip" in names:
        return "gzip", item.gzip
    return None, item.body


class StaticAssets:
    """The ASGI app mounted at ``/static``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await PlainTextResponse("Method Not Allowed", 405)(scope, receive, send)
            return
        relative = scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/")
        relative = relative.removeprefix(PREFIX.lstrip("/") + "/")
        cache = REVALIDATE
        hashed = HASHED.match(relative.rsplit("/", 1)[-1])
        item = load(relative)
        if item is None and hashed:
            folder = relative.rpartition("/")[0]
            plain = f"{hashed['stem']}{hashed['ext']}"
            item = load(f"{folder}/{plain}" if folder else plain)
            if item is not None and item.digest != hashed["digest"]:
                item = None  # an old name: its bytes are gone, a stale copy would mislead
            cache = IMMUTABLE
        if item is None:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        headers = Headers(scope=scope)
        etag = f'"{item.digest}"'
        suffix = Path(relative).suffix.lower()
        base = {"Cache-Control": cache, "ETag": etag}
        if suffix in COMPRESSIBLE:
            base["Vary"] = "Accept-Encoding"
        if headers.get("if-none-match") == etag:
            await Response(status_code=304, headers=base)(scope, receive, send)
            return
        encoding, body = _encoding(headers.get("accept-encoding", ""), item, suffix)
        if encoding:
            base["Content-Encoding"] = encoding
        response = Response(body, media_type=item.media_type, headers=base)
        if scope["method"] == "HEAD":
            response.body = b""
        await response(scope, receive, send)
