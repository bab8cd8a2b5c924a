"""A sentence the domain says to a person, read later in that person's language.

The domain knows no languages (the web layer does, through gettext): it says a sentence as
its English message id, with ``%(name)s`` placeholders and their values, marked with
``N_`` so that ``tools/messages.py`` extracts it into the catalogues. ``str()`` of it is the
English sentence (command line, JSON API, logs); ``web.i18n.said`` reads it in the
request's language. A validator may raise ``ValueError(N_(...))``: pydantic keeps the
exception, so the sentence survives a ``ValidationError``; ``validator_message`` reads any
pydantic error as a sentence.

A word of a controlled vocabulary (``resourcemap.vocab``) is marked with ``pN_``: its
context (the vocabulary) tells apart words that are one in English and two in Chinese
("Closed": a listing's 关闭, a referral's 已结案).

>>> reason = N_("%(code)s is not a known area code", code="4499")
>>> str(reason)
'4499 is not a known area code'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Said:
    message: str
    values: tuple[tuple[str, Any], ...] = ()
    context: str | None = None  # gettext's msgctxt

    def __str__(self) -> str:
        return self.message % dict(self.values) if self.values else self.message

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)

    def then(self, more: Said) -> Said:
        """Two sentences as one: ``first (second)``, each read in the reader's language."""
        return N_("%(first)s (%(more)s)", first=self, more=more)


def N_(message: str, **values: Any) -> Said:
    """A sentence to translate where it is read; values may be ``Said`` themselves."""
    return Said(message, tuple(values.items()))


def pN_(context: str, message: str) -> Said:
    """A word of a vocabulary, translated in its ``context`` (gettext's ``pgettext``).

    >>> str(pN_("referral status", "Closed"))
    'Closed'
    """
    return Said(message, (), context)


def said(reason: str | Said) -> Said:
    """A sentence from text that is not yet marked (a domain error's English reason)."""
    return reason if isinstance(reason, Said) else Said(reason)


def _plain(value: Any) -> Any:
    if isinstance(value, Said):
        plain = {"said": value.message, "values": {k: _plain(v) for k, v in value.values}}
        return plain | ({"context": value.context} if value.context else {})
    return value


def _read(value: Any) -> Any:
    if isinstance(value, dict) and "said" in value:
        values = value.get("values") or {}
        pairs = tuple((k, _read(v)) for k, v in values.items())
        return Said(str(value["said"]), pairs, value.get("context"))
    return value


def stored(sentence: Said) -> str:
    """A sentence as text a database column keeps, to be read later in the reader's
    language (``from_stored``).

    >>> from_stored(stored(N_("%(n)s files", n=3))) == N_("%(n)s files", n=3)
    True
    """
    return json.dumps(_plain(sentence), ensure_ascii=False)


def from_stored(text: str) -> Said:
    """A sentence kept by ``stored``; any other text (written before sentences were
    kept) as it is."""
    if text.startswith('{"said"'):
        try:
            found = _read(json.loads(text))
        except ValueError:
            return Said(text)
        if isinstance(found, Said):
            return found
    return Said(text)


def said_of(exc: BaseException) -> Said:
    """What an exception says: the sentence it was raised with, or its English text."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Said) else Said(str(exc))


# Pydantic's own sentences by error type (a validator's own sentence is kept).
TYPE_MESSAGES = {
    "missing": N_("required"),
    "enum": N_("choose one from the list"),
    "literal_error": N_("choose one from the list"),
    "date_type": N_("not a date (YYYY-MM-DD)"),
    "string_pattern_mismatch": N_("not in the expected form"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("at most %(max_length)s characters"),
    "too_long": N_("at most %(max_length)s entries"),
    "int_parsing": N_("not a whole number"),
    "int_from_float": N_("not a whole number"),
    "float_parsing": N_("not a number"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "greater_than": N_("must be more than %(gt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "less_than": N_("must be less than %(lt)s"),
    "date_parsing": N_("not a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": N_("not a date (YYYY-MM-DD)"),
    "bool_parsing": N_("not yes or no"),
}


def _number(value: object) -> object:
    """``90`` rather than ``90.0`` for a whole limit."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def validator_message(err: Any) -> Said:
    """Pydantic's error as a marked sentence: a validator's own ``N_`` sentence, a known
    type's sentence with its limits, else pydantic's English as it is."""
    ctx = err.get("ctx") or {}
    raised = ctx.get("error")
    if isinstance(raised, ValueError) and raised.args and isinstance(raised.args[0], Said):
        return raised.args[0]
    known = TYPE_MESSAGES.get(err["type"])
    if known is not None:
        wanted = re.findall(r"%\((\w+)\)s", known.message)
        if all(name in ctx for name in wanted):
            return N_(known.message, **{name: _number(ctx[name]) for name in wanted})
    return Said(str(err["msg"]).removeprefix("Value error, "))
