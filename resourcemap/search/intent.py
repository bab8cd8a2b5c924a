"""What a query asks for: its words, the needs it names, and whether it is a crisis.

Both engines search from the same :class:`QueryPlan`, so a query means the same thing
whichever answers it:

- a Chinese run is scanned for need terms, longest first ("我最近压力大睡不着" names
  stress and insomnia); what is left keeps its meaning as text, once filler words at its
  edges are dropped ("附近的心理咨询" looks for 心理咨询);
- Latin words and phrases ("anxiety", "kill myself", "jiaolv") name a need when the
  vocabulary has them;
- a Latin word that names no need may be a typo of one (by the typo rules of
  :mod:`resourcemap.search.typos`); it then stands for that need when, as typed, it
  matches nothing;
- a Chinese word is typed by sound on a phone: one that matches nothing as typed is looked
  for as the word it sounds like — a need's (焦滤 stands for 焦虑's need), a service's or a
  kind's (心里咨询 is 心理咨询, 心里医生 is 心理医生) — or else by the pinyin of the names.

A term naming a need matches a listing that serves the need (one of its services or kinds,
for one of its audiences) or whose text contains one of the need's words
(:attr:`resourcemap.needs.Need.words`). :func:`reasons` says which, for the result card.

>>> plan = parse("我最近压力大睡不着怎么办")
>>> [(t.text, t.need) for t in plan.terms]
[('压力大', 'stress'), ('睡不着', 'insomnia')]
>>> [(t.text, t.need) for t in parse("东湖 anxiety").terms]
[('东湖', None), ('anxiety', 'anxiety')]
>>> parse("I want to kill myself").crisis
True
>>> parse("anxeity").terms[0].fuzzy_need
'anxiety'
>>> [(t.text, t.heard, t.fuzzy_need) for t in parse("心里咨询 焦滤").terms]
[('心里咨询', '心理咨询', None), ('焦滤', None, 'anxiety')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from resourcemap.search import text
from resourcemap.search.needs import NEEDS, NeedsVocabulary
from resourcemap.search.typos import TYPOS, TypoTolerance
from resourcemap.translations import vocab_label
from resourcemap.vocab import ResourceKind, Service

# The most syllables of a need's pinyin typed apart that are joined back ("shi mian").
MAX_SYLLABLES = 6
# The fewest Chinese characters whose sound alone names a crisis (see ``_slip``).
SURE_SOUND_CHARS = 3


@dataclass(frozen=True)
class Term:
    """One thing every match must satisfy."""

    text: str  # as typed (normalised); words of a phrase joined by a space
    need: str | None = None  # the need it names
    # A need this word is a typo of (a Chinese word: one of the same sound); used only when
    # the word matches nothing as typed.
    fuzzy_need: str | None = None
    # A Chinese word's pinyin, and the known word of that sound (a service's, a kind's):
    # what it stands for when it matches nothing as typed.
    sounds: str | None = None
    heard: str | None = None

    @property
    def latin(self) -> bool:
        return text.is_latin(self.text)


@dataclass(frozen=True)
class QueryPlan:
    terms: tuple[Term, ...]
    crisis: bool = False
    # The query asked for free services ("免费", "free"): those words are not terms.
    free: bool = False
    # It asked for services in English ("english speaking", "英语"): not terms either.
    english: bool = False
    # What :func:`reasons` explains for every card: the needs named, then those a typo
    # stood for; and the named ones. Worked out once per plan, not once per card.
    explains: tuple[tuple[str, ...], frozenset[str]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        named = frozenset(t.need for t in self.terms if t.need)
        fuzzy = sorted({t.fuzzy_need for t in self.terms if t.fuzzy_need} - named)
        object.__setattr__(self, "explains", ((*self.needs, *fuzzy), named))

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.need for t in self.terms if t.need))

    def concerns_only(self) -> QueryPlan | None:
        """The plan without its plain words, when it names a need and has some: what to
        answer when the words and the concern match nothing together."""
        kept = tuple(t for t in self.terms if t.need is not None)
        if kept and len(kept) < len(self.terms):
            return QueryPlan(kept, self.crisis, self.free, self.english)
        return None

    @property
    def query_text(self) -> str:
        """A query string meaning this plan (its terms, space-separated)."""
        return " ".join(t.text for t in self.terms)

    @property
    def tokens(self) -> list[str]:
        """Words to mark in highlights: what was typed, needs included."""
        return [w for t in self.terms for w in t.text.split()]


def _strip_fillers(piece: str, vocab: NeedsVocabulary) -> str:
    """``piece`` without filler words at its edges, the longest tried first after each cut
    ("我想找人聊聊": 我, 想, then 找人 rather than 找)."""
    changed = True
    while changed and piece:
        changed = False
        for filler in vocab.fillers_zh:
            if piece.startswith(filler):
                piece, changed = piece[len(filler) :], True
            if piece.endswith(filler):
                piece, changed = piece[: -len(filler)], True
            if changed:
                break
    return piece


def _han_terms(run: str, vocab: NeedsVocabulary) -> list[Term]:
    """Need terms in a Chinese run (leftmost, longest first) and the text between them."""
    found: list[Term] = []
    rest: list[str] = []
    piece = ""
    i = 0
    while i < len(run):
        for size in range(min(vocab.longest_han, len(run) - i), 1, -1):
            code = vocab.han_terms.get(run[i : i + size])
            if code is not None:
                rest.append(piece)
                piece = ""
                found.append(Term(run[i : i + size], need=code))
                i += size
                break
        else:
            piece += run[i]
            i += 1
    rest.append(piece)
    words = [w for w in (_strip_fillers(p, vocab) for p in rest) if w]
    if found:
        # Between concerns a lone character is grammar, not a place ("压力大睡不着": 大).
        words = [w for w in words if len(w) > 1]
    return [*(_han_word(w, vocab) for w in words), *found]


def _han_word(word: str, vocab: NeedsVocabulary) -> Term:
    """A Chinese word that names no need, with what it sounds like."""
    sounds = text.pinyin_forms(word)[0]
    if not sounds:
        return Term(word)
    need = vocab.latin_terms.get(sounds)
    heard = _known_sounds(vocab).get(sounds)
    return Term(word, fuzzy_need=need, sounds=sounds, heard=None if heard == word else heard)


def prepare() -> None:
    """Work out what every query's parse reads (the known words' sounds) ahead of one."""
    _known_sounds(NEEDS)


@lru_cache(maxsize=4)
def _known_sounds(vocab: NeedsVocabulary) -> dict[str, str]:
    """The pinyin of the words listings are labelled with (services' and kinds' names,
    residents' words for services and kinds), each to its word."""
    words = [vocab_label(m, "zh") for enum in (Service, ResourceKind) for m in enum]
    for table in (vocab.service_words, vocab.kind_words):
        words += [w for found in table.values() for w in found if text.has_han(w)]
    known: dict[str, str] = {}
    for word in sorted(set(words), key=lambda w: (len(w), w)):
        known.setdefault(text.pinyin_forms(word)[0], word)
    return known


def _latin_terms(tokens: list[str], vocab: NeedsVocabulary, typos: TypoTolerance) -> list[Term]:
    terms: list[Term] = []
    i = 0
    while i < len(tokens):
        for size in range(min(vocab.longest_latin, len(tokens) - i), 1, -1):
            phrase = tuple(tokens[i : i + size])
            code = vocab.latin_terms.get(phrase)
            if code is not None:
                terms.append(Term(" ".join(phrase), need=code))
                i += size
                break
        else:
            token = tokens[i]
            code = vocab.latin_terms.get(token)
            spelled = _spelled_apart(tokens, i, vocab)
            if code is not None:
                terms.append(Term(token, need=code))
            elif spelled is not None:
                # Pinyin typed a syllable at a time ("shi mian", "shi'mian"): one word.
                word, size = spelled
                terms.append(Term(word, need=vocab.latin_terms[word]))
                i += size
                continue
            elif token in vocab.fillers_latin:
                pass  # "near me", "i need": nothing a listing says
            else:
                near = typos.corrections(token, vocab.single_latin_terms)
                terms.append(
                    Term(token, fuzzy_need=vocab.latin_terms[near[0][0]] if near else None)
                )
            i += 1
    return terms


def _slip(term: Term) -> str | None:
    """The need a misspelt word stands for, when that is sure enough to act on before the
    word has matched anything: a Latin typo, or a Chinese phrase of three characters or more
    of the same sound. Two characters sound like too much else (紫砂 is zisha, 庆生 qingsheng,
    相思 xiangsi: a teapot, a birthday and lovesickness, not a crisis)."""
    if term.fuzzy_need is None or not (term.latin or len(term.text) >= SURE_SOUND_CHARS):
        return None
    return term.fuzzy_need


def _spelled_apart(tokens: list[str], i: int, vocab: NeedsVocabulary) -> tuple[str, int] | None:
    """The need word that tokens from ``i`` spell together (longest first), and how many."""
    for size in range(min(MAX_SYLLABLES, len(tokens) - i), 1, -1):
        word = "".join(tokens[i : i + size])
        if word in vocab.latin_terms:
            return word, size
    return None


def _without_words(
    tokens: list[str], zh: tuple[str, ...], latin: tuple[tuple[str, ...], ...]
) -> tuple[list[str], bool]:
    """The tokens without the words that ask for a filter, and whether there were any
    ("免费心理咨询" → 心理咨询; "free counselling" → counselling)."""
    kept: list[str] = []
    found = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not text.is_latin(token):
            if (token,) in latin:  # a hyphened word ("english-speaking") is one token
                found = True
            else:
                for word in zh:
                    if word in token:
                        token, found = token.replace(word, " "), True
                kept += token.split()
            i += 1
            continue
        for phrase in latin:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i, found = i + len(phrase), True
                break
        else:
            kept.append(token)
            i += 1
    return kept, found


def parse(q: str, vocab: NeedsVocabulary = NEEDS, typos: TypoTolerance = TYPOS) -> QueryPlan:
    """The plan of query ``q``; an empty query has no terms (everything matches).

    >>> plan = parse("免费心理咨询")
    >>> plan.free, [t.text for t in plan.terms]
    (True, ['心理咨询'])
    >>> parse("free counselling").free
    True
    >>> plan = parse("english speaking therapist")
    >>> plan.english, [t.text for t in plan.terms]
    (True, ['therapist'])
    """
    terms: list[Term] = []
    latin: list[str] = []
    tokens, free = _without_words(text.tokens(q), vocab.free_zh, vocab.free_latin)
    tokens, english = _without_words(tokens, vocab.english_zh, vocab.english_latin)
    for token in tokens:
        if text.is_latin(token):
            latin.append(token)
            continue
        terms += _latin_terms(latin, vocab, typos)
        latin = []
        terms += _han_terms(token, vocab)
    terms += _latin_terms(latin, vocab, typos)
    # The same term twice asks nothing more.
    unique = tuple(dict.fromkeys(terms))
    # A crisis word typed wrong ("sucide", "不想或了") is a crisis too: the 24/7 lines first.
    crisis = any(vocab[code].crisis for t in unique if (code := t.need or _slip(t)))
    return QueryPlan(unique, crisis, free, english)


@dataclass(frozen=True)
class MatchReason:
    """Why a listing matched a need: "焦虑 → 心理咨询" (``via="service"``), the kind of
    resource (``via="kind"``), or a word of the need in its text (``via="words"``)."""

    need: str
    # The need's labels are data (needs.toml); the service's or kind's are read from the
    # catalogues (``vocab_label``) in both languages, for API clients.
    need_zh: str
    need_en: str
    via: Literal["service", "kind", "words"]
    code: str  # the service or kind code; the need's code for "words"
    label_zh: str
    label_en: str


@lru_cache(maxsize=4096)
def reasons(
    kind: str, services: tuple[str, ...], plan: QueryPlan, vocab: NeedsVocabulary = NEEDS
) -> tuple[MatchReason, ...]:
    """Why a listing of this kind and services matched each need the plan names."""
    codes, named = plan.explains
    if not codes:
        return ()  # plain words: nothing to explain
    return _reasons(kind, services, codes, named, vocab)


# Kept: cards share a few kinds and sets of services, and residents a few needs (working
# the labels out again cost ~4 µs a card, a twentieth of a dense district's search).
@lru_cache(maxsize=4096)
def _reasons(
    kind: str,
    services: tuple[str, ...],
    codes: tuple[str, ...],
    named: frozenset[str],
    vocab: NeedsVocabulary,
) -> tuple[MatchReason, ...]:
    out: list[MatchReason] = []
    for code in codes:
        need = vocab[code]
        via = need.reason(kind, services)
        if via is None:
            # A typo'd word may have matched as itself; only a named need matched by words.
            if code in named:
                out.append(MatchReason(code, need.label_zh, need.label_en, "words", code, "", ""))
        elif via in Service._value2member_map_:
            zh, en = vocab_label(Service(via), "zh"), vocab_label(Service(via), "en")
            out.append(MatchReason(code, need.label_zh, need.label_en, "service", via, zh, en))
        else:
            kind_of = ResourceKind(via)
            zh, en = vocab_label(kind_of, "zh"), vocab_label(kind_of, "en")
            out.append(MatchReason(code, need.label_zh, need.label_en, "kind", via, zh, en))
    return tuple(out)
