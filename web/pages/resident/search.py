"""Residents' search page (map and list) and a resource's detail page.

Both work without JavaScript: the search form is a plain GET form whose results the server
renders; ``static/map.js`` then draws the map and keeps map and list in step as filters
change, through the JSON API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from geo.distance import geodesic_m
from resourcemap.booking.desk import Desk
from resourcemap.errors import Conflict
from resourcemap.listings import holidays
from resourcemap.listings import views as listings
from resourcemap.listings.places import Place, Places, find_places
from resourcemap.search.base import MAX_RADIUS_M, Q_MAX_LENGTH, SearchQuery
from resourcemap.search.service import SearchService
from resourcemap.vocab import (
    ACCESSIBILITY_LABELS,
    AUDIENCE_LABELS,
    MODE_LABELS,
    QUALIFICATION_LABELS,
    SERVICE_LABELS,
    Status,
)
from web import clock, i18n
from web.api.search_items import result_items
from web.i18n import _, distance
from web.pages.resident import map_texts
from web.pages.resident import view as resident_view
from web.pages.shell import Audience, page, render
from web.params import page_number, query_dict

PAGE_SIZE = 20
MAX_PAGE = 50
SLOT_DAYS = 14
# How far ahead a listing's page says that holidays are not known yet (a month of plans).
HOLIDAYS_AHEAD_DAYS = 30
FILTERS = ("kind", "service", "audience", "language", "fee", "mode", "eligible")
# What "back to the search" on a detail page may carry: the search's own parameters.
SEARCH_KEYS = ("q", "place", "lat", "lon", "radius_m", "open_now", "sort", "page", *FILTERS)
TRUE = ("1", "true", "on", "yes")
RADII = ("500", "1000", "3000")
FIELD_MAX = Q_MAX_LENGTH


def _form(request: Request) -> dict[str, str]:
    """What the resident typed and chose, to show the form as they left it."""
    names = ("q", "place", "lat", "lon", "radius_m", "open_now", "sort", *FILTERS)
    # Cut to what the form's boxes allow: a pasted or crafted 5,000-character query is
    # searched and echoed (in every link of the page) as its first 100 characters.
    form = {name: request.query_params.get(name, "").strip()[:FIELD_MAX] for name in names}
    form["radius_m"] = _radius(form["radius_m"])
    return form


def _radius(raw: str) -> str:
    """The distance asked for in whole metres: one the page offers, or a link's own
    (``radius_m=200``, or 20000 from a widened search) as the API and the map take it, so
    the list, the count and the circle agree; "" for none or what is not a distance.

    >>> _radius("500"), _radius("200.4"), _radius("20000"), _radius("-1"), _radius("far")
    ('500', '200', '20000', '', '')
    """
    try:
        metres = round(float(raw))
    except ValueError:
        return ""
    return str(metres) if 0 < metres <= MAX_RADIUS_M else ""


async def _point(form: dict[str, str]) -> tuple[Place | None, str | None, Places]:
    """The resident's point: from geolocation (lat/lon) or a typed place; a name that fits
    several areas gives none and the areas to choose from."""
    if form["lat"] and form["lon"]:
        try:
            lat, lon = float(form["lat"]), float(form["lon"])
        except ValueError:
            return None, _("The location was not understood."), Places()
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses nan
            return None, _("The location was not understood."), Places()
        # A place resolved earlier keeps its name; a bare point came from geolocation.
        here = form["place"] or _("Your location")
        return Place(lat, lon, here, here), None, Places()
    if not form["place"]:
        return None, None, Places()
    places = await find_places(form["place"])
    place = places.found
    if place is not None:
        form["lat"], form["lon"] = str(place.lat), str(place.lon)
        return place, None, places
    if places.choices:
        return None, None, places
    # A road alone is not found (no street register here): an address with its community is.
    problem = _(
        "We could not find “%(place)s”. Try the name of a community or subdistrict, or an "
        "address with its community.",
        place=form["place"],
    )
    return None, problem, places


def _choice_url(request: Request, choice: Place) -> str:
    """This search near one of the areas a typed name fits, named with where it lies."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("place", "page")]
    label = i18n.label((choice.name_zh, choice.name_en))
    # Its district tells it apart (two 春晖社区 may lie in streets of one name): for a
    # community or street the area two above, else the one above.
    above = list(zip(choice.within_zh, choice.within_en, strict=True))
    within = i18n.label(above[-2 if len(above) > 1 else 0]) if above else ""
    shown = _("%(place)s, %(within)s", place=label, within=within) if within else label
    query += [("place", shown), ("lat", f"{choice.lat}"), ("lon", f"{choice.lon}")]
    return "/?" + urlencode(query)


@page(Audience.RESIDENT)
async def home(request: Request) -> Response:
    form = _form(request)
    page = page_number(request.query_params.get("page", ""), MAX_PAGE)
    place, problem, places = await _point(form)
    place = await _as_typed(place, form)
    params: dict[str, object] = {
        k: v
        for k, v in query_dict(request, repeatable=("kind", "eligible")).items()
        if k in (*FILTERS, "q")
    }
    if form["open_now"].lower() in TRUE:
        params["open_now"] = True
    if place is not None:
        params.update(lat=place.lat, lon=place.lon)
        # "Within 500 m" means something only around a point; without one it is ignored.
        if form["radius_m"]:
            params["radius_m"] = form["radius_m"]
        if form["sort"] in ("best", "nearest"):
            params["sort"] = form["sort"]
    try:
        query = SearchQuery.model_validate(
            {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
        )
    except ValidationError:
        problem = _("Some search settings were not understood; showing all services.")
        query = SearchQuery(limit=PAGE_SIZE)
    service: SearchService = request.app.state.search
    now = clock.now(request)
    result = await service.search(query, now=now)
    settings = request.app.state.settings
    area_codes = service.point_area_codes(query)
    items = result_items(service, result.hits, now)
    nearest = None
    members_only = 0
    if result.total == 0:
        found = await service.nearest_walk(query, now, any_filters=True)
        nearest = None if found is None else result_items(service, [found], now)[0]
        # 学校: every match is a school's room, left out as for its pupils only; say so.
        members_only = await service.members_only(query, result.total, now=now)
    # In a crisis the 24/7 lines lead the page in a panel of their own.
    lines = [i for i in items if i["kind"] == "hotline"] if result.crisis and page == 1 else []
    widened = result.widened
    asked_radius = str(params.get("radius_m", ""))
    shown_radius = asked_radius if widened is None else str(int(widened.shown_m or 0) or "")
    context: dict[str, Any] = {
        "form": form,
        "place": place,
        "area_reach": _area_reach(request, place, shown_radius),
        "problem": problem,
        "place_choices": [(c, _choice_url(request, c)) for c in places.choices if place is None],
        "more_places": places.more,
        "items": [i for i in items if i not in lines],
        "crisis_lines": lines,
        "crisis": result.crisis,
        "widened": widened,
        "ignored": result.ignored,
        "free_from_words": result.free_from_words,
        "english_from_words": result.english_from_words,
        "nearest": nearest,
        "members_only": members_only,
        "members_url": _page_url(request, 1, eligible="all"),
        "shown_radius": shown_radius,
        "back": urlencode(
            [(k, v.strip()[:FIELD_MAX]) for k, v in request.query_params.multi_items()]
        ),
        "searched": any(form.values()),
        "clear_url": _clear_url(form),
        "filtered": bool(asked_radius) or any(form[k] for k in (*FILTERS, "open_now")),
        "total": result.total,
        "page": page,
        "pages": min(MAX_PAGE, -(-result.total // PAGE_SIZE)),
        "page_url": lambda n: _page_url(request, n),
        "choices": resident_view.filter_choices(),
        # A link's own distance is offered too, chosen: the form says what the list shows.
        "radii": [
            (r, distance(int(r))) for r in sorted({*RADII, form["radius_m"]} - {""}, key=int)
        ],
        "kind_label": resident_view.kind_label,
        "eligibility_label": resident_view.eligibility_label,
        "reason_label": resident_view.reason_label,
        "opens_label": lambda opens_at: resident_view.opens_label(opens_at, now),
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        "attribution_prefix": settings.map_attribution_prefix,
        "js_messages": orjson.dumps(map_texts.messages()).decode(),
        # The day "opens tomorrow" counts from, where the services are.
        "today": now.astimezone(settings.tz).date().isoformat(),
    }
    return await render(request, "resident/home.html", context, area_codes=area_codes)


async def _as_typed(place: Place | None, form: dict[str, str]) -> Place | None:
    """A point carried in the links from a typed area, as that area again (its reach: see
    :func:`_area_reach`) while the name still gives this point; else as it is. Only the
    search list says how far an area reaches: a detail page's distance needs none of it."""
    if place is None or not form["place"] or not form["lat"] or place.reach_m is not None:
        return place
    again = (await find_places(form["place"])).found
    if again is None or not again.at(place.lat, place.lon):
        return place
    return replace(again, name_zh=place.name_zh, name_en=place.name_en)


@dataclass(frozen=True)
class AreaReach:
    """A typed area as wide as it is: how far it reaches from the point distances count
    from, the distance the list covers when the area reaches beyond it ("": it does not),
    and a search that takes the area in (the first distance offered beyond it, or any)."""

    reach_m: int
    shown_m: int | None
    wider: str
    url: str


def _area_reach(request: Request, place: Place | None, radius: str) -> AreaReach | None:
    if place is None or place.reach_m is None:
        return None
    wider = next((r for r in RADII if int(r) > place.reach_m), "")
    kept = ("radius_m", "page", "lang")
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in kept]
    if wider:
        query.append(("radius_m", wider))
    shown = int(radius) if radius and int(radius) < place.reach_m else None
    return AreaReach(round(place.reach_m), shown, wider, "/?" + urlencode(query))


def _clear_url(form: dict[str, str]) -> str:
    """The same words and place, without any filter."""
    kept = [(k, form[k]) for k in ("q", "place", "lat", "lon") if form[k]]
    return "/?" + urlencode(kept)


async def _place_map(request: Request, location: Any, back: str) -> dict[str, Any]:
    """The small map of a place, and how far it is from the resident's point when their
    search had one (the ``back`` link carries the search: a point or a typed place)."""
    if location is None:
        return {"map": None, "away": None}
    settings = request.app.state.settings
    searched = dict(parse_qsl(back))
    form = {k: searched.get(k, "").strip()[:FIELD_MAX] for k in ("lat", "lon", "place")}
    here, _problem, _places = await _point(form)
    away = None
    if here is not None:
        metres = float(geodesic_m(here.lat, here.lon, [location.lat], [location.lon])[0])
        # A bare point is the resident's own location: "440 m from your location", in a
        # sentence, not the label "Your location".
        mine = not form["place"]
        place = _("your location") if mine else i18n.name(here.name_zh, here.name_en)
        away = {"distance": distance(metres), "from": place}
    return {
        "map": {
            "lat": location.lat,
            "lon": location.lon,
            "here": None if here is None else {"lat": here.lat, "lon": here.lon},
            "tile_url": settings.tile_url,
            "tile_attribution": settings.tile_attribution,
            "attribution_prefix": settings.map_attribution_prefix,
        },
        "away": away,
    }


def back_query(raw: str) -> str:
    """The search a page was reached from, as a query string: only the search's own
    parameters, so a link made of it can never lead anywhere but the search page."""
    return urlencode([(k, v) for k, v in parse_qsl(raw) if k in SEARCH_KEYS])


def back_url(raw: str) -> str:
    """ "Back to the search" from a detail page (see :func:`back_query`)."""
    kept = back_query(raw)
    return "/?" + kept if kept else "/"


def _page_url(request: Request, number: int, **changed: str) -> str:
    """This search's page ``number``, with ``changed`` parameters in place of its own."""
    dropped = ("page", "lang", *changed)
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in dropped]
    return "/?" + urlencode([*query, *changed.items(), ("page", str(number))])


@page(Audience.RESIDENT)
async def resource_detail(request: Request) -> Response:
    resource_id: int = request.path_params["id"]
    detail = await listings.get_resource(resource_id)
    service: SearchService = request.app.state.search
    desk: Desk = request.app.state.desk
    now = clock.now(request)
    today = now.astimezone(desk.tz).date()
    bookable = True
    try:
        listed = await desk.slot_list(resource_id, today, SLOT_DAYS, now=now)
        days = resident_view.slot_days(listed, desk.tz, now=now)
    except Conflict:
        bookable, days = False, []
    data = detail.model_dump(mode="json")
    # Holidays nobody has given yet: the promise that they keep Sunday's hours would fail.
    holidays_unknown = holidays.unknown_ahead(today, HOLIDAYS_AHEAD_DAYS)
    # Hours staff changed since the last search: this page may be the first to ask.
    await service.follow()
    opens = service.opens_next([resource_id], now).get(resource_id)
    context: dict[str, Any] = {
        "r": data,
        "active": detail.status is Status.ACTIVE,
        "open_now": detail.always_open or resource_id in service.open_ids(now),
        "opens_at": None if opens is None else resident_view.opens_label(opens.isoformat(), now),
        "kind_label": resident_view.kind_label(detail.kind),
        "holidays_unknown": holidays_unknown,
        # Who may come: the listing's own words whenever it has them (an open service may
        # still say "adults"), else the rule's label unless anyone may.
        "eligibility": (
            i18n.own(detail.eligibility_note.zh, detail.eligibility_note.en)
            if detail.eligibility_note.zh or detail.eligibility_note.en
            else None
            if detail.eligibility == "public"
            else resident_view.eligibility_label(detail.eligibility)
        ),
        "weekly": resident_view.weekly_hours(data["hours"]),
        "services": [i18n.vocab(s, SERVICE_LABELS) for s in detail.services],
        "audiences": [i18n.vocab(a, AUDIENCE_LABELS) for a in detail.audiences],
        "modes": [i18n.vocab(m, MODE_LABELS) for m in detail.modes],
        "accessibility": [i18n.vocab(a, ACCESSIBILITY_LABELS) for a in detail.accessibility],
        "areas": [i18n.name(a.name_zh, a.name_en) for a in detail.service_area],
        "closures": [e for e in data["exceptions"] if e["end_date"] >= today.isoformat()],
        "languages": [resident_view.language_name(c) for c in detail.languages],
        "qualification_labels": QUALIFICATION_LABELS,
        "bookable": bookable,
        "preview": resident_view.preview(days),
        "has_free": any(d.free for d in days),
        "verified": (
            None if detail.verified_at is None else detail.verified_at.astimezone(desk.tz).date()
        ),
        "date": dt.date.fromisoformat,
    }
    back = request.query_params.get("back", "")
    context["back_url"] = back_url(back)
    # Booking links carry the search on: the booking page's "back to the service" keeps it.
    context["back_query"] = back_query(back)
    context |= await _place_map(request, detail.location, back)
    area_codes = frozenset(c for c in detail.area_codes.model_dump().values() if c)
    return await render(request, "resident/detail.html", context, area_codes=area_codes)
