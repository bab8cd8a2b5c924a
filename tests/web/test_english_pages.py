"""Whole English (#18): with English chosen, no Chinese is left in a page's own words.

Chinese may remain only where it is the listing's data with no English version, and there
it is marked (``lang="zh-CN"``, so screen readers switch voice, and "(in Chinese)" beside
texts a reader needs to understand). The test removes every element marked ``lang="zh…"``
and asserts that no CJK character remains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.booking_helpers import bookable_city
from tests.factories import run_in_db
from tests.html_helpers import hidden_fields, one

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


def stray_chinese(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    for marked in page.select("[lang^=zh], title, script, style"):
        marked.decompose()
    return CJK.findall(page.get_text(" "))


@pytest.fixture
def city(database_url: str, make_client: Callable[..., Any]) -> Iterator[tuple[Any, int]]:
    ids = run_in_db(
        database_url,
        lambda: bookable_city(min_notice_minutes=60, change_notice_minutes=240, seats=2),
    )
    with make_client(database_url) as client:
        client.get("/", params={"lang": "en"})  # remembered in the cookie from now on
        yield client, ids["room"]


def test_resident_pages_have_no_stray_chinese(city: tuple[Any, int]) -> None:
    client, room = city
    pages = {
        "home": client.get("/"),
        "search": client.get("/", params={"q": "counselling"}),
        "detail": client.get(f"/resources/{room}"),
        "book": client.get(f"/resources/{room}/book"),
    }
    form = one(BeautifulSoup(pages["book"].text, "html.parser"), "form.book-form")
    radios = form.select("input[name=starts_at]")
    data = hidden_fields(form) | {"starts_at": str(radios[-1]["value"]), "phone": "13812348011"}
    booked = client.post(f"/resources/{room}/book", data=data)
    pages["booking"] = booked
    pages["errors"] = client.post(f"/resources/{room}/book", data=hidden_fields(form))
    pages["missing"] = client.get("/resources/999999")
    for name, response in pages.items():
        assert stray_chinese(response.text) == [], name


def test_only_chinese_data_is_marked_in_chinese(city: tuple[Any, int]) -> None:
    client, room = city
    page = BeautifulSoup(client.get(f"/resources/{room}").text, "html.parser")
    # The room's address exists in Chinese only: shown, marked, and said to be Chinese.
    address = one(page, ".facts dd:has(a[href^='geo:'])")
    assert "东湖路1号" in one(address, "[lang=zh-CN].own-text").get_text()
    assert "(in Chinese)" in address.get_text()
    # A name is read as it is: marked, but not said to be Chinese.
    hotline = one(page, ".crisis .hotline-name")
    assert hotline.select_one("[lang=zh-CN]") is not None
    assert "(in Chinese)" not in hotline.get_text()


def test_chinese_pages_keep_the_chinese_separator(city: tuple[Any, int]) -> None:
    client, room = city
    page = BeautifulSoup(
        client.get(f"/resources/{room}", params={"lang": "zh-CN"}).text, "html.parser"
    )
    assert "、" in one(page, "table.hours").get_text()
    english = BeautifulSoup(
        client.get(f"/resources/{room}", params={"lang": "en"}).text, "html.parser"
    )
    assert "、" not in english.get_text()


def test_the_calendar_file_follows_the_page_language(city: tuple[Any, int]) -> None:
    client, room = city
    form = one(BeautifulSoup(client.get(f"/resources/{room}/book").text, "html.parser"), "form")
    start = str(form.select("input[name=starts_at]")[-1]["value"])
    booked = client.post(f"/resources/{room}/book", data=hidden_fields(form) | {"starts_at": start})
    page = BeautifulSoup(booked.text, "html.parser")
    ics = client.get(str(one(page, "a[href*='.ics']")["href"])).text
    assert "SUMMARY:Booking " in ics and "预约" not in ics.split("SUMMARY:")[1].splitlines()[0]
