"""Words asking for services in English (#17): a foreign resident types "english speaking
therapist" or 英语心理咨询; no listing says "English" in its name, so it found nothing
(a resident's walk-through). The words ask for the language filter, and the answer says so."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.html_helpers import text_of


@pytest.mark.parametrize(
    "words",
    [
        "english speaking therapist",
        "counselling in English",
        "英语心理咨询",
        "English-speaking therapist",
        "therapist who speaks english",
        "English language counselling",
    ],
)
def test_words_asking_for_english_filter_for_it(
    demo_url: str, make_client: Callable[..., Any], words: str
) -> None:
    with make_client(demo_url, run_worker=False) as client:
        api = client.get("/api/v1/search", params={"q": words, "limit": 100}).json()
        plain = client.get("/api/v1/search", params={"q": "心理咨询"}).json()
        page = BeautifulSoup(client.get("/", params={"q": words, "lang": "en"}).text, "html.parser")
        mapped = client.get("/api/v1/map/matches", params={"q": words}).json()
    assert api["english_from_words"] is True and api["total"] >= 3, words
    assert all("en" in item["languages"] for item in api["items"]), words
    kinds = {item["kind"] for item in api["items"]}
    assert kinds & {"licensed_agency", "counsellor"}, kinds  # not the hotline alone
    assert plain["english_from_words"] is False and plain["total"] > api["total"]
    said = text_of(page, "#result-count .english-from-words")
    assert said == "Services in English only, as you asked."
    # Two sentences, not one run on ("7 services found Services in English only").
    count = " ".join(text_of(page, "#result-count").split())
    assert re.fullmatch(r"\d+ services found\. Services in English only, as you asked\.", count)
    assert mapped["total"] == api["total"]  # the map shows what the list lists


def test_a_reader_in_english_sees_which_places_speak_it(
    demo_url: str, make_client: Callable[..., Any]
) -> None:
    """Most listings speak Chinese only: a resident reading in English booked one before
    learning so at its door. Cards mark the ones that speak English, and the booking page
    says the languages before she confirms."""
    with make_client(demo_url, run_worker=False) as client:
        page = BeautifulSoup(
            client.get("/", params={"q": "counselling", "lang": "en"}).text, "html.parser"
        )
        api = client.get("/api/v1/search", params={"q": "counselling", "limit": 100}).json()
        bookable = next(item for item in api["items"] if item["bookable"])
        book = BeautifulSoup(
            client.get(f"/resources/{bookable['id']}/book", params={"lang": "en"}).text,
            "html.parser",
        )
    speaks = {item["id"] for item in api["items"] if "en" in item["languages"]}
    cards = page.select("#results .result")
    assert cards and speaks
    for card in cards:
        marked = card.select_one(".badge.lang")
        link = card.select_one(".result-name a")
        assert link is not None
        shown = int(str(link["href"]).split("?")[0].rsplit("/", 1)[1])
        assert (marked is not None) == (shown in speaks), shown
        if marked is not None:
            assert marked.get_text(strip=True) == "English spoken"
    assert any(card.select_one(".badge.lang") for card in cards)
    assert not all(card.select_one(".badge.lang") for card in cards)
    names = {"zh": "Chinese", "yue": "Cantonese", "en": "English"}
    said = text_of(book, ".booking-terms .languages")
    assert all(names[code] in said for code in bookable["languages"]), said


@pytest.mark.parametrize("words", ["psychiatrist english", "free psychotherapist"])
def test_the_places_for_particular_people_offered_are_those_shown(
    demo_url: str, make_client: Callable[..., Any], words: str
) -> None:
    """With nothing found, the answer offers the members-only places that match; counted
    for the words as typed, it offered 16 that "Show them" then did not show."""
    with make_client(demo_url, run_worker=False) as client:
        asked = client.get("/api/v1/search", params={"q": words}).json()
        shown = client.get("/api/v1/search", params={"q": words, "eligible": "all"}).json()
    assert asked["total"] == 0, words
    assert asked["members_only"] == shown["total"], words
