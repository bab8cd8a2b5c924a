"""The gettext catalogues, read by pages and by domain code alike: one translation mechanism.

Message ids are English; ``resourcemap/locale/<locale>/LC_MESSAGES/messages.po`` holds the
Chinese (``tools/messages.py`` extracts, updates and compiles them; the ``.mo`` ships in the
package). The web layer reads a sentence in the request's language (``web.i18n``); domain
code that needs both languages at once — search documents, import files that say
"心理咨询" as often as ``counselling``, exports, reports — calls :func:`vocab_label` for
``"zh"`` and ``"en"``.

>>> from resourcemap.vocab import ReferralStatus, Status
>>> vocab_label(Status.CLOSED, "zh"), vocab_label(ReferralStatus.CLOSED, "zh")
('关闭', '已结案')
>>> vocab_label(Status.CLOSED, "en")
'Closed'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from resourcemap.said import Said
from resourcemap.vocab import LABELS

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The catalogue of a Babel locale name (``zh_CN``, ``en``)."""
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def locale_of(lang: str) -> str:
    """``zh``, ``zh-CN`` or ``zh_CN`` → ``zh_CN``; anything else is English."""
    return "zh_CN" if lang.lower().startswith("zh") else "en"


def read(text: Said | str, locale: str) -> str:
    """A sentence in a Babel locale; its values that are sentences are read too."""
    if not isinstance(text, Said):
        return text
    found = translations(locale)
    if text.context is None:
        message = found.ugettext(text.message)
    else:
        message = found.upgettext(text.context, text.message)
    if not text.values:
        return message
    values: Mapping[str, Any] = {
        k: read(v, locale) if isinstance(v, Said) else v for k, v in text.values
    }
    return message % values


def vocab_label(member: StrEnum, lang: str) -> str:
    """A vocabulary member's label in ``lang`` (``"zh"`` or ``"en"``).

    >>> from resourcemap.vocab import Service
    >>> vocab_label(Service.COUNSELLING, "zh"), vocab_label(Service.COUNSELLING, "en")
    ('心理咨询', 'Counselling')
    """
    return read(LABELS[type(member)][member], locale_of(lang))
