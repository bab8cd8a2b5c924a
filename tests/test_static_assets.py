"""Static files travel light (#18): compressed, under content-hashed names a browser keeps
for good, so the search page's first load stays small and a repeat visit fetches only HTML."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup

from tests.factories import run_in_db, small_city

HASHED = re.compile(r"^/static/.+\.[0-9a-f]{10}\.(css|js)$")


def _assets(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [str(s["src"]) for s in soup.find_all("script", src=True)] + [
        str(link["href"]) for link in soup.find_all("link", rel="stylesheet")
    ]


def test_search_page_assets_are_hashed_compressed_and_immutable(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        page = client.get("/", headers={"Accept-Encoding": "gzip"})
        assets = _assets(page.text)
        assert len(assets) >= 5 and all(HASHED.match(a) for a in assets), assets
        # The page's own bytes as sent (gzip) plus each asset's bytes on the wire.
        total = len(gzip.compress(page.content))
        for url in assets:
            answer = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert answer.status_code == 200, url
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert answer.headers["content-encoding"] in ("gzip", "br"), url
            assert answer.headers["vary"] == "Accept-Encoding"
            # httpx decodes the body; Content-Length is what travelled.
            total += int(answer.headers["content-length"])
    # Goal of #18: about 110 KB before tiles (was 265 KB uncompressed).
    assert total <= 130_000, total


def test_a_plain_name_is_revalidated_and_a_stale_hash_is_gone(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        plain = client.get("/static/app.css", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "no-cache"
        assert plain.headers["content-type"].startswith("text/css")
        etag = plain.headers["etag"]
        again = client.get("/static/app.css", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get("/static/app.0123456789.css").status_code == 404
        assert client.get("/static/../routes.py").status_code == 404
        # Images are not compressed again, and keep their names (CSS refers to them).
        icon = client.get(
            "/static/vendor/leaflet/images/marker-icon.png", headers={"Accept-Encoding": "gzip"}
        )
        assert icon.status_code == 200 and "content-encoding" not in icon.headers
        assert icon.headers["content-type"] == "image/png"


def test_the_map_attribution_prefix_is_the_operators(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url, map_attribution_prefix="") as client:
        soup = BeautifulSoup(client.get("/").text, "html.parser")
    map_el = soup.select_one("#map")
    assert map_el is not None and map_el["data-attribution-prefix"] == ""
