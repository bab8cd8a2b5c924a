"""Text normalisation shared by every search backend.

Queries and documents pass through the same steps, so that full-width and half-width
forms, traditional and simplified characters, and letter case all meet in one form; and
Chinese text gains pinyin (``xinli``) and initials (``xlzx``) spellings that residents type
on a phone keyboard without switching input method.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_T2S = opencc.OpenCC("t2s")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_TOKEN = re.compile(r"^[a-z0-9]+$")
_LETTERS = re.compile(r"[a-z]")
_SCRIPTS = re.compile(r"[a-z]+|[^a-z]+")
_SPLIT = re.compile(r"[\s,，、;；/|·.。!?！？()（）\[\]【】\"'“”‘’:：]+")


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, traditional → simplified.

    >>> normalise("ＸＩＮＬＩ 心理諮詢")
    'xinli 心理咨询'
    """
    return str(_T2S.convert(unicodedata.normalize("NFKC", text).lower()))


def tokens(query: str) -> list[str]:
    """Split a query into search tokens; Chinese runs stay whole and match as substrings.
    Latin letters typed against Chinese are a word of their own ("我有depression").

    >>> tokens("我有depression, 焦虑")
    ['我有', 'depression', '焦虑']
    """
    out: list[str] = []
    for t in _SPLIT.split(normalise(query)):
        if _HAN.search(t) and _LETTERS.search(t):
            out += _SCRIPTS.findall(t)
        elif t:
            out.append(t)
    return out


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def is_latin(token: str) -> bool:
    return bool(_LATIN_TOKEN.match(token))


@lru_cache(maxsize=65536)
def syllables(text: str) -> tuple[str, ...]:
    """Pinyin syllables of the Han characters in ``text``.

    >>> syllables("心理 室")
    ('xin', 'li', 'shi')
    """
    han = "".join(_HAN.findall(normalise(text)))
    return tuple(lazy_pinyin(han, errors="ignore")) if han else ()


@lru_cache(maxsize=65536)
def pinyin_forms(text: str) -> tuple[str, str]:
    """Full pinyin and initials of the Han characters in ``text``, without spaces.

    >>> pinyin_forms("心理咨询")
    ('xinlizixun', 'xlzx')
    """
    han = "".join(_HAN.findall(normalise(text)))
    if not han:
        return "", ""
    full = "".join(lazy_pinyin(han, errors="ignore"))
    initials = "".join(lazy_pinyin(han, style=Style.FIRST_LETTER, errors="ignore"))
    return full, initials


def highlight(text: str, terms: list[str]) -> str | None:
    """HTML-escaped ``text`` with every occurrence of ``terms`` wrapped in ``<mark>``.

    Matching happens on the normalised text; when normalisation changes the length (rare
    compatibility characters) positions cannot be mapped back and nothing is marked.
    ``None`` when no term occurs.

    >>> highlight("東湖<心理>室", ["心理"])
    '東湖&lt;<mark>心理</mark>&gt;室'
    """
    if not text or not any(terms):
        return None
    norm = normalise(text)
    if len(norm) != len(text) or not any(t and t in norm for t in terms):
        return None
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = norm.find(term) if term else -1
        while start != -1:
            spans.append((start, start + len(term)))
            start = norm.find(term, start + 1)
    out: list[str] = []
    done = 0
    for start, end in sorted(spans):
        if end <= done:
            continue
        start = max(start, done)
        if out and start == done and out[-1] == "</mark>":
            out.pop()  # touching matches form one mark
        else:
            out.append(html.escape(text[done:start]))
            out.append("<mark>")
        out.append(html.escape(text[start:end]))
        out.append("</mark>")
        done = end
    out.append(html.escape(text[done:]))
    return "".join(out)
