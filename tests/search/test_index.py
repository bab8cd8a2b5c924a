"""The embedded index's inverted lookups (#22) answer exactly what reading every value did.

Per-token matches come from an index of characters and character pairs and are compared,
row for row and score for score (to the last bit), with a scan of every value
(:func:`scan_matches`, the old full-scan path kept as the reference) on seeded random
corpora; the first page of a ranking (only the leading matches sorted) with the full sort.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import central_meridian
from geo.distance import geodesic_m
from resourcemap.search import embedded_index, pinyin_index, ranking, substrings, text
from resourcemap.search.base import Criteria, SearchDocument, SearchQuery
from resourcemap.search.embedded import EmbeddedBackend, search_segments
from resourcemap.search.embedded_index import (
    FIELD_WEIGHTS,
    LATIN_ONLY,
    NEED_WEIGHT,
    PINYIN_WEIGHT,
    TYPO_PENALTY,
    Columns,
    build_columns,
    scan_matches,
)
from resourcemap.search.needs import NEEDS
from resourcemap.search.substrings import Text
from tests.search.test_contract import GEOD, ORIGIN, at_distance, doc

HAN = list("心理咨询室社区服务站焦虑睡眠东湖西山醫院諮詢儿童青少年热线")
LATIN = ["xinli", "counselling", "counseling", "room", "sleep", "anxiety", "xl", "hu", "dong"]
KINDS = ["community_room", "psychiatric_hospital_clinic", "social_work_station", "hotline"]


def phrase(rng: np.random.Generator, latin: bool = False) -> str:
    if latin or rng.random() < 0.2:
        words = rng.choice(LATIN, size=int(rng.integers(0, 4)))
        return " ".join(str(w) for w in words).title() if rng.random() < 0.5 else " ".join(words)
    return "".join(str(c) for c in rng.choice(HAN, size=int(rng.integers(0, 9))))


def corpus(n: int, seed: int) -> list[SearchDocument]:
    """Short texts over a small alphabet, so that tokens match often and in many places;
    repeated values, empty ones, traditional characters, mixed scripts."""
    rng = np.random.default_rng(seed)
    repeated = [phrase(rng) for _ in range(5)]
    docs = []
    for i in range(1, n + 1):
        extra: dict[str, Any] = {}
        if rng.random() < 0.8:
            lat, lon = at_distance(float(rng.uniform(0, 8000)), float(rng.uniform(0, 360)))
            extra = {"lat": lat, "lon": lon}
        docs.append(
            doc(
                i,
                phrase(rng),
                str(rng.choice(KINDS)),
                name_en=phrase(rng, latin=True),
                description_zh=phrase(rng) + phrase(rng),
                address_zh=str(rng.choice(repeated)),
                labels=phrase(rng) + " " + phrase(rng, latin=True),
                services=tuple(
                    rng.choice(["counselling", "assessment"], size=int(rng.integers(3)))
                ),
                fee="paid" if rng.random() < 0.3 else "free",
                status="suspended" if rng.random() < 0.1 else "active",
                **extra,
            )
        )
    return docs


def tokens(cols: Columns, rng: np.random.Generator, count: int) -> list[str]:
    """Substrings of indexed values (1 to 6 characters), whole words, and strings that
    occur nowhere."""
    found: list[str] = ["", "zz", "心心心", "q"]
    values = [v for column in cols.fields.values() for v in column.values.tolist() if v]
    for _ in range(count):
        value = values[int(rng.integers(len(values)))]
        start = int(rng.integers(len(value)))
        found.append(value[start : start + int(rng.integers(1, 7))].strip())
    found += LATIN + HAN
    return [t for t in dict.fromkeys(found) if t or t == ""]


# How a column is read depends on how much of it a token holds: every way must give the
# scan's answer. Shares of 0 never take the whole-column way; huge ones always do.
READINGS = {
    "by share": None,
    "whole columns": 10**9,
    "candidates only": 0,
}


def read_columns(monkeypatch: pytest.MonkeyPatch, reading: str) -> None:
    share = READINGS[reading]
    if share is not None:
        monkeypatch.setattr(substrings, "WHOLE_SHARE", share)
        monkeypatch.setattr(substrings, "DENSE_SHARE", share)
        monkeypatch.setattr(embedded_index, "DENSE_SHARE", share)


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_token_matches_equal_a_scan_of_every_value(
    seed: int, reading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_columns(monkeypatch, reading)
    cols = build_columns(corpus(300, seed))
    rng = np.random.default_rng(seed)
    checked = 0
    for token in tokens(cols, rng, 150):
        hit, score = cols.matches(token, typo=False).dense(len(cols.docs))
        expected_hit, expected_score = scan_matches(cols, token)
        assert np.array_equal(hit, expected_hit), token
        assert np.array_equal(score, expected_score), token  # bit for bit
        checked += int(expected_hit.any())
    assert checked > 100  # most tokens match something: the comparison is not vacuous


@pytest.mark.parametrize("reading", READINGS)
def test_a_column_finds_substrings_in_repeated_and_empty_values(
    reading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_columns(monkeypatch, reading)
    column = Text.of(["心理咨询室", "", "社区心理服务站", "心理咨询室", "心", "理心"])
    for token in ["心", "心理", "理心", "咨询室", "心理咨询室", "室社", "", "x"]:
        found = column.find(token)
        expected = column.scan(token)
        assert found.rows.tolist() == np.flatnonzero(expected >= 0).tolist(), token
        assert found.positions.tolist() == expected[expected >= 0].tolist(), token
        assert found.documents == found.rows.size, token
        absent = found.column(found.at, -1)  # straight into a column: the scan's own form
        assert absent.tolist() == expected.tolist(), token


def gram_postings(values: list[str]) -> dict[int, list[int]]:
    """Each character and pair of neighbouring characters → the distinct values holding it,
    worked out one value at a time: what the substring index must hold."""
    held: dict[int, set[int]] = {}
    for at, value in enumerate(values):
        for i, char in enumerate(value):
            held.setdefault(ord(char) << 21, set()).add(at)
            if i:
                held.setdefault(ord(value[i - 1]) << 21 | ord(char), set()).add(at)
    return {gram: sorted(ids) for gram, ids in held.items()}


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.text(alphabet="心理咨询室ab 焦虑", max_size=9), max_size=40),
    cells=st.sampled_from([1, 5, 64, 1 << 18]),
    step=st.sampled_from([1, 3, 1 << 20]),
)
def test_the_substring_index_holds_every_character_and_pair_of_each_value(
    words: list[str], cells: int, step: int
) -> None:
    # Built a few values and a few pairs at a time (as a province's columns are), or whole.
    values = sorted(set(words))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(substrings, "_CELLS", cells)
        patch.setattr(substrings, "_STEP", step)
        grams = substrings.Grams.of(np.array(values, dtype=np.str_))
    expected = gram_postings(values)
    assert grams.keys.tolist() == sorted(expected)
    for gram, ids in expected.items():
        assert grams.postings(gram).tolist() == ids
    assert grams.ids.size == sum(len(ids) for ids in expected.values())


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(
        st.sampled_from(["心理咨询室", "心灵驿站", "东湖医院", "", "热线 12320"]), max_size=30
    ),
    rows_at_once=st.sampled_from([1, 4, 16_384]),
)
def test_pinyin_postings_hold_the_rows_of_every_run_of_syllables(
    names: list[str], rows_at_once: int
) -> None:
    # Listings share names (a province's 200,000 have ~23,000): each name's terms are
    # worked out once and spread to its rows, a few rows at a time or all at once.
    docs = [doc(i, name, "community_room") for i, name in enumerate(names)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pinyin_index, "_ROWS", rows_at_once)
        postings = pinyin_index.pinyin_postings(docs)
    expected: dict[str, list[int]] = {}
    for row, name in enumerate(names):  # row by row, as the search must find them
        syllables = text.syllables(name)
        for size in range(1, pinyin_index.MAX_PINYIN_SYLLABLES + 1):
            for i in range(len(syllables) - size + 1):
                rows = expected.setdefault("".join(syllables[i : i + size]), [])
                if not rows or rows[-1] != row:
                    rows.append(row)
    assert sorted(postings) == sorted(expected)
    for term, rows in expected.items():
        found = postings.get(term)
        assert found is not None and found.tolist() == rows, term
    if "心理咨询室" in names:
        assert postings.get("xinlizixun") is not None


def scan_need(cols: Columns, code: str) -> tuple[np.ndarray, np.ndarray]:
    """A need as the full scan matched it: the first of its words in each field."""
    n = len(cols.docs)
    hit = np.zeros(n, dtype=bool)
    score = np.zeros(n, dtype=np.float64)
    normal = sorted({text.normalise(w) for w in NEEDS[code].words}, key=len, reverse=True)
    latin = [w for w in normal if text.is_latin(w)]
    for name, weight in FIELD_WEIGHTS.items():
        chosen = latin if name in LATIN_ONLY else normal
        if not chosen:
            continue
        words = re.compile("|".join(map(re.escape, chosen)))
        column = cols.fields[name]
        firsts = [m.start() if (m := words.search(v)) else -1 for v in column.values.tolist()]
        found = np.array(firsts, dtype=np.intp)[column.inverse]
        hit |= found >= 0
        score += np.where(found >= 0, weight * (1.0 + 1.0 / (1.0 + np.maximum(found, 0))), 0.0)
    for word in latin:
        postings = cols.pinyin.get(word)
        if postings is not None:
            hit[postings] = True
            score[postings] += PINYIN_WEIGHT
    served = cols.tags["needs"].get(code, np.zeros(n, dtype=bool))
    return hit | served, score + np.where(served, NEED_WEIGHT, 0.0)


@pytest.mark.parametrize("reading", READINGS)
def test_need_matches_equal_a_scan_of_every_value(
    reading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_columns(monkeypatch, reading)
    docs = corpus(200, 7)
    # Mention some need words in descriptions, so the words (not only the services) match.
    words = [w for need in NEEDS.needs.values() for w in need.words][:40]
    for i, d in enumerate(docs[::3]):
        docs[3 * i] = replace(d, description_zh=words[i % len(words)])
    cols = build_columns(docs)
    matched = 0
    for need in NEEDS.needs.values():
        hit, score = cols.need_matches(need.code).dense(len(cols.docs))
        expected_hit, expected_score = scan_need(cols, need.code)
        assert np.array_equal(hit, expected_hit), need.code
        assert np.array_equal(score, expected_score), need.code
        matched += int(expected_hit.any())
    assert matched > 5


def test_typo_matches_take_the_first_correction_that_finds_each_row() -> None:
    cols = build_columns(corpus(300, 4))
    for token in ["counselinng", "anxeity", "xinlli", "sleap"]:
        corrections = cols.corrections(token)
        hit = np.zeros(len(cols.docs), dtype=bool)
        score = np.zeros(len(cols.docs))
        for term, typos in corrections:
            exact, _ = scan_matches(cols, term)
            score += np.where(exact & ~hit, PINYIN_WEIGHT * TYPO_PENALTY**typos, 0.0)
            hit |= exact
        found_hit, found_score = cols.matches(token, typo=True).dense(len(cols.docs))
        assert corrections, token
        assert np.array_equal(found_hit, hit), token
        assert np.array_equal(found_score, score), token


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from([0.0, 1.5, np.inf])),
        min_size=0,
        max_size=40,
    ),
    first=st.integers(0, 45),
    sort=st.sampled_from(["best", "nearest", "relevance"]),
    point=st.booleans(),
)
def test_the_first_page_of_a_ranking_equals_the_full_sort(
    rows: list[tuple[int, int, float]], first: int, sort: ranking.Sort, point: bool
) -> None:
    """Many ties (few distinct values): the leading matches are those of the full sort."""
    n = len(rows)
    ids = np.arange(n, dtype=np.int64)[::-1].copy()
    relevance = np.array([r[0] for r in rows], dtype=np.float64)
    boost = np.array([0.15 * r[1] for r in rows], dtype=np.float64)
    distance = np.array([r[2] for r in rows], dtype=np.float64) if point else None
    not_a_walk = np.array([r[1] == 3 for r in rows], dtype=bool)
    args: dict[str, Any] = {
        "ids": ids,
        "relevance": relevance,
        "boost": boost,
        "distance_m": distance,
        "not_a_walk": not_a_walk,
    }
    if sort == "nearest" and not point:
        return
    full = ranking.order(sort, **args)
    assert ranking.order(sort, first=first, **args).tolist() == full[:first].tolist()


QUERIES = [
    {},
    {"q": "心理"},
    {"q": "心 咨询"},
    {"q": "xinli"},
    {"q": "counselinng"},
    {"q": "焦虑"},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 3000},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "q": "室", "sort": "nearest"},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "q": "热线"},
    {"fee": "free", "service": "counselling", "sort": "relevance"},
]


@pytest.mark.parametrize("params", QUERIES, ids=[str(q) for q in QUERIES])
def test_every_page_is_a_slice_of_the_whole_ranking(params: dict[str, Any]) -> None:
    backend = EmbeddedBackend()
    asyncio.run(backend.replace_all(corpus(400, 5)))

    def answer(offset: int, limit: int) -> Any:
        query = SearchQuery.model_validate({**params, "offset": offset, "limit": limit})
        return asyncio.run(backend.search(Criteria(query)))

    whole = answer(0, 100)
    ids = [h.id for h in whole.hits]
    assert whole.total > 3
    last = len(ids) - 2 if whole.total == len(ids) else len(ids) - 12  # a last page too
    for offset, limit in [(0, 7), (7, 7), (3, 20), (last, 10)]:
        page = answer(offset, limit)
        assert [h.id for h in page.hits] == ids[offset : offset + limit]
        assert (page.total, page.facets) == (whole.total, whole.facets)


NEAR = [
    {"lat": ORIGIN[0], "lon": ORIGIN[1]},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 2000},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 5000, "q": "心"},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "sort": "nearest", "q": "xinli"},
    {"lat": ORIGIN[0] + 0.01, "lon": ORIGIN[1], "radius_m": 3000, "fee": "free"},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "sort": "relevance", "q": "室"},
]


@pytest.mark.parametrize("params", NEAR, ids=[str(q) for q in NEAR])
@pytest.mark.parametrize(("offset", "limit"), [(0, 5), (0, 20), (10, 7), (0, 100)])
def test_geodesic_metres_only_where_they_decide_change_nothing(
    params: dict[str, Any], offset: int, limit: int
) -> None:
    """Planar bounds first, exact metres for the radius's edge and the page: the same hits,
    scores, distances, totals and facets as exact metres for every match."""
    cols = build_columns(corpus(400, 6))
    query = SearchQuery.model_validate({**params, "offset": offset, "limit": limit})
    open_ids = frozenset(range(1, 400, 3))
    criteria = Criteria(query, open_now_ids=open_ids, bookable_ids=frozenset(range(1, 400, 4)))
    fast = search_segments([cols], criteria)
    every = search_segments([cols], criteria, every_distance=True)
    assert fast.total > 5
    assert [(h.id, h.score, h.distance_m) for h in fast.hits] == [
        (h.id, h.score, h.distance_m) for h in every.hits
    ]
    assert (fast.total, fast.facets) == (every.total, every.facets)


@pytest.mark.parametrize("east", [0.0, 1.5, 2.6])
@pytest.mark.parametrize("sort", ["best", "nearest"])
def test_the_radius_edge_is_geodesic_wherever_in_the_zone(east: float, sort: str) -> None:
    """Planar metres are within a margin of geodesic ones that grows with the distance from
    the zone's central meridian (here 114°E, the corpus's): places a few centimetres either
    side of the radius, 270 km east of it (scale error 9e-4), are in or out as geodesic
    metres say."""
    docs = corpus(300, 8)  # around 114°E: the index's zone is CM 114°E
    here = (ORIGIN[0], ORIGIN[1] + east)
    radius = 2000.0
    edge = []
    for k, (azimuth, off) in enumerate(
        (a, o) for a in range(0, 360, 30) for o in (-1e-3, -1e-4, -1e-5, 1e-5, 1e-4, 1e-3)
    ):
        lon, lat, _ = GEOD.fwd(here[1], here[0], azimuth, radius * (1 + off))
        edge.append(doc(1000 + k, f"边{k}", "counselling_room", lat=lat, lon=lon))
    cols = build_columns([*docs, *edge])
    target = cols.to_metric.target_crs
    assert target is not None and central_meridian(target) == 114.0
    query = SearchQuery(lat=here[0], lon=here[1], radius_m=radius, sort=sort, limit=100)
    found = search_segments([cols], Criteria(query))
    active = [d for d in [*docs, *edge] if d.located and d.status == "active"]
    lats = np.array([d.lat for d in active], dtype=float)
    metres = geodesic_m(here[0], here[1], lats, np.array([d.lon for d in active], dtype=float))
    inside = {d.id for d, m in zip(active, metres.tolist(), strict=True) if m <= radius}
    assert {h.id for h in found.hits} == inside and found.total == len(inside)
    assert len(inside & {d.id for d in edge}) == 12 * 3  # the inner half of the edge
    assert all(h.distance_m is not None and h.distance_m <= radius for h in found.hits)


def test_an_id_set_is_masked_once_per_object_and_by_its_members() -> None:
    """Open-now and bookable sets are read again on every search: the mask is kept per set
    object (an equal set in another object would be compared member by member on every
    lookup), and a set with other members gets its own mask."""
    cols = build_columns(corpus(60, 3))
    ids = frozenset(d.id for d in cols.docs[::2])
    first = cols.among(ids)
    assert first.sum() == len(ids) and set(cols.ids[first].tolist()) == ids
    assert cols.among(ids) is first
    again = frozenset(set(ids))  # equal members, another object
    assert cols.among(again) is not first and (cols.among(again) == first).all()
    fewer = frozenset(sorted(ids)[1:])
    assert cols.among(fewer).sum() == len(ids) - 1


def test_rows_are_in_the_grids_order_and_an_edit_retires_its_own_row() -> None:
    """The index keeps located documents cell by cell (what lies near a point is then a few
    runs of rows, found sorted) and the others after them: an id still finds its row."""
    docs = corpus(300, 7)
    for k in range(0, 300, 30):  # teams serving an area: no point
        docs[k] = replace(docs[k], lat=None, lon=None, service_area_codes=("440305001",))
    cols = build_columns(docs)
    assert sorted(d.id for d in cols.docs) == [d.id for d in docs]  # each once
    assert [cols.docs[r] for r in cols.grid.rows.tolist()] == [
        d for d in cols.docs if d.located
    ]  # the grid's order is the rows'
    assert cols.grid.ordered
    assert cols.ids.tolist() != sorted(cols.ids.tolist())  # not the ids' order
    located = int(cols.located.sum())
    assert cols.located[:located].all()  # located rows first: area-served ones come after
    assert cols.serving and all((rows >= located).all() for rows in cols.serving.values())
    rows, metres = cols.grid.within(*cols.to_metric.transform(ORIGIN[1], ORIGIN[0]), 800.0)
    assert rows.size > 5 and (np.diff(rows) > 0).all() and (metres <= 800.0).all()
    active = np.flatnonzero(cols.tags["status"]["active"])
    gone = {cols.docs[r].id for r in active[[1, active.size // 2, -1]].tolist()}
    assert cols.retire([*gone, 10**9]) == 3  # an id it does not hold is not a row
    left = np.flatnonzero(cols.tags["status"]["active"])
    assert {cols.docs[r].id for r in set(active.tolist()) - set(left.tolist())} == gone


@pytest.mark.parametrize("n", [100, 5_000])
def test_rows_near_and_served_are_each_listed_once_in_order(n: int) -> None:
    from resourcemap.search.matching import _sorted_union

    rng = np.random.default_rng(n)
    for _ in range(40):  # few rows (sorted) and many (marked), overlapping parts
        count = int(rng.integers(1, 4))
        most = n // 3 if rng.random() < 0.5 else n // 300
        parts = [rng.integers(0, n, int(rng.integers(0, most + 1))) for _ in range(count)]
        union = _sorted_union(parts, n)
        assert union.tolist() == np.unique(np.concatenate(parts)).tolist()
