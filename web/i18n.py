"""Languages of the resident pages: zh-CN (default) and English, from gettext catalogues.

Message ids are English; ``resourcemap/locale/<locale>/LC_MESSAGES/messages.po`` holds the
translations and the compiled ``.mo`` next to it ships in the package (``make messages``
extracts, updates and compiles them); ``resourcemap.translations`` loads them, for pages and
domain code alike. The language of a request is chosen once by
:func:`choose` and made current with :func:`activate`; templates and Python code then call
``_()`` without passing it around, because Starlette renders a template inside the
endpoint's own context.

Dates, times and distances are formatted by Babel for the current locale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations
from babel.units import format_unit
from jinja2 import Environment
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.types import Scope

from resourcemap import translations as catalogues
from resourcemap.contact import dial_uri
from resourcemap.said import Said
from resourcemap.vocab import LABELS

COOKIE = "rm_lang"
COOKIE_SECONDS = 365 * 86400


@dataclass(frozen=True)
class Language:
    tag: str  # BCP 47, for lang="" and URLs
    babel: str  # Babel/gettext locale name
    name: str  # its own name, shown in the switcher


ZH = Language("zh-CN", "zh_CN", "中文")
EN = Language("en", "en", "English")
LANGUAGES = {lang.tag: lang for lang in (ZH, EN)}
DEFAULT = ZH

_current: ContextVar[Language] = ContextVar("language", default=DEFAULT)


def translations(lang: Language) -> NullTranslations:
    return catalogues.translations(lang.babel)


def parse(tag: str | None) -> Language | None:
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    for known in LANGUAGES.values():
        if tag == known.tag.lower() or tag.split("-")[0] == known.tag.split("-")[0]:
            return known
    return None


def choose(request: Request) -> tuple[Language, bool]:
    """The request's language, and whether it was asked for just now (``?lang=``) and so
    should be remembered in the cookie.

    Order: ``?lang=``, the cookie, zh-CN. The browser's language is not guessed from: the
    policy's audience reads Chinese first, and a page that changes language by itself
    confuses more than it helps; the switch is on every page.
    """
    asked = parse(request.query_params.get("lang"))
    if asked is not None:
        return asked, True
    remembered = parse(request.cookies.get(COOKIE))
    if remembered is not None:
        return remembered, False
    return DEFAULT, False


def choose_from(scope: Scope) -> tuple[Language, bool]:
    """``choose`` for the middleware, which has the ASGI scope rather than a request."""
    return choose(Request(scope))


def activate(lang: Language) -> None:
    _current.set(lang)


def current() -> Language:
    return _current.get()


def gettext(message: str, **variables: object) -> str:
    text = translations(current()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def said(text: Said | str) -> str:
    """A sentence the domain said (``resourcemap.said``) or a vocabulary's word, in the
    current language; its values that are sentences themselves are translated too."""
    return catalogues.read(text, current().babel)


def sentence(text: str) -> str:
    """A reason the domain gave, as a sentence on its own: in English the domain's reasons
    start in lower case and end bare ("the slot has not started yet"), to be joined into
    others; alone on a page they start with a capital and end with a full stop. Chinese
    has no case, and its translations carry their own punctuation.

    >>> activate(EN); sentence("the slot has not started yet"), sentence("Done.")
    ('The slot has not started yet.', 'Done.')
    """
    if current() is not EN or not text:
        return text
    text = text[0].upper() + text[1:]
    return text + "." if text[-1].isalnum() else text


def vocab(member: StrEnum | str | None, labels: Mapping[Any, Said] | None = None) -> str:
    """A vocabulary member's label in the current language; a code no vocabulary knows
    (or ``None``) as it is. ``labels`` names the vocabulary when ``member`` is a plain code."""
    if member is None or member == "":
        return ""
    if labels is not None:
        found = labels.get(member)
        return said(found) if found is not None else str(member)
    if isinstance(member, StrEnum) and type(member) in LABELS:
        return catalogues.vocab_label(member, current().babel)
    return str(member)


def install(env: Environment) -> None:
    """Give templates ``_``, ``gettext`` and ``ngettext`` of the current language."""
    env.add_extension("jinja2.ext.i18n")
    # Jinja's newstyle wrappers escape and fill in the variables themselves.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: translations(current()).ugettext(message),
        ngettext=lambda s, p, n: translations(current()).ungettext(s, p, n),
        newstyle=True,
    )
    env.globals.update(
        label=label,
        said=said,
        vocab=vocab,
        distance=distance,
        number=number,
        day_label=day_label,
        date_label=date_label,
        clock=clock,
        duration=duration,
        listing=listing,
        separated=separated,
        after_colon=after_colon,
        between_sentences=between_sentences,
        full_stop=full_stop,
        clause_separator=clause_separator,
        own=own,
        name=name,
        current_language=current,
        dial=dial_uri,
    )


# --- formatting --------------------------------------------------------------------------


def label(pair: tuple[str, str] | dict[str, str] | None) -> str:
    """The current language's half of text kept in both languages as data (``(zh, en)`` or
    ``{zh, en}``): names staff entered, the needs of ``search/needs.toml``. Not for
    vocabulary labels: those are gettext messages (:func:`vocab`, :func:`said`)."""
    if pair is None:
        return ""
    if isinstance(pair, dict):
        return pair["en" if current() is EN else "zh"] or pair["zh"]
    return (pair[1] if current() is EN else pair[0]) or pair[0]


def number(x: float) -> str:
    """A whole count as the reader writes it, thousands grouped (``1,237``; CLDR groups
    them in zh too)."""
    return format_decimal(round(x), locale=current().babel)


def distance(metres: float | None) -> str:
    """``350 m`` / ``350米``; ``1.2 km`` / ``1.2公里`` from a kilometre on."""
    if metres is None:
        return ""
    loc = current().babel
    tens = max(10, round(metres / 10) * 10)
    if tens < 1000:  # 995 m rounds to 1,000: said as 1 km, as 1,004 m is
        return format_unit(tens, "length-meter", "short", locale=loc)
    return format_unit(round(metres / 1000, 1), "length-kilometer", "short", locale=loc)


def scale_units() -> tuple[str, str]:
    """A map scale's metres and kilometres with ``{n}`` for the number: ``{n} m`` /
    ``{n}米`` (the map's script fills it as the reader zooms)."""
    loc = current().babel
    return (
        format_unit("{n}", "length-meter", "short", locale=loc),
        format_unit("{n}", "length-kilometer", "short", locale=loc),
    )


def day_label(day: dt.date) -> str:
    """``12月2日周三`` / ``Wed, Dec 2``."""
    return format_skeleton("MMMEd", day, locale=current().babel)


def date_label(day: dt.date) -> str:
    """``2026年12月2日周三`` / ``Wed, Dec 2, 2026``: a date with its year."""
    return format_skeleton("yMMMEd", day, locale=current().babel)


def clock(moment: dt.datetime | dt.time) -> str:
    """``09:00`` / ``9:00 AM``."""
    value = moment.time() if isinstance(moment, dt.datetime) else moment
    return format_time(value, format="short", locale=current().babel)


def duration(minutes: int) -> str:
    """``4小时`` / ``4 hours``; ``90分钟`` / ``90 minutes`` when not whole hours."""
    loc = current().babel
    if minutes and minutes % 60 == 0:
        return format_unit(minutes // 60, "duration-hour", "long", locale=loc)
    return format_unit(minutes, "duration-minute", "long", locale=loc)


def listing(items: list[str]) -> str:
    """Items joined as the locale joins a list: ``a、b和c`` / ``a, b, and c``."""
    items = [i for i in items if i]
    return str(format_list(items, locale=current().babel)) if items else ""


def separated(items: list[str] | list[Markup]) -> Markup:
    """Items with the locale's list separator and no "and": ``a、b`` / ``a, b`` (hours of a
    day, tags)."""
    middle = str(Locale.parse(current().babel).list_patterns["standard"]["middle"])
    sep = middle.replace("{0}", "").replace("{1}", "")
    return Markup(escape(sep)).join(i for i in items if i)


def after_colon() -> str:
    """What follows a label's colon: a space after English ":", nothing after Chinese "："
    (full-width punctuation carries its own space)."""
    return " " if current() is EN else ""


def between_sentences() -> str:
    """What separates sentences run together: a space in English, nothing after Chinese
    "。" or "）" (full-width punctuation carries its own space)."""
    return " " if current() is EN else ""


def full_stop() -> str:
    """What ends a sentence another follows: "." in English, "。" in Chinese."""
    return "." if current() is EN else "。"


def clause_separator() -> str:
    """Between clauses that are not list items (the reasons a card matched): "; " or "；"."""
    return "; " if current() is EN else "；"


def own(zh: str | None, en: str | None, *, say: bool = True) -> Markup:
    """A listing's own text in the reader's language. Where only the other language's text
    exists it is shown, marked with its language (screen readers switch voice) and, when
    ``say``, followed by "(in Chinese)" so an English reader knows why they cannot read it."""
    zh, en = zh or "", en or ""
    if current() is EN:
        if en:
            return escape(en)
        if not zh:
            return Markup("")
        marked = Markup('<span lang="zh-CN" class="own-text">{}</span>').format(zh)
        if say:
            marked += Markup(' <span class="zh-only">({})</span>').format(gettext("in Chinese"))
        return marked
    if zh:
        return escape(zh)
    return Markup('<span lang="en" class="own-text">{}</span>').format(en) if en else Markup("")


def name(zh: str | None, en: str | None) -> Markup:
    """A name in the reader's language, or the other one marked with its language (a name
    needs no "(in Chinese)": it is read as it is)."""
    return own(zh, en, say=False)
