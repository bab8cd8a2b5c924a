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
from resourcemap.referral.views import ReferralSlot
from resourcemap.said import Said
from resourcemap.vocab import (
    AUDIENCE_LABELS,
    ELIGIBILITY_LABELS,
    FEE_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    SERVICE_LABELS,
    ResourceKind,
)
from web import i18n

K = TypeVar("K", bound=str)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class SlotChoice:
    value: str  # the start with its offset, as BookingIn.starts_at takes it
    starts: dt.datetime
    ends: dt.datetime
    remaining: int
    capacity: int
    # False when changes and cancellations online have already closed for this start (a
    # same-day slot under the policy's change notice): said beside the slot before booking.
    changeable: bool = True

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
    today: dt.date | None = None

    @property
    def label(self) -> str:
        """``今天 12月1日周二`` / ``Today, Tue, Dec 1`` for today and tomorrow."""
        plain = i18n.day_label(self.day)
        if self.today is None:
            return plain
        if self.day == self.today:
            return i18n.gettext("Today, %(day)s", day=plain)
        if self.day == self.today + DAY:
            return i18n.gettext("Tomorrow, %(day)s", day=plain)
        return plain

    @property
    def free(self) -> int:
        return sum(1 for s in self.slots if not s.full)


def slot_days(
    listed: slots.SlotList,
    tz: ZoneInfo,
    *,
    now: dt.datetime | None = None,
    change_notice_minutes: int | None = None,
) -> list[SlotDay]:
    """Every slot (full ones too: they can be waited for), grouped by local day; with
    ``now``, days are named today/tomorrow and slots whose change window has already closed
    are marked."""
    days: dict[dt.date, SlotDay] = {}
    today = None if now is None else now.astimezone(tz).date()
    notice = dt.timedelta(minutes=change_notice_minutes or 0)
    for s, e, capacity, remaining in listed.local_rows(tz):
        changeable = now is None or s - notice >= now
        choice = SlotChoice(s.isoformat(), s, e, remaining, capacity, changeable)
        days.setdefault(s.date(), SlotDay(s.date(), today=today)).slots.append(choice)
    return list(days.values())


def form_day(text: str) -> dt.date | None:
    """The day a form's day tab or hidden ``day`` names, if it reads as one."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def seat_days(seats: Iterable[ReferralSlot], *, today: dt.date) -> list[SlotDay]:
    """A referral's free seats as the booking form's days, so the resident picks among
    them the same way (a day at a time, not two weeks of times on one page). Each is one
    time they can take: how many seats it holds is the receiving service's matter."""
    days: dict[dt.date, SlotDay] = {}
    for seat in seats:
        s, e = seat.starts_at, seat.ends_at
        choice = SlotChoice(s.isoformat(), s, e, remaining=1, capacity=1)
        days.setdefault(s.date(), SlotDay(s.date(), today=today)).slots.append(choice)
    return list(days.values())


def preview(days: list[SlotDay], *, max_days: int = 3, per_day: int = 6) -> list[SlotDay]:
    """The first days with free slots, a few slots each: a 24/7 service has hundreds a week,
    and a page listing them all helps nobody decide."""
    shown: list[SlotDay] = []
    for day in days:
        free = [s for s in day.slots if not s.full]
        if free:
            shown.append(SlotDay(day.day, free[:per_day], day.today))
        if len(shown) == max_days:
            break
    return shown


@dataclass(frozen=True)
class HoursRow:
    weekday: int  # 0 = Monday
    name: str
    spans: list[str]  # "09:00–12:00" in the locale's clock; empty: closed

    @property
    def closed(self) -> bool:
        return not self.spans


def _clock_of(value: object) -> str:
    """``"09:00"`` as the locale writes a time (``9:00 AM`` in English), like slot times."""
    text = str(value)
    if text in ("24:00", "23:59:59"):
        return text
    try:
        return i18n.clock(dt.time.fromisoformat(text))
    except ValueError:
        return text


def weekly_hours(lines: Iterable[Mapping[str, object]]) -> list[HoursRow]:
    """All seven days, Monday first: a closed day is a row too, so a resident sees that
    Saturday is closed rather than wondering whether it was forgotten."""
    names = get_day_names("wide", locale=i18n.current().babel)
    by_day: dict[int, list[tuple[str, str]]] = {}
    for line in lines:
        weekday = int(str(line["weekday"]))
        by_day.setdefault(weekday, []).append((str(line["opens"]), str(line["closes"])))
    return [
        HoursRow(
            d, names[d], [f"{_clock_of(o)}–{_clock_of(c)}" for o, c in sorted(by_day.get(d, []))]
        )
        for d in range(7)
    ]


def opens_label(opens_at: str, now: dt.datetime) -> str:
    """``今天 14:00 开放`` / ``Opens tomorrow at 8:30 AM`` / ``Opens Mon, Dec 7 at 9:00 AM``
    for a result card's ``opens_at`` (local time), said against ``now``."""
    opens = dt.datetime.fromisoformat(opens_at)
    days = (opens.date() - now.astimezone(opens.tzinfo).date()).days
    time = i18n.clock(opens)
    if days == 0:
        return i18n.gettext("Opens today at %(time)s", time=time)
    if days == 1:
        return i18n.gettext("Opens tomorrow at %(time)s", time=time)
    return i18n.gettext("Opens %(day)s at %(time)s", day=i18n.day_label(opens.date()), time=time)


def language_name(code: str) -> str:
    try:
        name = Locale.parse(code).get_display_name(i18n.current().babel)
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


def choices(labels: Mapping[K, Said]) -> list[tuple[str, str]]:
    return [(str(code), i18n.said(term)) for code, term in labels.items()]


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """Options of the search form's plain controls, in the current language."""
    kinds = [(k.value, i18n.vocab(k)) for k in ResourceKind]
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
    return i18n.vocab(kind, KIND_LABELS)


def reason_label(reason: Mapping[str, str]) -> str:
    """The service or kind a search result matched a need through (``matched_because``)."""
    return i18n.vocab(reason["code"], SERVICE_LABELS if reason["via"] == "service" else KIND_LABELS)


def eligibility_label(code: str) -> str:
    """``仅限本校学生`` / ``Students only``: who may use a listing, when its note is empty."""
    return i18n.vocab(code, ELIGIBILITY_LABELS)
