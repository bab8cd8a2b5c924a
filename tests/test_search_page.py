"""The residents' search page as the server renders it (#17): what each card says, the crisis
panel, the way forward from an empty result, widening, and back to the search."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from starlette.testclient import TestClient

from resourcemap.models import BookingPolicy, Resource
from tests.factories import run_in_db, small_city

EAST = {"lat": "22.7049", "lon": "114.0049"}


def soup_of(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def card(soup: BeautifulSoup, name: str) -> Tag:
    for li in soup.select(".result"):
        if li.select_one(".result-name") and name in li.select_one(".result-name").get_text():
            return li
    raise AssertionError(f"no card for {name}")


async def _school_and_policy() -> None:
    room = await Resource.get(name_zh="东湖社区心理咨询室")
    await BookingPolicy.create(resource_id=room.id, slot_minutes=50, seats=1)
    await Resource.create(
        kind="school_room",
        name_zh="东湖中学心理辅导室",
        services=["counselling"],
        audiences=["students"],
        eligibility="students",
        eligibility_note_zh="仅限本校学生",
        lat=22.7052,
        lon=114.0052,
    )


@pytest.fixture
def client(database_url: str, make_client: Callable[..., Any]) -> Iterator[TestClient]:
    run_in_db(database_url, small_city)
    run_in_db(database_url, _school_and_policy)
    with make_client(database_url, search_follow_seconds=0) as c:
        yield c


def test_cards_say_why_cost_booking_eligibility_and_reach(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"q": "睡不着", **EAST}))
    room = card(page, "东湖社区心理咨询室")
    assert room.select_one(".why").get_text(" ", strip=True) == "匹配原因: 失眠 → 心理咨询"
    assert room.select_one(".badge.free").get_text() == "免费"
    assert room.select_one(".badge.book").get_text() == "可在线预约"
    assert "步行" in room.select_one(".distance").get_text()
    clinic = card(page, "西山医院心理门诊")
    assert clinic.select_one(".badge.paid").get_text() == "收费"
    line = card(soup_of(client.get("/", params={"q": "热线", **EAST})), "测试市心理援助热线")
    assert line.select_one(".distance") is None
    reach = line.select_one(".reach").get_text(" ", strip=True)
    assert reach.startswith("服务您所在地区的电话服务")
    # Members-only places come back when the resident says who they are, with their note.
    assert "东湖中学心理辅导室" not in page.get_text()
    pupil = soup_of(client.get("/", params={"q": "辅导室", "eligible": "students", **EAST}))
    assert card(pupil, "东湖中学心理辅导室").select_one(".eligibility").get_text() == "仅限本校学生"


def test_crisis_words_open_with_the_24_7_lines(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"q": "不想活了", **EAST}))
    panel = page.select_one(".crisis-panel")
    assert panel is not None
    assert panel.find_next(id="result-count") is not None  # before every other result
    (call,) = panel.select("a.call")
    assert call["href"] == "tel:12320"
    assert "测试市心理援助热线" not in [n.get_text() for n in page.select("#results .result-name")]


def test_an_empty_result_offers_a_way_forward(client: TestClient) -> None:
    asked = {"q": "心理咨询", "fee": "paid", "mode": "online", "place": "东湖", **EAST}
    page = soup_of(client.get("/", params=asked))
    assert page.select("#results .result") == []
    empty = page.select_one("#empty")
    clear = empty.find("a", string="清除筛选条件")
    assert parse_qs(urlsplit(clear["href"]).query) == {
        "q": ["心理咨询"],
        "place": ["东湖"],
        "lat": [EAST["lat"]],
        "lon": [EAST["lon"]],
    }
    nearest = empty.select_one(".nearest .result-name").get_text(strip=True)
    assert nearest == "东湖社区心理咨询室"
    assert empty.select_one("a.hotline-link")["href"] == "tel:12320"


def test_nothing_near_widens_and_says_so(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"q": "门诊", "radius_m": "1000", **EAST}))
    said = page.select_one("#result-count .widened").get_text()
    assert said == "1公里内没有可步行前往的服务;以下显示20公里内的服务。"
    assert page.select_one("#map")["data-radius"] == "20000"


def test_back_to_the_search_keeps_query_place_and_filters(client: TestClient) -> None:
    asked = {"q": "焦虑", "fee": "free", "radius_m": "1000", "place": "东湖", **EAST}
    page = soup_of(client.get("/", params=asked))
    link = card(page, "东湖社区心理咨询室").select_one(".result-name a")["href"]
    detail = soup_of(client.get(link))
    back = detail.select_one(".back a")["href"]
    assert back.startswith("/?")
    assert {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()} == asked
    # Only the search's own parameters go back, and only to the search page.
    odd = soup_of(client.get(link.split("?")[0], params={"back": "q=x&next=//evil.test"}))
    assert odd.select_one(".back a")["href"] == "/?q=x"
