"""Compact text for the nested parts of a listing, as people type them in one spreadsheet cell.

- lists: ``counselling; group_activity`` or ``心理咨询、团体活动`` (``[]`` alone: empty list)
- hours: ``Mon-Fri 09:00-12:00,14:00-17:30; Sat 09:00-12:00`` or ``周一至周五 09:00-12:00``
- exceptions: ``2026-10-01..2026-10-07 closed 国庆; 2026-12-04 09:00-12:00 培训日``
- qualifications: ``psychiatrist|YS-2015-000123|测试市卫生健康委员会|2015-07-01|2026-03-01``

Each parser raises :class:`TextError` with a message that quotes the part it could not read.
Exceptions and qualifications also accept a JSON array of objects (what the exporter writes
when a note itself holds a ``;``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from resourcemap.errors import InvalidInput
from resourcemap.listings.hours import WEEKDAYS_EN, Interval, minutes, summarise
from resourcemap.said import N_, Said

EMPTY_LIST = "[]"
EMPTY_MARKERS = ("[]", "-", "无", "none")
LIST_SEPARATORS = re.compile(r"[;；、,，\n]+")
GROUP_SEPARATORS = re.compile(r"[;；\n]+")
_DASH = r"(?:-|–|—|~|～|至|到)"
_RANGE = re.compile(rf"\s*{_DASH}\s*")
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?-(\d{1,2}):(\d{2})(?::00)?$")
_DAYS_THEN_TIMES = re.compile(r"^(?P<days>\D+?)\s*(?P<times>\d.*)?$")
CLOSED_WORDS = ("closed", "关闭", "休息", "闭馆", "停诊", "暂停", "不开放")

_CN_DAYS = "一二三四五六日"
DAY_NAMES: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(WEEKDAYS_EN)},
    **{name: i for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )},
    **{code: i for i, code in enumerate(("mo", "tu", "we", "th", "fr", "sa", "su"))},
    **{f"{prefix}{d}": i for prefix in ("周", "星期", "礼拜") for i, d in enumerate(_CN_DAYS)},
    **{f"{prefix}天": 6 for prefix in ("周", "星期", "礼拜")},
    "tues": 1, "thur": 3, "thurs": 3,
}  # fmt: skip
DAY_SETS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(("每天", "每日", "全周", "daily", "everyday", "every day"), tuple(range(7))),
    **dict.fromkeys(("工作日", "weekdays"), tuple(range(5))),
    **dict.fromkeys(("周末", "weekends", "weekend"), (5, 6)),
}
_DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
_EXCEPTION = re.compile(
    rf"^(?P<start>{_DATE})(?:\s*(?:\.\.|~|～|至|到)\s*(?P<end>{_DATE}))?\s+"
    rf"(?P<what>[^\s]+(?:\s*{_DASH}\s*\d{{1,2}}[:：]\d{{2}})?)(?:\s+(?P<note>.*))?$",
    re.DOTALL,
)


class TextError(ValueError):
    """A cell that does not follow the compact syntax; the message says where."""


def split_list(text: str) -> list[str]:
    """``"a; b、c"`` → ``["a", "b", "c"]``; ``"[]"`` (or ``-``, ``无``) is an empty list."""
    if text.strip().lower() in EMPTY_MARKERS:
        return []
    return [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]


def join_list(values: Iterable[str]) -> str:
    items = list(values)
    return "; ".join(items) if items else EMPTY_LIST


def _normalise(text: str) -> str:
    return text.replace("：", ":").replace("，", ",").replace("\u3000", " ").strip()


def _day(name: str) -> int:
    day = DAY_NAMES.get(name.strip().lower().rstrip("."))
    if day is None:
        raise TextError(N_("%(name)r is not a weekday (use Mon … Sun or 周一 … 周日)", name=name))
    return day


def _days(text: str) -> list[int]:
    text = text.strip()
    if text.lower() in DAY_SETS:
        return list(DAY_SETS[text.lower()])
    days: list[int] = []
    for part in re.split(r"[,、/\s]+", _RANGE.sub("-", text)):
        if not part:
            continue
        if part.lower() in DAY_SETS:
            days += DAY_SETS[part.lower()]
            continue
        first, _, last = part.partition("-")
        start = _day(first)
        end = _day(last) if last else start
        days += [(start + i) % 7 for i in range((end - start) % 7 + 1)]  # Sat-Mon wraps
    if not days:
        raise TextError(N_("%(text)r names no weekday", text=text))
    return days


def _time_range(text: str) -> tuple[str, str]:
    match = _TIME_RANGE.match(text)
    if match is None:
        raise TextError(N_("%(text)r is not a time range like 09:00-12:00", text=text))
    h1, m1, h2, m2 = match.groups()
    opens, closes = f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"
    for t in (opens, closes):
        try:
            minutes(t)
        except InvalidInput as exc:
            raise TextError(exc.said) from None
    return opens, closes


def parse_hours(text: str) -> list[dict[str, Any]]:
    """Weekly hours from compact text, as ``HoursIn`` dicts.

    >>> parse_hours("Mon-Tue 09:00-12:00, 14:00-17:30")[1]
    {'weekday': 0, 'opens': '14:00', 'closes': '17:30'}
    >>> [h["weekday"] for h in parse_hours("周一至周三 9:00-12:00；周六 休息")]
    [0, 1, 2]
    """
    result: list[dict[str, Any]] = []
    for group in GROUP_SEPARATORS.split(_normalise(text)):
        group = group.strip()
        if not group:
            continue
        match = _DAYS_THEN_TIMES.match(group)
        if match is None:
            raise TextError(
                N_(
                    "%(group)r: write days then times, e.g. 'Mon-Fri 09:00-17:00' "
                    "or '周一至周五 09:00-17:00'",
                    group=group,
                )
            )
        days_text = match["days"].strip()
        if match["times"] is None:
            closed = next((w for w in CLOSED_WORDS if days_text.lower().endswith(w)), None)
            if closed is None:
                raise TextError(N_("%(group)r has no opening times", group=group))
            _days(days_text[: -len(closed)])  # still check the day names
            continue
        times = re.split(r"[,、\s]+", _RANGE.sub("-", match["times"].strip()))
        intervals = [_time_range(t) for t in times if t]
        for day in _days(days_text):
            result += [{"weekday": day, "opens": o, "closes": c} for o, c in intervals]
    return sorted(result, key=lambda h: (h["weekday"], h["opens"]))


def format_hours(hours: Iterable[Mapping[str, Any]]) -> str:
    """The compact English text of weekly hours (what :func:`parse_hours` reads back)."""
    intervals = [Interval(h["weekday"], minutes(h["opens"]), minutes(h["closes"])) for h in hours]
    return "; ".join(summarise(intervals, lang="en"))


def json_refusal(exc: ValueError) -> Said:
    """Why a JSON text does not parse, with where when the parser knows it."""
    if isinstance(exc, json.JSONDecodeError):
        return N_(
            "not valid JSON (line %(line)s, column %(column)s)", line=exc.lineno, column=exc.colno
        )
    return N_("not valid JSON")


def _json_list(text: str) -> list[Any] | None:
    if not text.lstrip().startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise TextError(json_refusal(exc)) from None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TextError(N_("a JSON value here must be a list of objects"))
    return value


def _date(text: str) -> str:
    parts = re.split(r"[-/.]", text)
    return f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"


def parse_exceptions(text: str) -> list[dict[str, Any]]:
    """Dated exceptions from compact text, as ``ExceptionIn`` dicts.

    >>> parse_exceptions("2026-10-01..2026-10-07 closed 国庆")[0]["end_date"]
    '2026-10-07'
    """
    as_json = _json_list(text)
    if as_json is not None:
        return as_json
    result: list[dict[str, Any]] = []
    for entry in GROUP_SEPARATORS.split(text):  # notes keep their own punctuation
        entry = entry.replace("\u3000", " ").strip()
        if not entry:
            continue
        match = _EXCEPTION.match(entry)
        if match is None:
            raise TextError(
                N_(
                    "%(entry)r: write a date or range, then 'closed' or a time range, "
                    "then an optional note, e.g. '2026-10-01..2026-10-07 closed 国庆'",
                    entry=entry,
                )
            )
        start = _date(match["start"])
        item: dict[str, Any] = {
            "start_date": start,
            "end_date": _date(match["end"]) if match["end"] else start,
            "note": (match["note"] or "").strip(),
        }
        what = match["what"]
        if what.lower() in CLOSED_WORDS:
            item["closed"] = True
        else:
            item["opens"], item["closes"] = _time_range(_RANGE.sub("-", _normalise(what)))
            item["closed"] = False
        result.append(item)
    return result


def _needs_json(values: Iterable[str], *separators: str) -> bool:
    return any(any(s in v for s in (*separators, ";", "；", "\n")) for v in values)


def format_exceptions(exceptions: Iterable[Mapping[str, Any]]) -> str:
    items = [dict(e) for e in exceptions]
    if _needs_json([str(e.get("note", "")) for e in items]):
        return json.dumps(items, ensure_ascii=False, default=str)
    parts = []
    for e in items:
        start, end = str(e["start_date"]), str(e["end_date"])
        days = start if start == end else f"{start}..{end}"
        what = "closed" if e.get("closed", True) else f"{e['opens']}-{e['closes']}"
        parts.append(" ".join(p for p in (days, what, str(e.get("note", ""))) if p))
    return "; ".join(parts)


QUALIFICATION_FIELDS = ("type", "certificate_number", "issuer", "issued_on", "verified_on")


def parse_qualifications(text: str) -> list[dict[str, Any]]:
    """``type|certificate_number|issuer[|issued_on[|verified_on]]`` entries, ``;``-separated."""
    as_json = _json_list(text)
    if as_json is not None:
        return as_json
    result: list[dict[str, Any]] = []
    for entry in GROUP_SEPARATORS.split(text):
        if not entry.strip():
            continue
        parts = [p.strip() for p in entry.split("|")]
        if not 3 <= len(parts) <= 5:
            raise TextError(
                N_(
                    "%(entry)r: write type|certificate_number|issuer[|issued_on[|verified_on]]",
                    entry=entry.strip(),
                )
            )
        item: dict[str, Any] = dict(zip(QUALIFICATION_FIELDS, parts, strict=False))
        for key in ("issued_on", "verified_on"):
            if key in item:
                item[key] = (
                    _date(item[key]) if re.fullmatch(_DATE, item[key]) else item[key] or None
                )
        result.append(item)
    return result


def format_qualifications(qualifications: Iterable[Mapping[str, Any]]) -> str:
    items = [dict(q) for q in qualifications]
    texts = [str(q.get(k) or "") for q in items for k in QUALIFICATION_FIELDS]
    if _needs_json(texts, "|"):
        return json.dumps(items, ensure_ascii=False, default=str)
    rows = ["|".join(str(q.get(k) or "") for k in QUALIFICATION_FIELDS).rstrip("|") for q in items]
    return "; ".join(rows)


def parse_bool(text: str) -> bool | str:
    """``true``/``false`` and the usual spellings (是/否, yes/no, 1/0, √/×); else unchanged."""
    key = text.strip().lower()
    if key in ("true", "yes", "y", "1", "是", "√", "✓", "t"):
        return True
    if key in ("false", "no", "n", "0", "否", "×", "✗", "f", ""):
        return False
    return text
