"""The residents' search page as the server renders it (#17): what each card says, the crisis
panel, the way forward from an empty result, widening, and back to the search."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from starlette.testclient import TestClient

from resourcemap.clock import FixedClock
from resourcemap.models import BookingPolicy, HoursException, Resource
from resourcemap.search import changes
from tests.factories import run_in_db, small_city
from tests.html_helpers import attr, hidden_fields, one, text_of

EAST = {"lat": "22.7049", "lon": "114.0049"}


def soup_of(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def card(soup: BeautifulSoup, name: str) -> Tag:
    for li in soup.select(".result"):
        if li.select_one(".result-name") and name in text_of(li, ".result-name"):
            return li
    raise AssertionError(f"no card for {name}")


async def _school_and_policy() -> None:
    room = await Resource.get(name_zh="东湖社区心理咨询室")
    await BookingPolicy.create(resource_id=room.id, slot_minutes=50, seats=1)
    await Resource.filter(id=room.id).update(address_zh="东湖路1号", address_en="1 Donghu Road")
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
    assert one(room, ".why").get_text(" ", strip=True) == "匹配原因：失眠 → 心理咨询"
    assert text_of(room, ".badge.free") == "免费"
    assert text_of(room, ".badge.book") == "可在线预约"
    assert "步行" in text_of(room, ".distance")
    clinic = card(page, "西山医院心理门诊")
    assert text_of(clinic, ".badge.paid") == "收费"
    line = card(soup_of(client.get("/", params={"q": "热线", **EAST})), "测试市心理援助热线")
    assert line.select_one(".distance") is None
    reach = one(line, ".reach").get_text(" ", strip=True)
    assert reach.startswith("服务您所在地区的电话服务")
    # Members-only places come back when the resident says who they are, with their note.
    assert "东湖中学心理辅导室" not in page.get_text()
    pupil = soup_of(client.get("/", params={"q": "辅导室", "eligible": "students", **EAST}))
    assert text_of(card(pupil, "东湖中学心理辅导室"), ".eligibility") == "仅限本校学生"


def test_a_search_only_places_for_members_match_says_so_and_offers_them(
    client: TestClient,
) -> None:
    """A pupil types 中学: the only match is the school's room, left out as for its pupils
    only; "nothing matches" said nothing of it (walk-through: 学校 found 0 of 114)."""
    page = soup_of(client.get("/", params={"q": "东湖中学", **EAST}))
    assert text_of(page, "#result-count") == "没有同时符合这些条件的服务。"
    said = one(page, "#empty .members-only")
    assert "有 1 个仅限特定人员（如本校学生）的场所符合条件。" in said.get_text()
    shown = soup_of(client.get(attr(one(said, "a"), "href")))
    assert card(shown, "东湖中学心理辅导室") is not None
    # The API the map script reads says it too; a search that finds something does not ask.
    answer = client.get("/api/v1/search", params={"q": "东湖中学"}).json()
    assert (answer["total"], answer["members_only"]) == (0, 1)
    assert client.get("/api/v1/search", params={"q": "心理"}).json()["members_only"] == 0


def test_a_card_gives_the_address_in_the_reader_s_language(client: TestClient) -> None:
    addresses = {
        lang: [a.get_text(strip=True) for a in page.select(".result .address")]
        for lang in ("zh-CN", "en")
        if (page := soup_of(client.get("/", params={"q": "睡不着", "lang": lang, **EAST})))
    }
    assert "东湖路1号" in addresses["zh-CN"] and "1 Donghu Road" not in addresses["zh-CN"]
    assert "1 Donghu Road" in addresses["en"] and "东湖路1号" not in addresses["en"]


@pytest.mark.parametrize(
    ("q", "lang"),
    [
        ("不想活了", "zh-CN"),
        ("活着好累，撑不下去了", "zh-CN"),
        # Said as English speakers say it: the walk-through's phrases found nothing at all.
        ("I don't want to live", "en"),
        ("I can't go on", "en"),
        ("no reason to live", "en"),
    ],
)
def test_crisis_words_open_with_the_24_7_lines(client: TestClient, q: str, lang: str) -> None:
    page = soup_of(client.get("/", params={"q": q, "lang": lang, **EAST}))
    panel = one(page, ".crisis-panel")
    assert panel.find_next(id="result-count") is not None  # before every other result
    (call,) = panel.select("a.call")
    assert attr(call, "href") == "tel:12320"
    assert "测试市心理援助热线" not in [n.get_text() for n in page.select("#results .result-name")]
    # The count says the lines are among the results, as one run of text: no space
    # after Chinese full-width punctuation.
    count = text_of(page, "#result-count")
    assert ("含上方的24小时热线" if lang == "zh-CN" else "24/7 lines above") in count
    if lang == "zh-CN":
        assert not re.search(r"[。）] ", count), count
    # What it matched is said gently: the moment, not the act.
    reasons = " ".join(p.get_text() for p in page.select(".crisis-panel, .why"))
    assert "自伤" not in reasons and "Self-harm" not in reasons


def _shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def _thursday_late_opening() -> None:
    room = await Resource.get(name_zh="东湖社区心理咨询室")
    thursday = dt.date(2026, 12, 3)
    await HoursException.create(
        resource=room, start_date=thursday, end_date=thursday, closed=False, opens=660, closes=720
    )
    await changes.record([room.id])


def test_a_closed_place_says_when_it_opens_next(client: TestClient, clock: FixedClock) -> None:
    """The room opens weekdays 09:00-12:00 and 14:00-17:30, and closes Friday the 4th for
    training: a resident at lunch, in the evening or before that Friday learns when to go."""
    room = "东湖社区心理咨询室"
    names = {"zh-CN": room, "en": "Donghu Community Counselling Room"}

    def opens(lang: str = "zh-CN") -> str:
        page = soup_of(client.get("/", params={"q": "心理咨询", "lang": lang, **EAST}))
        found = card(page, names[lang])
        assert found.select_one(".badge.open") is None
        return one(found, ".badge.opens").get_text(" ", strip=True)

    clock.set(_shanghai(2, 12, 30))  # Wednesday lunch
    assert opens() == "休息中 · 今天 14:00 开放"
    clock.set(_shanghai(2, 18))
    assert opens() == "休息中 · 明天 09:00 开放"
    assert opens("en") == "Closed now · Opens tomorrow at 9:00\u202fAM"
    found = soup_of(client.get("/", params={"q": "心理咨询", "lang": "zh-CN", **EAST}))
    link = one(card(found, room), "h2 a")
    detail = soup_of(client.get(attr(link, "href"), params={"lang": "zh-CN"}))
    assert text_of(detail, ".meta .badge.opens") == "休息中 · 明天 09:00 开放"
    # Staff give Thursday other hours: the next search, in the same minute, follows them.
    portal = client.portal
    assert portal is not None  # the app runs: the client is open
    portal.call(_thursday_late_opening)
    # The listing's own page follows them too, with no search before it (a shared link).
    detail = soup_of(client.get(attr(link, "href"), params={"lang": "zh-CN"}))
    assert text_of(detail, ".meta .badge.opens") == "休息中 · 明天 11:00 开放"
    assert opens() == "休息中 · 明天 11:00 开放"
    clock.set(_shanghai(3, 18))  # Thursday evening: Friday's training, then the weekend
    assert opens() == "休息中 · 12月7日周一 09:00 开放"
    assert opens("en") == "Closed now · Opens Mon, Dec 7 at 9:00\u202fAM"
    clock.set(_shanghai(2, 10))
    page = soup_of(client.get("/", params={"q": "心理咨询", "lang": "zh-CN", **EAST}))
    assert text_of(card(page, room), ".badge.open") == "正在开放"
    assert card(page, room).select_one(".badge.opens") is None


def test_an_empty_result_offers_a_way_forward(client: TestClient) -> None:
    asked = {"q": "心理咨询", "fee": "paid", "mode": "online", "place": "东湖", **EAST}
    page = soup_of(client.get("/", params=asked))
    assert page.select("#results .result") == []
    empty = one(page, "#empty")
    clear = next(a for a in empty.select("a") if a.get_text(strip=True) == "清除筛选条件")
    assert parse_qs(urlsplit(attr(clear, "href")).query) == {
        "q": ["心理咨询"],
        "place": ["东湖"],
        "lat": [EAST["lat"]],
        "lon": [EAST["lon"]],
    }
    nearest = one(empty, ".nearest .result-name").get_text(strip=True)
    assert nearest == "东湖社区心理咨询室"
    assert attr(one(empty, "a.hotline-link"), "href") == "tel:12320"


def test_words_that_find_nothing_without_filters_suggest_other_words(client: TestClient) -> None:
    # No filter to clear: the way forward is other words, and someone to talk to now.
    page = soup_of(client.get("/", params={"q": "火星基地", "lang": "en"}))
    empty = one(page, "#empty")
    assert not [a for a in empty.select("a") if "filter" in a.get_text().lower()]
    assert "Try fewer or other words" in empty.get_text()
    assert attr(one(empty, "a.hotline-link"), "href") == "tel:12320"


def test_nothing_near_widens_and_says_so(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"q": "门诊", "radius_m": "1000", **EAST}))
    said = text_of(page, "#result-count .widened")
    assert said == "1公里内没有可步行前往的服务；以下显示20公里内的服务。"
    assert attr(one(page, "#map"), "data-radius") == "20000"
    # The count is a sentence of its own before it, once ("找到 2 个服务1公里内…。。").
    count = text_of(page, "#result-count")
    assert re.match(r"^找到 \d+ 个服务。1公里内", count) and "。。" not in count, count


def test_a_links_own_distance_is_searched_drawn_and_chosen(client: TestClient) -> None:
    """A link's radius_m=1200 is not one of the page's distances: the list, the count, the
    circle and the form all say 1.2 km (the page searched at any distance and drew the
    1.2 km circle, while the form said "Any distance")."""
    asked = {"q": "心理", "lang": "en", **EAST}
    within = soup_of(client.get("/", params={**asked, "radius_m": "1200"}))
    everywhere = soup_of(client.get("/", params=asked))
    api = client.get("/api/v1/search", params={"q": "心理", "radius_m": "1200", **EAST}).json()
    assert 0 < api["total"] < len(everywhere.select(".result"))
    assert len(within.select(".result")) == api["total"]
    assert "any distance" not in text_of(within, "#result-count")
    assert attr(one(within, "#map"), "data-radius") == "1200"
    chosen = one(within, "#f-radius_m option[selected]")
    assert attr(chosen, "value") == "1200"
    assert chosen.get_text(strip=True) == "Within 1.2 km"
    nonsense = soup_of(client.get("/", params={**asked, "radius_m": "far"}))
    assert attr(one(nonsense, "#map"), "data-radius") == ""
    assert "at any distance" in text_of(nonsense, "#result-count")


def test_back_to_the_search_keeps_query_place_and_filters(client: TestClient) -> None:
    asked = {"q": "焦虑", "fee": "free", "radius_m": "1000", "place": "东湖", **EAST}
    page = soup_of(client.get("/", params=asked))
    link = attr(one(card(page, "东湖社区心理咨询室"), ".result-name a"), "href")
    detail = soup_of(client.get(link))
    back = attr(one(detail, ".back a"), "href")
    assert back.startswith("/?")
    assert {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()} == asked
    # Only the search's own parameters go back, and only to the search page.
    odd = soup_of(client.get(link.split("?")[0], params={"back": "q=x&next=//evil.test"}))
    assert attr(one(odd, ".back a"), "href") == "/?q=x"


def test_booking_from_a_search_and_back_keeps_the_search(client: TestClient) -> None:
    """Search, a listing, its booking page, "← Back to the service", "← Back to the search":
    the booking page's link led to the bare listing, and the search was lost on the way."""
    asked = {"q": "焦虑", "radius_m": "1000", **EAST}
    page = soup_of(client.get("/", params=asked))
    detail_link = attr(one(card(page, "东湖社区心理咨询室"), ".result-name a"), "href")
    detail = soup_of(client.get(detail_link))
    book_link = attr(one(detail, ".slots-preview a[href*='/book']"), "href")
    book = soup_of(client.get(book_link))
    back_to_service = attr(one(book, ".back a"), "href")
    again = soup_of(client.get(back_to_service))
    back = attr(one(again, ".back a"), "href")
    assert {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()} == {
        k: str(v) for k, v in asked.items()
    }
    # The booking form carries it too: an answer to it (here, no time chosen) keeps the link.
    form = one(book, "form.book-form")
    answered = client.post(str(form["action"]), data=hidden_fields(form))
    assert answered.status_code == 400
    kept = BeautifulSoup(answered.text, "html.parser")
    assert attr(one(kept, ".back a"), "href") == back_to_service


def test_words_asking_for_free_services_filter_for_them(client: TestClient) -> None:
    """No listing's text says 免费 or "free": before, "免费心理咨询" and "free counselling"
    found nothing. The words now ask for the fee filter, and the page says so."""
    for words in ("免费心理咨询", "free counselling", "心理咨询 不要钱"):
        page = soup_of(client.get("/", params={"q": words, **EAST}))
        names = [n.get_text(strip=True) for n in page.select("#results .result-name")]
        assert "东湖社区心理咨询室" in names, words
        assert "西山医院心理门诊" not in names, words  # paid
        assert page.select(".badge.paid") == [], words
        assert text_of(page, "#result-count .free-from-words") == "仅显示免费服务。", words
    api = client.get("/api/v1/search", params={"q": "free counselling"}).json()
    assert api["free_from_words"] is True and api["total"] > 0
    assert all(item["fee"] == "free" for item in api["items"])
    plain = client.get("/api/v1/search", params={"q": "心理咨询"}).json()
    assert plain["free_from_words"] is False


def test_a_feeling_in_everyday_words_finds_counselling(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"q": "心里难受", **EAST}))
    room = card(page, "东湖社区心理咨询室")
    assert one(room, ".why").get_text(" ", strip=True) == "匹配原因：情绪 → 心理咨询"


def test_an_overlong_query_is_cut_to_the_box(client: TestClient) -> None:
    page = client.get("/", params={"q": "焦" * 5000, **EAST})
    assert page.status_code == 200
    soup = soup_of(page)
    assert attr(one(soup, "input[name=q]"), "value") == "焦" * 100
    assert len(page.content) < 200_000


def test_the_count_says_the_24_7_lines_are_among_the_results(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"q": "不想活了", **EAST}))
    listed = len(page.select("#results .result")) + len(page.select(".crisis-panel a.call"))
    count = text_of(page, "#result-count")
    assert count.startswith(f"找到 {listed} 个服务") or str(listed) in count
    assert text_of(page, "#result-count .lines-counted")


def test_the_count_near_a_point_says_it_is_at_any_distance(client: TestClient) -> None:
    """With a point and no distance every match is listed: "12 services found" alone read
    as twelve near the resident (1,237 on a province). It says the order the list is in:
    the default weighs distance with open now, free and online booking, so a list led by
    40 m, 440 m, 420 m is not "the nearest first" (a resident's walk-through found it)."""
    near = soup_of(client.get("/", params={"q": "心理", "lang": "en", **EAST}))
    answer = client.get("/api/v1/search", params={"q": "心理", **EAST}).json()["items"]
    total = len(answer)
    assert total > 1
    assert text_of(near, "#result-count").startswith(
        f"{total} services found at any distance, the best match near you first."
    )
    asked = {"q": "心理", "sort": "nearest", "lang": "en", **EAST}
    nearest = soup_of(client.get("/", params=asked))
    assert text_of(nearest, "#result-count").startswith(
        f"{total} services found at any distance, the nearest first."
    )
    # Within a distance, or without a point, the number is just the count.
    asked = {"q": "心理", "radius_m": "20000", "lang": "en", **EAST}
    within = soup_of(client.get("/", params=asked))
    assert "any distance" not in text_of(within, "#result-count")
    anywhere = soup_of(client.get("/", params={"q": "心理", "lang": "en"}))
    assert text_of(anywhere, "#result-count").endswith("services found")


def test_the_map_legend_says_what_is_in_the_list_only(client: TestClient) -> None:
    page = soup_of(client.get("/", params={"lang": "en"}))
    assert "Phone lines and online services have no point" in text_of(page, ".map-legend")
