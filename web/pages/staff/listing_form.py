"""The resource form: stored listings to form values, and submitted forms back to input.

Pure conversion, no HTTP: the staff pages render what this produces and hand what it
parses to ``resourcemap.listings.edits``. Weekly hours are typed as one line per weekday
("09:00-12:00, 14:00-17:30"); exceptions and qualifications as numbered rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, NamedTuple

from pydantic import ValidationError
from starlette.datastructures import FormData

from resourcemap.errors import InvalidInput
from resourcemap.listings import edits
from resourcemap.listings.hours import WEEKDAYS, Interval, hhmm, minutes, validate
from resourcemap.vocab import Eligibility
from web import forms, i18n
from web.i18n import _

MAX_ROWS = 60


def required_messages() -> dict[str, str]:
    """What the form says of a required field left empty, in its own words."""
    return {
        "name_zh": _("Enter the name in Chinese."),
        "kind": _("Choose what kind of service this is."),
        "status": _("Choose a status."),
        "organisation_id": _("Choose the organisation."),
    }


def field_labels() -> dict[str, str]:
    """The form's fields by the labels it shows them with (staff/form.html), for the
    validators' messages, which do not name the field they are about."""
    return {
        "name_zh": _("Name (Chinese)"),
        "name_en": _("Name (English)"),
        "description_zh": _("Description (Chinese)"),
        "description_en": _("Description (English)"),
        "external_id": _("External id (for imports)"),
        "languages": _("Languages"),
        "accessibility_note": _("Accessibility note"),
        "accessibility_note_en": _("Accessibility note in English"),
        "fee_note": _("Fee note"),
        "fee_note_en": _("Fee note in English"),
        "eligibility_note_zh": _("Eligibility note (Chinese)"),
        "eligibility_note_en": _("Eligibility note (English)"),
        "capacity": _("Capacity (people at once)"),
        "phone": _("Phone"),
        "email": _("E-mail"),
        "website": _("Website"),
        "lat": _("Latitude"),
        "lon": _("Longitude"),
        "address_zh": _("Address (Chinese)"),
        "address_en": _("Address (English)"),
        "kind": _("Kind"),
        "organisation_id": _("Organisation"),
        "status": _("Status"),
        "services": _("Services"),
        "audiences": _("Audiences"),
        "modes": _("Modes"),
        "accessibility": _("Accessibility"),
        "fee": _("Fee"),
        "eligibility": _("Who may use it"),
        "community_code": _("Community"),
        "service_area_codes": _("Service areas (teams, hotlines)"),
        "always_open": _("Always open (24/7)"),
        "hours": _("Opening hours"),
        "exceptions": _("Exceptions (holidays, closures)"),
    }


def labels() -> dict[str, Any]:
    """What the form's template names its fields with: the same words as its errors."""
    return {"weekdays": WEEKDAYS, "labels": field_labels()}


def text(form: FormData, key: str) -> str:
    value = form.get(key)
    # No one types a NUL; PostgreSQL refuses to store one.
    return value.replace("\x00", "") if isinstance(value, str) else ""


SCALARS = (
    "external_id", "organisation_id", "kind", "name_zh", "name_en", "description_zh",
    "description_en", "accessibility_note", "accessibility_note_en", "fee", "fee_note",
    "fee_note_en", "phone", "email", "website",
    "capacity", "status", "lat", "lon", "address_zh", "address_en", "community_code",
    "eligibility", "eligibility_note_zh", "eligibility_note_en",
)  # fmt: skip
CHOICES = ("services", "audiences", "modes", "accessibility", "service_area_codes")
EXCEPTION_FIELDS = ("start_date", "end_date", "opens", "closes", "note")
QUALIFICATION_FIELDS = ("type", "certificate_number", "issuer", "issued_on", "verified_on")
HOURS_PART = re.compile(r"^(\d{1,2}:\d{2})\s*[-–—~～至]\s*(\d{1,2}:\d{2})$")


def values_from_input(data: edits.ResourceIn) -> dict[str, Any]:
    """What the form shows for a stored resource: strings, lists of strings, rows."""
    plain = data.model_dump(mode="json")
    values: dict[str, Any] = {k: "" if plain[k] is None else str(plain[k]) for k in SCALARS}
    values.update({k: list(plain[k]) for k in CHOICES})
    values["languages"] = ", ".join(data.languages)
    values["always_open"] = data.always_open
    days: list[list[str]] = [[] for _ in range(7)]
    for h in data.hours:
        days[h.weekday].append(f"{h.opens}-{h.closes}")
    values["hours"] = [", ".join(d) for d in days]
    values["exceptions"] = [
        {**{k: "" if e[k] is None else str(e[k]) for k in EXCEPTION_FIELDS}, "closed": e["closed"]}
        for e in plain["exceptions"]
    ]
    values["qualifications"] = [
        {k: "" if q[k] is None else str(q[k]) for k in QUALIFICATION_FIELDS}
        for q in plain["qualifications"]
    ]
    return values


def _rows(form: FormData, prefix: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS):
        if not any(f"{prefix}-{i}-{f}" in form for f in fields):
            break
        rows.append({f: text(form, f"{prefix}-{i}-{f}").strip() for f in fields})
    return rows


def values_from_form(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: text(form, k).strip() for k in SCALARS}
    values.update({k: [v for v in form.getlist(k) if isinstance(v, str) and v] for k in CHOICES})
    values["languages"] = text(form, "languages").strip()
    values["always_open"] = "always_open" in form
    values["hours"] = [text(form, f"hours_{d}").strip() for d in range(7)]
    exceptions = _rows(form, "exc", EXCEPTION_FIELDS)
    for i, row in enumerate(exceptions):
        row["closed"] = f"exc-{i}-closed" in form
    values["exceptions"] = exceptions
    values["qualifications"] = _rows(form, "q", QUALIFICATION_FIELDS)
    values["back"] = text(form, "back")  # not the listing's: where saving returns
    return values


def _blank(row: dict[str, Any]) -> bool:
    return not any(v for k, v in row.items() if k != "closed")


def _parse_day(weekday: int, line: str) -> tuple[list[dict[str, Any]], str | None]:
    """``"09:00-12:00, 14:00-17:30"`` → HoursIn entries, or why not. Full-width forms, as a
    Chinese keyboard types them ("09：00－12：00"), are read as their plain ones."""
    line = unicodedata.normalize("NFKC", line)
    parts = [p.strip() for p in re.split(r"[,，、;；]", line) if p.strip()]
    entries, intervals = [], []
    for part in parts:
        match = HOURS_PART.match(part)
        if match is None:
            return [], _("“%(part)s” should look like 09:00-12:00.", part=part)
        try:
            opens, closes = minutes(match[1]), minutes(match[2])
        except InvalidInput as exc:
            return [], i18n.said(exc.said)
        entries.append({"weekday": weekday, "opens": hhmm(opens), "closes": hhmm(closes)})
        intervals.append(Interval(weekday, opens, closes))
    try:
        validate(intervals)
    except InvalidInput:
        return [], _("Each span must start before it ends, and spans must not overlap.")
    return entries, None


class Payload(NamedTuple):
    data: dict[str, Any]
    errors: dict[str, str]
    exception_rows: list[int]  # form row of each submitted exception
    qualification_rows: list[int]


def payload_of(values: dict[str, Any]) -> Payload:
    """The form's values as ``ResourceIn`` input; empty optional fields become ``None``."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {k: values[k] for k in SCALARS}
    data.update({k: values[k] for k in CHOICES}, always_open=values["always_open"])
    for key in ("external_id", "organisation_id", "lat", "lon"):
        data[key] = data[key] or None
    # A form from before the field existed means what the model's default means.
    data["eligibility"] = data["eligibility"] or Eligibility.PUBLIC.value
    data["languages"] = [c for c in re.split(r"[\s,，、;；]+", values["languages"]) if c]
    data["hours"] = []
    for day, line in enumerate(values["hours"]):
        entries, problem = _parse_day(day, line)
        data["hours"] += entries
        if problem is not None:
            errors[f"hours_{day}"] = forms.labelled(i18n.said(WEEKDAYS[day]), problem)
    exc_rows = [i for i, row in enumerate(values["exceptions"]) if not _blank(row)]
    data["exceptions"] = []
    for i in exc_rows:
        row = values["exceptions"][i]
        for key in ("opens", "closes"):
            if row[key]:
                try:
                    minutes(row[key])
                except InvalidInput as exc:
                    errors[f"exc-{i}-{key}"] = forms.labelled(_row(i), i18n.said(exc.said))
        data["exceptions"].append(
            {k: row[k] or None for k in ("start_date", "end_date", "opens", "closes")}
            | {"closed": row["closed"], "note": row["note"]}
        )
    q_rows = [i for i, row in enumerate(values["qualifications"]) if not _blank(row)]
    data["qualifications"] = [
        {k: row[k] for k in ("type", "certificate_number", "issuer")}
        | {"issued_on": row["issued_on"] or None, "verified_on": row["verified_on"] or None}
        for row in (values["qualifications"][i] for i in q_rows)
    ]
    return Payload(data, errors, exc_rows, q_rows)


def _row(index: int) -> str:
    """How an error names an exception row of the form ("例外第 2 行")."""
    return _("Exception %(n)s", n=index + 1)


def past_rows(
    data: edits.ResourceIn, payload: Payload, stored: edits.ResourceIn | None, today: dt.date
) -> dict[str, str]:
    """Special dates typed in that are over already (a slip of the year, as often as not:
    "2025-02-01" for the coming Spring Festival, which then stays open for booking). Those
    saved before stay as they are: last year's closures come back with every save."""
    kept = {(e.start_date, e.end_date) for e in stored.exceptions} if stored else set()
    errors: dict[str, str] = {}
    for e, row in zip(data.exceptions, payload.exception_rows, strict=True):
        if e.end_date < today and (e.start_date, e.end_date) not in kept:
            errors[f"exc-{row}-end_date"] = forms.labelled(
                _row(row),
                _("%(date)s has passed. Check the year, or clear the row.", date=e.end_date),
            )
    return errors


def _field_of(loc: tuple[int | str, ...], msg: str, payload: Payload) -> str:
    """The form field a pydantic error belongs to."""
    if not loc:
        # Whole-model checks name the fields only in their message.
        if "service_area_codes" in msg:
            return "service_area_codes"
        return "location" if "lat" in msg else "_form"
    head = str(loc[0])
    if head in ("exceptions", "qualifications") and len(loc) > 1 and isinstance(loc[1], int):
        rows = payload.exception_rows if head == "exceptions" else payload.qualification_rows
        prefix = "exc" if head == "exceptions" else "q"
        row = rows[loc[1]]
        return f"{prefix}-{row}-{loc[2]}" if len(loc) > 2 else f"{prefix}-{row}"
    return head


def field_errors(exc: ValidationError, payload: Payload) -> dict[str, str]:
    return forms.field_errors(
        exc,
        empty=required_messages(),
        field_of=lambda err: _field_of(tuple(err["loc"]), str(err["msg"]), payload),
        labels=field_labels(),
    )


def with_blank_rows(values: dict[str, Any], extra: int) -> dict[str, Any]:
    """Filled exception and qualification rows, then ``extra`` blank ones to type into."""
    return {
        **values,
        "exceptions": [r for r in values["exceptions"] if not _blank(r)]
        + [dict.fromkeys(EXCEPTION_FIELDS, "") | {"closed": True}] * extra,
        "qualifications": [r for r in values["qualifications"] if not _blank(r)]
        + [dict.fromkeys(QUALIFICATION_FIELDS, "")] * extra,
    }
