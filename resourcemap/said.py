"""A sentence the domain says to a person, read later in that person's language.

The domain knows no languages (the web layer does, through gettext): it says a sentence as
its English message id, with ``%(name)s`` placeholders and their values, marked with
``N_`` so that ``tools/messages.py`` extracts it into the catalogues. ``str()`` of it is the
English sentence (command line, JSON API, logs); ``web.i18n.said`` reads it in the
request's language. A validator may raise ``ValueError(N_(...))``: pydantic keeps the
exception, so the sentence survives a ``ValidationError``.

>>> reason = N_("%(code)s is not a known area code", code="4499")
>>> str(reason)
'4499 is not a known area code'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Said:
    message: str
    values: tuple[tuple[str, Any], ...] = ()

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


def said(reason: str | Said) -> Said:
    """A sentence from text that is not yet marked (a domain error's English reason)."""
    return reason if isinstance(reason, Said) else Said(reason)


def said_of(exc: BaseException) -> Said:
    """What an exception says: the sentence it was raised with, or its English text."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Said) else Said(str(exc))
