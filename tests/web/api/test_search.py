"""``/api/v1/search`` and ``/api/v1/nearest`` through the real app on both databases."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pyproj
import pytest
from starlette.testclient import TestClient

from resourcemap.search.base import Criteria, SearchQuery, SearchResult
from resourcemap.search.service import SearchService
from tests.factories import run_in_db, small_city

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock


# Inside 东湖社区 (street 449901001000) and 西山社区 (street 449901002000) of small_city.
EAST: dict[str, float] = {"lat": 22.7049, "lon": 114.0049}
WEST: dict[str, float] = {"lat": 22.7049, "lon": 113.9049}
MONDAY_10 = "2026-11-23T10:00:00+08:00"
MONDAY_1230 = "2026-11-23T12:30:00+08:00"


@pytest.fixture
def city(
    database_url: str, make_client: Callable[..., Any]
) -> Iterator[tuple[TestClient, dict[str, int], str]]:
    ids = run_in_db(database_url, small_city)
    with make_client(database_url, search_follow_seconds=0) as client:
        yield client, ids, database_url


def names(body: dict[str, Any]) -> list[str]:
    return [item["name_zh"] for item in body["items"]]


def test_text_search_finds_and_highlights(city: tuple[TestClient, dict[str, int], str]) -> None:
    client, _, _ = city
    body = client.get("/api/v1/search", params={"q": "心理咨询"}).json()
    assert names(body)[0] == "东湖社区心理咨询室"
    assert body["items"][0]["highlight"]["name_zh"] == "东湖社区<mark>心理咨询</mark>室"
    assert body["total"] == len(body["items"])
    assert body["backend"] == "embedded" and body["degraded"] is False
    pinyin = client.get("/api/v1/search", params={"q": "donghu"}).json()
    assert names(pinyin) == ["东湖社区心理咨询室"]


def test_point_search_includes_area_served_resources(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    client, _, _ = city
    east = client.get("/api/v1/search", params={**EAST, "radius_m": 500}).json()
    assert set(names(east)) == {
        "东湖社区心理咨询室",
        "东街道心理志愿者服务队",
        "测试市心理援助热线",
    }
    by_name = {i["name_zh"]: i for i in east["items"]}
    team, line = by_name["东街道心理志愿者服务队"], by_name["测试市心理援助热线"]
    # Not a walk: "serves your community", "phone service for your area".
    assert (team["reach"], team["distance_m"], team["walk_minutes"]) == ("area", None, None)
    assert (line["reach"], line["distance_m"], line["walk_minutes"]) == ("phone", None, None)
    # The room 70 m away comes first; phone line and team rank as if 2 km away.
    assert names(east)[0] == "东湖社区心理咨询室"
    room = by_name["东湖社区心理咨询室"]
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(EAST["lon"], EAST["lat"], 114.005, 22.705)
    assert room["distance_m"] == pytest.approx(metres, abs=0.05)
    assert room["walk_minutes"] == 1
    west = client.get("/api/v1/search", params={**WEST, "radius_m": 500}).json()
    assert set(names(west)) == {"西山医院心理门诊", "王医生", "测试市心理援助热线"}


def test_open_now_follows_weekly_hours(city: tuple[TestClient, dict[str, int], str]) -> None:
    client, _, _ = city
    morning = client.get("/api/v1/search", params={"open_now": "true", "at": MONDAY_10}).json()
    lunch = client.get("/api/v1/search", params={"open_now": "true", "at": MONDAY_1230}).json()
    assert "东湖社区心理咨询室" in names(morning)
    assert "东湖社区心理咨询室" not in names(lunch)
    assert "测试市心理援助热线" in names(lunch)  # 24/7
    assert all(item["open_now"] for item in morning["items"])


def test_a_closed_place_says_when_it_opens_next(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    client, _, _ = city
    lunch = client.get("/api/v1/search", params={"at": MONDAY_1230}).json()
    by_name = {i["name_zh"]: i for i in lunch["items"]}
    room, line = by_name["东湖社区心理咨询室"], by_name["测试市心理援助热线"]
    assert (room["open_now"], room["opens_at"]) == (False, MONDAY_1230[:11] + "14:00:00+08:00")
    assert (line["open_now"], line["opens_at"]) == (True, None)  # 24/7: never "opens"
    monday = MONDAY_1230[:11]

    def room_at(hhmm: str) -> tuple[bool, str | None]:
        body = client.get("/api/v1/search", params={"q": "心理咨询", "at": monday + hhmm})
        room = next(i for i in body.json()["items"] if i["name_zh"] == "东湖社区心理咨询室")
        return room["open_now"], room["opens_at"]

    # Asked again and again as the day goes on, each answer is the one for its instant.
    assert room_at("13:59:59+08:00") == (False, monday + "14:00:00+08:00")
    assert room_at("10:00:00+08:00") == (True, None)
    assert room_at("14:00:00+08:00") == (True, None)
    assert room_at("17:45:00+08:00") == (False, "2026-11-24T09:00:00+08:00")
    assert room_at("12:00:00+08:00") == (False, monday + "14:00:00+08:00")
    assert room_at("08:00:00+08:00") == (False, monday + "09:00:00+08:00")
    nearest = client.get("/api/v1/nearest", params={**EAST, "limit": 1}).json()["items"][0]
    assert nearest["name_zh"] == "东湖社区心理咨询室"
    # The test's clock: Tuesday 1 December, 08:00 in Shanghai.
    assert (nearest["open_now"], nearest["opens_at"]) == (False, "2026-12-01T09:00:00+08:00")


def test_nearest_puts_places_before_phone_lines(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    client, _, _ = city
    body = client.get("/api/v1/nearest", params={**WEST, "limit": 3}).json()
    assert len(body["items"]) == 3
    # Two places within 2 km, then the city's hotline (as if 2 km away), never first.
    assert [i["reach"] for i in body["items"]] == ["walk", "walk", "phone"]
    assert body["items"][2]["name_zh"] == "测试市心理援助热线"
    distances = [i["distance_m"] for i in body["items"][:2]]
    assert distances == sorted(distances)
    psychiatric = client.get(
        "/api/v1/nearest", params={**EAST, "service": "psychiatric_outpatient"}
    ).json()
    assert names(psychiatric) == ["西山医院心理门诊", "王医生"]
    assert psychiatric["items"][0]["distance_m"] > 9000


def test_nothing_to_walk_to_widens_step_by_step_and_says_so(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    client, _, _ = city
    asked: dict[str, str | float] = {**EAST, "radius_m": 500, "q": "门诊"}
    body = client.get("/api/v1/search", params=asked).json()
    # The clinic is about 10.2 km west: 1, 3, 5 and 10 km hold nothing; 20 km does.
    assert body["widened"] == {"asked_m": 500, "shown_m": 20000}
    assert set(names(body)[:2]) == {"西山医院心理门诊", "王医生"}
    exact = client.get("/api/v1/search", params={**asked, "widen": "false"}).json()
    assert exact["widened"] is None and exact["total"] == 0
    # Something to walk to within the distance: nothing to widen.
    near = client.get("/api/v1/search", params={**EAST, "radius_m": 500}).json()
    assert near["widened"] is None
    # Beyond every step (~0.3° east: over 40 km from the clinic): shown at any distance.
    far: dict[str, str | float] = {**asked, "lon": EAST["lon"] + 0.3}
    body = client.get("/api/v1/search", params=far).json()
    assert body["widened"] == {"asked_m": 500, "shown_m": None}
    assert set(names(body)[:2]) == {"西山医院心理门诊", "王医生"}
    assert body["items"][0]["distance_m"] > 20_000


def test_nothing_to_walk_to_anywhere_spares_the_wider_circles(
    city: tuple[TestClient, dict[str, int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each circle costs what lies in it (in a city's centre 20 km hold every listing):
    when the first holds nothing, whether anything matches at all is asked before the
    wider ones, and when nothing does they are not asked."""
    client, _, _ = city
    service: SearchService = client.app.state.search  # type: ignore[attr-defined]
    portal = client.portal
    assert portal is not None  # the app runs: the client is open
    asked: list[SearchQuery] = []
    search = service.embedded.search

    async def counted(criteria: Criteria) -> SearchResult:
        asked.append(criteria.query)
        return await search(criteria)

    monkeypatch.setattr(service.embedded, "search", counted)
    at = dt.datetime.fromisoformat(MONDAY_10)

    def asks() -> list[tuple[float | None, bool]]:
        return [(q.radius_m, q.point is not None) for q in asked]

    # No community room is a clinic: 门诊 matches none of them, at any distance.
    rooms = SearchQuery.model_validate({**EAST, "q": "门诊", "kind": ["community_room"]})
    assert portal.call(service.nearest_walk, rooms, at) is None
    assert asks() == [(500.0, True), (None, False)]
    # The clinics 10.2 km west: found in the 20 km circle as before.
    asked.clear()
    clinics = SearchQuery.model_validate({**EAST, "q": "门诊"})
    found = portal.call(service.nearest_walk, clinics, at)
    assert found is not None and found.document.name_zh in {"西山医院心理门诊", "王医生"}
    assert found.distance_m is not None and 10_000 < found.distance_m < 20_000
    steps = [(r, True) for r in (1000.0, 3000.0, 5000.0, 10_000.0, 20_000.0)]
    assert asks() == [(500.0, True), (None, False), *steps]


@pytest.mark.parametrize("q", ["想死", "我不想活了", "kill myself", "zisha"])
def test_crisis_words_put_the_24_7_lines_first(
    city: tuple[TestClient, dict[str, int], str], q: str
) -> None:
    client, ids, _ = city
    # Even with filters that the hotline does not meet (paid, in person, within 500 m).
    params: dict[str, str | float] = {
        **WEST,
        "q": q,
        "fee": "paid",
        "mode": "in_person",
        "radius_m": 500,
    }
    body = client.get("/api/v1/search", params=params).json()
    assert body["crisis"] is True
    first = body["items"][0]
    assert (first["id"], first["phone"], first["always_open"]) == (ids["hotline"], "12320", True)
    assert client.get("/api/v1/search", params={"q": "焦虑"}).json()["crisis"] is False


def test_results_say_why_they_matched(city: tuple[TestClient, dict[str, int], str]) -> None:
    client, _, _ = city
    body = client.get("/api/v1/search", params={"q": "睡不着", **EAST}).json()
    why = {i["name_zh"]: i["matched_because"] for i in body["items"]}
    assert why["东湖社区心理咨询室"] == [
        {
            "need": "insomnia",
            "need_zh": "失眠",
            "need_en": "Sleep problems",
            "via": "service",
            "code": "counselling",
            "label_zh": "心理咨询",
            "label_en": "Counselling",
        }
    ]
    assert why["西山医院心理门诊"][0]["code"] == "psychiatric_outpatient"


WRITER = """
import asyncio, sys
from resourcemap import db
from resourcemap.models import Resource
from resourcemap.search import changes

async def main(url, action):
    async with db.database(url):
        if action == "add":
            r = await Resource.create(
                kind="community_room", name_zh="新开心理驿站", lat=22.7, lon=114.0
            )
        else:
            r = await Resource.get(name_zh="新开心理驿站")
            r.status = "closed"
            await r.save()
        await changes.record([r.id])
        print(r.id)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def write_from_another_process(url: str, action: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", WRITER, url, action], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def test_listing_changes_reach_search_without_restart(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    client, _, url = city
    assert client.get("/api/v1/search", params={"q": "新开"}).json()["total"] == 0
    new_id = write_from_another_process(url, "add")
    found = client.get("/api/v1/search", params={"q": "新开"}).json()
    assert [i["id"] for i in found["items"]] == [new_id]
    write_from_another_process(url, "close")
    assert client.get("/api/v1/search", params={"q": "新开"}).json()["total"] == 0


def test_search_pages_with_cursor(city: tuple[TestClient, dict[str, int], str]) -> None:
    client, _, _ = city
    first = client.get("/api/v1/search", params={"limit": 2}).json()
    assert first["total"] == 5 and len(first["items"]) == 2
    second = client.get(
        "/api/v1/search", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    third = client.get(
        "/api/v1/search", params={"limit": 2, "cursor": second["next_cursor"]}
    ).json()
    assert third["next_cursor"] is None
    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(seen) == len(set(seen)) == 5


def test_facets_count_kinds_and_services(city: tuple[TestClient, dict[str, int], str]) -> None:
    client, _, _ = city
    facets = client.get("/api/v1/search").json()["facets"]
    assert facets["kind"]["community_room"] == 1
    assert facets["kind"]["hotline"] == 1
    assert facets["service"]["psychiatric_outpatient"] == 2


async def _school_room() -> int:
    from resourcemap.models import Resource

    room = await Resource.create(
        kind="school_room",
        name_zh="东湖中学心理辅导室",
        services=["counselling"],
        audiences=["students"],
        eligibility="students",
        eligibility_note_zh="仅限本校学生",
        eligibility_note_en="Pupils of this school",
        lat=22.7051,
        lon=114.0051,
    )
    return int(room.id)


def test_members_only_listings_leave_public_search_until_asked(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    school = run_in_db(database_url, _school_room)
    with make_client(database_url, search_follow_seconds=0) as client:
        public = client.get("/api/v1/search", params={"q": "辅导室"}).json()
        pupil = client.get("/api/v1/search", params={"q": "辅导室", "eligible": "students"}).json()
        everyone = client.get("/api/v1/search", params={"q": "辅导室", "eligible": "all"}).json()
        worker = client.get("/api/v1/search", params={"q": "辅导室", "eligible": "employees"})
        nearest = client.get(
            "/api/v1/nearest", params={**EAST, "eligible": "students", "limit": 5}
        ).json()
        matches = client.get("/api/v1/map/matches", params={"q": "辅导室", "eligible": "all"})
        bad = client.get("/api/v1/search", params={"eligible": "teachers"})
    assert public["total"] == 0 and worker.json()["total"] == 0
    (item,) = pupil["items"]
    assert item["id"] == school and everyone["items"][0]["id"] == school
    assert item["eligibility"] == "students"
    assert item["eligibility_note"] == {"zh": "仅限本校学生", "en": "Pupils of this school"}
    assert school in [i["id"] for i in nearest["items"]]
    assert matches.json()["ids"] == [school]
    assert bad.status_code == 400 and "eligible" in bad.json()["fields"]


def test_a_typo_in_a_long_word_still_finds(city: tuple[TestClient, dict[str, int], str]) -> None:
    client, _, _ = city
    # 11 letters, one transposition: Meilisearch's rules allow it (the example).
    found = client.get("/api/v1/search", params={"q": "psychiatirc"}).json()
    assert {"西山医院心理门诊", "王医生"} <= set(names(found))


def test_residents_own_words_for_a_service_find_it(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    # No listing says 心理辅导 or 心理医生; residents do (needs.toml: service_words).
    client, _, _ = city
    guidance = names(client.get("/api/v1/search", params={"q": "心理辅导"}).json())
    assert "东湖社区心理咨询室" in guidance  # counselling
    assert "西山医院心理门诊" not in guidance  # psychiatric outpatient and assessment only
    doctor = set(names(client.get("/api/v1/search", params={"q": "心理医生"}).json()))
    assert {"东湖社区心理咨询室", "西山医院心理门诊", "王医生"} <= doctor
    assert "东街道心理志愿者服务队" not in doctor  # group activities and education
    # The homophone slip of it too (心里医生).
    slip = set(names(client.get("/api/v1/search", params={"q": "心里医生"}).json()))
    assert slip == doctor


def test_residents_own_words_for_a_kind_of_place_find_it(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    # No listing says 社工站 or 心理医院; residents do (needs.toml: kind_words).
    client, _, _ = city
    social = names(client.get("/api/v1/search", params={"q": "社工站"}).json())
    assert social and set(social) <= {"东湖社区心理咨询室"}  # the community room
    hospital = names(client.get("/api/v1/search", params={"q": "心理医院"}).json())
    assert hospital == ["西山医院心理门诊"]
    # The words are a kind's, not anybody's: a psychiatrist is not a hospital.
    assert "王医生" not in hospital


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/search", {"lat": "22.7"}, "request"),
        ("/api/v1/search", {"radius_m": "500"}, "request"),
        ("/api/v1/search", {"sort": "distance"}, "request"),
        ("/api/v1/search", {"at": "2026-11-23T10:00:00"}, "request"),
        ("/api/v1/search", {"lat": "91", "lon": "114"}, "lat"),
        ("/api/v1/search", {"kind": "castle"}, "kind"),
        ("/api/v1/search", {"open_now": "maybe"}, "open_now"),
        ("/api/v1/search", {"cursor": "zzz"}, "cursor"),
        ("/api/v1/search", {"limit": "1000"}, "limit"),
        ("/api/v1/nearest", {"service": "counselling"}, "lat"),
        ("/api/v1/nearest", {**EAST, "radius": "5"}, "radius"),
        ("/api/v1/nearest", {**EAST, "limit": "50"}, "limit"),
    ],
)
def test_bad_search_input_is_400_naming_the_field(
    city: tuple[TestClient, dict[str, int], str], path: str, params: dict[str, str], field: str
) -> None:
    client, _, _ = city
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert field in response.json()["fields"]


def test_the_api_takes_the_pages_lang_and_answers_in_it(
    city: tuple[TestClient, dict[str, int], str],
) -> None:
    # A client passing ?lang= as the pages do was refused ("lang: Extra inputs").
    client, _, _ = city
    found = client.get("/api/v1/search", params={"q": "心理", "lang": "en"})
    assert found.status_code == 200 and "东湖社区心理咨询室" in names(found.json())
    # It names the language only: a wrong value of another field is still refused.
    refused = client.get("/api/v1/search", params={"fee": "cheap", "lang": "en"})
    assert refused.status_code == 400 and set(refused.json()["fields"]) == {"fee"}


def test_unreachable_meilisearch_degrades_to_embedded_and_logs_once(
    database_url: str, make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    run_in_db(database_url, small_city)
    closed_port = "http://127.0.0.1:1"  # nothing listens there
    with make_client(database_url, meili_url=closed_port, meili_key="k" * 32) as client:
        answers = [client.get("/api/v1/search", params={"q": "心理"}) for _ in range(3)]
    for response in answers:
        assert response.status_code == 200
        body = response.json()
        assert body["degraded"] is True
        assert body["backend"] == "meilisearch"
        assert "东湖社区心理咨询室" in names(body)
    fallbacks = [r for r in caplog.records if "answering from the embedded engine" in r.message]
    assert len(fallbacks) == 1
    assert "k" * 32 not in caplog.text


@pytest.mark.parametrize("words", ["free counselling", "免费心理咨询", "焦虑 火星", "anxiety mars"])
def test_the_map_shows_what_the_list_lists_when_words_are_read_for_it(
    city: tuple[TestClient, dict[str, int], str], words: str
) -> None:
    """The list reads words for "free" as the fee filter, and answers for the concern alone
    when the other words match nothing; the map asked for the words as typed and showed
    nothing, or paid places the list left out (a resident's walk-through: "110 services
    found", "0 service points on the map")."""
    client, _, _ = city
    listed = client.get("/api/v1/search", params={"q": words, "limit": 100}).json()
    mapped = client.get("/api/v1/map/matches", params={"q": words}).json()
    assert listed["total"] > 0, words
    assert mapped["total"] == listed["total"], words
    assert mapped["ids"] == sorted(item["id"] for item in listed["items"]), words
    bbox: dict[str, str | int] = {"bbox": "113.8,22.6,114.1,22.8", "zoom": 18}
    view = client.get("/api/v1/map/view", params={"q": words, **bbox}).json()
    on_map = {row[0] for row in view["rows"]}
    located = {item["id"] for item in listed["items"] if item.get("location")}
    assert on_map == located, words
