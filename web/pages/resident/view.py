"""Resident pages' data as people read it: slots grouped by day, hours by weekday, names of
languages, filter choices. Pure conversion in the current language, no HTTP, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names

from resourcemap.booking import slots
from resourcemap.vocab import (
    AUDIENCE_LABELS,
    ELIGIBILITY_LABELS,
    FEE_LABELS,
    MODE_LABELS,
    SERVICE_LABELS,
    Eligibility,
    ResourceKind,
)
from web import i18n

K = TypeVar("K", bound=str)


@dataclass(frozen=True)
class SlotChoice:
    value: str  # the start with its offset, as BookingIn.starts_at takes it
    starts: dt.datetime
    ends: dt.datetime
    remaining: int
    capacity: int

    @property
    def full(self) -> bool:
        return self.remaining <= 0

    @property
    def label(self) -> str:
        return f"{i18n.clock(self.starts)}–{i18n.clock(self.ends)}"


@dataclass
class SlotDay:
    day: dt.date
    slots: list[SlotChoice] = field(default_factory=list)

    @property
    def label(self) -> str:
        return i18n.day_label(self.day)

    @property
    def free(self) -> int:
        return sum(1 for s in self.slots if not s.full)


def slot_days(listed: slots.SlotList, tz: ZoneInfo) -> list[SlotDay]:
    """Every slot (full ones too: they can be waited for), grouped by local day."""
    days: dict[dt.date, SlotDay] = {}
    for s, e, capacity, remaining in listed.local_rows(tz):
        choice = SlotChoice(s.isoformat(), s, e, remaining, capacity)
        days.setdefault(s.date(), SlotDay(s.date())).slots.append(choice)
    return list(days.values())


def preview(days: list[SlotDay], *, max_days: int = 3, per_day: int = 6) -> list[SlotDay]:
    """The first days with free slots, a few slots each: a 24/7 service has hundreds a week,
    and a page listing them all helps nobody decide."""
    shown: list[SlotDay] = []
    for day in days:
        free = [s for s in day.slots if not s.full]
        if free:
            shown.append(SlotDay(day.day, free[:per_day]))
        if len(shown) == max_days:
            break
    return shown


def weekly_hours(lines: Iterable[Mapping[str, object]]) -> list[tuple[str, str]]:
    """``[(weekday name, "09:00–12:00, 14:00–17:30")]`` Monday first, open days only."""
    names = get_day_names("wide", locale=i18n.current().babel)
    by_day: dict[int, list[str]] = {}
    for line in lines:
        weekday = int(str(line["weekday"]))
        by_day.setdefault(weekday, []).append(f"{line['opens']}–{line['closes']}")
    return [(names[d], ", ".join(spans)) for d, spans in sorted(by_day.items())]


def language_name(code: str) -> str:
    try:
        name = Locale.parse(code).get_display_name(i18n.current().babel)
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


def choices(labels: Mapping[K, tuple[str, str]]) -> list[tuple[str, str]]:
    return [(str(code), i18n.label(pair)) for code, pair in labels.items()]


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """Options of the search form's plain controls, in the current language."""
    kinds = [(k.value, i18n.label((k.info.label_zh, k.info.label_en))) for k in ResourceKind]
    return {
        "kind": kinds,
        "service": choices(SERVICE_LABELS),
        "audience": choices(AUDIENCE_LABELS),
        # "Fee not stated" is no choice: the filter finds free or paid services.
        "fee": [c for c in choices(FEE_LABELS) if c[0] != "unknown"],
        "mode": choices(MODE_LABELS),
        "language": [(c, language_name(c)) for c in ("zh", "yue", "en")],
    }


def kind_label(kind: str) -> str:
    try:
        info = ResourceKind(kind).info
    except ValueError:
        return kind
    return i18n.label((info.label_zh, info.label_en))


def eligibility_label(code: str) -> str:
    """``仅限本校学生`` / ``Students only``: who may use a listing, when its note is empty."""
    try:
        return i18n.label(ELIGIBILITY_LABELS[Eligibility(code)])
    except ValueError:
        return code
