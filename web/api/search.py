"""``/api/v1/search`` and ``/api/v1/nearest``: what a resident does first."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from resourcemap.booking import slots
from resourcemap.booking.desk import Desk
from resourcemap.errors import InvalidInput
from resourcemap.pagination import decode_offset, encode_offset
from resourcemap.search.base import MAX_LIMIT, SearchQuery, SearchResult
from resourcemap.search.service import SearchService
from web import clock
from web.api.search_items import json_answer, result_items
from web.params import query_dict

REPEATABLE = ("kind", "eligible")
NEAREST_PARAMS = {"lat", "lon", "service", "kind", "open_now", "limit", "bookable", "eligible"}
# With bookable=true, how far down the distance ranking to look for bookable services.
BOOKABLE_SCAN = 1_000
NEAREST_MAX = 20


async def search(request: Request) -> Response:
    """
    summary: Search service resources
    description: >
      Text (Chinese, pinyin, initials, English; in Latin words one typo tolerated from
      five letters and two from nine, a transposition counting as one typo and a wrong
      first letter as two), a point with optional radius (geodesic metres), filters and open-now.
      Area-served resources (volunteer teams, hotlines) whose service area contains the
      point are included, without a distance (they are not a walk). Listings for members
      only (school, workplace rooms) are left out unless `eligible` says who the resident
      is. A need typed in the resident's words ("睡不着", "anxiety") finds the services that
      answer it. `degraded` is true when the configured search
      server was unreachable and the embedded engine answered instead.
    parameters:
      - {name: q, in: query, schema: {type: string, maxLength: 100}}
      - {name: lat, in: query, schema: {type: number, minimum: -90, maximum: 90}}
      - {name: lon, in: query, schema: {type: number, minimum: -180, maximum: 180}}
      - {name: radius_m, in: query, schema: {type: number, exclusiveMinimum: 0}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
      - {name: service, in: query, schema: {type: string}}
      - {name: audience, in: query, schema: {type: string}}
      - {name: language, in: query, schema: {type: string}}
      - {name: fee, in: query, schema: {type: string, enum: [free, paid]}}
      - {name: mode, in: query, schema: {type: string, enum: [in_person, online, phone]}}
      - {name: eligible, in: query, explode: true,
         schema: {type: array, items: {type: string,
                  enum: [students, employees, area_residents, referral, all]}},
         description: "who the resident is: members-only listings for them come back
           (default: listings open to the public only); all: every listing"}
      - {name: open_now, in: query, schema: {type: boolean}}
      - {name: at, in: query, schema: {type: string, format: date-time},
         description: "instant for open_now, with offset (default now)"}
      - {name: sort, in: query, schema: {type: string, enum: [best, nearest, relevance, distance]},
         description: "best (default): nearer first, gently boosted when open now, booking
           online or free; nearest: distance only (distance is its old name); relevance:
           text match only. Phone lines and teams serving the point rank as if 2 km away."}
      - {name: widen, in: query, schema: {type: boolean, default: true},
         description: "with radius_m: when nothing to walk to lies within it, widen step by
           step (500 m, 1, 3, 5, 10, 20 km, any) and say so in `widened`"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100}}
      - {name: cursor, in: query, schema: {type: string}}
    responses:
      200: {description: "{items, crisis, widened, ignored, free_from_words,
        english_from_words, nearest,
        members_only, sort, total, facets, next_cursor, degraded, backend, at}; with crisis
        true (words of self-harm or suicide) the 24/7 lines lead the first page; with no
        match and a point, nearest is the nearest place for the words whatever the
        filters; with no match, members_only counts the places for particular people only
        (a school's pupils) that match, left out unless eligible asks for them;
        free_from_words true when words such as 免费 or free asked for free services (fee
        filter applied); english_from_words true when words such as english speaking or
        英语 asked for services in English (language filter applied). Items carry reach
        (walk, phone, area), matched_because, eligibility, bookable, and opens_at: when a
        place closed at that instant opens next (local time, within a week; null when open,
        always open, or not within a week)"}
      400: {description: "Invalid parameter, with a reason per field"}
    """
    params = query_dict(request, repeatable=REPEATABLE)
    cursor = params.pop("cursor", None)
    if isinstance(cursor, str):
        params["offset"] = decode_offset(cursor)
    query = SearchQuery.model_validate(params)
    service: SearchService = request.app.state.search
    at = query.at or clock.now(request)
    result = await service.search(query, now=at)
    next_offset = query.offset + len(result.hits)
    widened = result.widened
    found = None
    members_only = 0
    if result.total == 0:  # a way forward: the nearest place that fits, whatever the filters
        found = await service.nearest_walk(query, at, any_filters=True)
        # or the places for particular people only that it left out
        members_only = await service.members_only(query, result.total, now=at)
    return json_answer(
        {
            "items": result_items(service, result.hits, at),
            "crisis": result.crisis,
            "widened": None if widened is None else asdict(widened),
            "ignored": list(result.ignored),
            "free_from_words": result.free_from_words,
            "english_from_words": result.english_from_words,
            "nearest": None if found is None else result_items(service, [found], at)[0],
            "members_only": members_only,
            "sort": query.effective_sort,
            "total": result.total,
            "facets": result.facets,
            "next_cursor": encode_offset(next_offset) if next_offset < result.total else None,
            "degraded": result.degraded,
            "backend": service.backend_name,
            "at": at.astimezone(service.tz).isoformat(),
            "dataset": service.dataset_label,
        }
    )


async def nearest(request: Request) -> Response:
    """
    summary: The nearest resources offering a service
    description: >
      Nearest first; volunteer teams and hotlines whose service area contains the point
      rank as if 2 km away (they are not a walk).
    parameters:
      - {name: lat, in: query, required: true, schema: {type: number}}
      - {name: lon, in: query, required: true, schema: {type: number}}
      - {name: service, in: query, schema: {type: string}}
      - {name: kind, in: query, schema: {type: array, items: {type: string}}, explode: true}
      - {name: open_now, in: query, schema: {type: boolean}}
      - {name: bookable, in: query, schema: {type: boolean},
         description: "only services taking bookings online with a free slot, each with
           its `next_slot`: book the nearest in one step"}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 20, default: 3}}
    responses:
      200: {description: "{items}"}
      400: {description: "Invalid parameter, with a reason per field"}
    """
    params = query_dict(request, repeatable=REPEATABLE)
    for name in params:
        if name not in NEAREST_PARAMS:
            raise InvalidInput(f"unknown parameter {name!r}", field=name)
    if "lat" not in params or "lon" not in params:
        raise InvalidInput("lat and lon are required", field="lat")
    bookable = _flag(params.pop("bookable", None), "bookable")
    query = SearchQuery.model_validate({"limit": "3", **params, "sort": "distance"})
    if query.limit > NEAREST_MAX:
        raise InvalidInput(f"limit must be at most {NEAREST_MAX}", field="limit")
    service: SearchService = request.app.state.search
    at = clock.now(request)
    if not bookable:
        result = await service.search(query, now=at)
        items = result_items(service, result.hits, at)
    else:
        result, items = await _nearest_bookable(request, query, at)
    return json_answer(
        {"items": items, "degraded": result.degraded, "dataset": service.dataset_label}
    )


def _flag(value: object, name: str) -> bool:
    if value is None:
        return False
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise InvalidInput(f"{name} must be true or false", field=name)


async def _nearest_bookable(
    request: Request, query: SearchQuery, at: dt.datetime
) -> tuple[SearchResult, list[dict[str, Any]]]:
    """Walk down the distance ranking until ``query.limit`` services with a free slot."""
    service: SearchService = request.app.state.search
    desk: Desk = request.app.state.desk
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = query.model_copy(update={"limit": MAX_LIMIT, "offset": offset})
        result = await service.search(page, now=at)
        free = await desk.next_free([h.document.id for h in result.hits], now=at)
        with_slots = [hit for hit in result.hits if hit.document.id in free]
        for item in result_items(service, with_slots, at):
            start, end = free[item["id"]]
            next_slot = {
                "starts_at": slots.to_local(start, desk.tz).isoformat(),
                "ends_at": slots.to_local(end, desk.tz).isoformat(),
            }
            items.append(item | {"next_slot": next_slot})
        offset += len(result.hits)
        if (
            len(items) >= query.limit
            or not result.hits
            or offset >= min(result.total, BOOKABLE_SCAN)
        ):
            return result, items[: query.limit]
