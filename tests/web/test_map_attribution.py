"""The map's attribution prefix is the operator's (#18): Leaflet's default shows a flag,
usually removed on government sites; an empty setting shows no prefix at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup


def test_the_map_attribution_prefix_is_the_operators(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url, map_attribution_prefix="") as client:
        soup = BeautifulSoup(client.get("/").text, "html.parser")
    map_el = soup.select_one("#map")
    assert map_el is not None and map_el["data-attribution-prefix"] == ""
    with make_client(database_url) as client:
        soup = BeautifulSoup(client.get("/").text, "html.parser")
    map_el = soup.select_one("#map")
    assert map_el is not None and map_el["data-attribution-prefix"] == "Leaflet"
