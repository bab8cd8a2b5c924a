"""Administrative areas (city → district → street 街道/镇 → community 社区/村) and demand."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from resourcemap.vocab import AreaLevel


class Area(Model):
    """An administrative area with its boundary and resident population.

    ``code`` is the national statistical division code (12 digits for a community); the
    boundary is a GeoJSON geometry in WGS-84, kept as text so SQLite and PostgreSQL store
    it the same way.
    """

    code = fields.CharField(max_length=12, primary_key=True)
    level = fields.CharEnumField(AreaLevel, max_length=16, db_index=True)
    name_zh = fields.CharField(max_length=100)
    name_en = fields.CharField(max_length=200, default="")
    parent: fields.ForeignKeyNullableRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: str | None  # the key (a code), as tortoise sets it
    population = fields.BigIntField(default=0)
    population_source = fields.CharField(max_length=200, default="")
    boundary: dict[str, Any] | None = fields.JSONField(null=True)
    source = fields.CharField(max_length=100, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "area"


class DemandPoint(Model):
    """A weighted demand point: a population grid cell centre or an address point."""

    id = fields.BigIntField(primary_key=True)
    lat = fields.FloatField()
    lon = fields.FloatField()
    weight = fields.FloatField()
    area: fields.ForeignKeyNullableRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="demand_points", null=True, on_delete=fields.SET_NULL
    )
    area_id: str | None  # the key (a code), as tortoise sets it
    source = fields.CharField(max_length=100, db_index=True)

    class Meta:
        table = "demand_point"
