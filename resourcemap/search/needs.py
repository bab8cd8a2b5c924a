"""The needs vocabulary: what residents type, and which listings answer it.

The data is ``resourcemap/search/needs.toml`` (reviewed, with its own header on how to change it);
this module loads and checks it once, and answers two questions both search engines ask:
which needs a listing serves (:meth:`NeedsVocabulary.served_by`), and which words name a
need (:attr:`NeedsVocabulary.han_terms`, :attr:`NeedsVocabulary.latin_terms`). Query parsing
lives in :mod:`resourcemap.search.intent`.

>>> anxiety = NEEDS["anxiety"]
>>> anxiety.label_zh, anxiety.label_en
('焦虑', 'Anxiety')
>>> NEEDS.han_terms["睡不着"]
'insomnia'
>>> NEEDS.latin_terms["jiaolu"], NEEDS.latin_terms[("kill", "myself")]
('anxiety', 'self_harm')
>>> NEEDS.served_by("community_room", ["counselling"], ["everyone"])[:3]
('anxiety', 'insomnia', 'depression')
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from pypinyin import lazy_pinyin

from resourcemap.search import text
from resourcemap.vocab import Audience, ResourceKind, Service

SOURCE = Path(__file__).with_name("needs.toml")
FIELDS = {
    *("zh", "en", "pinyin", "zh_terms", "zh_phrases", "en_terms"),
    *("services", "audiences", "kinds", "crisis"),
}
# Set by the data file's specialist_kinds: they serve only the needs naming them.
SpecialistKinds = frozenset[ResourceKind]
# Meilisearch keeps at most 50 synonyms per word (its synonyms documentation).
MAX_WORDS = 50
# Two-character pinyin is often a place name too (yunqi: 孕期 and 云栖); those are listed by
# hand in the data file, longer terms get their pinyin here.
AUTO_PINYIN_FROM = 3
LatinTerm = str | tuple[str, ...]
K = TypeVar("K", str, LatinTerm)
E = TypeVar("E", Service, Audience, ResourceKind)


def _pinyin(han: str) -> set[str]:
    """Pinyin of ``han`` as phones take it: ü typed as v and as u.

    >>> sorted(_pinyin("焦虑"))
    ['jiaolu', 'jiaolv']
    """
    spelt = "".join(lazy_pinyin(han, errors="ignore"))
    return {spelt, spelt.replace("v", "u")} if spelt else set()


def _latin_key(term: str) -> LatinTerm:
    """A Latin term as the query tokens it is typed as: one word, or a tuple of words."""
    words = tuple(text.tokens(term))
    return words[0] if len(words) == 1 else words


@dataclass(frozen=True)
class Need:
    code: str
    # Data, not translation: the labels sit in needs.toml next to the words each language
    # searches with, edited together by the people who curate the needs.
    label_zh: str
    label_en: str
    pinyin: tuple[str, ...]
    zh_terms: tuple[str, ...]
    en_terms: tuple[str, ...]
    services: tuple[Service, ...]
    audiences: tuple[Audience, ...]
    kinds: tuple[ResourceKind, ...]
    crisis: bool = False
    # Said in a query only, as a listing never would ("活着好累"): not among ``words``.
    zh_phrases: tuple[str, ...] = ()

    @cached_property
    def latin_terms(self) -> frozenset[LatinTerm]:
        """English words and phrases, and pinyin of the label and of every Chinese term."""
        spelt = {*self.pinyin, *(p.replace("v", "u") for p in self.pinyin)}
        for term in self.zh_terms:
            if len(term) >= AUTO_PINYIN_FROM:
                spelt |= _pinyin(term)
        return frozenset(_latin_key(t) for t in (*self.en_terms, *spelt))

    @cached_property
    def words(self) -> tuple[str, ...]:
        """Words a listing's text may contain to match this need: the Chinese terms, the
        one-word English terms and the pinyin spellings. (Phrases such as "kill myself"
        only name the need in a query.) Both engines match exactly these."""
        single = sorted(t for t in self.latin_terms if isinstance(t, str))
        return (*self.zh_terms, *single)

    def serves(
        self,
        kind: str,
        services: Iterable[str],
        audiences: Iterable[str],
        specialist: SpecialistKinds = frozenset(),
    ) -> bool:
        if kind in self.kinds:
            return self._for_audience(audiences)
        if kind in specialist or not set(services).intersection(self.services):
            return False
        return self._for_audience(audiences)

    def _for_audience(self, audiences: Iterable[str]) -> bool:
        if not self.audiences:
            return True
        return bool(set(audiences) & {Audience.EVERYONE, *self.audiences})

    def reason(self, kind: str, services: Iterable[str]) -> str | None:
        """The service (or kind) through which a listing serves this need, as its code."""
        offered = set(services)
        for service in self.services:
            if service in offered:
                return service.value
        return kind if kind in self.kinds else None


def _filter_words(
    zh: Iterable[str], latin: Iterable[str]
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Words that ask for a filter, longest first ("免费的" before "免费"); Latin ones as
    phrases of whole words."""
    return (
        tuple(sorted(set(zh), key=len, reverse=True)),
        tuple(sorted({tuple(w.lower().split()) for w in latin}, key=len, reverse=True)),
    )


class NeedsVocabulary:
    """Every need of the data file, checked: known codes only, no word in two needs."""

    def __init__(
        self,
        needs: Iterable[Need],
        fillers_zh: Iterable[str],
        specialist_kinds: Iterable[ResourceKind] = (),
        free_words_zh: Iterable[str] = (),
        free_words_latin: Iterable[str] = (),
        service_words: dict[Service, tuple[str, ...]] | None = None,
        fillers_latin: Iterable[str] = (),
        kind_words: dict[ResourceKind, tuple[str, ...]] | None = None,
        english_words_zh: Iterable[str] = (),
        english_words_latin: Iterable[str] = (),
    ) -> None:
        self.needs: dict[str, Need] = {n.code: n for n in needs}
        # English words around a concern ("counselling near me"): dropped where they are no
        # part of a need's phrase ("end my life" keeps its "my").
        self.fillers_latin: frozenset[str] = frozenset(w.lower() for w in fillers_latin)
        # Residents' own words for a service, searched as the service's labels are.
        self.service_words: dict[Service, tuple[str, ...]] = dict(service_words or {})
        # And for a kind of place ("社工站"), searched as the kind's label is.
        self.kind_words: dict[ResourceKind, tuple[str, ...]] = dict(kind_words or {})
        # Words asking for free services: longest first, so "免费的" goes before "免费".
        self.free_zh, self.free_latin = _filter_words(free_words_zh, free_words_latin)
        # And for services in English: the language filter.
        self.english_zh, self.english_latin = _filter_words(english_words_zh, english_words_latin)
        self.specialist_kinds: SpecialistKinds = frozenset(specialist_kinds)
        self.fillers_zh: tuple[str, ...] = tuple(sorted(set(fillers_zh), key=len, reverse=True))
        self.han_terms: dict[str, str] = {}
        self.latin_terms: dict[LatinTerm, str] = {}
        for need in self.needs.values():
            if len(need.words) > MAX_WORDS:
                raise ValueError(f"need {need.code}: {len(need.words)} words, at most {MAX_WORDS}")
            for term in (*need.zh_terms, *need.zh_phrases):
                self._claim(self.han_terms, term, need.code)
            for latin in need.latin_terms:
                self._claim(self.latin_terms, latin, need.code)
        self.longest_han = max((len(t) for t in self.han_terms), default=0)
        self.longest_latin = max(
            (len(t) if isinstance(t, tuple) else 1 for t in self.latin_terms), default=0
        )

    @staticmethod
    def _claim(index: dict[K, str], term: K, code: str) -> None:
        other = index.get(term)
        if other is not None and other != code:
            raise ValueError(f"{term!r} belongs to both {other} and {code}")
        index[term] = code

    def __getitem__(self, code: str) -> Need:
        return self.needs[code]

    def __iter__(self) -> Iterator[Need]:
        return iter(self.needs.values())

    def __len__(self) -> int:
        return len(self.needs)

    def served_by(
        self, kind: str, services: Iterable[str], audiences: Iterable[str]
    ) -> tuple[str, ...]:
        """Codes of the needs a listing of this kind, services and audiences serves."""
        services, audiences = tuple(services), tuple(audiences)
        special = self.specialist_kinds
        return tuple(n.code for n in self if n.serves(kind, services, audiences, special))

    @cached_property
    def single_latin_terms(self) -> list[str]:
        """One-word Latin terms, the ones a typo may reach (sorted, for stable answers)."""
        return sorted(t for t in self.latin_terms if isinstance(t, str))


def _codes(raw: dict[str, object], key: str, enum: type[E], code: str) -> tuple[E, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list):
        raise ValueError(f"need {code}: {key} must be a list")
    try:
        return tuple(enum(v) for v in values)
    except ValueError as exc:
        raise ValueError(f"need {code}: {key}: {exc}") from None


def _strings(raw: dict[str, object], key: str, code: str) -> tuple[str, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"need {code}: {key} must be a list of words")
    return tuple(values)


def parse(data: dict[str, object]) -> NeedsVocabulary:
    """The vocabulary from the data file's parsed TOML; raises ``ValueError`` naming the
    need and field at fault."""
    raw_needs = data.get("needs")
    if not isinstance(raw_needs, dict):
        raise ValueError("needs.toml has no [needs.<code>] tables")
    needs = []
    for code, raw in raw_needs.items():
        unknown = set(raw) - FIELDS
        if unknown:
            raise ValueError(f"need {code}: unknown fields {sorted(unknown)}")
        zh_terms = _strings(raw, "zh_terms", code)
        zh_phrases = _strings(raw, "zh_phrases", code)
        if any(len(t) < 2 for t in (*zh_terms, *zh_phrases)):
            raise ValueError(f"need {code}: Chinese terms need two characters or more")
        needs.append(
            Need(
                code=code,
                label_zh=str(raw["zh"]),
                label_en=str(raw["en"]),
                pinyin=_strings(raw, "pinyin", code),
                zh_terms=zh_terms,
                en_terms=tuple(t.lower() for t in _strings(raw, "en_terms", code)),
                services=_codes(raw, "services", Service, code),
                audiences=_codes(raw, "audiences", Audience, code),
                kinds=_codes(raw, "kinds", ResourceKind, code),
                crisis=bool(raw.get("crisis", False)),
                zh_phrases=zh_phrases,
            )
        )
    fillers, fillers_latin = data.get("fillers_zh", []), data.get("fillers_latin", [])
    if not isinstance(fillers, list) or not isinstance(fillers_latin, list):
        raise ValueError("fillers_zh and fillers_latin must be lists")
    specialist = _codes(data, "specialist_kinds", ResourceKind, "(all)")
    free_zh, free_latin = data.get("free_words_zh", []), data.get("free_words_latin", [])
    if not isinstance(free_zh, list) or not isinstance(free_latin, list):
        raise ValueError("free_words_zh and free_words_latin must be lists")
    english_zh = data.get("english_words_zh", [])
    english_latin = data.get("english_words_latin", [])
    if not isinstance(english_zh, list) or not isinstance(english_latin, list):
        raise ValueError("english_words_zh and english_words_latin must be lists")
    service_words = _words_for(data, "service_words", Service)
    kind_words = _words_for(data, "kind_words", ResourceKind)
    return NeedsVocabulary(
        needs,
        (str(f) for f in fillers),
        specialist,
        free_words_zh=(str(w) for w in free_zh),
        free_words_latin=(str(w) for w in free_latin),
        service_words=service_words,
        fillers_latin=(str(w) for w in fillers_latin),
        kind_words=kind_words,
        english_words_zh=(str(w) for w in english_zh),
        english_words_latin=(str(w) for w in english_latin),
    )


def _words_for(data: dict[str, object], table: str, enum: type[E]) -> dict[E, tuple[str, ...]]:
    """Residents' own words for each code of ``enum``, from the file's ``table``."""
    raw = data.get(table, {})
    if not isinstance(raw, dict):
        raise ValueError(f"{table} must be a table of {enum.__name__} codes")
    where = f"({table})"
    return {
        _codes({"code": [code]}, "code", enum, where)[0]: _strings(raw, code, where) for code in raw
    }


def load(path: Path = SOURCE) -> NeedsVocabulary:
    with path.open("rb") as f:
        return parse(tomllib.load(f))


NEEDS = load()
