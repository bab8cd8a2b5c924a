"""Static files as a phone gets them (#18 speed and weight): hashed names cached for a year,
brotli or gzip as the browser accepts, the first load of the search page small."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
from bs4 import BeautifulSoup
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests import ROOT
from tests.factories import run_in_db, small_city
from web.assets import IMMUTABLE, StaticAssets

STATIC = ROOT / "web" / "static"


def _assets_of(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    scripts = [str(s["src"]) for s in soup.find_all("script", src=True)]
    return scripts + [str(link["href"]) for link in soup.find_all("link", rel="stylesheet")]


def test_the_search_page_first_load_is_small_and_repeat_visits_fetch_only_html(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        page = client.get("/", headers={"Accept-Encoding": "br, gzip"})
        assets = _assets_of(page.text)
        assert len(assets) >= 5
        wire = page.num_bytes_downloaded
        for path in assets:
            assert path.startswith("/static/")
            # A content hash in every name: cached for a year, never stale.
            name = path.rsplit("/", 1)[1]
            digest = name.split(".")[-2]
            assert len(digest) == 10 and int(digest, 16) >= 0, path
            answer = client.get(path, headers={"Accept-Encoding": "br, gzip"})
            assert answer.status_code == 200
            assert answer.headers["cache-control"] == IMMUTABLE
            assert answer.headers["content-encoding"] == "br"
            wire += answer.num_bytes_downloaded
    print(f"first load on the wire: {wire:,} bytes")
    assert wire <= 130_000, wire


def test_each_encoding_decodes_to_the_file_and_the_plain_name_revalidates(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    original = (STATIC / "vendor" / "leaflet" / "leaflet.js").read_bytes()
    with make_client(database_url) as client:
        hashed = next(a for a in _assets_of(client.get("/").text) if "/leaflet/leaflet." in a)
        assert hashed.endswith(".js")
        for accept in ("br", "gzip"):
            raw = client.get(hashed, headers={"Accept-Encoding": accept})
            assert raw.headers["content-encoding"] == accept
            assert raw.headers["vary"] == "Accept-Encoding"
            # httpx decodes by the header: the body is the file in the encoding it names.
            assert raw.content == original
            assert raw.num_bytes_downloaded < len(original) / 3
        plain = client.get("/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": ""})
        assert plain.content == original and "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "no-cache"
        again = client.get(
            "/static/vendor/leaflet/leaflet.js", headers={"If-None-Match": plain.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        for bad in ("/static/../routes.py", "/static/nothing.js", "/static/app.0000000000.css"):
            assert client.get(bad).status_code == 404, bad
        assert client.post("/static/app.css").status_code == 405
    table = StaticAssets(STATIC)
    asset = table._table()["/vendor/leaflet/leaflet.js"][0]
    assert brotli.decompress(asset.encoded_body("br")) == original
    assert gzip.decompress(asset.encoded_body("gzip")) == original


def test_a_changed_file_gets_a_new_name(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("body { color: black }\n" * 40)
    first = StaticAssets(tmp_path).hashed("/app.css")
    (tmp_path / "app.css").write_text("body { color: navy }\n" * 40)
    second = StaticAssets(tmp_path).hashed("/app.css")
    assert first != second and first.startswith("/app.") and first.endswith(".css")
    app = Starlette(routes=[Mount("/static", StaticAssets(tmp_path), name="static")])
    with TestClient(app) as client:
        assert client.get("/static" + second).text.startswith("body { color: navy }")
        assert client.get("/static" + first).status_code == 404


def test_every_page_names_its_icon(database_url: str, make_client: Callable[..., Any]) -> None:
    """Browsers asked for /favicon.ico on every page and logged a 404."""
    with make_client(database_url) as client:
        soup = BeautifulSoup(client.get("/").text, "html.parser")
        icon = soup.select_one("link[rel=icon]")
        assert icon is not None
        answer = client.get(str(icon["href"]))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"


def _wide_screen_rules(css: str) -> list[tuple[str, str]]:
    """``(selector, declarations)`` of the rules outside any ``@media`` block."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules, depth, start, media = [], 0, 0, False
    for i, ch in enumerate(css):
        if ch == "{":
            head = css[start:i].strip()
            if depth == 0:
                media = head.startswith("@")
            depth += 1
            selector, start = head, i + 1
        elif ch == "}":
            depth -= 1
            if not media and depth == 0:
                rules.append((selector, css[start:i]))
            start = i + 1
        elif ch == ";" and depth == 0:
            start = i + 1
    return rules


def test_a_staff_lists_actions_cell_stays_a_table_cell_on_wide_screens() -> None:
    # A flex <td> leaves its row: its borders and height no longer line up with the
    # row's other cells (seen on the bookings and accounts lists).
    rules = _wide_screen_rules((STATIC / "staff.css").read_text())
    displays = [
        re.search(r"display:\s*([\w-]+)", body)
        for selector, body in rules
        if any(
            s.strip().startswith(".listings") and s.strip().endswith("actions")
            for s in selector.split(",")
        )
    ]
    found = [m.group(1) for m in displays if m]
    assert found and set(found) == {"table-cell"}
