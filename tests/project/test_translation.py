"""One translation mechanism (#21): vocabulary labels are gettext messages, not (zh, en) pairs."""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from resourcemap import vocab
from resourcemap.said import Said
from resourcemap.translations import LOCALE_DIR, vocab_label
from resourcemap.vocab import LABELS, BookingStatus, ReferralStatus, Service, Status
from tests import ROOT

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _zh_en_pair(node: ast.expr) -> bool:
    """``("心理咨询", "Counselling")``: Chinese first, then text with no Chinese."""
    if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
        return False
    zh, en = node.elts
    return (
        isinstance(zh, ast.Constant)
        and isinstance(zh.value, str)
        and isinstance(en, ast.Constant)
        and isinstance(en.value, str)
        and bool(CHINESE.search(zh.value))
        and not CHINESE.search(en.value)
    )


def _pair_tables(path: Path) -> list[int]:
    """Lines of dict literals whose every value is a (zh, en) pair: a second mechanism."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict) and node.values and all(map(_zh_en_pair, node.values))
    ]


def test_no_module_keeps_labels_as_chinese_english_pairs() -> None:
    """Labels are English message ids whose Chinese is in the catalogue; a table of
    ``(zh, en)`` pairs would be a second way to translate, out of translators' sight."""
    found = {
        str(path.relative_to(ROOT)): lines
        for package in ("resourcemap", "web", "geo")
        for path in sorted((ROOT / package).glob("**/*.py"))
        if (lines := _pair_tables(path))
    }
    assert not found, f"(zh, en) label tables; mark English with pN_ instead: {found}"


def test_the_vocabularies_hold_no_chinese() -> None:
    text = Path(vocab.__file__).read_text(encoding="utf-8")
    assert not CHINESE.findall(text)


def test_every_label_table_of_the_vocabularies_is_known_to_the_one_lookup() -> None:
    tables = [v for k, v in vars(vocab).items() if k.endswith("_LABELS")]
    assert tables
    assert all(any(t is known for known in LABELS.values()) for t in tables)


def _catalogue() -> dict[tuple[str | None, str], str]:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {(m.context, str(m.id)): str(m.string) for m in read_po(f) if m.id}


@pytest.mark.parametrize("enum", list(LABELS), ids=lambda e: e.__name__)
def test_every_vocabulary_member_has_an_english_label_and_its_chinese(
    enum: type[StrEnum],
) -> None:
    zh = _catalogue()
    for member in enum:
        said = LABELS[enum][member]
        assert isinstance(said, Said) and said.context, member
        assert said.message.strip() and not CHINESE.search(said.message), member
        assert zh.get((said.context, said.message)), f"untranslated: {member!r}"
        assert vocab_label(member, "en") == said.message
        assert CHINESE.search(vocab_label(member, "zh")), member


def test_one_english_word_may_be_two_chinese_words_by_vocabulary() -> None:
    assert vocab_label(Status.CLOSED, "en") == vocab_label(ReferralStatus.CLOSED, "en")
    assert vocab_label(Status.CLOSED, "zh") == "关闭"
    assert vocab_label(ReferralStatus.CLOSED, "zh") == "已结案"
    assert vocab_label(Service.COUNSELLING, "zh-CN") == "心理咨询"


def test_attended_is_one_word_for_bookings_and_referrals() -> None:
    """A referral lands in any service, not only a clinic: 已到场 / 未到场 for both."""
    assert vocab_label(BookingStatus.ATTENDED, "zh") == "已到场"
    assert vocab_label(ReferralStatus.ATTENDED, "zh") == "已到场"
    assert vocab_label(BookingStatus.NO_SHOW, "zh") == "未到场"
    assert vocab_label(ReferralStatus.DID_NOT_ATTEND, "zh") == "未到场"
