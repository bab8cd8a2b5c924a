"""Static files as a browser should get them: content-hashed names cached for a year, each
compressed once (brotli and gzip) and sent in the encoding the browser accepts.

Pages name a file through ``url_for('static', path='/app.css')``, which gives its hashed
name (``/static/app.3f2a9c1b0d.css``): a changed file gets a new name, so a name can be
cached ``immutable`` and a repeat visit downloads only the HTML. The plain name still
answers (folium's map documents and old pages use it), revalidated with its ETag. Leaflet's
148 KB script goes out as about 40 KB.

Files are read once per process (at first use, not at start: tests build many apps) and
compressed at first request, kept in memory: the directory holds well under a megabyte.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
from jinja2 import pass_context
from starlette.datastructures import URL, Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Worth compressing: text. Images (PNG) are compressed already.
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
MIN_COMPRESS_BYTES = 512


@dataclass
class Asset:
    """One static file, with the encodings made of it so far."""

    path: Path
    media_type: str
    body: bytes
    etag: str
    encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def compressible(self) -> bool:
        return len(self.body) >= MIN_COMPRESS_BYTES and self.media_type.startswith(TEXT_TYPES)

    def encoding(self, accepted: str) -> str | None:
        """The best encoding the request accepts (brotli, then gzip), or ``None``."""
        if not self.compressible:
            return None
        offered = {part.split(";")[0].strip().lower() for part in accepted.split(",")}
        for name in ("br", "gzip"):
            if name in offered:
                return name
        return None

    def encoded_body(self, encoding: str) -> bytes:
        found = self.encoded.get(encoding)
        if found is None:
            if encoding == "br":
                found = brotli.compress(self.body, quality=11)
            else:
                found = gzip.compress(self.body, compresslevel=9, mtime=0)
            self.encoded[encoding] = found
        return found


class StaticAssets:
    """The ASGI app mounted at ``/static``, and the hashed name of every file under it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self._by_name: dict[str, tuple[Asset, bool]] | None = None
        self._hashed: dict[str, str] = {}

    def _table(self) -> dict[str, tuple[Asset, bool]]:
        """Every file by its plain and its hashed name (``True``: the hashed one)."""
        if self._by_name is None:
            table: dict[str, tuple[Asset, bool]] = {}
            for path in sorted(p for p in self.directory.rglob("*") if p.is_file()):
                body = path.read_bytes()
                digest = hashlib.sha256(body).hexdigest()[:10]
                name = "/" + path.relative_to(self.directory).as_posix()
                media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if media_type.startswith("text/") or media_type == "application/javascript":
                    media_type += "; charset=utf-8"
                asset = Asset(path, media_type, body, f'"{digest}"')
                stem, dot, suffix = name.rpartition(".")
                hashed = f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else name
                table[name] = (asset, False)
                table[hashed] = (asset, True)
                self._hashed[name] = hashed
            self._by_name = table
        return self._by_name

    def hashed(self, path: str) -> str:
        """The hashed name of ``path`` (``/app.css`` → ``/app.3f2a9c1b0d.css``); an unknown
        path as it is."""
        self._table()
        return self._hashed.get(path, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.response(scope)
        await response(scope, receive, send)

    def response(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
        # Under a Mount the path still holds the mount's prefix; root_path says how much.
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        found = self._table().get(path)
        if found is None:
            return PlainTextResponse("Not Found", 404)
        asset, hashed = found
        request_headers = Headers(scope=scope)
        headers = {
            "Cache-Control": IMMUTABLE if hashed else REVALIDATE,
            "ETag": asset.etag,
            "Vary": "Accept-Encoding",
        }
        if asset.etag in request_headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        encoding = asset.encoding(request_headers.get("accept-encoding", ""))
        body = asset.body
        if encoding is not None:
            body = asset.encoded_body(encoding)
            headers["Content-Encoding"] = encoding
        return Response(body, media_type=asset.media_type, headers=headers)


def install(env: Any, assets: StaticAssets) -> None:
    """Make the templates' ``url_for('static', path=...)`` give the hashed name."""

    @pass_context
    def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
        request: Request = context["request"]
        if name == "static" and "path" in path_params:
            path_params["path"] = assets.hashed(str(path_params["path"]))
        return request.url_for(name, **path_params)

    env.globals["url_for"] = url_for
