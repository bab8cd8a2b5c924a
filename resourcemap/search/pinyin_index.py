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
from resourcemap.search.substrings import grouped, ranges

# Pinyin matches whole syllables: "xinli" finds 心理 but not 心灵 (xin-ling).
MAX_PINYIN_SYLLABLES = 8
IntArray = npt.NDArray[np.int64]
_ROWS = 16_384  # rows whose pairs are made at a time
_ROW_BITS = np.uint64(32)  # a row in the low half of a packed (term, row) pair


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
    """Each distinct name's terms worked out once (a province's 200,000 listings have
    ~23,000 names: every listing's own took ~30 s of a build), then spread to the rows
    holding the name, as (term, row) pairs packed in one array (:func:`grouped`), not a
    list of Python integers per term."""
    names: dict[str, int] = {}
    of_row = np.fromiter(
        (names.setdefault(doc.name_zh, len(names)) for doc in docs), np.int64, len(docs)
    )
    at: dict[str, int] = {}
    terms = array("i")  # each name's terms, by their places in ``at``
    counts = array("i")  # terms per name
    for name in names:  # in the order of their numbers
        found = [at.setdefault(term, len(at)) for term in _pinyin_terms(name)]
        terms.extend(found)
        counts.append(len(found))
    name_terms = np.frombuffer(terms, dtype=np.int32)
    per_name = np.frombuffer(counts, dtype=np.int32).astype(np.int64)
    name_starts = np.cumsum(per_name) - per_name
    per_row = per_name[of_row]
    packed = np.empty(int(per_row.sum()), dtype=np.uint64)
    end = 0
    for a in range(0, len(docs), _ROWS):  # a block of rows at a time: bounded scratch
        count = per_row[a : a + _ROWS]
        term_at = ranges(name_starts[of_row[a : a + _ROWS]], count)
        rows = np.repeat(np.arange(a, a + count.size, dtype=np.uint64), count)
        pairs = (name_terms[term_at].astype(np.uint64) << _ROW_BITS) | rows
        packed[end : end + pairs.size] = pairs
        end += pairs.size
    # Every term is some name's, and every name some row's: a term's place is its key's.
    _, starts, rows32 = grouped(packed, int(_ROW_BITS))
    return Postings(at, starts, rows32)
