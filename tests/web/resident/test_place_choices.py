"""A typed place in a province (#22): community names repeat across districts, so a name that
fits several communities asks which one (each with where it lies) instead of silently taking
the first city's; a name with its district finds the one meant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from resourcemap.models import Area
from resourcemap.vocab import AreaLevel
from tests.factories import run_in_db
from tests.html_helpers import attr, one, text_of
from tests.web.resident.test_pages import soup_of


@pytest.fixture
def province(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Two cities of one district each, whose communities share their names; one such
    name with the districts it lies in."""
    found: dict[str, Any] = {}

    async def load() -> None:
        await load_demo_province(3, ProvinceSize(2, 1), tmp_path / "demand")
        communities = await Area.filter(level=AreaLevel.COMMUNITY).order_by("code")
        name = next(
            c.name_zh for c in communities if sum(o.name_zh == c.name_zh for o in communities) == 2
        )
        same = [c for c in communities if c.name_zh == name]
        streets = {a.code: a for a in await Area.filter(level=AreaLevel.STREET)}
        districts = {a.code: a for a in await Area.filter(level=AreaLevel.DISTRICT)}
        found["name"], found["name_en"] = name, same[0].name_en
        found["districts"] = [districts[str(streets[str(c.parent_id)].parent_id)] for c in same]

    run_in_db(database_url, load)
    return found


def _choices(soup: BeautifulSoup) -> list[tuple[str, str]]:
    return [(a.get_text(strip=True), attr(a, "href")) for a in soup.select(".place-choices li a")]


def test_a_name_of_several_communities_asks_which_one(
    database_url: str, province: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    name, districts = province["name"], province["districts"]
    with make_client(database_url) as client:
        asked = soup_of(client.get("/", params={"place": name, "q": "心理咨询", "lang": "zh-CN"}))
        assert not asked.select(".near"), "no community is picked for the resident"
        assert not asked.select("p.problem")
        assert name in text_of(asked, ".place-choices p")
        choices = _choices(asked)
        assert [text for text, _ in choices] == [name, name]
        wheres = [li.get_text(" ", strip=True) for li in asked.select(".place-choices li")]
        for where, district in zip(wheres, districts, strict=True):
            assert district.name_zh in where

        # Choosing the second: the search near it, named with its district, words kept.
        href = choices[1][1]
        chosen = soup_of(client.get(href))
        near = text_of(chosen, ".near")
        assert name in near and districts[1].name_zh in near
        assert attr(one(chosen, "#q"), "value") == "心理咨询"
        sent = parse_qs(urlsplit(href).query)
        assert attr(one(chosen, "#map"), "data-lat") == sent["lat"][0]
        assert not chosen.select(".place-choices")


def test_a_name_with_its_district_finds_that_community(
    database_url: str, province: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    name, districts = province["name"], province["districts"]
    with make_client(database_url) as client:
        for typed in (f"{districts[1].name_zh}{name}", f"{name}，{districts[1].name_zh}"):
            found = soup_of(client.get("/", params={"place": typed}))
            assert not found.select(".place-choices"), typed
            assert text_of(found, ".near"), typed
        first = soup_of(client.get("/", params={"place": f"{districts[0].name_zh}{name}"}))
        second = soup_of(client.get("/", params={"place": f"{districts[1].name_zh}{name}"}))
    assert attr(one(first, "#map"), "data-lat") != attr(one(second, "#map"), "data-lat")


def test_the_choice_is_offered_in_english(
    database_url: str, province: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    english, districts = province["name_en"], province["districts"]
    with make_client(database_url) as client:
        asked = soup_of(client.get("/", params={"place": english, "lang": "en"}))
    assert "Which one?" in text_of(asked, ".place-choices p")
    assert [text for text, _ in _choices(asked)] == [english, english]
    where = asked.select(".place-choices li")[0].get_text(" ", strip=True)
    assert districts[0].name_en in where


def test_an_address_finds_its_community_in_both_languages(
    demo_url: str, make_client: Callable[..., Any]
) -> None:
    """A resident's address, as listings write them: the community it names is the place
    (no street register: the road and number pass over), said on the page; a road alone is
    not found, and the page says what to type instead."""
    from resourcemap.models import Resource

    async def an_address() -> tuple[str, str, str]:
        listing = await Resource.filter(address_en__not="").order_by("id").first()
        assert listing is not None
        community = await Area.get(code=listing.community_code)
        return listing.address_zh, listing.address_en, community.name_zh

    address_zh, address_en, community = run_in_db(demo_url, an_address)
    with make_client(demo_url) as client:
        zh = soup_of(client.get("/", params={"place": address_zh, "lang": "zh-CN"}))
        en = soup_of(client.get("/", params={"place": address_en, "lang": "en"}))
        road = address_en.split(",")[0]
        lost = soup_of(client.get("/", params={"place": road, "lang": "en"}))
    assert community in text_of(zh, ".near") and not zh.select("p.problem")
    assert attr(one(zh, "#map"), "data-lat") == attr(one(en, "#map"), "data-lat")
    assert "community" in text_of(lost, "p.problem") and road in text_of(lost, "p.problem")
