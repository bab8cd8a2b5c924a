"""Query strings to plain dicts for the domain's pydantic query models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from starlette.requests import Request

from resourcemap.errors import InvalidInput, UnsupportedMediaType


def query_dict(request: Request, *, repeatable: Collection[str] = ()) -> dict[str, object]:
    """Single-valued parameters as strings, repeatable ones as lists.

    Repeatable parameters accept ``kind=a&kind=b`` and ``kind=a,b`` alike; an empty value
    is treated as absent so that plain HTML forms can leave a filter unset. ``lang`` is the
    request's language, which the middleware has read: no query model's field (a client
    sending it as the pages do was refused).
    """
    out: dict[str, object] = {}
    for key in request.query_params:
        if key == "lang":
            continue
        if key in repeatable:
            values = [
                v for raw in request.query_params.getlist(key) for v in raw.split(",") if v.strip()
            ]
            if values:
                out[key] = [v.strip() for v in values]
        else:
            value = request.query_params[key]
            if value != "":
                out[key] = value
    return out


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a clear 4xx.

    Only ``application/json``: a browser sends that type to another site only after a
    preflight this app never grants, so no page elsewhere can book, sign in or write
    through its visitors' browsers (a ``text/plain`` "form" could).
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json", field="Content-Type"
        )
    try:
        body = await request.json()
    except ValueError:
        raise InvalidInput("the body is not valid JSON", field="body") from None
    except RecursionError:
        # Python's json parser recurses once per level: a 2 KB body nested 1,000 deep.
        raise InvalidInput("the body is nested too deeply", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    if (where := nul_in(body)) is not None:
        # No field takes one, and PostgreSQL refuses to store one: a 400, never a 500 (#16).
        raise InvalidInput(f"{where} contains a NUL byte", field=where)
    return body


def nul_in(value: object, where: str = "") -> str | None:
    """The dotted name of the first text in ``value`` (keys too) holding a NUL byte.

    >>> nul_in({"name": "ok", "hours": [{"opens": "09\\x0000"}]})
    'hours.0.opens'
    >>> nul_in({"a": 1}) is None
    True
    """
    if isinstance(value, str):
        return (where or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if "\x00" in str(key):
                return where or "body"
            if (found := nul_in(item, name)) is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := nul_in(item, f"{where}.{i}" if where else str(i))) is not None:
                return found
    return None


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within ``low``…``high``."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", field=name) from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", field=name)
    return value


def page_number(raw: str, most: int) -> int:
    """A page's number from a link, as people edit it: 1 for anything that is not a number
    (isascii: "²".isdigit() is true, but int() refuses it), at most ``most``.

    >>> page_number("3", 50), page_number("²", 50), page_number("0", 50), page_number("99", 50)
    (3, 1, 1, 50)
    """
    return min(most, max(1, int(raw))) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1


# How far a date parameter may lie from its default (today): days after 9999-12-31 or
# before 0001-01-01 do not exist, and a window starting there would be cut at them (#16).
DATE_REACH = dt.timedelta(days=100 * 366)


def date_param(request: Request, name: str, default: dt.date) -> dt.date:
    """A ``YYYY-MM-DD`` query parameter within a century of ``default``."""
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-12-01", field=name) from None
    if abs(value - default) > DATE_REACH:
        raise InvalidInput(f"{name} must be within 100 years of today", field=name)
    return value
