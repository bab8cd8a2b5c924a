"""Residents' search and detail pages as the server renders them (no JavaScript)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyproj
import pytest
from bs4 import BeautifulSoup

from resourcemap.models import Resource
from tests.booking_helpers import bookable_city
from tests.factories import run_in_db, small_city
from tests.html_helpers import attr, next_sibling, one, text_of

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock


def soup_of(response: Any, status: int = 200) -> BeautifulSoup:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return BeautifulSoup(response.text, "html.parser")


def result_names(soup: BeautifulSoup) -> list[str]:
    return [h.get_text(strip=True) for h in soup.select("#results .result-name")]


def test_search_page_lists_results_without_javascript(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        everything = soup_of(client.get("/"))
        clinic = soup_of(client.get("/", params={"q": "西山医院"}))
        free = soup_of(
            client.get("/", params={"fee": "free", "kind": "psychiatric_hospital_clinic"})
        )
    assert "东湖社区心理咨询室" in result_names(everything)
    assert result_names(clinic) == ["西山医院心理门诊"]
    assert "1" in text_of(clinic, "#result-count")
    assert result_names(free) == []
    assert "没有同时符合这些条件的服务" in text_of(free, "#result-count")
    # Filters come back as the resident left them.
    assert attr(one(clinic, "#q"), "value") == "西山医院"


def test_typed_place_sorts_by_distance_with_walking_minutes(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        soup = soup_of(client.get("/", params={"place": "东湖"}))
        unknown = soup_of(client.get("/", params={"place": "火星基地"}))
    assert result_names(soup)[0] == "东湖社区心理咨询室"
    first = one(soup, "#results .result")
    distance = text_of(first, ".distance")
    assert "米" in distance and "步行约" in distance
    assert "附近：东湖社区" in text_of(soup, ".near")
    # The point is kept in the form, so filtering again keeps the distances.
    assert attr(one(soup, "#lat"), "value") and attr(one(soup, "#lon"), "value")
    assert "火星基地" in text_of(unknown, ".problem")


def test_within_500_m_of_a_typed_place(database_url: str, make_client: Callable[..., Any]) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        near = soup_of(client.get("/", params={"place": "东湖", "radius_m": "500"}))
        anywhere = soup_of(client.get("/", params={"radius_m": "500"}))
    names = result_names(near)
    assert "东湖社区心理咨询室" in names and "西山医院心理门诊" not in names, names
    assert attr(one(near, "#f-radius_m option[selected]"), "value") == "500"
    assert "西山医院心理门诊" in result_names(anywhere)  # no point: the distance is ignored


def test_a_typed_area_wider_than_the_distance_says_how_far_it_reaches(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """东湖社区 is about 1 km square: "within 500 m" of its centre leaves its corners out,
    and the page says so (on later pages too) with a search that takes the whole of it."""
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        near = soup_of(client.get("/", params={"place": "东湖", "radius_m": "500"}))
        lat, lon = attr(one(near, "#lat"), "value"), attr(one(near, "#lon"), "value")
        # Filtering again carries the point and the name typed, not the area itself.
        later = soup_of(
            client.get("/", params={"place": "东湖", "lat": lat, "lon": lon, "radius_m": "500"})
        )
        wider = soup_of(client.get(attr(one(near, "#area-reach a"), "href")))
        english = soup_of(
            client.get("/", params={"place": "东湖", "radius_m": "500", "lang": "en"})
        )
        coords = soup_of(client.get("/", params={"place": f"{lat},{lon}", "radius_m": "500"}))
    corners = [(114.00, 22.70), (114.01, 22.70), (114.01, 22.71), (114.00, 22.71)]
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(
        [float(lon)] * 4, [float(lat)] * 4, [c[0] for c in corners], [c[1] for c in corners]
    )
    reach = f"{round(max(metres) / 10) * 10}米"
    for soup in (near, later):
        said_near = text_of(soup, ".near")
        assert (
            "东湖（距离从其中心算起）" in said_near or "东湖社区（距离从其中心算起）" in said_near
        )
        hint = one(soup, "#area-reach")
        assert not hint.has_attr("hidden")
        said = text_of(hint, ".area-reach-text")
        assert "东湖社区" in said or "东湖" in said
        assert reach in said and "500米" in said, said
        assert text_of(hint, "a").strip() == "在1公里以内搜索"
    assert attr(one(wider, "#f-radius_m option[selected]"), "value") == "1000"
    assert one(wider, "#area-reach").has_attr("hidden"), "1 km takes the whole community"
    assert "distances from its centre" in text_of(english, ".near")
    assert "farther than 500 m are not listed" in text_of(english, "#area-reach")
    assert text_of(english, "#area-reach a").strip() == "Search within 1 km"
    # A point typed as coordinates has no extent: nothing to say.
    assert not coords.select("#area-reach, .from-centre")


def test_bad_filter_values_still_show_a_page(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        soup = soup_of(client.get("/", params={"kind": "spaceship", "lat": "north"}))
    assert soup.select_one(".problem") is not None
    with make_client(database_url) as client:
        for params in ({"lat": "nan", "lon": "nan"}, {"lat": "91", "lon": "113.9"}):
            page = client.get("/", params=params)
            assert page.status_code == 200 and 'data-lat="nan"' not in page.text
            assert soup_of(page).select_one(".problem") is not None
        # Digits int() refuses ("²") and absurdly long page numbers: the first page.
        for number in ("\u00b2", "9" * 5000):
            assert client.get("/", params={"page": number}).status_code == 200


def test_english_is_chosen_remembered_and_switched_back(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        first = client.get("/", params={"lang": "en"})
        english = soup_of(first)
        assert first.cookies.get("rm_lang") == "en"
        again = soup_of(client.get("/"))
        chinese = soup_of(client.get("/", params={"lang": "zh-CN"}))
    assert attr(one(english, "html"), "lang") == "en"
    assert text_of(english, "#search-title") == "Find mental health help near you"
    assert attr(one(again, "html"), "lang") == "en"
    assert attr(one(chinese, "html"), "lang") == "zh-CN"
    assert text_of(chinese, "#search-title") == "查找您附近的心理服务"
    switch = {a.get_text(): a["href"] for a in chinese.select(".lang-switch a")}
    assert switch == {"English": "/?lang=en"}


def test_staff_find_their_way_in_from_a_residents_page(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        for path in ("/", f"/resources/{ids['clinic']}"):
            link = one(soup_of(client.get(path)), "header.site-header a.staff-link")
            assert link.get_text() == "工作人员登录"
            form = soup_of(client.get(attr(link, "href"))).select_one("form[action='/login']")
            assert form is not None, path


def test_crisis_banner_is_on_every_resident_page(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, bookable_city)
    with make_client(database_url) as client:
        pages = [
            client.get("/"),
            client.get(f"/resources/{ids['room']}"),
            client.get(f"/resources/{ids['room']}/book"),
            client.get("/resources/999999"),
            client.get("/bookings/12345678", params={"token": "wrong"}),
        ]
    for response in pages:
        soup = BeautifulSoup(response.text, "html.parser")
        assert soup.select_one(".crisis a[href='tel:12320']") is not None, response.url


def test_detail_page_has_what_a_resident_needs_to_decide(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, bookable_city)
    with make_client(database_url) as client:
        room = soup_of(client.get(f"/resources/{ids['room']}"))
        doctor = soup_of(client.get(f"/resources/{ids['doctor']}", params={"lang": "en"}))
    facts = {
        dt.get_text(): next_sibling(dt, "dd").get_text(" ", strip=True)
        for dt in room.select(".facts dt")
    }
    assert "心理咨询" in facts["服务内容"]
    assert facts["费用"] == "免费"
    assert "星期一" in facts["开放时间"] and "09:00–12:00" in facts["开放时间"]
    assert "东湖路1号" in facts["如何到达"]
    assert room.select_one(".facts a[href='tel:075520000001']") is not None
    # The next free slots, grouped by day, each a link to the booking form.
    slots = room.select(".slots-preview a.slot")
    assert slots and all("/resources/" in a["href"] and "start=" in a["href"] for a in slots)
    assert len(room.select(".slots-preview h3.day")) <= 3
    doctor_facts = one(doctor, ".facts").get_text(" ", strip=True)
    assert "YS-2015-000123" in doctor_facts and "verified" in doctor_facts
    assert "does not take bookings online" in text_of(doctor, ".slots-preview")


def test_unknown_resource_is_a_friendly_404(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        soup = soup_of(client.get("/resources/424242", params={"lang": "en"}), 404)
    assert text_of(soup, "h1") == "Not found"


def test_every_address_without_a_page_gets_a_page_with_a_way_back(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """A mistyped or shortened link, or a form's address opened from a bookmark, gets the
    site's own page (header, 24/7 lines, a way back) in the reader's language, never a bare
    line of text; JSON clients still get JSON."""
    run_in_db(database_url, bookable_city)
    with make_client(database_url) as client:
        for path in ("/resources/abc", "/resources/-1", "/nonexistent", "/waitlist/x"):
            soup = soup_of(client.get(path, params={"lang": "en"}), 404)
            assert text_of(soup, "h1") == "Not found", path
            assert soup.select_one(".crisis a[href^='tel:']") is not None, path
        form_address = client.get("/bookings/12345678/cancel", params={"lang": "en"})
        soup = soup_of(form_address, 405)
        assert text_of(soup, "h1") == "This address is for a form"
        chinese = soup_of(client.get("/nonexistent", params={"lang": "zh-CN"}), 404)
        assert text_of(chinese, "h1") == "找不到"
        staff = client.get("/staff/nonexistent")
        assert staff.status_code == 404 and "<html" in staff.text
        api = client.get("/api/v1/nonexistent")
        assert api.status_code == 404 and api.json()["error"] == "HTTPError"


def test_map_points_are_slim_rows(database_url: str, make_client: Callable[..., Any]) -> None:
    ids = run_in_db(database_url, bookable_city)
    with make_client(database_url) as client:
        body = client.get("/api/v1/map/points").json()
        matches = client.get("/api/v1/map/matches", params={"q": "西山医院"}).json()
        bad = client.get("/api/v1/map/matches", params={"fee": "maybe"})
    fields = body["fields"]
    rows = {r[0]: dict(zip(fields, r, strict=True)) for r in body["rows"]}
    assert set(fields) == {
        "id",
        "lat",
        "lon",
        "kind",
        "name_zh",
        "name_en",
        "free",
        "always_open",
        "bookable",
        "public",
    }
    assert rows[ids["room"]]["bookable"] == 1 and rows[ids["room"]]["free"] == 1
    assert rows[ids["room"]]["public"] == 1
    assert ids["team"] not in rows  # area-served: no point to draw
    assert matches == {"ids": [ids["clinic"]], "total": 1}
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidInput"
    assert "fee" in bad.json()["fields"]


def test_map_points_travel_compressed(database_url: str, make_client: Callable[..., Any]) -> None:
    run_in_db(database_url, small_city)

    async def more() -> None:
        # Enough points to be worth compressing (a few rows travel as they are).
        for n in range(40):
            await Resource.create(
                kind="community_room", name_zh=f"第{n}咨询室", lat=22.7 + n / 1000, lon=114.0
            )

    run_in_db(database_url, more)
    with make_client(database_url) as client:
        packed = client.get("/api/v1/map/points", headers={"Accept-Encoding": "gzip"})
        plain = client.get("/api/v1/map/points", headers={"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.json() == plain.json()


def test_home_page_weighs_under_300_kb_before_tiles(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """HTML, CSS and JS a phone downloads before any map tile or data request."""
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        response = client.get("/")
        soup = BeautifulSoup(response.text, "html.parser")
        assets = [s["src"] for s in soup.find_all("script", src=True)] + [
            link["href"] for link in soup.find_all("link", rel="stylesheet")
        ]
        total = len(response.content) + sum(len(client.get(a).content) for a in assets)
    assert len(assets) >= 5
    assert total < 300_000, total


def test_detail_page_has_a_small_map_and_the_distance_from_the_search(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        search = soup_of(client.get("/", params={"place": "东湖"}))
        link = one(search, "#results .result a[href^='/resources/']")
        searched = soup_of(client.get(str(link["href"])))
        # From the browser's location: the distance is from "your location", in a sentence.
        point = soup_of(client.get("/", params={"lat": "22.7", "lon": "114.0", "lang": "en"}))
        there = one(point, "#results .result a[href^='/resources/']")
        mine = text_of(soup_of(client.get(str(there["href"]))), ".away")
        client.get("/", params={"lang": "zh-CN"})  # the language back for what follows
        plain = soup_of(client.get(str(link["href"]).split("?")[0]))
        english = soup_of(client.get(str(link["href"]) + "&lang=en"))
        headers = client.get(str(link["href"])).headers
    # The place on a map drawn by a script file of the site's own (no inline script), the
    # box hidden until the script draws it: without JavaScript the page reads the same.
    box = one(searched, "#place-map")
    assert box.has_attr("hidden") and attr(box, "data-lat") and attr(box, "data-lon")
    assert attr(box, "data-here-lat") and attr(box, "data-here-lon")
    scripts = [attr(s, "src") for s in searched.select("script")]
    assert any("/place." in src for src in scripts) and all(scripts), scripts
    assert "script-src 'self'" in headers["content-security-policy"]
    away = text_of(searched, ".away")
    assert away.startswith("距") and "米" in away and "东湖" in away, away
    assert " from " in text_of(english, ".away") and "m" in text_of(english, ".away")
    assert mine.endswith(" from your location"), mine
    # Without a point from the search: the map, no distance.
    assert plain.select_one(".away") is None
    assert not one(plain, "#place-map").has_attr("data-here-lat")


def test_a_fee_and_its_note_read_as_each_language_joins_them(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        zh = soup_of(client.get(f"/resources/{ids['clinic']}", params={"lang": "zh-CN"}))
        en = soup_of(client.get(f"/resources/{ids['clinic']}", params={"lang": "en"}))
    costs = {
        "zh": next_sibling(one(zh, "dt:-soup-contains('费用')"), "dd").get_text(),
        "en": next_sibling(one(en, "dt:-soup-contains('Cost')"), "dd").get_text(),
    }
    # No spaced dash in Chinese (GB/T 15834): "收费，挂号费 20 元".
    assert costs["zh"] == "收费，挂号费 20 元", costs
    assert costs["en"].startswith("Paid — 挂号费 20 元"), costs


def test_a_fee_not_stated_has_no_paid_badge(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """An imported listing whose source did not state its fee: its card and page say
    "Fee not stated", and no badge says "Paid" beside it."""
    from resourcemap.models import Resource

    ids = run_in_db(database_url, small_city)

    async def unstated() -> None:
        await Resource.filter(id=ids["clinic"]).update(fee="unknown", fee_note="")

    run_in_db(database_url, unstated)
    with make_client(database_url) as client:
        page = soup_of(client.get(f"/resources/{ids['clinic']}", params={"lang": "en"}))
        found = soup_of(client.get("/", params={"lang": "en", "q": "psychiatry"}))
    assert page.select(".badge.paid, .badge.free") == []
    assert next_sibling(one(page, "dt:-soup-contains('Cost')"), "dd").get_text() == "Fee not stated"
    card = found.select_one(f"li.result[data-id='{ids['clinic']}']")
    assert card is not None and card.select(".badge.paid, .badge.free") == []


def client_zh_detail(url: str, make_client: Callable[..., Any], resource_id: int) -> Any:
    with make_client(url) as client:
        return client.get(f"/resources/{resource_id}", params={"lang": "zh-CN"})


def test_an_imported_listing_says_who_may_come_and_how_to_reach_it_without_a_phone(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """Another directory's listing (helpline walk, HSDS 1.1 sample): open to the public but
    "adult", an e-mail address and website, no phone, accessibility in words only."""
    ids = run_in_db(database_url, small_city)

    async def imported() -> None:
        await Resource.filter(id=ids["clinic"]).update(
            eligibility="public",
            eligibility_note_zh="adult",
            eligibility_note_en="adult",
            phone="",
            email="help@example.org",
            website="https://example.org/help",
            accessibility=[],
            accessibility_note="disabled parking",
            accessibility_note_en="disabled parking",
        )

    run_in_db(database_url, imported)
    with make_client(database_url) as client:
        page = soup_of(client.get(f"/resources/{ids['clinic']}", params={"lang": "en"}))
        found = soup_of(client.get("/", params={"lang": "en", "q": "psychiatry"}))
    assert text_of(page, "p.eligibility") == "adult"  # an open service's own words
    card = one(found, f"li.result[data-id='{ids['clinic']}']")
    assert text_of(card, ".eligibility") == "adult"
    facts = {
        dt.get_text(): next_sibling(dt, "dd").get_text(" ", strip=True)
        for dt in page.select(".facts dt")
    }
    assert facts["Accessibility"] == "disabled parking"  # not "Not stated; please call ahead"
    assert page.select_one(".facts a[href='mailto:help@example.org']") is not None
    assert page.select_one(".facts a[href='https://example.org/help']") is not None
    # No phone: the way to arrange a visit is the address it gives.
    arrange = text_of(page, ".slots-preview")
    assert "online. Write to arrange a visit: help@example.org" in " ".join(arrange.split())
    chinese = soup_of(client_zh_detail(database_url, make_client, ids["clinic"]))
    # No space after Chinese full-width punctuation.
    assert "在线预约。请发邮件预约：help@example.org" in text_of(chinese, ".slots-preview")
