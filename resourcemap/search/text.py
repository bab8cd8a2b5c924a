"""Text normalisation shared by every search backend.

Queries and documents pass through the same steps, so that full-width and half-width
forms, traditional and simplified characters, and letter case all meet in one form; and
Chinese text gains pinyin (``xinli``) and initials (``xlzx``) spellings that residents type
on a phone keyboard without switching input method.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_T2S = opencc.OpenCC("t2s")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_TOKEN = re.compile(r"^[a-z0-9]+$")
_SPLIT = re.compile(r"[\s,，、;；/|·.。!?！？()（）\[\]【】\"'“”‘’:：]+")


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, traditional → simplified.

    >>> normalise("ＸＩＮＬＩ 心理諮詢")
    'xinli 心理咨询'
    """
    return str(_T2S.convert(unicodedata.normalize("NFKC", text).lower()))


def tokens(query: str) -> list[str]:
    """Split a query into search tokens; Chinese runs stay whole and match as substrings."""
    return [t for t in _SPLIT.split(normalise(query)) if t]


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def is_latin(token: str) -> bool:
    return bool(_LATIN_TOKEN.match(token))


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
