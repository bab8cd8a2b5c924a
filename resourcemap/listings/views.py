"""Reading listings: filtered, paged lists, full details and GeoJSON for maps."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tortoise.expressions import Q

from resourcemap.areas import area_or_error, areas_by_code, covers
from resourcemap.bbox import BBox
from resourcemap.errors import NotFound
from resourcemap.listings import hours as hours_mod
from resourcemap.listings.hours import hhmm
from resourcemap.models import Resource
from resourcemap.pagination import decode_cursor, encode_cursor
from resourcemap.said import N_, pN_
from resourcemap.translations import locale_of, read, vocab_label
from resourcemap.vocab import (
    Audience,
    Eligibility,
    Placement,
    ResourceKind,
    Service,
    Status,
)

MAX_PAGE = 500
MAX_GEOJSON_PAGE = 20_000


class ResourceQuery(BaseModel):
    """Filters for listing resources. Several ``kind`` values mean "any of these"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: tuple[ResourceKind, ...] = ()
    bbox: BBox | None = None
    area: str | None = Field(None, max_length=12, description="Administrative area code.")
    status: Status = Status.ACTIVE
    limit: int = Field(50, ge=1, le=MAX_GEOJSON_PAGE)
    cursor: str | None = None


class AreaCodes(BaseModel):
    city: str
    district: str
    street: str
    community: str


class Location(BaseModel):
    lat: float
    lon: float


class Label(BaseModel):
    """Text in both languages, for API clients that show either. A vocabulary label is
    read from the gettext catalogues (``Label.of``): a view, not a second mechanism. A
    listing's own text kept in both languages (its eligibility note) is data."""

    zh: str
    en: str

    @classmethod
    def of(cls, member: StrEnum) -> Label:
        return cls(zh=vocab_label(member, "zh"), en=vocab_label(member, "en"))


class ResourceSummary(BaseModel):
    id: int
    name_zh: str
    name_en: str
    kind: ResourceKind
    kind_label: Label
    placement: Placement
    services: list[Service]
    audiences: list[Audience]
    modes: list[str]
    fee: str
    eligibility: Eligibility
    eligibility_note: Label
    status: Status
    always_open: bool
    phone: str
    location: Location | None
    address_zh: str
    area_codes: AreaCodes
    service_area_codes: list[str]
    synthetic: bool


class HoursLine(BaseModel):
    weekday: int
    opens: str
    closes: str


class HoursExceptionOut(BaseModel):
    start_date: dt.date
    end_date: dt.date
    closed: bool
    opens: str | None
    closes: str | None
    note: str


class QualificationOut(BaseModel):
    type: str
    certificate_number: str
    issuer: str
    issued_on: dt.date | None
    verified_on: dt.date | None


class ServiceAreaOut(BaseModel):
    code: str
    level: str
    name_zh: str
    name_en: str = ""


class ResourceDetail(ResourceSummary):
    description_zh: str
    description_en: str
    service_labels: list[Label]
    audience_labels: list[Label]
    languages: list[str]
    accessibility: list[str]
    accessibility_note: str
    accessibility_note_en: str = ""
    fee_note: str
    fee_note_en: str = ""
    email: str
    website: str
    capacity: int
    address_en: str
    organisation: dict[str, Any] | None
    hours: list[HoursLine]
    hours_summary: Label
    exceptions: list[HoursExceptionOut]
    qualifications: list[QualificationOut]
    service_area: list[ServiceAreaOut]
    verified_at: dt.datetime | None


class Page(BaseModel):
    items: list[ResourceSummary]
    next_cursor: str | None
    limit: int


def _summary_fields(r: Resource) -> dict[str, Any]:
    kind = ResourceKind(r.kind)
    location = Location(lat=r.lat, lon=r.lon) if r.lat is not None and r.lon is not None else None
    return {
        "id": r.id,
        "name_zh": r.name_zh,
        "name_en": r.name_en,
        "kind": kind,
        "kind_label": Label.of(kind),
        "placement": kind.info.placement,
        "services": r.services,
        "audiences": r.audiences,
        "modes": r.modes,
        "fee": r.fee,
        "eligibility": r.eligibility,
        "eligibility_note": Label(zh=r.eligibility_note_zh, en=r.eligibility_note_en),
        "status": r.status,
        "always_open": r.always_open,
        "phone": r.phone,
        "location": location,
        "address_zh": r.address_zh,
        "area_codes": AreaCodes(
            city=r.city_code,
            district=r.district_code,
            street=r.street_code,
            community=r.community_code,
        ),
        "service_area_codes": r.service_area_codes,
        "synthetic": r.source == "synthetic-demo",
    }


async def _filtered(query: ResourceQuery, *, points_only: bool = False) -> Any:
    qs = Resource.filter(status=query.status)
    if query.kind:
        qs = qs.filter(kind__in=list(query.kind))
    if query.bbox is not None or points_only:
        qs = qs.filter(lat__isnull=False, lon__isnull=False)
    if query.bbox is not None:
        west, south, east, north = query.bbox
        qs = qs.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)
    if query.area is not None:
        area = await area_or_error(query.area)
        located_here = Q(**{f"{area.level}_code": area.code})
        # Area-served resources are few: decide "serves this area" in Python.
        area_kinds = [k for k in ResourceKind if k.info.placement is Placement.AREA]
        candidates = await Resource.filter(status=query.status, kind__in=area_kinds)
        serving = [r.id for r in candidates if await covers(r.service_area_codes, area)]
        qs = qs.filter(located_here | Q(id__in=serving)) if serving else qs.filter(located_here)
    if query.cursor is not None:
        qs = qs.filter(id__gt=decode_cursor(query.cursor))
    return qs.order_by("id")


async def list_resources(query: ResourceQuery) -> Page:
    limit = min(query.limit, MAX_PAGE)
    rows = await (await _filtered(query)).limit(limit + 1)
    return Page(
        items=[ResourceSummary(**_summary_fields(r)) for r in rows[:limit]],
        next_cursor=_next_cursor(rows, limit),
        limit=limit,
    )


def _next_cursor(rows: list[Resource], limit: int) -> str | None:
    """Rows were fetched one beyond the page: that extra row means there is a next page."""
    return encode_cursor(rows[limit - 1].id) if len(rows) > limit else None


async def resources_geojson(query: ResourceQuery) -> dict[str, Any]:
    """Point resources as a GeoJSON FeatureCollection (area-served ones have no point)."""
    rows = await (await _filtered(query, points_only=True)).limit(query.limit + 1)
    features = []
    for r in rows[: query.limit]:
        props = ResourceSummary(**_summary_fields(r)).model_dump(
            mode="json", exclude={"location", "service_area_codes"}
        )
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": props,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "next_cursor": _next_cursor(rows, query.limit),
    }


async def get_resource(resource_id: int) -> ResourceDetail:
    r = (
        await Resource.filter(id=resource_id)
        .prefetch_related("hours", "exceptions", "qualifications", "organisation")
        .first()
    )
    if r is None:
        raise NotFound(N_("no resource with id %(id)s", id=resource_id))
    intervals = [hours_mod.Interval(h.weekday, h.opens, h.closes) for h in r.hours]
    org = r.organisation
    served = await areas_by_code(r.service_area_codes)
    return ResourceDetail(
        **_summary_fields(r),
        description_zh=r.description_zh,
        description_en=r.description_en,
        service_labels=[_label(Service, s) for s in r.services],
        audience_labels=[_label(Audience, a) for a in r.audiences],
        languages=r.languages,
        accessibility=r.accessibility,
        accessibility_note=r.accessibility_note,
        fee_note=r.fee_note,
        fee_note_en=r.fee_note_en,
        accessibility_note_en=r.accessibility_note_en,
        email=r.email,
        website=r.website,
        capacity=r.capacity,
        address_en=r.address_en,
        organisation=None
        if org is None
        else {"id": org.id, "name_zh": org.name_zh, "name_en": org.name_en},
        hours=[
            HoursLine(weekday=i.weekday, opens=hhmm(i.opens), closes=hhmm(i.closes))
            for i in sorted(intervals)
        ],
        hours_summary=Label(
            zh=_hours_text(r.always_open, intervals, "zh"),
            en=_hours_text(r.always_open, intervals, "en"),
        ),
        exceptions=[
            HoursExceptionOut(
                start_date=e.start_date,
                end_date=e.end_date,
                closed=e.closed,
                opens=None if e.opens is None else hhmm(e.opens),
                closes=None if e.closes is None else hhmm(e.closes),
                note=e.note,
            )
            for e in sorted(r.exceptions, key=lambda e: e.start_date)
        ],
        qualifications=[
            QualificationOut(
                type=q.type,
                certificate_number=q.certificate_number,
                issuer=q.issuer,
                issued_on=q.issued_on,
                verified_on=q.verified_on,
            )
            for q in r.qualifications
        ],
        service_area=[
            ServiceAreaOut(code=a.code, level=a.level, name_zh=a.name_zh, name_en=a.name_en)
            for a in served
        ],
        verified_at=r.verified_at,
    )


ALWAYS_OPEN = pN_("hours summary", "24/7")
CALL_FOR_HOURS = pN_("hours summary", "Call for hours")


def _hours_text(always_open: bool, intervals: list[hours_mod.Interval], lang: str) -> str:
    if always_open:
        return read(ALWAYS_OPEN, locale_of(lang))
    lines = hours_mod.summarise(intervals, lang=lang)
    if not lines:
        return read(CALL_FOR_HOURS, locale_of(lang))
    return "; ".join(lines)


def _label(vocabulary: type[Service] | type[Audience], code: str) -> Label:
    """A stored code's label; a code the vocabulary no longer knows as it is."""
    if code not in vocabulary._value2member_map_:
        return Label(zh=code, en=code)
    return Label.of(vocabulary(code))


async def kept_resources(
    organisation: int | None, unowned: bool, text: str, *, limit: int = 300, offset: int = 0
) -> tuple[list[Resource], int]:
    """Resources of every status as the people who keep them see them: one organisation's
    (or those without one), optionally filtered by a text in name or address; a page of
    ``limit`` from ``offset``, and how many there are."""
    qs = Resource.all()
    if unowned:
        qs = qs.filter(organisation_id__isnull=True)
    elif organisation is not None:
        qs = qs.filter(organisation_id=organisation)
    if text:
        qs = qs.filter(
            Q(name_zh__icontains=text) | Q(name_en__icontains=text) | Q(address_zh__icontains=text)
        )
    return await qs.order_by("name_zh", "id").offset(offset).limit(limit), await qs.count()
