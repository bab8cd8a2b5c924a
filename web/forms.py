"""One helper from a pydantic error to field messages, for every form of every audience.

A form shows what is wrong next to each field and in the error summary at its top (the
GOV.UK pattern: ``_error_summary.html``), in the reader's language only: a message the page
gives for the field, else the validator's own sentence or pydantic's error type as a gettext
sentence (``resourcemap.said.validator_message``), never pydantic's English wording on a
Chinese page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from resourcemap.errors import DomainError
from resourcemap.said import Said, validator_message
from web import i18n
from web.i18n import _

FORM = "_form"  # errors of the whole form, listed without a link


def message(err: Any) -> str:
    """One pydantic error as the reader reads it."""
    sentence = validator_message(err)
    if i18n.current() is not i18n.EN and not _translated(sentence):
        return _("Please check this.")  # the validator spoke English the catalogue lacks
    return i18n.said(sentence)


def reason(exc: DomainError) -> str:
    """What the domain refused, as the reader reads it (its English only on English pages)."""
    if i18n.current() is not i18n.EN and not _translated(exc.said):
        return _("Please check this.")
    return i18n.sentence(i18n.said(exc.said))


def _translated(sentence: Said) -> bool:
    return i18n.translations(i18n.current()).ugettext(sentence.message) != sentence.message


def _empty(err: Any) -> bool:
    return err["type"] in ("missing", "string_too_short") or err.get("input") in ("", None)


def labelled(label: str, message: str) -> str:
    """``message`` about the field ``label``: "Capacity: must be at least 1" /
    "同时可接待人数：不能小于 1". An error summary lists messages apart from their fields,
    and a validator's own words ("不能小于 1") do not say which field they mean."""
    return _("%(label)s:", label=label) + i18n.after_colon() + message


def field_errors(
    exc: ValidationError,
    messages: Mapping[str, str] | None = None,
    *,
    empty: Mapping[str, str] | None = None,
    field_of: Callable[[Any], str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The first message per form field, in the order pydantic found them.

    ``messages`` gives a field the page's own words for any error ("Enter a phone number of
    6 to 24 digits"), ``empty`` for a field left empty ("Enter the name in Chinese");
    ``field_of`` names the field of an error whose ``loc`` is not simply the field (rows,
    whole-model checks), by default its first part, or ``_form``; ``labels`` names the
    field in a validator's own words (:func:`labelled`).
    """
    given, blank, named = messages or {}, empty or {}, labels or {}
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        field = field_of(err) if field_of is not None else (str(loc[0]) if loc else FORM)
        if field not in errors:
            said = blank.get(field) if _empty(err) else None
            own = given.get(field) or said
            if own is None and field in named:
                own = labelled(named[field], message(err))
            errors[field] = own or message(err)
    return errors
