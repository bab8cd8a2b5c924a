"""Booking page forms: what staff type to what the booking domain takes, and back.

Pure conversion, no HTTP, like ``web.pages.staff.listing_form``: dates and clock times in the
configured zone, booking rules as text fields, free slots as options grouped by day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from resourcemap.booking import seats, slots
from resourcemap.booking.staff import BlockIn, PolicyIn
from web import forms, i18n
from web.i18n import _

POLICY_NUMBERS = seats.RULE_COLUMNS
BLOCK_FIELDS = ("block_date", "block_from", "block_to", "block_reason")
# Chinese input methods type a full-width colon; both mean the same to staff.
CLOCK = re.compile(r"^(\d{1,2})\s*[:：]\s*(\d{2})$")


def rule_labels() -> dict[str, str]:
    """The booking rules form's fields by their labels (staff/booking_rules.html): its
    fields, its error summary and a listing's change history name them alike."""
    return {
        "slot_minutes": _("Slot length, minutes"),
        "buffer_minutes": _("Break between slots, minutes"),
        "seats": _("Seats per slot"),
        "horizon_days": _("Bookable days ahead"),
        "min_notice_minutes": _("Minimum notice for residents, minutes"),
        "change_notice_minutes": _("Residents may cancel or move until, minutes before"),
        "block_date": _("Date"),
        "block_reason": _("Reason (staff only)"),
        "block_from": _("Start time"),
        "block_to": _("End time"),
        "enabled": _("Takes bookings"),
        "referral_seats": _("Extra seats per slot that only a referral can take"),
    }


def day_label(day: dt.date) -> str:
    """``12月2日周三`` / ``Wed, Dec 2``: how staff say a day, in their language."""
    return i18n.day_label(day)


def span_label(starts: dt.datetime, ends: dt.datetime) -> str:
    """A span of local time as staff read it: a day, or times on one day."""
    day = starts.date()
    if starts.time() == dt.time() and ends == starts + dt.timedelta(days=1):
        return i18n.gettext("%(day)s, all day", day=day_label(day))
    at_midnight = ends.date() == day + dt.timedelta(days=1) and ends.time() == dt.time()
    if ends.date() == day or at_midnight:
        end = "24:00" if at_midnight else f"{ends:%H:%M}"
        return f"{day_label(day)} {starts:%H:%M}–{end}"
    return f"{day_label(day)} {starts:%H:%M} – {day_label(ends.date())} {ends:%H:%M}"


def parse_day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        return None


def parse_clock(text: str) -> int | None:
    """Minutes after midnight of ``HH:MM`` (``24:00`` is the next midnight), else None."""
    match = CLOCK.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def errors_of(exc: ValidationError, rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """Pydantic errors keyed by form field (the first message per field); errors of the whole
    model go to ``rename[""]`` (else ``_form``)."""
    names = rename or {}

    def field_of(err: Any) -> str:
        name = str(err["loc"][0]) if err["loc"] else ""
        return names.get(name, name or forms.FORM)

    return forms.field_errors(exc, field_of=field_of)


# --- booking rules ------------------------------------------------------------------------


def policy_values(policy: Mapping[str, Any]) -> dict[str, Any]:
    """Form values of stored rules; a resource without rules shows the defaults, switched off."""
    defaults = PolicyIn().model_dump()
    values: dict[str, Any] = {k: str(policy.get(k, defaults[k])) for k in POLICY_NUMBERS}
    values["enabled"] = bool(policy.get("enabled", False))
    return values


def policy_input(
    form: Mapping[str, str],
) -> tuple[dict[str, Any], PolicyIn | None, dict[str, str]]:
    """Typed values, the rules if valid, and per-field errors."""
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in POLICY_NUMBERS}
    values["enabled"] = bool(form.get("enabled"))
    try:
        return values, PolicyIn.model_validate(values), {}
    except ValidationError as exc:
        return values, None, errors_of(exc)


# --- blocked time -------------------------------------------------------------------------


def block_input(
    form: Mapping[str, str], tz: ZoneInfo, today: dt.date
) -> tuple[dict[str, str], BlockIn | None, dict[str, str]]:
    """A block from a date and two clock times in ``tz``; no times blocks the whole day.
    A day before ``today`` blocks nothing anyone could book: refused, not saved in silence."""
    values = {k: form.get(k, "").strip() for k in BLOCK_FIELDS}
    errors: dict[str, str] = {}
    day = parse_day(values["block_date"])
    if not values["block_date"]:
        errors["block_date"] = _("Enter the date.")
    elif day is None:
        errors["block_date"] = _("Enter a date like %(example)s.", example=today.isoformat())
    elif day < today:
        errors["block_date"] = _("That date has passed: enter today or a later date.")
    whole_day = not values["block_from"] and not values["block_to"]
    opens = 0 if whole_day else parse_clock(values["block_from"])
    closes = 1440 if whole_day else parse_clock(values["block_to"])
    for name, minute in (("block_from", opens), ("block_to", closes)):
        if minute is None:
            errors[name] = (
                _("Give this time too, or leave both times empty to block the whole day.")
                if not values[name]
                else _("Enter a time like 09:30.")
            )
    if errors or day is None or opens is None or closes is None:
        return values, None, errors
    try:
        block = BlockIn(
            starts_at=_wall_time(day, opens, tz),
            ends_at=_wall_time(day, closes, tz),
            reason=values["block_reason"],
        )
    except ValidationError as exc:
        rename = {"starts_at": "block_from", "ends_at": "block_to", "reason": "block_reason"}
        errors = errors_of(exc, rename | {"": "block_to"})
        if any("ends_at must" in e["msg"] for e in exc.errors()):
            errors["block_to"] = _("The end must be after the start.")
        return values, None, errors
    return values, block, {}


def _wall_time(day: dt.date, minute: int, tz: ZoneInfo) -> dt.datetime:
    if minute >= 1440:
        day, minute = day + dt.timedelta(days=1), minute - 1440
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tz)


# --- free slots ---------------------------------------------------------------------------


def slot_options(listed: slots.SlotList, tz: ZoneInfo) -> list[tuple[str, list[tuple[str, str]]]]:
    """Free slots as ``(day label, [(value, label)])``; the value is the start with its offset,
    as ``BookingIn.starts_at`` takes it."""
    groups: dict[dt.date, list[tuple[str, str]]] = {}
    for s, e, capacity, remaining in listed.local_rows(tz):
        if remaining <= 0:
            continue
        seats = (
            i18n.gettext("(%(n)s of %(total)s seats free)", n=remaining, total=capacity)
            if capacity > 1
            else ""
        )
        label = f"{s:%H:%M}–{e:%H:%M} {seats}".strip()
        groups.setdefault(s.date(), []).append((s.isoformat(), label))
    return [(f"{day_label(day)} · {day.isoformat()}", opts) for day, opts in groups.items()]
