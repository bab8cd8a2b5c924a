"""How listings and queries are spelt for Meilisearch: index settings, documents, query text.

Chinese substrings. Meilisearch segments Chinese with jieba, which merges short words into
longer tokens ("心理咨询室"), so a query for "心理" or "咨询" would miss names the embedded
engine finds. Next to each Chinese-bearing field (``name_zh``, ``labels``,
``description_zh``, ``address_zh``) a document therefore holds a ``*_ngrams`` field with
every overlapping character bigram of the normalised text in reading order, followed by the
distinct single characters. Each character is spelt as an opaque Latin code word (``qz`` +
its code point in hex, written with the letters a–p), so no segmenter, language detector or
normaliser can split or alter it. A Chinese query token becomes a quoted phrase of its
bigram codes (one character: the single-character code): Meilisearch matches a phrase only
where its words stand at consecutive positions of one attribute, and consecutive
overlapping bigrams exist only where the characters are consecutive in the text, so the
phrase matches exactly where the token is a substring of the field (phrases never get
typos, and a typo in a code word would be another character).

Pinyin. The ``pinyin`` field lists every run of one to eight whole syllables of the name,
and ``initials`` every run of one to eight initials, so "xinli" finds 心理 but not 心灵
(xinling). The query string ends with a space: Meilisearch treats a final word as a prefix
otherwise, and "xinli" would find "xinling".

Needs. Every document lists the needs it serves (:mod:`resourcemap.search.needs`) as need words
(``qzneed`` + the need's code in letters) in a ``needs`` field, and the index's
``synonyms`` setting expands each need word to the need's words (Chinese terms as phrases of
their codes — Meilisearch treats multi-word synonyms as phrases — English words and pinyin).
A query term that names a need is sent as its need word, so it matches what the embedded
engine matches: a listing serving the need or mentioning one of its words. Need words never
get typos (``disableOnWords``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from resourcemap.search import text
from resourcemap.search.base import SearchDocument
from resourcemap.search.intent import QueryPlan, Term, parse
from resourcemap.search.needs import NEEDS, NeedsVocabulary
from resourcemap.search.typos import TYPOS

NGRAM_SOURCES = ("name_zh", "labels", "description_zh", "address_zh")
NGRAM_FIELDS = tuple(f"{name}_ngrams" for name in NGRAM_SOURCES)
# Order is rank (earlier attributes rank higher); each Chinese field is followed by its n-grams.
RANKED = (
    "name_zh",
    "name_en",
    "pinyin",
    "initials",
    "labels",
    "needs",
    "description_zh",
    "address_zh",
)
SEARCHABLE = [f for name in RANKED for f in (name, f"{name}_ngrams") if f in RANKED + NGRAM_FIELDS]
TAGS = ("services", "audiences", "languages", "modes")
FILTERABLE = ["kind", *TAGS, "fee", "status", "id", "service_area_codes", "_geo", "located"]
FILTERABLE += ["eligibility", "walk"]
DISPLAYED = ["id", "kind", "name_en", *NGRAM_SOURCES, *TAGS, "fee", "status", "phone"]
DISPLAYED += ["always_open", "service_area_codes", "_geo"]
DISPLAYED += ["eligibility", "eligibility_note_zh", "eligibility_note_en", "address_en"]
MAX_TOTAL_HITS = 20_000  # above the deepest page a query may ask for (offset 10 000 + 100)
MAX_RUN = 8
CODE_MARK = "qz"  # never occurs in pinyin (q is always followed by i or u)
NEED_MARK = CODE_MARK + "need"
_HEX_AS_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def _char_code(ch: str) -> str:
    return f"{ord(ch):06x}".translate(_HEX_AS_LETTERS)


def ngram_field(value: str) -> str:
    """Bigram code words of ``value`` (normalised) in order, then its distinct characters."""
    codes = [_char_code(ch) for ch in text.normalise(value)]
    bigrams = [CODE_MARK + a + b for a, b in itertools.pairwise(codes)]
    return " ".join([*bigrams, *sorted({CODE_MARK + c for c in codes})])


def han_phrase(token: str) -> str:
    """The code words of a Chinese token, space-separated (quote them for a phrase).

    >>> han_phrase("心")
    'qzaafpmd'
    """
    codes = [_char_code(ch) for ch in text.normalise(token)]
    words = [CODE_MARK + a + b for a, b in itertools.pairwise(codes)] or [CODE_MARK + codes[0]]
    return " ".join(words)


def need_word(code: str) -> str:
    """The one Latin word that stands for a need in documents and queries.

    >>> need_word("self_harm")
    'qzneedselfharm'
    """
    return NEED_MARK + "".join(ch for ch in code if ch.isalpha())


def need_synonyms(vocab: NeedsVocabulary = NEEDS) -> dict[str, list[str]]:
    """The index's ``synonyms``: each need word to the need's words, spelt as indexed."""
    return {
        need_word(need.code): [w if text.is_latin(w) else han_phrase(w) for w in need.words]
        for need in vocab
    }


def _term(term: Term, *, exact: bool) -> str:
    if term.need is not None:
        return need_word(term.need)
    if exact:
        return f'"{term.text}"' if term.latin else f'"{han_phrase(term.text)}"'
    if term.fuzzy_need is not None:
        return need_word(term.fuzzy_need)
    if not term.latin:
        # The known word it sounds like (心里咨询: 心理咨询), else by its sound in the names'
        # pinyin field.
        if term.heard is not None:
            return f'"{han_phrase(term.heard)}"'
        return f'"{term.sounds}"' if term.sounds else f'"{han_phrase(term.text)}"'
    return term.text


def plan_query(plan: QueryPlan, *, exact: bool) -> str:
    """The Meilisearch ``q`` for a query plan: Chinese words as phrases of their codes,
    needs as need words, Latin words as words — as one-word phrases (no typos) when
    ``exact``, and as the need they are a typo of, if any, when not."""
    parts = [_term(t, exact=exact) for t in plan.terms]
    return " ".join(parts) + " " if parts else ""


def query_string(q: str, *, exact: bool) -> str:
    """:func:`plan_query` of a query as typed.

    >>> query_string("心 Sunshine", exact=True)
    '"qzaafpmd" "sunshine" '
    >>> query_string("anxiety", exact=True)
    'qzneedanxiety '
    """
    return plan_query(parse(q), exact=exact)


SETTINGS: dict[str, Any] = {
    "searchableAttributes": SEARCHABLE,
    "filterableAttributes": FILTERABLE,
    "sortableAttributes": ["_geo"],
    "displayedAttributes": DISPLAYED,
    # Meilisearch's default rules with "sort" first: around a point the adapter asks for
    # places nearest-first and ranks them itself (resourcemap.search.ranking); without a
    # sort the rule is idle and relevance ranks as usual.
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    "typoTolerance": {
        "enabled": True,
        "minWordSizeForTypos": TYPOS.meili_min_word_sizes(),
        # Initials are abbreviations: a typo makes another one. (Code words need no entry:
        # they are only ever queried inside phrases, which Meilisearch never typo-matches.)
        "disableOnAttributes": ["initials"],
        # A need word with a typo would be another need.
        "disableOnWords": sorted(need_word(n.code) for n in NEEDS),
    },
    "faceting": {"maxValuesPerFacet": 100},
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
    # Phrases (our Chinese substrings) need word-level positions and no stop words.
    "proximityPrecision": "byWord",
    "stopWords": [],
    "synonyms": need_synonyms(),
}


def runs(units: Sequence[str]) -> str:
    """Every run of 1..8 consecutive ``units``, grouped by length, and the whole.

    Groups are split by a hard separator (" . "), so that Meilisearch's split-word matching
    ("xinli" as "xin li" side by side) only sees neighbours from the name's reading order.

    >>> runs(["xin", "li", "shi"])
    'xin li shi . xinli lishi . xinlishi'
    """
    groups = [
        " ".join("".join(units[i : i + n]) for i in range(len(units) - n + 1))
        for n in range(1, min(MAX_RUN, len(units)) + 1)
    ]
    if len(units) > MAX_RUN:
        groups.append("".join(units))
    return " . ".join(groups)


def to_meili(doc: SearchDocument) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": doc.id,
        "kind": doc.kind,
        "name_zh": doc.name_zh,
        "name_en": doc.name_en,
        "description_zh": doc.description_zh,
        "address_zh": doc.address_zh,
        "address_en": doc.address_en,
        "labels": doc.labels,
        **{tag: list(getattr(doc, tag)) for tag in TAGS},
        "fee": doc.fee,
        "status": doc.status,
        "phone": doc.phone,
        "always_open": doc.always_open,
        "service_area_codes": list(doc.service_area_codes),
        "located": doc.located,
        "eligibility": doc.eligibility,
        "eligibility_note_zh": doc.eligibility_note_zh,
        "eligibility_note_en": doc.eligibility_note_en,
        "walk": doc.reach == "walk",
        "pinyin": runs(text.syllables(doc.name_zh)),
        "initials": runs(text.pinyin_forms(doc.name_zh)[1]),
        "needs": " ".join(
            need_word(c) for c in NEEDS.served_by(doc.kind, doc.services, doc.audiences)
        ),
        **{f"{name}_ngrams": ngram_field(getattr(doc, name)) for name in NGRAM_SOURCES},
    }
    # Area-served resources carry no _geo at all: servers before v1.1 reject a null one.
    if doc.lat is not None and doc.lon is not None:
        body["_geo"] = {"lat": doc.lat, "lng": doc.lon}
    return body


def from_meili(hit: dict[str, Any]) -> SearchDocument:
    geo = hit.get("_geo")
    return SearchDocument(
        id=int(hit["id"]),
        kind=hit["kind"],
        name_zh=hit["name_zh"],
        name_en=hit.get("name_en", ""),
        description_zh=hit.get("description_zh", ""),
        address_zh=hit.get("address_zh", ""),
        address_en=hit.get("address_en", ""),
        services=tuple(hit.get("services", ())),
        audiences=tuple(hit.get("audiences", ())),
        languages=tuple(hit.get("languages", ())),
        modes=tuple(hit.get("modes", ())),
        fee=hit["fee"],
        status=hit["status"],
        phone=hit.get("phone", ""),
        always_open=bool(hit.get("always_open", False)),
        lat=float(geo["lat"]) if geo else None,
        lon=float(geo["lng"]) if geo else None,
        service_area_codes=tuple(hit.get("service_area_codes", ())),
        labels=hit.get("labels", ""),
        eligibility=hit.get("eligibility", "public"),
        eligibility_note_zh=hit.get("eligibility_note_zh", ""),
        eligibility_note_en=hit.get("eligibility_note_en", ""),
    )
