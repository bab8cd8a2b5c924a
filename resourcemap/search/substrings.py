"""Substring search over a text column without reading every value: an inverted index
from characters and pairs of neighbouring characters to the values holding them.

A token of one character is looked up directly; a longer one is a candidate in the values
holding its two rarest pairs, and only those candidates are searched for it
(``numpy.strings.find``). So what one token costs follows how many values hold it, not how
many values there are. Values are stored once each (labels and addresses repeat a lot);
:class:`Text` maps them back to documents.

>>> column = Text.of(["心理咨询室", "社区心理服务站", "心灵驿站", "心理咨询室"])
>>> column.find("心理").rows.tolist(), column.find("心理").positions.tolist()
([0, 1, 3], [0, 2, 0])
>>> column.find("咨询室").rows.tolist(), column.find("驿").rows.tolist()
([0, 3], [2])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
G = TypeVar("G", bound=np.generic)
# A gram is one code point (< 2**21) or two: first << 21 | second; a lone character has a
# zero second half, which no pair has (code point 0 is padding in numpy strings).
_SHIFT = np.uint64(21)
# Value ids share a 64-bit word with the gram while the index is built (42 + 22 bits).
_ID_BITS = 22
_CELLS = 1 << 18  # characters (of the widest value) turned into grams at a time: bounds
# the build's scratch memory
_STEP = 1 << 20  # entries of the packed (gram, value) array processed at a time
_GRAM = np.uint64(_ID_BITS)
# Matches of more than 1/DENSE_SHARE of a column are gathered by one pass over it.
DENSE_SHARE = 8
# Candidates among more than 1/WHOLE_SHARE of the values are found by reading every value
# in place: copying most of a wide column out first (a province's descriptions, 18 MB) cost
# more than the search itself, most of all in a process's first search for the word.
WHOLE_SHARE = 2


def _codes(token: str) -> list[int]:
    points = [ord(c) for c in token]
    if len(points) <= 1:
        return [points[0] << 21]
    return sorted({a << 21 | b for a, b in itertools.pairwise(points)})


def distinct(values: npt.NDArray[G], *, presorted: bool = False) -> npt.NDArray[G]:
    """The sorted distinct ``values`` (``np.unique`` hashes, which is many times slower
    for the integer arrays here).

    >>> distinct(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    ordered = values if presorted else np.sort(values, kind="stable")
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def firsts(values: npt.NDArray[G]) -> tuple[npt.NDArray[G], IntArray]:
    """The sorted distinct ``values`` and where each first occurs."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    keep = np.ones(ordered.size, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    where: IntArray = order[keep].astype(np.int64)
    return ordered[keep], where


def ranges(first: IntArray, counts: IntArray) -> IntArray:
    """Every index of the ranges ``first[i]`` to ``first[i] + counts[i]``, one range after
    another, without a Python loop over them.

    >>> ranges(np.array([5, 0, 2]), np.array([2, 0, 3])).tolist()
    [5, 6, 2, 3, 4]
    """
    starts = np.cumsum(counts) - counts  # where each range starts among them all
    at: IntArray = np.repeat(first - starts, counts)
    at += np.arange(at.size, dtype=np.int64)
    return at


@dataclass(frozen=True)
class Found:
    """Documents holding a token and where it starts in each one, kept per distinct value
    of ``text`` (sorted ``values``, ``at``): spread to documents (``rows``, ``positions``)
    when read, or straight into a column (:meth:`column`) when most documents hold it."""

    text: Text
    values: IntArray
    at: IntArray
    # Worked out on first use and kept (set through object.__setattr__: the class is
    # frozen). Not functools.cached_property: on Python 3.11 it takes one lock for every
    # instance, and the build's thread works out needs while searches run on the loop.
    _documents: int = field(default=-1, init=False, compare=False, repr=False)
    _spread: tuple[IntArray, IntArray] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    @property
    def documents(self) -> int:
        """How many documents hold the token."""
        if self._documents < 0:
            starts = self.text.doc_starts
            count = int((starts[self.values + 1] - starts[self.values]).sum())
            object.__setattr__(self, "_documents", count)
        return self._documents

    @property
    def rows(self) -> IntArray:
        """The documents holding the token, sorted."""
        return self._spread_out()[0]

    @property
    def positions(self) -> IntArray:
        """Where the token starts in each of :attr:`rows`."""
        return self._spread_out()[1]

    def column(self, per_value: npt.NDArray[G], absent: object) -> npt.NDArray[G]:
        """``per_value`` (one entry per found value, as ``at``) over every document, and
        ``absent`` where the token is not: no sorted rows are made."""
        by_value = np.full(self.text.values.size, absent, dtype=per_value.dtype)
        by_value[self.values] = per_value
        return by_value[self.text.inverse]

    def _spread_out(self) -> tuple[IntArray, IntArray]:
        spread = self._spread
        if spread is None:
            spread = self._spread_now()
            object.__setattr__(self, "_spread", spread)
        return spread

    def _spread_now(self) -> tuple[IntArray, IntArray]:
        if self.documents * DENSE_SHARE > self.text.inverse.size:
            # Many documents: one pass over the column beats sorting them.
            doc_at = self.column(self.at, -1)
            rows = np.flatnonzero(doc_at >= 0)
            return rows, doc_at[rows]
        starts = self.text.doc_starts
        first, last = starts[self.values], starts[self.values + 1]
        counts = last - first
        rows = self.text.docs[ranges(first, counts)]
        positions = np.repeat(self.at, counts)
        order = np.argsort(rows, kind="stable")
        return rows[order], positions[order]


def _pairs(
    chars: npt.NDArray[np.uint32], lengths: IntArray, first: int, rows: int
) -> npt.NDArray[np.uint64]:
    """The sorted distinct (gram, value) pairs of values ``first`` to ``first + rows``, each
    packed in one word: a character (not padding) and each pair of neighbours whose second
    is one."""
    block = chars[first : first + rows]
    count = lengths[first : first + rows]
    inside = np.arange(block.shape[1]) < count[:, None]
    flat = block[inside].astype(np.uint64)  # the values' characters, one after another
    owner = np.repeat(np.arange(first, first + block.shape[0], dtype=np.uint64), count)
    alone = flat != 0
    paired = (owner[1:] == owner[:-1]) & alone[1:]
    part = np.concatenate(
        [
            ((flat[alone] << _SHIFT) << _GRAM) | owner[alone],
            ((((flat[:-1] << _SHIFT) | flat[1:]) << _GRAM) | owner[:-1])[paired],
        ]
    )
    part.sort()
    return distinct(part, presorted=True)  # a character or pair twice in one value: once


def grouped(
    packed: npt.NDArray[np.uint64], id_bits: int
) -> tuple[npt.NDArray[np.uint64], IntArray, npt.NDArray[np.int32]]:
    """Postings from (key, id) pairs, each packed as ``key << id_bits | id``: the sorted
    distinct keys, where each key's ids start in the ids (and where the last ends), and
    the ids, sorted within each key. ``packed`` is consumed: sorted in place, and the ids
    written over it (its memory is theirs), so a province's pairs are held once, not twice.

    >>> keys, starts, ids = grouped(np.array([2 << 8 | 5, 1 << 8 | 7, 2 << 8 | 1], np.uint64), 8)
    >>> keys.tolist(), starts.tolist(), ids.tolist()
    ([1, 2], [0, 1, 3], [7, 1, 5])
    """
    size = packed.size
    shift, mask = np.uint64(id_bits), np.uint64(2**id_bits - 1)
    packed.sort()  # by key, then id
    found = []
    for a in range(0, size, _STEP):
        key = packed[max(a - 1, 0) : a + _STEP] >> shift
        new = np.flatnonzero(key[1:] != key[:-1]) + max(a, 1)
        found.append(new if a else np.append(0, new))
    starts = np.concatenate(found).astype(np.int64) if size else np.zeros(0, np.int64)
    keys = packed[starts] >> shift
    # Id k's four bytes lie in pair k // 2, read before it is written over (each step
    # reads its pairs out first).
    ids = packed.view(np.int32)
    for a in range(0, size, _STEP):
        b = min(a + _STEP, size)
        ids[a:b] = packed[a:b] & mask
    del ids
    packed.resize((size + 1) // 2, refcheck=False)  # the pairs' half the ids do not use
    return keys, np.append(starts, size), packed.view(np.int32)[:size]


@dataclass(frozen=True)
class Grams:
    """Gram → sorted ids of the values holding it (``ids[starts[k]:starts[k + 1]]``), of
    ``size`` values in all."""

    keys: npt.NDArray[np.uint64]
    starts: IntArray
    ids: npt.NDArray[np.int32]
    size: int

    @classmethod
    def of(cls, values: npt.NDArray[np.str_]) -> Grams:
        width = values.dtype.itemsize // 4
        if values.size >= 2**_ID_BITS:
            raise ValueError("too many distinct values for one substring index")
        if values.size == 0 or width == 0:
            none = np.empty(0, np.uint64)
            return cls(none, np.zeros(1, np.int64), np.empty(0, np.int32), values.size)
        chars = values.view(np.uint32).reshape(values.size, width)
        lengths = np.strings.str_len(values)
        # A block's (gram, value) pairs are made from its values' characters only, not
        # from every cell as wide as the column's widest value (200,000 listings' labels:
        # 366 cells, most of them padding), and the repeats inside each value dropped
        # there. Twice: first only to count them, so that the one array of every pair is
        # the index's own size and no list of blocks is held beside it (200,000 listings'
        # descriptions: 7.8 million pairs, 63 MB per copy, in every worker's peak).
        rows = max(1, _CELLS // width)
        blocks = range(0, values.size, rows)
        size = sum(_pairs(chars, lengths, first, rows).size for first in blocks)
        if size == 0:
            return cls.of(values[:0])
        packed = np.empty(size, dtype=np.uint64)
        end = 0
        for first in blocks:
            part = _pairs(chars, lengths, first, rows)
            packed[end : end + part.size] = part
            end += part.size
        keys, starts, ids = grouped(packed, _ID_BITS)
        return cls(keys, starts, ids, values.size)

    def postings(self, code: int) -> npt.NDArray[np.int32]:
        k = int(np.searchsorted(self.keys, np.uint64(code)))
        if k == self.keys.size or int(self.keys[k]) != code:
            return self.ids[:0]
        return self.ids[self.starts[k] : self.starts[k + 1]]

    def candidates(self, token: str) -> tuple[npt.NDArray[np.int32], bool]:
        """Values that may hold ``token``, and whether every one of them surely does (a
        token of one or two characters is one gram)."""
        lists = sorted((self.postings(c) for c in _codes(token)), key=len)
        found = lists[0]
        for more in lists[1:2]:  # the two rarest narrow enough; the search checks the rest
            if found.size * DENSE_SHARE > self.size:
                # Common pairs (心理 and 咨询 are in most descriptions): a mask of one
                # list beats sorting both together; the ids stay sorted.
                holds = np.zeros(self.size, dtype=bool)
                holds[more] = True
                found = found[holds[found]]
            else:
                found = np.intersect1d(found, more, assume_unique=True)
        return found, len(token) <= 2


@dataclass(frozen=True)
class Text:
    """A text column stored once per distinct value, with its substring index and the
    documents holding each value (``docs[doc_starts[v]:doc_starts[v + 1]]``, sorted)."""

    values: npt.NDArray[np.str_]
    inverse: npt.NDArray[np.intp]
    grams: Grams
    docs: IntArray
    doc_starts: IntArray

    @classmethod
    def of(cls, values: list[str]) -> Text:
        # Distinct values first: every document's value in one array as wide as the
        # longest would be the build's largest (a province's labels: 0.2 GB).
        # Sorted here (code point order, as numpy's): np.unique would hold two more copies
        # of the column at its widest value's width while it sorts.
        shown = sorted(set(values))
        uniques = np.array(shown, dtype=np.str_)
        place = {value: at for at, value in enumerate(shown)}
        inverse = np.fromiter((place[v] for v in values), dtype=np.intp, count=len(values))
        docs = np.argsort(inverse, kind="stable").astype(np.int64)
        counts = np.bincount(inverse, minlength=uniques.size)
        doc_starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(uniques, inverse, Grams.of(uniques), docs, doc_starts)

    def scan(self, token: str) -> npt.NDArray[np.intp]:
        """Position of ``token`` in every document's value (-1 where absent), reading every
        value: the reference :meth:`find` must agree with."""
        found: npt.NDArray[np.intp] = np.strings.find(self.values, token)[self.inverse]
        return found

    def find(self, token: str) -> Found:
        """The documents whose value holds ``token``, and where it starts."""
        if not token:  # in every value, at the start
            every = np.arange(self.values.size, dtype=np.int64)
            return Found(self, every, np.zeros(every.size, dtype=np.int64))
        values, sure = self.grams.candidates(token)
        at = self._positions(values, token)
        if not sure:
            values, at = values[at >= 0], at[at >= 0]
        return Found(self, values.astype(np.int64), at)

    def find_first(self, words: list[str]) -> Found:
        """The documents holding any of ``words``, and where the first of them starts."""
        if "" in words:
            return self.find("")
        first = np.full(self.values.size, -1, dtype=np.int64)  # per value
        for word in words:
            found = self.find(word)
            before = first[found.values]
            better = (before < 0) | (found.at < before)
            first[found.values[better]] = found.at[better]
        holding = np.flatnonzero(first >= 0).astype(np.int64)
        return Found(self, holding, first[holding])

    def _positions(self, values: npt.NDArray[np.int32], token: str) -> IntArray:
        """Where ``token`` starts in each of ``values`` (-1 where absent)."""
        if values.size * WHOLE_SHARE > self.values.size:
            every: IntArray = np.strings.find(self.values, token).astype(np.int64)
            return every[values]
        at: IntArray = np.strings.find(self.values[values], token).astype(np.int64)
        return at
