"""A listing's change history, as its staff form shows it: who changed what, and when.

Read from the audit log (:mod:`resourcemap.audit`), which keeps each edit's fields before
and after. Staff keep listings true; when a phone number or the hours turn out wrong, the
first question is who changed them and what they were. Fields are named as the form names
them and values said as the form shows them (labels, not codes; hours as the listing page
summarises them); the booking rules' changes and closed times are kept with the listing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.requests import Request

from resourcemap import audit
from resourcemap.listings.hours import Interval, minutes, summarise
from resourcemap.transfer import columns
from resourcemap.vocab import LABELS
from web import i18n
from web.i18n import _
from web.pages.shell import local_time
from web.pages.staff import booking_form
from web.pages.staff import listing_form as resource_form

SHOWN = 20  # the newest entries the form lists
LONGEST = 80  # characters of a text value shown (a description is not read in a list)


@dataclass(frozen=True)
class Change:
    field: str  # as the form labels it
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    at: str  # the configured zone's wall time
    actor: str
    action: str  # what was done, in words
    changes: list[Change]


async def of_listing(request: Request, resource_id: int) -> list[Entry]:
    """The newest :data:`SHOWN` changes of a listing, newest first."""
    query = audit.AuditQuery(entity="resource", entity_id=str(resource_id), limit=SHOWN)
    return [_entry(request, e) for e in await audit.list_entries(query)]


def _entry(request: Request, e: audit.EntryView) -> Entry:
    before, after = e.before or {}, e.after or {}
    changes: list[Change] = []
    if e.action in ("update", "status", "booking_policy"):
        labels = _labels()
        changes = [
            Change(labels.get(k, k), _value(k, before.get(k)), _value(k, after.get(k)))
            for k in after
        ]
    elif e.action == "block_time":
        span = _span(request, after.get("starts_at"), after.get("ends_at"))
        reason = after.get("reason")
        said = _("%(what)s (%(note)s)", what=span, note=reason) if reason else span
        changes = [Change(_("Closed time"), "", said)]
    action = _actions().get(e.action, e.action)
    if e.action == "update" and not changes:
        action = _("Saved unchanged: confirmed as true")
    # Imports and scripts run as the command line, not as a person.
    actor = _("command line") if e.actor == "cli" else e.actor_display or e.actor
    return Entry(at=local_time(request, e.at), actor=actor, action=action, changes=changes)


def _actions() -> dict[str, str]:
    return {
        "create": _("Created"),
        "update": _("Edited"),
        "status": _("Status changed"),
        "booking_policy": _("Booking rules changed"),
        "block_time": _("Time closed to bookings"),
        "unblock_time": _("Closed time reopened"),
    }


def _labels() -> dict[str, str]:
    """Every field an entry may hold, as its form labels it."""
    return (
        resource_form.field_labels()
        | booking_form.rule_labels()
        | {"foreign_fields": _("Other fields of the imported record")}
    )


# Fields whose values are a vocabulary's codes, as imports read them: said by their labels.
_VOCABULARIES: Mapping[str, type[StrEnum]] = columns.ENUMS | columns.ENUM_LISTS


def _value(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field == "hours" and isinstance(value, list):
        return _hours(value)
    if field == "exceptions" and isinstance(value, list):
        return i18n.clause_separator().join(_dated(d) for d in value if isinstance(d, dict))
    vocabulary = _VOCABULARIES.get(field)
    if vocabulary is not None:
        labels = LABELS[vocabulary]
        items = value if isinstance(value, list) else [value]
        return i18n.listing([i18n.vocab(str(item), labels) for item in items])
    if isinstance(value, dict):  # an imported record's other fields, by their own names
        value = i18n.clause_separator().join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return i18n.listing([str(item) for item in value])
    text = str(value)
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _hours(value: list[Any]) -> str:
    """``["0:09:00-17:00", …]`` (the audit's form: weekday, opens, closes) as the listing
    page says them: ``周一至周五 09:00-17:00``."""
    intervals = []
    for item in value:
        day, _colon, span = str(item).partition(":")
        opens, _dash, closes = span.partition("-")
        intervals.append(Interval(int(day), minutes(opens), minutes(closes)))
    return i18n.clause_separator().join(summarise(intervals, lang=i18n.current().babel))


def _dated(d: dict[str, Any]) -> str:
    """A special date as the audit keeps it (``edits.snapshot``): ``2027-02-10–2027-02-12
    closed (Spring Festival)``."""
    start, end = d.get("start_date"), d.get("end_date")
    days = str(start) if start == end else f"{start}–{end}"
    hours = d.get("hours")
    said = _("%(days)s closed", days=days) if hours is None else f"{days} {hours}"
    note = d.get("note")
    return _("%(what)s (%(note)s)", what=said, note=note) if note else said


def _span(request: Request, starts: object, ends: object) -> str:
    """A closed time's span in the configured zone, as the booking rules page says it."""
    if not isinstance(starts, str) or not isinstance(ends, str):
        return ""
    tz = request.app.state.settings.tz
    return booking_form.span_label(
        dt.datetime.fromisoformat(starts).astimezone(tz),
        dt.datetime.fromisoformat(ends).astimezone(tz),
    )
