"""Organisations, resources and what describes a resource: hours, exceptions, qualifications.

Field names follow Open Referral HSDS 3.0 where a counterpart exists; docs/hsds-mapping.md
holds the full mapping.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from resourcemap.vocab import (
    Eligibility,
    Fee,
    OrganisationType,
    QualificationType,
    ResourceKind,
    Status,
)


class Organisation(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=100, unique=True, null=True)
    name_zh = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=300, default="")
    type = fields.CharEnumField(OrganisationType, max_length=32)
    description = fields.TextField(default="")
    website = fields.CharField(max_length=300, default="")
    phone = fields.CharField(max_length=40, default="")
    source = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    resources: fields.ReverseRelation[Resource]

    class Meta:
        table = "organisation"


class Resource(Model):
    """A service resource: a place, a team serving an area, a practitioner or a hotline.

    Point resources have ``lat``/``lon`` (WGS-84), area-served resources (volunteer teams,
    hotlines) list the area codes they serve in ``service_area_codes`` and may have no point.
    """

    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=100, unique=True, null=True)
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="resources", null=True, on_delete=fields.RESTRICT
    )
    organisation_id: int | None  # the key, as tortoise sets it
    kind = fields.CharEnumField(ResourceKind, max_length=40, db_index=True)
    name_zh = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=300, default="")
    description_zh = fields.TextField(default="")
    description_en = fields.TextField(default="")
    services: list[str] = fields.JSONField(default=list)
    audiences: list[str] = fields.JSONField(default=list)
    languages: list[str] = fields.JSONField(default=list)
    modes: list[str] = fields.JSONField(default=list)
    accessibility: list[str] = fields.JSONField(default=list)
    accessibility_note = fields.CharField(max_length=500, default="")
    # English versions of the notes (migration 0013); empty: the page shows the Chinese one,
    # marked as Chinese.
    accessibility_note_en = fields.CharField(max_length=500, default="", db_default="")
    fee = fields.CharEnumField(Fee, max_length=8, default=Fee.FREE)
    fee_note = fields.CharField(max_length=500, default="")
    fee_note_en = fields.CharField(max_length=500, default="", db_default="")
    # Who may use it (HSDS service.eligibility_description): public, or members only with a
    # short note ("仅限本校学生"). Members-only listings leave public search by default.
    # Database defaults too, so the migration can add them to tables that hold rows.
    eligibility = fields.CharEnumField(
        Eligibility, max_length=16, default=Eligibility.PUBLIC, db_default="public"
    )
    eligibility_note_zh = fields.CharField(max_length=300, default="", db_default="")
    eligibility_note_en = fields.CharField(max_length=300, default="", db_default="")
    # Public contact of the service itself (never a resident's).
    phone = fields.CharField(max_length=40, default="")
    email = fields.CharField(max_length=200, default="")
    website = fields.CharField(max_length=300, default="")
    capacity = fields.SmallIntField(default=1)
    always_open = fields.BooleanField(default=False)
    status = fields.CharEnumField(Status, max_length=16, default=Status.ACTIVE, db_index=True)
    verified_at = fields.DatetimeField(null=True)
    lat = fields.FloatField(null=True, db_index=True)
    lon = fields.FloatField(null=True, db_index=True)
    address_zh = fields.CharField(max_length=300, default="")
    address_en = fields.CharField(max_length=300, default="")
    city_code = fields.CharField(max_length=12, default="", db_index=True)
    district_code = fields.CharField(max_length=12, default="", db_index=True)
    street_code = fields.CharField(max_length=12, default="", db_index=True)
    community_code = fields.CharField(max_length=12, default="", db_index=True)
    service_area_codes: list[str] = fields.JSONField(default=list)
    # What another directory's record said that this model has no field for (its address
    # parts, cost options, times given without a UTC offset), so an export gives it back.
    foreign_fields: dict[str, Any] = fields.JSONField(default=dict, db_default="{}")
    source = fields.CharField(max_length=100, default="")
    # Provenance of the last import that wrote the listing (empty for listings made in the
    # app), and the import steps the imported record itself carried, oldest first.
    source_file = fields.CharField(max_length=255, default="", db_default="")
    source_format = fields.CharField(max_length=16, default="", db_default="")
    source_record = fields.CharField(max_length=200, default="", db_default="")
    imported_at = fields.DatetimeField(null=True)
    imported_by = fields.CharField(max_length=150, default="", db_default="")
    earlier_sources: list[dict[str, str]] = fields.JSONField(default=list, db_default="[]")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    hours: fields.ReverseRelation[OpeningHours]
    exceptions: fields.ReverseRelation[HoursException]
    qualifications: fields.ReverseRelation[Qualification]

    class Meta:
        table = "resource"


class OpeningHours(Model):
    """One opening interval on a weekday (0 = Monday), several per day allowed.

    Times are minutes after local midnight (540 = 09:00, 1440 = midnight at the end of the
    day): wall-clock times in the configured time zone, which a time-zone-aware TIME column
    would shift.
    """

    id = fields.IntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="hours", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    weekday = fields.SmallIntField()
    opens = fields.SmallIntField()
    closes = fields.SmallIntField()

    class Meta:
        table = "opening_hours"
        indexes = (("resource_id",),)  # slots read one resource's hours on every listing


class HoursException(Model):
    """A dated change to the weekly hours, closed or open at other times, for a date range."""

    id = fields.IntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="exceptions", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    start_date = fields.DateField()
    end_date = fields.DateField()
    closed = fields.BooleanField(default=True)
    # Minutes after local midnight, as in OpeningHours, when open at other times.
    opens = fields.SmallIntField(null=True)
    closes = fields.SmallIntField(null=True)
    note = fields.CharField(max_length=300, default="")

    class Meta:
        table = "hours_exception"
        indexes = (("resource_id",),)


class Qualification(Model):
    """Qualification of a practitioner, disclosed publicly as the policy requires."""

    id = fields.IntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="qualifications", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    type = fields.CharEnumField(QualificationType, max_length=32)
    certificate_number = fields.CharField(max_length=100)
    issuer = fields.CharField(max_length=200)
    issued_on = fields.DateField(null=True)
    verified_on = fields.DateField(null=True)

    class Meta:
        table = "qualification"


class Closure(Model):
    """A local closure staff add, e.g. a typhoon day, for an area or one resource.

    With ``area_code`` set it closes every resource located in that area (any level); with
    ``resource`` set, that resource only. Dates are local and inclusive.
    """

    id = fields.IntField(primary_key=True)
    start_date = fields.DateField()
    end_date = fields.DateField()
    area_code = fields.CharField(max_length=12, null=True, db_index=True)
    resource: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="closures", null=True, on_delete=fields.CASCADE
    )
    resource_id: int | None  # the key, as tortoise sets it
    reason = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "closure"


# "In commit order" in its description is not so: numbers are taken in write order, and a
# follower asks again for those it has not seen (search.changes.Gaps). The description is
# part of the migrations' model state, so it stays as migrated.
class SearchChange(Model):
    """Change log of listings, in commit order: the outbox the search indexes follow.

    Every write to a resource adds a row in the same transaction; each app process's
    embedded index and the Meilisearch sync apply rows after the last sequence they saw, so
    several processes stay in step and a search-engine outage loses no update.
    """

    seq = fields.BigIntField(primary_key=True)
    resource_id = fields.IntField(null=True)
    # "upsert", "delete", or "rebuild" (resource_id empty) after bulk loads.
    op = fields.CharField(max_length=8)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "search_change"


class SearchCursor(Model):
    """The last change-log sequence a consumer (e.g. ``meilisearch``) has applied."""

    consumer = fields.CharField(max_length=32, primary_key=True)
    seq = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "search_cursor"
