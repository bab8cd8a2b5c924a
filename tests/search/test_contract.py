"""The search contract (see ``resourcemap/search/base.py``), run against every backend.

The embedded engine always runs it; Meilisearch runs it when ``RESOURCEMAP_MEILI_URL``
points at a server (none can be installed on this machine).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pyproj
import pytest

from resourcemap.search.base import Criteria, SearchBackend, SearchDocument, SearchQuery
from resourcemap.search.embedded import EmbeddedBackend

ORIGIN = (22.7000, 114.0000)
STREET_E = "449901001000"
CITY = "449900000000"
GEOD = pyproj.Geod(ellps="WGS84")


def at_distance(metres: float, azimuth: float = 90.0) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(ORIGIN[1], ORIGIN[0], azimuth, metres)
    return lat, lon


def doc(doc_id: int, name_zh: str, kind: str, **kw: Any) -> SearchDocument:
    base: dict[str, Any] = {
        "name_en": "",
        "description_zh": "",
        "address_zh": "",
        "services": (),
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
    base.update(kw)
    return SearchDocument(id=doc_id, kind=kind, name_zh=name_zh, **base)


def located(metres: float, azimuth: float = 90.0) -> dict[str, float]:
    lat, lon = at_distance(metres, azimuth)
    return {"lat": lat, "lon": lon}


DOCS = [
    doc(
        1,
        "东湖社区心理咨询室",
        "community_room",
        services=("counselling", "group_activity"),
        labels="社区心理咨询室 心理咨询 Counselling",
        **located(300),
    ),
    doc(
        2,
        "西山醫院心理門診",
        "psychiatric_hospital_clinic",
        fee="paid",
        services=("psychiatric_outpatient", "assessment"),
        labels="精神科门诊 心理测评",
        **located(1200, 0),
    ),
    doc(
        3,
        "儿童青少年成长辅导中心",
        "minors_centre",
        description_zh="针对焦虑、学业压力的辅导",
        audiences=("children", "adolescents"),
        services=("counselling",),
        labels="儿童 青少年 心理咨询 Counselling",
        **located(800, 180),
    ),
    doc(
        4,
        "阳光心园康复站",
        "community_rehabilitation",
        services=("rehabilitation",),
        **located(2500, 270),
    ),
    doc(
        5,
        "ＳＵＮＳＨＩＮＥ职工心灵驿站",
        "workplace_room",
        name_en="Sunshine Workplace Station",
        services=("eap",),
        audiences=("workers",),
        **located(4000, 45),
    ),
    doc(
        6,
        "东街道心理志愿者服务队",
        "volunteer_team",
        services=("group_activity",),
        service_area_codes=(STREET_E,),
    ),
    doc(
        7,
        "市心理援助热线",
        "hotline",
        services=("crisis_intervention", "phone_support"),
        modes=("phone",),
        always_open=True,
        phone="12320",
        service_area_codes=(CITY,),
    ),
    doc(
        8,
        "人民医院焦虑门诊",
        "general_hospital_department",
        services=("psychiatric_outpatient",),
        fee="paid",
        **located(3000, 90),
    ),
    doc(
        9,
        "心理咨询师王芳",
        "counsellor",
        name_en="Wang Fang, counsellor",
        languages=("zh", "en"),
        modes=("online", "in_person"),
        services=("counselling",),
        labels="心理咨询师 心理咨询 Counselling",
        **located(700, 300),
    ),
    doc(10, "旧址心理咨询室", "community_room", status="closed", **located(100)),
    doc(11, "边界内站点", "street_station", **located(499.5, 30)),
    doc(12, "边界外站点", "street_station", **located(500.5, 210)),
    doc(13, "<b>青年</b>心理空间", "licensed_agency", fee="paid", **located(5000, 100)),
    # English words of 4, 5, 8, 9 and 11 letters, for the typo rules.
    doc(
        14, "宁静港湾正念馆", "licensed_agency", name_en="Calm Haven Wellness Sanctuary Mindfulness"
    ),
    # For its own pupils only: out of every public search above.
    doc(
        15,
        "示例中学心理辅导室",
        "school_room",
        services=("counselling",),
        eligibility="students",
        eligibility_note_zh="仅限本校学生",
    ),
]
ACTIVE = {d.id for d in DOCS if d.status == "active"}


def _meili_backend() -> SearchBackend:
    url = os.environ.get("RESOURCEMAP_MEILI_URL")
    if not url:
        pytest.skip("no Meilisearch server on this machine: set RESOURCEMAP_MEILI_URL to run")
    from resourcemap.search.meili import MeiliBackend

    backend = MeiliBackend(
        url, os.environ.get("RESOURCEMAP_MEILI_KEY"), index_uid=f"contract_{uuid.uuid4().hex[:8]}"
    )
    asyncio.run(backend.apply_settings())
    return backend


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
def backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    chosen: SearchBackend = EmbeddedBackend() if request.param == "embedded" else _meili_backend()
    asyncio.run(chosen.replace_all(DOCS))
    yield chosen


def search(backend: SearchBackend, **kw: Any) -> Any:
    extra = {
        name: kw.pop(name)
        for name in (
            "open_ids",
            "point_area_codes",
            "open_now_ids",
            "bookable_ids",
            "located_only",
            "wanted",
        )
        if name in kw
    }
    criteria = Criteria(SearchQuery(**kw), **extra)
    return asyncio.run(backend.search(criteria))


def ids(result: Any) -> set[int]:
    return {h.id for h in result.hits}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("焦虑", {1, 2, 3, 8, 9}),  # a need: 3 and 8 by the word, the rest by service
        ("针对", {3}),  # in a description only
        ("心理", {1, 2, 3, 6, 7, 9, 13}),  # 3 by its service label 心理咨询
        ("儿童", {3}),
        ("心", {1, 2, 3, 4, 5, 6, 7, 9, 13}),  # one character
        ("心理咨询", {1, 3, 9}),  # name, or a label of the services
        ("心理諮詢", {1, 3, 9}),  # traditional query, simplified documents
        ("医院门诊", set()),  # tokens must all match: no single field holds "医院门诊"
        ("医院 门诊", {2, 8}),  # simplified query, traditional document (2)
        ("sunshine", {5}),
        ("ＳＵＮＳＨＩＮＥ", {5}),  # full-width query
        ("sunshime", {5}),  # one typo
        ("xinli", {1, 2, 6, 7, 9, 13}),  # pinyin
        ("xlzx", {1, 9}),  # initials of 心理咨询 in names
        ("心里咨询", {1, 3, 9}),  # a slip of the same sound: as 心理咨询
        ("jiaolv", {1, 2, 3, 8, 9}),  # pinyin of a need
        ("renmin", {8}),  # pinyin of a name
        ("counselling", {1, 3, 9}),  # English label and name
        ("wang fang", {9}),
    ],
)
def test_text_queries(backend: SearchBackend, q: str, expected: set[int]) -> None:
    result = search(backend, q=q, limit=100)
    assert ids(result) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize(
    ("q", "found"),
    [
        # Under 5 letters: exact only.
        ("calm", True),
        ("clam", False),  # one transposition
        ("calx", False),
        # 5 to 8 letters: one typo, not on the first letter.
        ("haven", True),
        ("havne", True),  # a transposition is one typo
        ("haxen", True),
        ("hvaen", True),
        ("baven", False),  # the first letter counts as two
        ("hazzn", False),
        ("wellnses", True),
        ("wllness", True),  # a letter left out
        ("wellnness", True),  # a letter doubled (9 letters typed: 2 allowed, 1 used)
        ("wellnxxs", False),  # two typos in 8 letters
        ("xellness", False),
        # 9 letters and more: two typos; the first letter uses both.
        ("sanctaury", True),
        ("sanctuxxy", True),
        ("xanctuary", True),
        ("xanctuarx", False),  # first letter (two) and one more
        ("sxnctxxry", False),
        ("mindfulnses", True),
        ("mnidfulnses", True),  # two transpositions
        ("xindfulness", True),
        ("xindfulnesz", False),
        ("mindfxlnxsz", False),
    ],
)
def test_typo_rules_follow_meilisearch(backend: SearchBackend, q: str, found: bool) -> None:
    assert (14 in ids(search(backend, q=q, limit=100))) is found


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Services answering the concern, or its words in the text.
        ("失眠", {1, 2, 3, 8, 9}),
        ("我最近睡不着怎么办", {1, 2, 3, 8, 9}),  # colloquial, inside a sentence
        ("sleep", {1, 2, 3, 8, 9}),
        ("shimian", {1, 2, 3, 8, 9}),  # pinyin
        ("can't sleep", {1, 2, 3, 8, 9}),  # an English phrase
        ("insomina", {1, 2, 3, 8, 9}),  # a typo of a need word
        ("焦滤", {1, 2, 3, 8, 9}),  # a Chinese slip of the same sound as a need word
        ("东湖 心里", {1}),  # the slip only where, as typed, the word matches nothing
        ("压力大 儿童", {3}),  # a need and a word: both must match
        ("亲子", {1, 3, 9}),  # family support, or a minors' centre; for families or everyone
        ("老年痴呆", {1, 2, 8, 9}),  # 3 offers counselling, but to children only
        ("想死", {7}),  # crisis: 24/7 lines and crisis intervention
    ],
)
def test_needs_match_services_that_answer_them(
    backend: SearchBackend, q: str, expected: set[int]
) -> None:
    assert ids(search(backend, q=q, limit=100)) == expected


def test_results_say_why_they_matched_a_need(backend: SearchBackend) -> None:
    by_id = {h.id: h for h in search(backend, q="焦虑", limit=100).hits}
    why = {i: [(r.need, r.via, r.code, r.label_zh) for r in h.reasons] for i, h in by_id.items()}
    assert why[1] == [("anxiety", "service", "counselling", "心理咨询")]
    assert why[8] == [("anxiety", "service", "psychiatric_outpatient", "精神科门诊")]
    assert by_id[1].reasons[0].need_zh == "焦虑"
    hotline = search(backend, q="自杀").hits[0]
    assert [(r.via, r.code) for r in hotline.reasons] == [("service", "crisis_intervention")]
    assert search(backend, q="心理").hits[0].reasons == ()  # no need named, nothing to say


@pytest.mark.parametrize(
    ("eligible", "expected"),
    [
        ((), set()),
        (("employees",), set()),
        (("students",), {15}),
        (("referral", "students"), {15}),
        (("all",), {15}),
    ],
)
def test_members_only_listings_come_back_for_members(
    backend: SearchBackend, eligible: tuple[str, ...], expected: set[int]
) -> None:
    assert ids(search(backend, q="辅导室", eligible=eligible)) == expected
    found = search(backend, q="焦虑", eligible=eligible, limit=100)
    assert ids(found) == {1, 2, 3, 8, 9} | expected
    assert all(h.document.eligibility_note_zh == "仅限本校学生" for h in found.hits if h.id == 15)


def test_closed_resources_are_found_only_on_request(backend: SearchBackend) -> None:
    assert 10 not in ids(search(backend, q="旧址", limit=100))
    assert ids(search(backend, q="旧址", status="closed")) == {10}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": ("community_room", "street_station")}, {1, 11, 12}),
        ({"service": "counselling"}, {1, 3, 9}),
        ({"audience": "children"}, {3}),
        ({"language": "en"}, {9}),
        ({"fee": "paid"}, {2, 8, 13}),
        ({"mode": "phone"}, {7}),
        ({"mode": "online", "service": "counselling"}, {9}),
        ({"open_ids": frozenset({1, 2, 10})}, {1, 2}),
        ({"open_ids": frozenset()}, set()),
    ],
)
def test_filters(backend: SearchBackend, filters: dict[str, Any], expected: set[int]) -> None:
    assert ids(search(backend, limit=100, **filters)) == expected


def test_radius_is_exact_at_the_boundary_and_distances_geodesic(backend: SearchBackend) -> None:
    result = search(backend, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=500, limit=100)
    assert ids(result) == {1, 11}
    by_id = {h.id: h for h in result.hits}
    assert by_id[11].distance_m == pytest.approx(499.5, abs=0.1)
    assert by_id[1].distance_m == pytest.approx(300.0, abs=0.1)
    wider = search(backend, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=501, limit=100)
    assert ids(wider) == {1, 11, 12}


def test_area_served_resources_cover_points_in_their_area(backend: SearchBackend) -> None:
    inside = search(
        backend,
        lat=ORIGIN[0],
        lon=ORIGIN[1],
        radius_m=500,
        point_area_codes=frozenset({STREET_E, CITY}),
        limit=100,
    )
    assert ids(inside) == {1, 11, 6, 7}
    served = [h for h in inside.hits if h.id in {6, 7}]
    # Not a walk: no distance, no walking minutes.
    assert all(h.distance_m is None and h.walk_minutes is None for h in served)
    assert [h.document.reach for h in served] == ["area", "phone"]
    elsewhere = search(
        backend, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=500, point_area_codes=frozenset({CITY})
    )
    assert ids(elsewhere) == {1, 11, 7}


def test_nearest_orders_walks_by_distance_and_phone_lines_as_two_km(
    backend: SearchBackend,
) -> None:
    result = search(
        backend,
        lat=ORIGIN[0],
        lon=ORIGIN[1],
        sort="nearest",
        point_area_codes=frozenset({CITY}),
        limit=100,
    )
    # The city's hotline serves the point, but is no walk: it ranks as if 2 km away.
    assert [h.id for h in result.hits] == [1, 11, 12, 9, 3, 2, 7, 4, 8, 5, 13]
    walks = [h.distance_m for h in result.hits if h.id != 7]
    assert walks == sorted(walks)
    assert search(backend, lat=ORIGIN[0], lon=ORIGIN[1], sort="distance").hits[0].id == 1


def test_best_boosts_free_open_and_bookable_gently(backend: SearchBackend) -> None:
    def order(**kw: Any) -> list[int]:
        found = search(
            backend,
            lat=ORIGIN[0],
            lon=ORIGIN[1],
            point_area_codes=frozenset({CITY}),
            limit=100,
            **kw,
        )
        return [h.id for h in found.hits]

    nearest = [1, 11, 12, 9, 3, 2, 7, 4, 8, 5, 13]
    # Only 2, 8 and 13 are paid, and each is already behind free ones nearer.
    assert order() == nearest
    # Open and booking online: 3 (800 m) before 9 (700 m); 4 (2.5 km) before the hotline.
    lively = frozenset({3, 4})
    assert order(open_now_ids=lively, bookable_ids=lively) == [
        1, 11, 12, 3, 9, 2, 4, 7, 8, 5, 13,
    ]  # fmt: skip
    assert order(sort="nearest", open_now_ids=lively, bookable_ids=lively) == nearest
    # With words: the matches, in the same order.
    assert order(q="心理") == [1, 9, 3, 2, 7, 13]


def test_located_only_leaves_phone_lines_and_teams_out(backend: SearchBackend) -> None:
    found = search(
        backend,
        lat=ORIGIN[0],
        lon=ORIGIN[1],
        point_area_codes=frozenset({CITY, STREET_E}),
        located_only=True,
        sort="nearest",
        limit=1,
    )
    assert [h.id for h in found.hits] == [1]


def test_total_facets_and_paging(backend: SearchBackend) -> None:
    first = search(backend, q="心理", limit=4)
    assert first.total == 7
    assert len(first.hits) == 4
    rest = search(backend, q="心理", limit=4, offset=4)
    assert len(rest.hits) == 3
    assert {h.id for h in first.hits} | {h.id for h in rest.hits} == {1, 2, 3, 6, 7, 9, 13}
    assert first.facets["kind"] == {
        "community_room": 1,
        "minors_centre": 1,
        "psychiatric_hospital_clinic": 1,
        "volunteer_team": 1,
        "hotline": 1,
        "counsellor": 1,
        "licensed_agency": 1,
    }
    assert first.facets["service"]["counselling"] == 3


@pytest.mark.parametrize(
    "ask",
    [
        {"q": "心理"},
        {"q": "sunshime"},  # corrected
        {"q": "焦虑", "fee": "free"},
        {**located(0), "radius_m": 1200, "sort": "nearest"},  # 2 lies at the boundary
        {**located(0), "radius_m": 1199.9, "q": "心理"},
        {**located(0), "q": "心理", "point_area_codes": frozenset({CITY, STREET_E})},
        {"q": "心理", "located_only": True},
        {"q": "医院门诊"},  # nothing
    ],
)
def test_probes_count_and_find_what_the_page_would(
    backend: SearchBackend, ask: dict[str, Any]
) -> None:
    """Widening asks "does anything match at all?" and "what is the nearest?" without the
    page's facets: the same total, and the same first hit, as the page."""
    page = search(backend, limit=1, **ask)
    hits = search(backend, limit=1, wanted="hits", **ask)
    count = search(backend, limit=1, wanted="total", **ask)
    assert hits.total == count.total == page.total
    assert [h.id for h in hits.hits] == [h.id for h in page.hits]
    assert [h.distance_m for h in hits.hits] == [h.distance_m for h in page.hits]


def test_highlights_are_escaped_html(backend: SearchBackend) -> None:
    (hit,) = search(backend, q="青年").hits
    assert hit.highlights["name_zh"] == "&lt;b&gt;<mark>青年</mark>&lt;/b&gt;心理空间"


def test_matches_are_marked_in_every_text_field(backend: SearchBackend) -> None:
    by_id = {h.id: h for h in search(backend, q="焦虑", limit=100).hits}
    assert by_id[3].highlights["description_zh"] == "针对<mark>焦虑</mark>、学业压力的辅导"
    assert by_id[8].highlights["name_zh"] == "人民医院<mark>焦虑</mark>门诊"
    assert "name_zh" not in by_id[3].highlights


def test_eligible_values_are_the_vocabulary_and_all() -> None:
    from typing import get_args

    from resourcemap.search.base import EligibleAs
    from resourcemap.vocab import Eligibility

    assert set(get_args(EligibleAs)) == {e.value for e in Eligibility} | {"all"}
