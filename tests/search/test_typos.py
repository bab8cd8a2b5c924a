"""The typo rules every engine shares (``resourcemap/search/typos.py``)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from resourcemap.search import meili_index
from resourcemap.search.typos import TYPOS, TypoTolerance, Vocabulary


@pytest.mark.parametrize(
    "name",
    [
        "resourcemap.search.typos",
        "resourcemap.search.text",
        "resourcemap.search.meili_index",
        "resourcemap.search.needs",
        "resourcemap.search.intent",
        "resourcemap.search.ranking",
    ],
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_meilisearch_index_gets_the_same_thresholds() -> None:
    sizes = meili_index.SETTINGS["typoTolerance"]["minWordSizeForTypos"]
    assert (
        sizes
        == {"oneTypo": TYPOS.one_typo, "twoTypos": TYPOS.two_typos}
        == {
            "oneTypo": 5,
            "twoTypos": 9,
        }
    )


def test_corrections_come_fewest_typos_first() -> None:
    terms = ["counselling", "counsellor", "couselling", "xounseling", "cancelling"]
    # 10 letters typed: two typos; "xounseling" has its first letter wrong (two).
    assert TYPOS.corrections("counseling", terms) == [
        ("counselling", 1),
        ("couselling", 2),
        ("xounseling", 2),
    ]
    assert TYPOS.corrections("calm", ["clam", "calf"]) == []


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="one_typo"):
        TypoTolerance(one_typo=9, two_typos=5)
    assert TypoTolerance(one_typo=4, two_typos=8).allowed("calm") == 1


def test_a_bucketed_vocabulary_gives_the_corrections_of_the_whole_list() -> None:
    """Only terms within reach by length and first letter are compared, and none of the
    corrections is lost: random words against random terms, close and far."""
    rng = np.random.default_rng(7)
    letters = list("abcdeilnopsx")

    def word(size: int) -> str:
        return "".join(rng.choice(letters, size=size))

    terms = sorted({word(int(rng.integers(1, 13))) for _ in range(3000)})
    vocabulary = Vocabulary(terms)
    for _ in range(300):
        base = terms[int(rng.integers(len(terms)))]
        typed = list(base)
        for _ in range(int(rng.integers(0, 3))):  # up to two random edits
            at = int(rng.integers(len(typed) + 1))
            if rng.random() < 0.5 and typed:
                del typed[min(at, len(typed) - 1)]
            else:
                typed.insert(at, str(rng.choice(letters)))
        asked = "".join(typed) or base
        assert TYPOS.corrections(asked, vocabulary) == TYPOS.corrections(asked, terms), asked
