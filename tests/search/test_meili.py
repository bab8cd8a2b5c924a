"""The Meilisearch adapter against a recorded fake of Meilisearch's HTTP API.

No Meilisearch server can run on this machine, so these tests pin down what the adapter
sends (settings, documents, search bodies) and how it reads answers. ``meili_backend``
builds a real backend when ``RESOURCEMAP_MEILI_URL`` points at a server, for the shared
contract suite (``tests/search/test_contract.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyproj
import pytest
import requests
from requests.adapters import BaseAdapter

from resourcemap.search.base import Criteria, SearchDocument, SearchQuery, SearchUnavailable
from resourcemap.search.meili import POST_TAG, PRE_TAG, MeiliBackend
from resourcemap.search.meili_index import (
    DISPLAYED,
    han_phrase,
    need_synonyms,
    need_word,
    query_string,
    to_meili,
)
from resourcemap.search.needs import NEEDS

KEY = "s3cret-master-key-0123456789"
URL = "http://meili.test:7700"
ORIGIN = (22.7, 114.0)
STREET = "449901001000"
CITY = "449900000000"
GEOD = pyproj.Geod(ellps="WGS84")
ENQUEUED = "2026-01-05T08:00:00.000000Z"
# Codes of 心, 理 and the bigram 心理 (see ``meili.ngram_field``).
XIN, LI = "qzaafpmd", "qzaaheag"
XINLI = "qzaafpmdaaheag"
PUBLIC = 'eligibility IN ["public"]'  # public search leaves members-only listings out


def located(metres: float, azimuth: float = 90.0) -> dict[str, float]:
    lon, lat, _ = GEOD.fwd(ORIGIN[1], ORIGIN[0], azimuth, metres)
    return {"lat": lat, "lon": lon}


def doc(doc_id: int, name_zh: str, **kw: Any) -> SearchDocument:
    base: dict[str, Any] = {
        "kind": "community_room",
        "name_en": "",
        "description_zh": "",
        "address_zh": "",
        "services": ("counselling",),
        "audiences": ("everyone",),
        "languages": ("zh",),
        "modes": ("in_person",),
        "fee": "free",
        "status": "active",
        "phone": "",
        "always_open": False,
        "lat": None,
        "lon": None,
        "service_area_codes": (),
        "labels": "",
    }
    return SearchDocument(id=doc_id, name_zh=name_zh, **{**base, **kw})


ROOM = doc(1, "东湖社区心理咨询室", labels="社区心理咨询室 Counselling", **located(300))
HOTLINE = doc(7, "市心理援助热线", kind="hotline", service_area_codes=(CITY,))
INSIDE = doc(11, "边界内站点", kind="street_station", **located(499.5, 30))
OUTSIDE = doc(12, "边界外站点", kind="street_station", **located(500.5, 210))


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class FakeMeili(BaseAdapter):
    """A ``requests`` transport that answers like Meilisearch and records every request.

    Writes answer with an enqueued task; ``GET /tasks/{uid}`` reports it succeeded (or
    ``task_errors[uid]``); searches pop ``search_answers`` in order.
    """

    calls: list[Recorded] = field(default_factory=list)
    search_answers: list[dict[str, Any]] = field(default_factory=list)
    task_errors: dict[int, str] = field(default_factory=dict)
    fail_with: Exception | None = None
    status: int | None = None
    next_task: int = 0

    def __post_init__(self) -> None:
        super().__init__()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        split = urlsplit(request.url or "")
        path = split.path + (f"?{split.query}" if split.query else "")
        raw = request.body
        body = json.loads(raw) if isinstance(raw, str | bytes) and raw else None
        headers = {k: str(v) for k, v in request.headers.items()}
        self.calls.append(Recorded(request.method or "", path, body, headers))
        if self.fail_with is not None:
            raise self.fail_with
        if self.status is not None:
            return self.respond(request, self.status, {"message": "unavailable", "code": None})
        if request.method == "GET" and (task := re.fullmatch(r"/tasks/(\d+)", path)):
            uid = int(task.group(1))
            error = self.task_errors.get(uid)
            answer = {
                "uid": uid,
                "indexUid": "resources",
                "status": "failed" if error else "succeeded",
                "type": "documentAdditionOrUpdate",
                "enqueuedAt": ENQUEUED,
                "error": {"code": error, "message": error} if error else None,
            }
            return self.respond(request, 200, answer)
        if path.endswith("/search"):
            answer = self.search_answers.pop(0) if self.search_answers else answer_with([])
            return self.respond(request, 200, answer)
        self.next_task += 1
        task_info = {
            "taskUid": self.next_task,
            "indexUid": "resources",
            "status": "enqueued",
            "type": "documentAdditionOrUpdate",
            "enqueuedAt": ENQUEUED,
        }
        return self.respond(request, 202, task_info)

    @staticmethod
    def respond(request: requests.PreparedRequest, status: int, body: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass

    def searches(self) -> list[dict[str, Any]]:
        return [r.body for r in self.calls if r.path.endswith("/search")]


def hit(document: SearchDocument, **extra: Any) -> dict[str, Any]:
    stored = to_meili(document)
    return {**{k: stored[k] for k in DISPLAYED if k in stored}, "_rankingScore": 0.5, **extra}


def answer_with(
    hits: list[dict[str, Any]], total: int | None = None, facets: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "hits": hits,
        "totalHits": len(hits) if total is None else total,
        "facetDistribution": facets or {"kind": {}, "services": {}},
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeMeili:
    transport = FakeMeili()
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: transport)
    return transport


@pytest.fixture
def backend(fake: FakeMeili) -> MeiliBackend:
    return MeiliBackend(URL, KEY)


@pytest.fixture(scope="module")
def meili_backend() -> Iterator[MeiliBackend]:
    """A real backend on a fresh index, for the contract suite; skips without a server."""
    url = os.environ.get("RESOURCEMAP_MEILI_URL")
    if not url:
        pytest.skip(
            "no Meilisearch server on this machine: set RESOURCEMAP_MEILI_URL to run against one"
        )
    chosen = MeiliBackend(
        url, os.environ.get("RESOURCEMAP_MEILI_KEY"), index_uid=f"test_{uuid.uuid4().hex[:8]}"
    )
    asyncio.run(chosen.apply_settings())
    yield chosen
    chosen.client.delete_index(chosen.index_uid)


def search(backend: MeiliBackend, **kw: Any) -> Any:
    open_ids = kw.pop("open_ids", None)
    codes = kw.pop("point_area_codes", frozenset())
    return asyncio.run(backend.search(Criteria(SearchQuery(**kw), open_ids, codes)))


BODY = {
    "facets": ["kind", "services"],
    "page": 1,
    "hitsPerPage": 20,
    "attributesToHighlight": ["name_en"],
    "highlightPreTag": PRE_TAG,
    "highlightPostTag": POST_TAG,
    "showRankingScore": True,
    "matchingStrategy": "all",
}


def test_apply_settings_creates_the_index_and_sends_the_settings(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    asyncio.run(backend.apply_settings())
    calls = [(r.method, r.path) for r in fake.calls]
    assert calls == [
        ("POST", "/indexes"),
        ("GET", "/tasks/1"),
        ("PATCH", "/indexes/resources/settings"),
        ("GET", "/tasks/2"),
    ]
    assert fake.calls[0].body == {"uid": "resources", "primaryKey": "id"}
    assert fake.calls[2].body == {
        "searchableAttributes": [
            "name_zh",
            "name_zh_ngrams",
            "name_en",
            "pinyin",
            "initials",
            "labels",
            "labels_ngrams",
            "needs",
            "description_zh",
            "description_zh_ngrams",
            "address_zh",
            "address_zh_ngrams",
        ],
        "filterableAttributes": [
            "kind",
            "services",
            "audiences",
            "languages",
            "modes",
            "fee",
            "status",
            "id",
            "service_area_codes",
            "_geo",
            "located",
            "eligibility",
            "walk",
        ],
        "sortableAttributes": ["_geo"],
        "displayedAttributes": [
            "id",
            "kind",
            "name_en",
            "name_zh",
            "labels",
            "description_zh",
            "address_zh",
            "services",
            "audiences",
            "languages",
            "modes",
            "fee",
            "status",
            "phone",
            "always_open",
            "service_area_codes",
            "_geo",
            "eligibility",
            "eligibility_note_zh",
            "eligibility_note_en",
            "address_en",
        ],
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnAttributes": ["initials"],
            "disableOnWords": sorted(need_word(n.code) for n in NEEDS),
        },
        "faceting": {"maxValuesPerFacet": 100},
        "pagination": {"maxTotalHits": 20000},
        "proximityPrecision": "byWord",
        "stopWords": [],
        "synonyms": need_synonyms(),
    }


def test_needs_are_need_words_expanded_by_synonyms(backend: MeiliBackend, fake: FakeMeili) -> None:
    synonyms = need_synonyms()
    insomnia = synonyms["qzneedinsomnia"]
    # Chinese words as phrases of their codes (multi-word synonyms are phrases), English and
    # pinyin as words; at most 50 each (Meilisearch's limit).
    assert han_phrase("睡不着") in insomnia and "sleep" in insomnia and "shimian" in insomnia
    assert all(len(words) <= 50 for words in synonyms.values())
    # Every listing lists the needs it serves; a query naming a need sends its need word.
    assert to_meili(ROOM)["needs"].split()[:2] == ["qzneedanxiety", "qzneedinsomnia"]
    assert (
        query_string("我最近睡不着 东湖", exact=True) == f'qzneedinsomnia "{han_phrase("东湖")}" '
    )
    # A typo of a need word stands for the need on the second (typo) request only.
    fake.search_answers = [answer_with([]), answer_with([hit(ROOM)])]
    result = search(backend, q="anxeity")
    assert [body["q"] for body in fake.searches()] == ['"anxeity" ', "qzneedanxiety "]
    assert [(r.need, r.via, r.code) for r in result.hits[0].reasons] == [
        ("anxiety", "service", "counselling")
    ]


def test_apply_settings_accepts_an_existing_index(backend: MeiliBackend, fake: FakeMeili) -> None:
    fake.task_errors[1] = "index_already_exists"
    asyncio.run(backend.apply_settings())
    assert fake.calls[-2].path == "/indexes/resources/settings"


def test_a_failed_task_is_reported(backend: MeiliBackend, fake: FakeMeili) -> None:
    fake.task_errors[2] = "invalid_settings_typo_tolerance"
    with pytest.raises(SearchUnavailable, match="invalid_settings_typo_tolerance"):
        asyncio.run(backend.apply_settings())


def test_every_request_carries_the_key(backend: MeiliBackend, fake: FakeMeili) -> None:
    asyncio.run(backend.apply_settings())
    search(backend, q="心理")
    assert fake.calls
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in fake.calls)
    assert KEY not in repr(backend)


def test_documents_carry_geo_pinyin_and_ngrams(backend: MeiliBackend, fake: FakeMeili) -> None:
    asyncio.run(backend.replace_all([ROOM, HOTLINE]))
    calls = [(r.method, r.path) for r in fake.calls]
    # A full load fills a staging index with the same settings and swaps it in (#22).
    assert calls == [
        ("POST", "/indexes"),
        ("GET", "/tasks/1"),
        ("PATCH", "/indexes/resources/settings"),
        ("GET", "/tasks/2"),
        ("DELETE", "/indexes/resources_reload"),
        ("GET", "/tasks/3"),
        ("POST", "/indexes"),
        ("GET", "/tasks/4"),
        ("PATCH", "/indexes/resources_reload/settings"),
        ("GET", "/tasks/5"),
        ("POST", "/indexes/resources_reload/documents?primaryKey=id"),
        ("GET", "/tasks/6"),
        ("POST", "/swap-indexes"),
        ("GET", "/tasks/7"),
        ("DELETE", "/indexes/resources_reload"),
        ("GET", "/tasks/8"),
    ]
    assert fake.calls[6].body == {"uid": "resources_reload", "primaryKey": "id"}
    assert fake.calls[8].body == fake.calls[2].body, "the staging index gets the same settings"
    assert fake.calls[12].body == [{"indexes": ["resources", "resources_reload"]}]
    room, hotline = fake.calls[10].body
    assert room["_geo"] == {"lat": ROOM.lat, "lng": ROOM.lon}
    assert (room["located"], room["walk"]) == (True, True)
    assert "_geo" not in hotline  # area-served: no _geo at all, not null
    assert (hotline["located"], hotline["walk"]) == (False, False)
    assert hotline["service_area_codes"] == [CITY]
    assert {"xin", "li", "xinli", "donghushequxinlizixunshi"} <= set(room["pinyin"].split())
    assert {"xlzx", "dhsqxlzxs"} <= set(room["initials"].split())
    # 心理 as a bigram code in the name and the labels; 心 and 理 as single characters.
    assert XINLI in room["name_zh_ngrams"].split()
    assert XINLI in room["labels_ngrams"].split()
    assert {XIN, LI} <= set(room["name_zh_ngrams"].split())


def test_a_reload_clears_what_an_interrupted_one_left_and_goes_on(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    fake.task_errors[3] = "index_not_found"  # no staging index left over: nothing to clear
    asyncio.run(backend.replace_all([ROOM]))
    assert ("POST", "/swap-indexes") in [(r.method, r.path) for r in fake.calls]
    fake.calls.clear()
    fake.task_errors = {fake.next_task + 1: "index_creation_failed"}
    with pytest.raises(SearchUnavailable):
        asyncio.run(backend.replace_all([ROOM]))
    assert ("POST", "/swap-indexes") not in [(r.method, r.path) for r in fake.calls]


def test_ngrams_follow_normalised_text(backend: MeiliBackend, fake: FakeMeili) -> None:
    asyncio.run(backend.upsert([doc(2, "西山醫院心理門診")]))
    (stored,) = fake.calls[0].body
    assert stored["name_zh"] == "西山醫院心理門診"  # displayed as written
    assert query_string("医院", exact=True).strip('" ') in stored["name_zh_ngrams"].split()


def test_upsert_and_delete(backend: MeiliBackend, fake: FakeMeili) -> None:
    asyncio.run(backend.upsert([]))
    asyncio.run(backend.delete([]))
    assert fake.calls == []
    asyncio.run(backend.delete([7, 3]))
    assert fake.calls[0].method == "POST"
    assert fake.calls[0].path == "/indexes/resources/documents/delete"
    assert fake.calls[0].body == {"filter": "id IN [3, 7]"}


def test_query_string_spells_chinese_tokens_as_phrases() -> None:
    assert query_string("", exact=True) == ""
    assert query_string("心", exact=True) == f'"{XIN}" '
    # The pass after nothing matched: a Chinese word by its sound (after its probe).
    assert query_string("心理", exact=False) == '"xinli" '
    # Three bigrams in one phrase, then the space that stops prefix matching.
    assert query_string("心理咨询", exact=True).count(" ") == 3
    # Normalised first: traditional, full-width and case meet the indexed form.
    assert query_string("心理諮詢", exact=True) == query_string("心理咨询", exact=True)
    assert query_string("ＸＩＮＬＩ", exact=True) == '"xinli" '
    assert query_string("ＸＩＮＬＩ", exact=False) == "xinli "


def test_search_body_for_text_with_pinyin(backend: MeiliBackend, fake: FakeMeili) -> None:
    fake.search_answers = [answer_with([hit(ROOM)])]
    search(backend, q="心理 xinli")
    assert fake.searches() == [
        {"q": f'"{XINLI}" "xinli" ', "filter": ['status = "active"', PUBLIC], **BODY},
    ]


def test_a_chinese_word_found_nowhere_is_looked_for_by_its_sound(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    # 心里咨询 (a homophone slip of 心理咨询): nothing as typed; its probe alone under the
    # filters finds nothing either; then the service's word it sounds like.
    fake.search_answers = [answer_with([]), answer_with([]), answer_with([hit(ROOM)])]
    result = search(backend, q="心里咨询")
    sent = fake.searches()
    typed = query_string("心里咨询", exact=True)
    assert [body["q"] for body in sent] == [typed, typed, query_string("心理咨询", exact=True)]
    assert sent[1]["hitsPerPage"] == 0 and sent[1]["filter"] == sent[0]["filter"]
    assert [h.id for h in result.hits] == [ROOM.id]


def test_a_chinese_word_found_alone_keeps_its_spelling(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    # 东湖 心里: together nothing; 东湖 alone matches, so only 心里 goes by its sound.
    fake.search_answers = [
        answer_with([]),
        answer_with([], total=3),
        answer_with([]),
        answer_with([hit(ROOM)]),
    ]
    search(backend, q="东湖 心里")
    sent = [body["q"] for body in fake.searches()]
    assert sent[-1] == query_string("东湖", exact=True) + '"xinli" '


def test_typos_only_when_nothing_matches_as_typed(backend: MeiliBackend, fake: FakeMeili) -> None:
    sunshine = doc(5, "阳光职工心灵驿站", name_en="Sunshine Workplace Station")
    fake.search_answers = [answer_with([]), answer_with([hit(sunshine)])]
    result = search(backend, q="sunshime")
    assert [body["q"] for body in fake.searches()] == ['"sunshime" ', "sunshime "]
    assert [h.id for h in result.hits] == [5]
    # Four letters allow no typo, so there is nothing to retry.
    search(backend, q="calm")
    assert [body["q"] for body in fake.searches()][2:] == ['"calm" ']


def test_search_body_for_filters(backend: MeiliBackend, fake: FakeMeili) -> None:
    search(
        backend,
        kind=("community_room", "street_station"),
        service="counselling",
        fee="paid",
        language='z"h',
        status="closed",
    )
    assert fake.searches()[0]["filter"] == [
        'status = "closed"',
        'kind IN ["community_room", "street_station"]',
        'services = "counselling"',
        'languages = "z\\"h"',
        'fee = "paid"',
        PUBLIC,
    ]


def test_search_body_for_eligibility(backend: MeiliBackend, fake: FakeMeili) -> None:
    search(backend, eligible=("students", "employees"))
    search(backend, eligible=("all",))
    assert [body["filter"] for body in fake.searches()] == [
        ['status = "active"', 'eligibility IN ["employees", "public", "students"]'],
        ['status = "active"'],
    ]


def test_search_body_for_open_ids(backend: MeiliBackend, fake: FakeMeili) -> None:
    search(backend, open_ids=frozenset({10, 2, 1}))
    assert fake.searches()[0]["filter"] == ['status = "active"', PUBLIC, "id IN [1, 2, 10]"]


def test_empty_open_ids_never_call_the_server(backend: MeiliBackend, fake: FakeMeili) -> None:
    result = search(backend, q="心理", open_ids=frozenset())
    assert (result.hits, result.total) == ([], 0)
    assert result.facets == {"kind": {}, "service": {}}
    assert fake.calls == []


RANKED = {**BODY, "hitsPerPage": 100, "sort": ["_geoPoint(22.7,114.0):asc"]}


def test_point_with_radius_asks_for_the_band_then_ranks_area_served_and_places(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    fake.search_answers = [
        answer_with([{"id": d.id, "_geo": to_meili(d)["_geo"]} for d in (INSIDE, OUTSIDE)]),
        answer_with([hit(HOTLINE)], facets={"kind": {"hotline": 1}, "services": {}}),
        answer_with(
            [hit(ROOM), hit(INSIDE)],
            facets={"kind": {"community_room": 1, "street_station": 1}, "services": {}},
        ),
    ]
    result = search(
        backend, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=500, point_area_codes={STREET, CITY}
    )
    band, served, places = fake.searches()
    assert band == {
        "q": "",
        "filter": [
            'status = "active"',
            PUBLIC,
            "_geoRadius(22.7, 114.0, 505) AND NOT _geoRadius(22.7, 114.0, 495)",
        ],
        "limit": 1000,
        "attributesToRetrieve": ["id", "_geo"],
        "matchingStrategy": "all",
    }
    assert served == {
        "q": "",
        "filter": [
            'status = "active"',
            PUBLIC,
            'located = false AND service_area_codes IN ["449900000000", "449901001000"]',
        ],
        **BODY,
        "hitsPerPage": 1000,
    }
    # Places nearest first (the adapter ranks them: resourcemap.search.ranking).
    assert places == {
        "q": "",
        "filter": [
            'status = "active"',
            PUBLIC,
            "_geoRadius(22.7, 114.0, 505) AND NOT id IN [12]",
        ],
        **RANKED,
    }
    # The hotline is no walk: it ranks as if 2 km away, with no distance.
    assert [h.id for h in result.hits] == [1, 11, 7]
    assert [h.distance_m for h in result.hits] == [pytest.approx(300), pytest.approx(499.5), None]
    assert result.total == 3
    assert result.facets["kind"] == {"hotline": 1, "community_room": 1, "street_station": 1}


def test_places_are_fetched_until_no_further_one_could_rank_in(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    # 101 places 100 m apart: the first page ends at 10 km, which may still hide a place
    # that boosts would bring in (10 km × 1/1.55 < 6.5 km is the best a farther one can do).
    rows = [doc(100 + i, f"站点{i}", **located(100.0 * (i + 1))) for i in range(101)]
    fake.search_answers = [
        answer_with([hit(d) for d in rows[:100]], total=101),
        answer_with([hit(d) for d in rows[100:]], total=101),
    ]
    result = search(backend, lat=ORIGIN[0], lon=ORIGIN[1], limit=5)
    assert [b["page"] for b in fake.searches()] == [1]  # the 5th is at 500 m: done
    assert [h.id for h in result.hits] == [100, 101, 102, 103, 104]
    fake.calls.clear()
    fake.search_answers = [
        answer_with([hit(d) for d in rows[:100]], total=101),
        answer_with([hit(d) for d in rows[100:]], total=101),
    ]
    result = search(backend, lat=ORIGIN[0], lon=ORIGIN[1], limit=100, offset=0)
    assert [b["page"] for b in fake.searches()] == [1, 2]
    assert len(result.hits) == 100 and result.total == 101


def test_a_hit_beyond_the_exact_radius_is_dropped_and_uncounted(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    # The band request missed 12 (moved meanwhile, say); the places answer still has it.
    fake.search_answers = [
        answer_with([]),
        answer_with(
            [hit(INSIDE), hit(OUTSIDE)],
            facets={"kind": {"street_station": 2}, "services": {"counselling": 2}},
        ),
    ]
    result = search(backend, q="站点", lat=ORIGIN[0], lon=ORIGIN[1], radius_m=500)
    assert "NOT id IN" not in fake.searches()[1]["filter"][-1]
    assert [h.id for h in result.hits] == [11]
    assert result.total == 1
    assert result.facets == {"kind": {"street_station": 1}, "service": {"counselling": 1}}


def test_relevance_around_a_point_keeps_one_request(backend: MeiliBackend, fake: FakeMeili) -> None:
    fake.search_answers = [answer_with([hit(ROOM)])]
    search(
        backend, q="心理", lat=ORIGIN[0], lon=ORIGIN[1], point_area_codes={CITY}, sort="relevance"
    )
    (body,) = fake.searches()
    assert body["filter"][-1] == (
        '(located = true) OR (located = false AND service_area_codes IN ["449900000000"])'
    )
    assert "sort" not in body


def test_nearest_orders_by_geodesic_distance(backend: MeiliBackend, fake: FakeMeili) -> None:
    near, far = doc(3, "甲", **located(1999.8, 0)), doc(4, "乙", **located(2000.2, 180))
    # Meilisearch's sphere put them the other way round; the ellipsoid decides the page.
    fake.search_answers = [answer_with([hit(HOTLINE)]), answer_with([hit(far), hit(near)])]
    result = search(
        backend, q="心理", lat=ORIGIN[0], lon=ORIGIN[1], sort="nearest", point_area_codes={CITY}
    )
    assert fake.searches()[1]["sort"] == ["_geoPoint(22.7,114.0):asc"]
    # The hotline ranks as if 2 km away: between them.
    assert [h.id for h in result.hits] == [3, 7, 4]
    assert result.hits[1].distance_m is None


def test_located_only_asks_for_walks(backend: MeiliBackend, fake: FakeMeili) -> None:
    asyncio.run(
        backend.search(
            Criteria(
                SearchQuery(lat=ORIGIN[0], lon=ORIGIN[1], sort="nearest", limit=1),
                point_area_codes=frozenset({CITY}),
                located_only=True,
            )
        )
    )
    (body,) = fake.searches()  # no request for area-served matches
    assert body["filter"] == ['status = "active"', PUBLIC, "walk = true", "located = true"]


def test_pages_that_do_not_align_ask_for_a_page_holding_them(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    docs = [doc(i, f"站点{i}") for i in range(1, 16)]
    # offset 5, limit 4: page 2 of 5 hits (5..9) holds 5..8.
    fake.search_answers = [answer_with([hit(d) for d in docs[5:10]], total=40)]
    result = search(backend, offset=5, limit=4)
    assert (fake.searches()[0]["page"], fake.searches()[0]["hitsPerPage"]) == (2, 5)
    assert [h.id for h in result.hits] == [6, 7, 8, 9]
    assert result.total == 40
    search(backend, offset=8, limit=4)
    assert (fake.searches()[1]["page"], fake.searches()[1]["hitsPerPage"]) == (3, 4)
    # offset 7, limit 4: page 2 of 6 hits (6..11), skipping the first.
    fake.search_answers = [answer_with([hit(d) for d in docs[6:12]], total=40)]
    result = search(backend, offset=7, limit=4)
    assert (fake.searches()[2]["page"], fake.searches()[2]["hitsPerPage"]) == (2, 6)
    assert [h.id for h in result.hits] == [8, 9, 10, 11]


def test_hits_rebuild_documents_scores_and_facets(backend: MeiliBackend, fake: FakeMeili) -> None:
    facets = {"kind": {"community_room": 1, "hotline": 1}, "services": {"counselling": 2}}
    fake.search_answers = [answer_with([hit(ROOM, _rankingScore=0.93), hit(HOTLINE)], 2, facets)]
    result = search(backend, q="心理")
    assert [h.document for h in result.hits] == [ROOM, HOTLINE]
    assert result.hits[0].score == 0.93
    assert result.hits[0].distance_m is None
    assert result.facets == {
        "kind": {"community_room": 1, "hotline": 1},
        "service": {"counselling": 2},
    }


def test_highlights_are_escaped_html(backend: MeiliBackend, fake: FakeMeili) -> None:
    evil = doc(5, "<script>x</script>心理室", name_en="<script>Mind</script> Room")
    formatted = {"name_en": f"<script>{PRE_TAG}Mind{POST_TAG}</script> Room"}
    fake.search_answers = [answer_with([hit(evil, _formatted=formatted)])]
    (found,) = search(backend, q="心理 mind").hits
    assert found.highlights == {
        "name_zh": "&lt;script&gt;x&lt;/script&gt;<mark>心理</mark>室",
        "name_en": "&lt;script&gt;<mark>Mind</mark>&lt;/script&gt; Room",
    }


def test_client_calls_run_off_the_event_loop(backend: MeiliBackend, fake: FakeMeili) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    send = fake.send

    def spy(request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return send(request, *args, **kwargs)

    fake.send = spy  # type: ignore[method-assign]
    search(backend, q="心理")
    assert seen and loop_thread not in seen


def test_a_connection_error_is_unavailable_without_the_key(
    backend: MeiliBackend, fake: FakeMeili
) -> None:
    fake.fail_with = requests.ConnectionError(f"cannot reach {URL}")
    with pytest.raises(SearchUnavailable) as caught:
        search(backend, q="心理")
    assert KEY not in str(caught.value)
    assert KEY not in str(caught.value.__cause__)


def test_a_timeout_is_unavailable(backend: MeiliBackend, fake: FakeMeili) -> None:
    fake.fail_with = requests.ReadTimeout("read timed out")
    with pytest.raises(SearchUnavailable, match="unreachable"):
        asyncio.run(backend.replace_all([ROOM]))


def test_a_5xx_answer_is_unavailable(backend: MeiliBackend, fake: FakeMeili) -> None:
    fake.status = 503
    with pytest.raises(SearchUnavailable, match="503") as caught:
        search(backend, q="心理")
    assert KEY not in str(caught.value)


def test_real_server_round_trip(meili_backend: MeiliBackend) -> None:
    asyncio.run(meili_backend.replace_all([ROOM, HOTLINE, INSIDE, OUTSIDE]))
    assert {h.id for h in search(meili_backend, q="心理").hits} == {1, 7}
    assert {h.id for h in search(meili_backend, q="咨询").hits} == {1}
    near = search(meili_backend, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=500)
    assert {h.id for h in near.hits} == {1, 11}
