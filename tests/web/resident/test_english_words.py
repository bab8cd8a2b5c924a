"""Words asking for services in English (#17): a foreign resident types "english speaking
therapist" or 英语心理咨询; no listing says "English" in its name, so it found nothing
(a resident's walk-through). The words ask for the language filter, and the answer says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.html_helpers import text_of


@pytest.mark.parametrize(
    "words", ["english speaking therapist", "counselling in English", "英语心理咨询"]
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
    assert mapped["total"] == api["total"]  # the map shows what the list lists
