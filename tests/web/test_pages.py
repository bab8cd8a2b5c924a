"""The search page: served assets only, crisis hotlines, dataset label, safe output."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from resourcemap.listings import edits, map_points
from resourcemap.models import Resource
from resourcemap.transfer.importer import SYSTEM
from tests.conftest import TEST_NOW
from tests.factories import run_in_db, small_city
from tests.html_helpers import attr, one, text_of


def page(client: Any, url: str = "/") -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return BeautifulSoup(response.text, "html.parser")


def test_home_loads_leaflet_from_the_app_itself(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        soup = page(client)
        # A tag without the attribute (an inline script) stays as "" for the check below to refuse.
        assets = [attr(t, "src", "") for t in soup.find_all("script")] + [
            attr(t, "href", "") for t in soup.find_all("link", rel="stylesheet")
        ]
        # Named by content (web/assets.py): /static/vendor/leaflet/leaflet.<hash>.js
        hashed = r"\.[0-9a-f]{10}\.js$"
        assert any(a and re.search("/vendor/leaflet/leaflet" + hashed, a) for a in assets)
        assert any(a and re.search("/leaflet.markercluster" + hashed, a) for a in assets)
        for asset in assets:
            # Same-origin paths: no CDN, and nothing that breaks behind a TLS proxy.
            assert asset and asset.startswith("/") and not asset.startswith("//"), asset
            assert client.get(asset).status_code == 200, asset
    map_div = soup.find(id="map")
    assert map_div is not None
    # The map asks for its view only (#22), never for every point.
    assert map_div["data-view-url"] == "/api/v1/map/view"
    assert not map_div.get("data-points-url")
    assert map_div["data-tile-url"] == ""


def test_home_shows_crisis_hotlines_to_call(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        soup = page(client)
    crisis = soup.find("aside", class_="crisis")
    assert crisis is not None
    link = crisis.find("a", href="tel:12320")
    assert link is not None and "测试市心理援助热线" in link.get_text()


def test_home_uses_configured_tiles(database_url: str, make_client: Callable[..., Any]) -> None:
    tiles = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    with make_client(database_url, tile_url=tiles, tile_attribution="© 示例测绘") as client:
        soup = page(client)
    assert attr(one(soup, "#map"), "data-tile-url") == tiles
    assert attr(one(soup, "#map"), "data-tile-attribution") == "© 示例测绘"


def test_home_escapes_listing_text(database_url: str, make_client: Callable[..., Any]) -> None:
    payload = '<script>alert("x")</script>'

    async def hostile() -> None:
        await Resource.create(
            kind="hotline", name_zh=payload, phone="12355", always_open=True, modes=["phone"]
        )

    run_in_db(database_url, hostile)
    with make_client(database_url) as client:
        html = client.get("/").text
    assert payload not in html
    assert "&lt;script&gt;" in html


def test_demo_city_is_labelled_synthetic(demo_client: Any) -> None:
    soup = page(demo_client)
    label = soup.find(class_="dataset-label")
    # Residents are told what it means for them; the seed is for staff and planners.
    assert label is not None and "示例" in label.get_text() and "种子" not in label.get_text()
    english = BeautifulSoup(demo_client.get("/?lang=en").text, "html.parser")
    assert text_of(english, ".dataset-label") == "Demo data: the services listed here are made up."
    body = demo_client.get("/api/v1/resources?limit=1").json()
    assert "synthetic demo data" in body["dataset"]
    assert body["items"][0]["synthetic"] is True


def test_unknown_page_is_404(database_url: str, make_client: Callable[..., Any]) -> None:
    with make_client(database_url) as client:
        assert client.get("/no-such-page").status_code == 404
        api = client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.json()["error"] == "HTTPError"


def test_a_free_services_cost_says_free_once(demo_client: Any) -> None:
    # The demo's community rooms are free and ask to be booked ahead: said once each.
    found = demo_client.get("/api/v1/search", params={"kind": "community_room", "limit": 3})
    for item in found.json()["items"]:
        soup = page(demo_client, f"/resources/{item['id']}")
        cost = next(dt for dt in soup.select("dt") if dt.get_text() == "费用").find_next("dd")
        assert cost is not None
        assert cost.get_text().count("免费") == 1, cost.get_text()


def _count_hotline_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one at each read of the 24/7 lines from the database."""
    reads: list[int] = []
    read = map_points._read_hotlines

    async def counted() -> list[map_points.Hotline]:
        reads.append(1)
        return await read()

    monkeypatch.setattr(map_points, "_read_hotlines", counted)
    return reads


def test_the_crisis_lines_are_read_again_only_after_a_change_and_then_at_once(
    database_url: str, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every resident page shows the 24/7 lines; a province's took ~45 ms to read, so they
    are read once per change, and a number staff correct shows on the next page."""
    run_in_db(database_url, small_city)
    reads = _count_hotline_reads(monkeypatch)

    async def renumber() -> None:
        line = await Resource.get(phone="12320")
        current = (await edits.current_input(line.id)).model_dump()
        data = edits.ResourceIn.model_validate(current | {"phone": "0755-12320"})
        await edits.save_resource(SYSTEM, data, resource_id=line.id, now=TEST_NOW)

    with make_client(database_url) as client:
        at_start = len(reads)
        before = [page(client, url) for url in ("/", "/?lang=en", "/")]
        unchanged = len(reads)
        portal = client.portal
        assert portal is not None
        portal.call(renumber)
        after = page(client)
        again = page(client, "/?lang=zh-CN")
    assert at_start == 1 and unchanged == 1  # three pages, no read of their own
    assert len(reads) == 2  # the change: read once more, for both pages after it
    for soup in before:
        assert one(soup, "aside.crisis").find("a", href="tel:12320") is not None
    for soup in (after, again):
        crisis = one(soup, "aside.crisis")
        assert crisis.find("a", href="tel:075512320") is not None
        assert crisis.find("a", href="tel:12320") is None


def test_the_crisis_lines_are_read_again_once_they_are_old(
    database_url: str, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change whose transaction took an earlier number than the last one seen, but
    committed after it, is not waited for longer than the lines' age limit."""
    run_in_db(database_url, small_city)
    reads = _count_hotline_reads(monkeypatch)
    with make_client(database_url) as client:
        monkeypatch.setattr(map_points, "HOTLINES_MAX_AGE_S", -1.0)  # always too old
        start = len(reads)
        for _ in range(2):
            assert one(page(client), "aside.crisis").find("a", href="tel:12320") is not None
    assert len(reads) == start + 2
