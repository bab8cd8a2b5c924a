"""Compact text in spreadsheet cells: hours, exceptions, qualifications, lists, labels."""

from __future__ import annotations

import pytest

from resourcemap.transfer import texts
from resourcemap.transfer.columns import canonical, from_row
from resourcemap.transfer.labels import code_of
from resourcemap.vocab import OrganisationType, ResourceKind, Service


def _days(hours: list[dict[str, object]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for h in hours:
        out.setdefault(int(str(h["weekday"])), []).append(f"{h['opens']}-{h['closes']}")
    return out


def test_hours_english_compact_text() -> None:
    hours = texts.parse_hours("Mon-Fri 09:00-12:00,14:00-17:30; Sat 09:00-12:00")
    days = _days(hours)
    assert sorted(days) == [0, 1, 2, 3, 4, 5]
    assert days[4] == ["09:00-12:00", "14:00-17:30"]
    assert days[5] == ["09:00-12:00"]


@pytest.mark.parametrize(
    ("text", "weekdays"),
    [
        ("周一至周五 09:00-12:00", [0, 1, 2, 3, 4]),
        ("星期六、星期日 9:00-12:00", [5, 6]),
        ("周一到周三 09:00 - 12:00；周六 休息", [0, 1, 2]),
        ("每天 08:30-20:00", [0, 1, 2, 3, 4, 5, 6]),
        ("工作日 09:00-17:00", [0, 1, 2, 3, 4]),
        ("Sat-Mon 10:00-16:00", [0, 5, 6]),
        ("MO,WE 14:00-18:00", [0, 2]),
        ("周日 09：00-12：00", [6]),
    ],
)
def test_hours_chinese_and_other_spellings(text: str, weekdays: list[int]) -> None:
    assert sorted(_days(texts.parse_hours(text))) == weekdays


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mox 09:00-12:00", "'Mox' is not a weekday"),
        ("Mon 9-12", "'9-12' is not a time range like 09:00-12:00"),
        ("09:00-12:00", "write days then times"),
        ("Mon 25:00-26:00", "'25:00' is not a time of day"),
        ("周一", "has no opening times"),
    ],
)
def test_hours_errors_quote_the_part_at_fault(text: str, message: str) -> None:
    with pytest.raises(texts.TextError, match=message):
        texts.parse_hours(text)


def test_hours_format_reads_back() -> None:
    text = "Mon-Fri 09:00-12:00, 14:00-17:30; Sat 09:00-12:00; Sun 00:00-24:00"
    hours = texts.parse_hours(text)
    assert texts.format_hours(hours) == text
    assert texts.parse_hours(texts.format_hours(hours)) == hours


def test_exceptions_text_and_json() -> None:
    parsed = texts.parse_exceptions(
        "2026-10-01..2026-10-07 closed 国庆，放假; 2026/12/4 9:00-12:00"
    )
    assert parsed[0] == {
        "start_date": "2026-10-01",
        "end_date": "2026-10-07",
        "closed": True,
        "note": "国庆，放假",
    }
    assert parsed[1]["start_date"] == parsed[1]["end_date"] == "2026-12-04"
    assert (parsed[1]["closed"], parsed[1]["opens"], parsed[1]["closes"]) == (
        False,
        "09:00",
        "12:00",
    )
    assert texts.parse_exceptions(texts.format_exceptions(parsed)) == parsed
    with_semicolon = [{**parsed[0], "note": "停电; 检修"}]
    assert texts.format_exceptions(with_semicolon).startswith("[")
    assert texts.parse_exceptions(texts.format_exceptions(with_semicolon)) == with_semicolon
    with pytest.raises(texts.TextError, match="write a date or range"):
        texts.parse_exceptions("next monday closed")


def test_qualifications_text() -> None:
    text = "psychiatrist|YS-2015-000123|测试市卫生健康委员会||2026-03-01"
    parsed = texts.parse_qualifications(text)
    assert parsed == [
        {
            "type": "psychiatrist",
            "certificate_number": "YS-2015-000123",
            "issuer": "测试市卫生健康委员会",
            "issued_on": None,
            "verified_on": "2026-03-01",
        }
    ]
    assert texts.format_qualifications(parsed) == text
    with pytest.raises(texts.TextError, match="type\\|certificate_number\\|issuer"):
        texts.parse_qualifications("psychiatrist only")


def test_lists_and_labels() -> None:
    assert texts.split_list("counselling; 危机干预、group_activity") == [
        "counselling",
        "危机干预",
        "group_activity",
    ]
    assert texts.split_list("[]") == texts.split_list("-") == []
    assert code_of(Service, "危机干预") == "crisis_intervention"
    assert code_of(Service, "Crisis Intervention") == "crisis_intervention"
    assert code_of(ResourceKind, "心理援助热线") == "hotline"
    assert code_of(OrganisationType, "医院") == "hospital"
    assert code_of(Service, "astrology") == "astrology"  # validation names it


def test_row_mapping_reads_labels_booleans_and_aliases() -> None:
    assert canonical("\ufeffLatitude") == "lat" and canonical("Name ZH") == "name_zh"
    cand = from_row(
        2,
        {
            "kind": "心理咨询师",
            "services": "心理咨询、心理测评",
            "always_open": "是",
            "lat": "22.7",
            "phone": "'+86 755 2000 0001",
            "coord_system": "GCJ-02",
            "qualifications": "心理咨询师|XL-1|某协会",
        },
    )
    assert cand.problems == []
    assert cand.values["kind"] == "counsellor"
    assert cand.values["services"] == ["counselling", "assessment"]
    assert cand.values["always_open"] is True
    assert cand.values["lat"] == 22.7
    assert cand.values["phone"] == "+86 755 2000 0001"
    assert cand.coord_system == "gcj02"
    assert cand.values["qualifications"][0]["type"] == "counsellor"
    bad = from_row(3, {"hours": "Mon 9-12", "coord_system": "mars"})
    assert {p.column for p in bad.problems} == {"hours", "coord_system"}
