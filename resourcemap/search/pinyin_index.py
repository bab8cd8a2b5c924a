"""Pinyin of listing names as postings: every run of whole syllables → the rows holding it.

Residents type pinyin on a phone keyboard without switching input method; a run of whole
syllables ("xinli", "xinlizixun") finds a name, a part of a syllable does not ("xinl").

>>> from types import SimpleNamespace
>>> postings = pinyin_postings([SimpleNamespace(name_zh="心理咨询室"),
...                             SimpleNamespace(name_zh="心灵驿站")])
>>> postings.get("xinli").tolist(), postings.get("xin").tolist(), postings.get("xinl")
([0], [0, 1], None)
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from resourcemap.search import text

# Pinyin matches whole syllables: "xinli" finds 心理 but not 心灵 (xin-ling).
MAX_PINYIN_SYLLABLES = 8
IntArray = npt.NDArray[np.int64]


class Named(Protocol):
    @property
    def name_zh(self) -> str: ...


def _pinyin_terms(name: str) -> set[str]:
    """Every run of whole syllables in the pinyin of a name's Han characters."""
    syllables = text.syllables(name)
    return {
        "".join(syllables[i : i + size])
        for size in range(1, MAX_PINYIN_SYLLABLES + 1)
        for i in range(len(syllables) - size + 1)
    }


@dataclass(frozen=True)
class Postings:
    """Term → sorted rows, all in one array: a province's names have hundreds of thousands
    of pinyin terms, and an array each would cost more than the rows they hold."""

    at: dict[str, int]
    starts: IntArray
    rows: npt.NDArray[np.int32]

    def get(self, term: str) -> npt.NDArray[np.int32] | None:
        k = self.at.get(term)
        return None if k is None else self.rows[self.starts[k] : self.starts[k + 1]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.at)


def pinyin_postings(docs: Sequence[Named]) -> Postings:
    """Built from two flat arrays of (term, row) pairs, not a list of Python integers per
    term: those would cost a province's build more than the index itself."""
    at: dict[str, int] = {}
    terms = array("i")  # each pair's term, by its place in ``at``
    counts = array("i")  # pairs per document
    for doc in docs:
        found = [at.setdefault(term, len(at)) for term in _pinyin_terms(doc.name_zh)]
        terms.extend(found)
        counts.append(len(found))
    term_of = np.frombuffer(terms, dtype=np.int32)
    row_of = np.repeat(np.arange(len(counts), dtype=np.int32), np.frombuffer(counts, np.int32))
    rows = row_of[np.argsort(term_of, kind="stable")]  # by term, rows ascending within one
    sizes = np.bincount(term_of, minlength=len(at))
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return Postings(at, starts, rows)
