"""The needs vocabulary (``resourcemap/search/needs.toml``) and how queries name needs."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from pypinyin import lazy_pinyin

from resourcemap.search.intent import parse as parse_query
from resourcemap.search.needs import NEEDS, SOURCE, parse

# The concerns issue #17 names; each must be a need (its label or one of its words).
CONCERNS = [
    "焦虑", "失眠", "抑郁", "压力", "情绪", "婚恋", "亲子", "厌学", "网瘾", "成瘾", "哀伤", "创伤",
    "产后", "老年痴呆", "认知", "自伤",
]  # fmt: skip


def raw() -> dict[str, Any]:
    with SOURCE.open("rb") as f:
        return tomllib.load(f)


@pytest.mark.parametrize("concern", CONCERNS)
def test_every_concern_of_the_issue_is_a_need(concern: str) -> None:
    (term,) = parse_query(concern).terms
    assert term.need is not None


def test_every_need_has_labels_pinyin_and_services() -> None:
    for need in NEEDS:
        assert need.label_zh and need.label_en and need.services, need.code
        # The label's own pinyin comes first in the list, as pypinyin spells it.
        first = need.label_zh.split("/")[0]
        assert need.pinyin[0] == "".join(lazy_pinyin(first)), need.code
        assert all(NEEDS.latin_terms[p] == need.code for p in need.pinyin)


def test_only_self_harm_is_a_crisis() -> None:
    assert [n.code for n in NEEDS if n.crisis] == ["self_harm"]


@pytest.mark.parametrize(
    ("q", "needs"),
    [
        ("睡不着", ["insomnia"]),
        ("情绪低落", ["depression"]),  # the longer term wins over 情绪
        ("压力大", ["stress"]),
        ("孩子厌学怎么办", ["parenting", "school_refusal"]),
        ("anxiety", ["anxiety"]),
        ("Panic attack", ["anxiety"]),
        ("I can't sleep", ["insomnia"]),
        ("jiaolv", ["anxiety"]),
        ("jiaolu", ["anxiety"]),  # ü typed as u
        ("xinli", []),
        ("yunqi", []),  # 云栖 (a place) as much as 孕期: not a need by pinyin
    ],
)
def test_queries_name_needs(q: str, needs: list[str]) -> None:
    assert list(parse_query(q).needs) == needs


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("附近的心理咨询", ["心理咨询"]),  # fillers at the edges go
        ("我最近很焦虑", ["焦虑"]),
        ("东湖焦虑", ["东湖", "焦虑"]),  # a place next to a concern stays
        # What is left is part of what was typed, so a name still finds itself.
        ("我的家园心理室", ["家园心理室"]),
        ("心理的咨询", ["心理的咨询"]),  # never from inside
    ],
)
def test_fillers_go_only_at_the_edges(q: str, words: list[str]) -> None:
    assert sorted(t.text for t in parse_query(q).terms) == sorted(words)


@pytest.mark.parametrize(
    "q",
    [
        *("想死", "不想活了", "自杀", "轻生", "suicide", "kill myself", "I want to die", "zisha"),
        # As people in distress put it (an English walk-through found these said nothing).
        *("I don't want to live", "I don’t want to live anymore", "no reason to live"),
        *("I can't go on", "I just want to end it all", "better off dead", "生无可恋"),
        *("我真的撑不下去了", "活着好累", "找不到活下去的意义"),
        # Found nothing or no 24/7 line in a walk-through of residents' own words.
        *("我想不开了", "吃了很多安眠药", "跳河", "烧炭", "活着没有意义", "我是多余的"),
        # Typed wrong, by letters or by sound: still a crisis.
        *("sucide", "suicde", "不想或了"),
    ],
)
def test_crisis_words(q: str) -> None:
    assert parse_query(q).crisis


@pytest.mark.parametrize(
    "q",
    [
        "我睡不着，吃了安眠药也没用",  # sleeping pills as treatment: a sleep problem
        "婚姻危机",  # a marriage in crisis: counselling, not the crisis lines
        "counselling near me",
        # Two characters that sound like a crisis word: a teapot, a birthday, lovesickness.
        "紫砂",
        "庆生",
        "相思",
    ],
)
def test_no_crisis_words(q: str) -> None:
    assert not parse_query(q).crisis


@pytest.mark.parametrize(
    ("q", "needs", "words"),
    [
        ("shi mian", ["insomnia"], ["shimian"]),  # pinyin a syllable at a time
        ("shi'mian", ["insomnia"], ["shimian"]),
        ("jiao lv", ["anxiety"], ["jiaolv"]),
        ("我有depression", ["depression"], ["depression"]),  # no space between scripts
        ("free counselling near me", [], ["counselling"]),  # "near me" is no listing's word
        ("I want to die", ["self_harm"], ["want to die"]),  # no lone "i" to mark in names
        ("end my life", ["self_harm"], ["end my life"]),  # a phrase keeps its "my"
        ("看心理科挂号", [], ["心理科"]),  # about the place, not the concern
        ("憂鬱症", ["depression"], ["忧郁症"]),
        # Autism: a child's development, not loneliness, nor parenting alone.
        ("孩子孤独症", ["parenting", "development"], ["孩子", "孤独症"]),
        ("autism", ["development"], ["autism"]),
    ],
)
def test_how_residents_type(q: str, needs: list[str], words: list[str]) -> None:
    plan = parse_query(q)
    assert list(plan.needs) == needs
    assert sorted(t.text for t in plan.terms) == sorted(words)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"services": ["counseling"]}, "need anxiety: services"),
        ({"kinds": ["castle"]}, "need anxiety: kinds"),
        ({"zh_terms": ["焦"]}, "two characters"),
        ({"zh_terms": ["失眠"]}, "'失眠' belongs to both"),
        ({"colour": "red"}, "unknown fields"),
    ],
)
def test_a_bad_vocabulary_is_refused_naming_need_and_field(
    change: dict[str, Any], message: str
) -> None:
    data = raw()
    data["needs"]["anxiety"].update(change)
    with pytest.raises(ValueError, match=message):
        parse(data)
