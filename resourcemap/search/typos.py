"""Typo tolerance: the one place its rules and thresholds live, for every search engine.

The rules are Meilisearch's (its "typo tolerance" documentation and its query code), so
that results do not change when a deployment moves from the embedded engine to a server:

- a typo is one insertion, deletion, substitution or transposition of two neighbouring
  letters (Damerau–Levenshtein in the restricted, "optimal string alignment" form that a
  Levenshtein automaton with transpositions accepts, and that ``rapidfuzz`` computes as
  ``OSA``);
- a query word of fewer than ``one_typo`` letters must match exactly, one of at least
  ``one_typo`` letters may have one typo, one of at least ``two_typos`` letters two;
- a typo on the first letter counts as two (so it needs a word of ``two_typos`` letters,
  and leaves no room for another).

The embedded engine applies :meth:`TypoTolerance.cost` to its vocabulary; the Meilisearch
adapter sends :meth:`TypoTolerance.meili_min_word_sizes` as the index's
``typoTolerance.minWordSizeForTypos``. Both read :data:`TYPOS`, so changing a threshold here
changes both.

>>> [TYPOS.allowed(w) for w in ("calm", "sleep", "insomnia", "psychiatr", "counselling")]
[0, 1, 1, 2, 2]
>>> TYPOS.cost("psychiatirc", "psychiatric")  # one transposition
1
>>> TYPOS.cost("xsychiatric", "psychiatric")  # the first letter: two
2
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA


@dataclass(frozen=True)
class TypoTolerance:
    """How many typos a query word may have, by its length in letters."""

    one_typo: int = 5
    two_typos: int = 9

    def __post_init__(self) -> None:
        # Meilisearch refuses settings where two typos come before one.
        if not 0 < self.one_typo <= self.two_typos:
            raise ValueError("need 0 < one_typo <= two_typos")

    def allowed(self, word: str) -> int:
        """Typos tolerated in ``word`` (0, 1 or 2)."""
        size = len(word)
        return 2 if size >= self.two_typos else 1 if size >= self.one_typo else 0

    def cost(self, word: str, term: str) -> int:
        """Typos counted between a query ``word`` and an indexed ``term``."""
        if word == term:
            return 0
        first = 0 if word[:1] == term[:1] else 1
        return int(OSA.distance(word, term)) + first

    def matches(self, word: str, term: str) -> bool:
        return self.cost(word, term) <= self.allowed(word)

    def corrections(self, word: str, terms: Iterable[str] | Vocabulary) -> list[tuple[str, int]]:
        """Terms ``word`` may stand for with at least one typo, with their typo counts,
        fewest typos first (then alphabetical, so the answer is stable)."""
        budget = self.allowed(word)
        if budget == 0:
            return []
        if isinstance(terms, Vocabulary):
            terms = terms.reachable(word, budget)
        # rapidfuzz prefilters by plain OSA distance in C; the first-letter rule then
        # decides. limit=None: every candidate, not the best few.
        found = process.extract(
            word,
            terms,
            scorer=OSA.distance,  # type: ignore[arg-type]  # rapidfuzz's stub is too narrow
            score_cutoff=budget,
            limit=None,
        )
        costed = [(term, self.cost(word, term)) for term, _, _ in found if term != word]
        return sorted((c for c in costed if c[1] <= budget), key=lambda c: (c[1], c[0]))

    def meili_min_word_sizes(self) -> dict[str, int]:
        """The same thresholds as Meilisearch's ``typoTolerance.minWordSizeForTypos``."""
        return {"oneTypo": self.one_typo, "twoTypos": self.two_typos}


class Vocabulary:
    """Indexed terms by length and first letter, so that a word's corrections are looked for
    only among the terms it can reach: ``budget`` typos change a length by at most
    ``budget``, and a different first letter already costs one of them. Same corrections as
    the whole list, for a fraction of the work (~50 ms → a few ms at 200,000 listings).

    >>> v = Vocabulary(["sleep", "sheep", "steep", "asleep", "sleeper", "peels"])
    >>> sorted(v.reachable("slep", 1))
    ['sheep', 'sleep', 'steep']
    >>> TYPOS.corrections("sleeep", v) == TYPOS.corrections("sleeep", list(v.terms))
    True
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = list(terms)
        self._lengths: dict[int, dict[str, list[str]]] = {}
        for term in self.terms:
            self._lengths.setdefault(len(term), {}).setdefault(term[:1], []).append(term)

    def __len__(self) -> int:
        return len(self.terms)

    def reachable(self, word: str, budget: int) -> list[str]:
        """Every term within ``budget`` typos of ``word`` by length and first letter (a
        superset of its corrections)."""
        first, size = word[:1], len(word)
        found: list[str] = []
        for length in range(max(size - budget, 0), size + budget + 1):
            by_first = self._lengths.get(length)
            if by_first is None:
                continue
            found += by_first.get(first, ())
            if abs(length - size) <= budget - 1:  # room for a first-letter typo too
                for letter, terms in by_first.items():
                    if letter != first:
                        found += terms
        return found


TYPOS = TypoTolerance()
