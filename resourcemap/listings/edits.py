# Over 400 lines: input models and the one save path they feed.
"""Changing listings: validated input, permission checks, audit and search sync in one place.

Every write goes through :func:`save_resource` or :func:`set_status`; each runs in one
transaction that also writes the audit entry and the search change log, and stamps
``verified_at`` (a save by staff is their confirmation that the listing is true today).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from tortoise.transactions import in_transaction

from resourcemap import areas, audit
from resourcemap.accounts import Principal
from resourcemap.errors import Conflict, Forbidden, InvalidInput, NotFound, storage_refusals
from resourcemap.listings import phones
from resourcemap.listings.hours import Interval, hhmm, minutes, validate
from resourcemap.models import (
    Area,
    HoursException,
    OpeningHours,
    Organisation,
    Qualification,
    Resource,
)
from resourcemap.said import N_
from resourcemap.search import changes
from resourcemap.vocab import (
    MAX_ID,
    Accessibility,
    Audience,
    Eligibility,
    Fee,
    Mode,
    Placement,
    QualificationType,
    ResourceKind,
    Role,
    Service,
    Status,
)

# C0 control characters other than tab and line breaks: PostgreSQL refuses NUL outright.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Input(BaseModel):
    """Base of every input model: no unknown fields, trimmed text, no control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        if isinstance(value, str) and CONTROL.search(value):
            raise ValueError(N_("contains control characters"))
        return value


# Keys of ``foreign_fields``: an HSDS address (its parts as given), cost options, and whether
# the record's opening times carried no UTC offset.
FOREIGN_FIELDS = frozenset({"address", "cost_options", "times_without_offset"})
# Fields the staff form does not show (yet): an update that does not give them keeps them.
KEPT_UNLESS_GIVEN = frozenset(
    {"foreign_fields", "eligibility", "eligibility_note_zh", "eligibility_note_en"}
)
MAX_FOREIGN_FIELDS = 4000
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
AREA_LEVELS = ("city", "district", "street", "community")


def web_address(value: str) -> str:
    """A website shown as a link: http(s) with a host only, so that no ``javascript:`` or
    ``data:`` address ever becomes a link a resident clicks.

    >>> web_address("https://example.cn/help")
    'https://example.cn/help'
    >>> web_address("javascript:alert(1)")
    Traceback (most recent call last):
    ValueError: a website starts with http:// or https://
    """
    if value and not re.match(r"https?://[^/\s?#]+", value, re.IGNORECASE):
        raise ValueError(N_("a website starts with http:// or https://"))
    return value


class HoursIn(Input):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    opens: str = Field(examples=["09:00"])
    closes: str = Field(examples=["17:30"])


class ExceptionIn(Input):
    start_date: dt.date
    end_date: dt.date
    closed: bool = True
    opens: str | None = None
    closes: str | None = None
    note: str = Field("", max_length=300)

    @model_validator(mode="after")
    def _coherent(self) -> ExceptionIn:
        if self.end_date < self.start_date:
            raise ValueError(N_("end_date is before start_date"))
        if not self.closed:
            if self.opens is None or self.closes is None:
                raise ValueError(N_("give opens and closes, or set closed"))
            try:
                opens, closes = minutes(self.opens), minutes(self.closes)
            except InvalidInput as exc:
                raise ValueError(exc.said) from None
            if opens >= closes:
                raise ValueError(
                    N_(
                        "opening %(opens)s is not before closing %(closes)s",
                        opens=self.opens,
                        closes=self.closes,
                    )
                )
        return self


class QualificationIn(Input):
    type: QualificationType
    certificate_number: str = Field(min_length=3, max_length=100)
    issuer: str = Field(min_length=2, max_length=200)
    issued_on: dt.date | None = None
    verified_on: dt.date | None = None


class ResourceIn(Input):
    """A resource as staff, imports and the API submit it (WGS-84 coordinates)."""

    external_id: str | None = Field(None, max_length=100)
    organisation_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: ResourceKind
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field("", max_length=300)
    description_zh: str = Field("", max_length=5000)
    description_en: str = Field("", max_length=5000)
    services: list[Service] = Field(default_factory=list)
    audiences: list[Audience] = Field(default_factory=lambda: [Audience.EVERYONE])
    languages: list[str] = Field(default_factory=lambda: ["zh"])
    modes: list[Mode] = Field(default_factory=lambda: [Mode.IN_PERSON])
    accessibility: list[Accessibility] = Field(default_factory=list)
    accessibility_note: str = Field("", max_length=500)
    accessibility_note_en: str = Field("", max_length=500)
    fee: Fee = Fee.FREE
    fee_note: str = Field("", max_length=500)
    fee_note_en: str = Field("", max_length=500)
    eligibility: Eligibility = Eligibility.PUBLIC
    eligibility_note_zh: str = Field("", max_length=300)
    eligibility_note_en: str = Field("", max_length=300)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=200)
    website: str = Field("", max_length=300)
    capacity: int = Field(1, ge=1, le=500)
    always_open: bool = False
    status: Status = Status.ACTIVE
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address_zh: str = Field("", max_length=300)
    address_en: str = Field("", max_length=300)
    community_code: str = Field("", max_length=12)
    service_area_codes: list[str] = Field(default_factory=list)
    hours: list[HoursIn] = Field(default_factory=list)
    exceptions: list[ExceptionIn] = Field(default_factory=list)
    qualifications: list[QualificationIn] = Field(default_factory=list)
    foreign_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="What another directory's record said that ResourceMap has no field "
        "for, given back on export (docs/hsds-mapping.md, 'Round trip').",
    )

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = phones.normalise(value)
        if value and not phones.PHONE.match(value):
            raise ValueError(phones.PHONE_RULE)
        return value

    @field_validator("foreign_fields")
    @classmethod
    def _foreign_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - FOREIGN_FIELDS)
        if unknown:
            raise ValueError(f"unknown foreign field {unknown[0]!r}")
        if len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_FOREIGN_FIELDS:
            raise ValueError(f"longer than {MAX_FOREIGN_FIELDS} characters as JSON")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError(N_("not an e-mail address"))
        return value

    @field_validator("website")
    @classmethod
    def _website(cls, value: str) -> str:
        return web_address(value)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for code in value:
            if not LANGUAGE.match(code):
                raise ValueError(
                    N_("%(code)r is not a language code such as zh, yue or en", code=code)
                )
        return value

    @model_validator(mode="after")
    def _placement(self) -> ResourceIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError(N_("give lat and lon together"))
        placement = self.kind.info.placement
        # The kind by its label, as people chose it; the field names stay in the sentence
        # (the importer names the cells at fault by them).
        if placement is Placement.POINT and self.lat is None:
            raise ValueError(N_("%(kind)s needs a location (lat, lon)", kind=self.kind.info.label))
        if placement is Placement.AREA and not self.service_area_codes:
            raise ValueError(
                N_(
                    "%(kind)s needs the areas it serves (service_area_codes)",
                    kind=self.kind.info.label,
                )
            )
        return self


def _intervals(hours: list[HoursIn]) -> list[Interval]:
    return validate(Interval(h.weekday, minutes(h.opens), minutes(h.closes)) for h in hours)


async def _area_codes(data: ResourceIn) -> dict[str, str]:
    """The four area codes of a located resource: from its community, else from its point."""
    codes = dict.fromkeys((f"{level}_code" for level in AREA_LEVELS), "")
    for code in data.service_area_codes:
        if not await Area.exists(code=code):
            raise InvalidInput(
                N_("unknown area code %(code)r", code=code), field="service_area_codes"
            )
    if not data.community_code:
        if data.lat is not None and data.lon is not None:
            # No community named: the areas its point lies in, as deep as the boundaries
            # go (a city loaded from district boundaries has no communities to name, and
            # its listings belonged to no district: its indicators counted none).
            for level, code in (await areas.areas_at(data.lat, data.lon)).items():
                codes[f"{level.value}_code"] = code
        return codes
    area = await Area.get_or_none(code=data.community_code)
    if area is None or area.level != "community":
        raise InvalidInput(
            N_("%(code)r is not a community code", code=data.community_code),
            field="community_code",
        )
    while area is not None:
        codes[f"{area.level}_code"] = area.code
        parent = area.parent_id
        area = None if parent is None else await Area.get_or_none(code=parent)
    return codes


# A listing's fields that are sets of codes (their order says nothing).
SETS = ("services", "audiences", "languages", "modes", "accessibility", "service_area_codes")


def snapshot(
    resource: Resource, hours: list[Interval], exceptions: list[HoursException]
) -> dict[str, Any]:
    """A resource as the audit log records it (special dates too: a closure staff added is
    what a resident finds shut)."""
    fields = {k: getattr(resource, k) for k in ResourceIn.model_fields if hasattr(resource, k)}
    fields = {k: v for k, v in fields.items() if k not in ("hours", "exceptions", "qualifications")}
    # Sets, whatever order they were given in: a form sends them in its own order, and
    # saving one unchanged is no change.
    for name in SETS:
        fields[name] = sorted(fields.get(name) or [])
    fields["hours"] = [f"{h.weekday}:{hhmm(h.opens)}-{hhmm(h.closes)}" for h in hours]
    fields["exceptions"] = [_dated(e) for e in sorted(exceptions, key=lambda e: e.start_date)]
    return {k: (str(v) if isinstance(v, dt.date | dt.datetime) else v) for k, v in fields.items()}


def _dated(e: HoursException) -> dict[str, str | None]:
    """A special date as the audit log records it: its days, its hours (None: closed)."""
    shut = e.closed or e.opens is None or e.closes is None
    return {
        "start_date": str(e.start_date),
        "end_date": str(e.end_date),
        "hours": None if shut else f"{hhmm(e.opens)}-{hhmm(e.closes)}",
        "note": e.note,
    }


async def save_resource(
    actor: Principal, data: ResourceIn, *, resource_id: int | None = None, now: dt.datetime
) -> Resource:
    """Create (no ``resource_id``) or replace a resource, with hours, exceptions and
    qualifications, as one audited, search-synced transaction."""
    actor.require(Role.ADMIN, Role.STAFF)
    organisation_id = data.organisation_id
    if actor.role is Role.STAFF and organisation_id is None:
        organisation_id = actor.organisation_id
    if not actor.may_edit_listings_of(organisation_id):
        raise Forbidden(N_("staff may only edit their own organisation's listings"))
    if organisation_id is not None and not await Organisation.exists(id=organisation_id):
        raise InvalidInput(
            N_("no organisation with id %(id)s", id=organisation_id), field="organisation_id"
        )
    intervals = _intervals(data.hours)
    codes = await _area_codes(data)
    if not actor.in_area(codes.values()):
        raise Forbidden(
            N_(
                "your account is kept to area %(area)s: the listing's community must lie in it",
                area=actor.area_code,
            )
        )
    if data.external_id is not None:
        clash = await Resource.get_or_none(external_id=data.external_id)
        if clash is not None and clash.id != resource_id:
            raise Conflict(f"external_id {data.external_id!r} is taken", field="external_id")
    # A form or file that does not mention these leaves the stored values as they are.
    kept = {f for f in KEPT_UNLESS_GIVEN if f not in data.model_fields_set}
    fields = data.model_dump(
        mode="json",
        exclude={"hours", "exceptions", "qualifications", "community_code", "organisation_id"}
        | kept,
    )
    fields.update(codes, organisation_id=organisation_id, verified_at=now)
    connection = Resource._meta.default_connection
    async with storage_refusals("external_id", "this external id"), in_transaction(connection):
        before: dict[str, Any] = {}
        if resource_id is None:
            resource = await Resource.create(**fields)
        else:
            resource = await _editable(actor, resource_id)
            old = await OpeningHours.filter(resource_id=resource_id)
            old_dates = await HoursException.filter(resource_id=resource_id)
            before = snapshot(
                resource, [Interval(h.weekday, h.opens, h.closes) for h in old], old_dates
            )
            await resource.update_from_dict(fields).save()
            for model in (OpeningHours, HoursException, Qualification):
                await model.filter(resource_id=resource.id).delete()
        await OpeningHours.bulk_create(
            [OpeningHours(resource=resource, **vars(i)) for i in intervals]
        )
        dates = [
            HoursException(
                resource=resource,
                start_date=e.start_date,
                end_date=e.end_date,
                closed=e.closed,
                opens=None if e.opens is None else minutes(e.opens),
                closes=None if e.closes is None else minutes(e.closes),
                note=e.note,
            )
            for e in data.exceptions
        ]
        await HoursException.bulk_create(dates)
        await Qualification.bulk_create(
            [Qualification(resource=resource, **q.model_dump()) for q in data.qualifications]
        )
        after = snapshot(resource, intervals, dates)
        if resource_id is None:
            await audit.record(actor, "create", resource, after=after)
        else:
            old_part, new_part = audit.changed(before, after)
            await audit.record(actor, "update", resource, before=old_part, after=new_part)
        await changes.record([resource.id])
    return resource


async def _editable(actor: Principal, resource_id: int) -> Resource:
    resource = await Resource.get_or_none(id=resource_id)
    if resource is None:
        raise NotFound(N_("no resource with id %(id)s", id=resource_id))
    if not actor.may_edit_listings_of(resource.organisation_id):
        raise Forbidden(N_("staff may only edit their own organisation's listings"))
    if not actor.in_area(located(resource)):
        raise Forbidden(
            N_("your account is kept to area %(area)s: this listing is not", area=actor.area_code)
        )
    return resource


async def check_editable(actor: Principal, resource_id: int) -> None:
    """Refuse (``Forbidden``, ``NotFound``) a listing the actor may not edit: another
    organisation's, or one outside the area the account is kept to."""
    await _editable(actor, resource_id)


def located(resource: Resource) -> tuple[str, ...]:
    """The area codes a listing lies in, city to community (#20)."""
    return tuple(
        code
        for code in (
            resource.city_code,
            resource.district_code,
            resource.street_code,
            resource.community_code,
        )
        if code
    )


async def set_status(
    actor: Principal, resource_id: int, status: Status, *, now: dt.datetime
) -> Resource:
    """Suspend, close or reactivate a resource."""
    actor.require(Role.ADMIN, Role.STAFF)
    async with in_transaction(Resource._meta.default_connection):
        resource = await _editable(actor, resource_id)
        before = str(resource.status)
        resource.status = status
        resource.verified_at = now
        await resource.save(update_fields=["status", "verified_at"])
        await audit.record(
            actor, "status", resource, before={"status": before}, after={"status": str(status)}
        )
        await changes.record([resource.id])
    return resource


async def current_input(resource_id: int) -> ResourceIn:
    """The stored resource as input, e.g. to apply a partial change (PATCH) or fill a form."""
    r = (
        await Resource.filter(id=resource_id)
        .prefetch_related("hours", "exceptions", "qualifications")
        .first()
    )
    if r is None:
        raise NotFound(N_("no resource with id %(id)s", id=resource_id))
    return stored_input(r)


def stored_input(r: Resource, key: str | None = None) -> ResourceIn:
    """A stored resource, its hours, exceptions and qualifications prefetched, as input;
    ``key`` stands in for a missing ``external_id``."""
    plain = {
        name: getattr(r, name)
        for name in ResourceIn.model_fields
        if name not in ("hours", "exceptions", "qualifications", "organisation_id")
    }
    return ResourceIn.model_validate(
        {
            **plain,
            "external_id": r.external_id or key,
            "organisation_id": r.organisation_id,
            "hours": [
                {"weekday": h.weekday, "opens": hhmm(h.opens), "closes": hhmm(h.closes)}
                for h in sorted(r.hours, key=lambda h: (h.weekday, h.opens))
            ],
            "exceptions": [
                {
                    "start_date": e.start_date,
                    "end_date": e.end_date,
                    "closed": e.closed,
                    "opens": None if e.opens is None else hhmm(e.opens),
                    "closes": None if e.closes is None else hhmm(e.closes),
                    "note": e.note,
                }
                for e in sorted(r.exceptions, key=lambda e: (e.start_date, e.id))
            ],
            "qualifications": [
                {
                    "type": q.type,
                    "certificate_number": q.certificate_number,
                    "issuer": q.issuer,
                    "issued_on": q.issued_on,
                    "verified_on": q.verified_on,
                }
                for q in sorted(r.qualifications, key=lambda q: q.id)
            ],
        }
    )


async def patch_resource(
    actor: Principal, resource_id: int, patch: dict[str, Any], *, now: dt.datetime
) -> Resource:
    """Change some fields; the rest stay as stored. Validation sees the whole result."""
    merged = (await current_input(resource_id)).model_dump()
    unknown = set(patch) - set(ResourceIn.model_fields)
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    merged.update(patch)
    return await save_resource(
        actor, ResourceIn.model_validate(merged), resource_id=resource_id, now=now
    )
