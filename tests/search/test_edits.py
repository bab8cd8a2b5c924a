"""Edits to the embedded index (#22): searchable at once, costing the edit, not the index.

Work is counted in documents indexed (``EmbeddedBackend.work``), never timed.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from resourcemap.search.base import Criteria, SearchDocument, SearchQuery, SearchResult
from resourcemap.search.embedded import EmbeddedBackend
from tests.search.test_contract import ORIGIN, at_distance, doc

PLACES = ["东湖", "西山", "南岭", "北港", "翠竹", "云溪", "海澄", "桂园"]
KINDS = [
    ("community_room", "社区心理咨询室", "Community Counselling Room", ("counselling",)),
    ("psychiatric_hospital_clinic", "医院心理门诊", "Hospital Psychology Clinic", ("assessment",)),
    ("social_work_station", "社工站", "Social Work Station", ("group_activity",)),
    ("counsellor", "心理咨询工作室", "Counselling Studio", ("counselling", "assessment")),
]


def documents(n: int, seed: int = 1) -> list[SearchDocument]:
    """``n`` plausible listings around ORIGIN, some paid, some closed, a few phone lines."""
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(1, n + 1):
        kind, zh, en, services = KINDS[int(rng.integers(len(KINDS)))]
        place = PLACES[int(rng.integers(len(PLACES)))]
        extra: dict[str, Any] = {}
        if i % 17:
            lat, lon = at_distance(float(rng.uniform(50, 6000)), float(rng.uniform(0, 360)))
            extra = {"lat": lat, "lon": lon}
        else:
            extra = {"service_area_codes": ("449900000000",)}
        docs.append(
            doc(
                i,
                f"{place}{zh}{i}",
                kind,
                name_en=f"{place} {en}",
                services=services,
                labels=f"{zh} {en}",
                fee="paid" if i % 5 == 0 else "free",
                status="suspended" if i % 23 == 0 else "active",
                **extra,
            )
        )
    return docs


QUERIES = [
    {},
    {"q": "心理"},
    {"q": "东湖 咨询"},
    {"q": "counseling"},  # a typo: corrected to the indexes' words
    {"q": "xishan"},  # pinyin
    {"q": "焦虑"},  # a need
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 2000},
    {"lat": ORIGIN[0], "lon": ORIGIN[1], "q": "医院", "sort": "nearest"},
    {"fee": "free", "service": "counselling", "sort": "relevance"},
    {"q": "心理", "offset": 5, "limit": 7},
]


def answer(backend: EmbeddedBackend, params: dict[str, Any]) -> SearchResult:
    query = SearchQuery.model_validate({"limit": 50, **params})
    point = ("449900000000",) if query.point else ()
    criteria = Criteria(query, point_area_codes=frozenset(point))
    return asyncio.run(backend.search(criteria))


def shown(result: SearchResult) -> tuple[Any, ...]:
    hits = [(h.id, round(h.score, 9), h.distance_m and round(h.distance_m, 6)) for h in result.hits]
    return tuple(hits), result.total, result.facets


def loaded(docs: list[SearchDocument], **kw: Any) -> EmbeddedBackend:
    backend = EmbeddedBackend(**kw)
    asyncio.run(backend.replace_all(docs))
    answer(backend, {})  # build the large index
    return backend


def edit(backend: EmbeddedBackend, docs: list[SearchDocument]) -> list[SearchDocument]:
    """Rename one, move one, close one, delete one, add one; return the documents after."""
    by_id = {d.id: d for d in docs}
    renamed = replace(by_id[3], name_zh="星海心灵驿站", name_en="Xinghai Wellbeing Post")
    moved = replace(by_id[4], lat=ORIGIN[0], lon=ORIGIN[1])
    closed = replace(by_id[6], status="suspended")
    added = doc(10_000, "新开心理咨询室", "community_room", lat=ORIGIN[0], lon=ORIGIN[1])
    asyncio.run(backend.upsert([renamed]))
    asyncio.run(backend.upsert([moved, closed]))
    asyncio.run(backend.delete([8]))
    asyncio.run(backend.upsert([added]))
    by_id.update({d.id: d for d in (renamed, moved, closed, added)})
    del by_id[8]
    return sorted(by_id.values(), key=lambda d: d.id)


def test_an_edit_is_searchable_at_once_without_a_rebuild() -> None:
    backend = loaded(documents(60))
    assert answer(backend, {"q": "星海"}).total == 0
    edit(backend, documents(60))
    assert [h.id for h in answer(backend, {"q": "星海"}).hits] == [3]
    assert answer(backend, {"q": "Xinghai"}).total == 1
    old_name = documents(60)[2].name_zh
    assert 3 not in {h.id for h in answer(backend, {"q": old_name}).hits}
    near = answer(backend, {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 30})
    assert {h.id for h in near.hits if h.distance_m is not None} == {4, 10_000}
    assert 8 not in {h.id for h in answer(backend, {"limit": 100}).hits}
    assert 6 not in {h.id for h in answer(backend, {"limit": 100}).hits}
    assert backend.work.full_builds == 1


@pytest.mark.parametrize("params", QUERIES, ids=[str(q) for q in QUERIES])
def test_answers_after_edits_equal_a_fresh_index(params: dict[str, Any]) -> None:
    backend = loaded(documents(80))
    after = edit(backend, documents(80))
    assert shown(answer(backend, params)) == shown(answer(loaded(after), params))


def test_an_edit_costs_the_same_whatever_the_index_size() -> None:
    costs = []
    for n in (40, 400):
        backend = loaded(documents(n))
        before = backend.work.documents
        edit(backend, documents(n))
        costs.append(backend.work.documents - before)
        assert backend.work.full_builds == 1
    # 4 edits each re-index the documents edited so far: 1 + 3 + 3 (8 deleted) + 4 = 11.
    assert costs == [11, 11]


def test_many_edits_rebuild_the_large_index_in_the_background() -> None:
    docs = documents(50)

    async def scenario() -> tuple[int, int, SearchResult]:
        backend = EmbeddedBackend(compact_after=3)
        await backend.replace_all(docs)
        await backend.columns()
        for d in docs[:5]:
            await backend.upsert([replace(d, name_zh=d.name_zh + "新址")])
            await asyncio.sleep(0)  # the rebuild starts after the 4th: the 5th comes during it
        while backend._compacting is not None:
            await asyncio.sleep(0.01)
        result = await backend.search(Criteria(SearchQuery.model_validate({"q": "新址"})))
        return backend.work.full_builds, len(await backend.segments()), result

    builds, segments, result = asyncio.run(scenario())
    assert builds == 2
    assert segments == 2  # the edits after the rebuild started stay in the small index
    assert sorted(h.id for h in result.hits) == [1, 2, 3, 4, 5]
