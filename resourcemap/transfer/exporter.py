"""Exporting listings as CSV, XLSX, GeoJSON or HSDS 3.0 JSON.

CSV and XLSX have exactly the columns the importer reads (:data:`columns.COLUMNS`), so an
export imports again into any database with the same areas; GeoJSON has the same columns as
properties of Point features (``null`` geometry for area-served listings); HSDS is a JSON
list of full service records (docs/hsds-mapping.md).

Example (tortoise initialised)::

    data = await export_listings("csv", tz=ZoneInfo("Asia/Shanghai"))
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap.dataset import SYNTHETIC_KEY
from resourcemap.errors import InvalidInput
from resourcemap.models import Area, DatasetInfo
from resourcemap.transfer import hsds_out
from resourcemap.transfer.columns import COLUMNS, to_properties, to_row
from resourcemap.transfer.records import ExportRecord, instance_id, load_records

EXPORT_FORMATS = ("hsds", "geojson", "csv", "xlsx")
MEDIA_TYPES = {
    "hsds": "application/json",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SUFFIXES = {"hsds": ".json", "geojson": ".geojson", "csv": ".csv", "xlsx": ".xlsx"}
TEXT_FORMATS = ("hsds", "geojson", "csv")


def to_csv(records: Sequence[ExportRecord]) -> bytes:
    """UTF-8 with BOM (so Excel shows Chinese), CRLF lines, formulas defused."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for rec in records:
        writer.writerow(
            to_row(rec.data, rec.organisation, provenance=rec.provenance, guard_formulas=True)
        )
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(records: Sequence[ExportRecord]) -> bytes:
    # No openpyxl stubs in the dev dependencies yet; the ignores stay harmless once there are.
    from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
    from openpyxl.cell.cell import (  # type: ignore[import-untyped,unused-ignore]
        ILLEGAL_CHARACTERS_RE,
    )
    from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "listings"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for number, rec in enumerate(records, start=2):
        row = to_row(rec.data, rec.organisation, provenance=rec.provenance)
        for col, name in enumerate(COLUMNS, start=1):
            value = row[name]
            cell = sheet.cell(row=number, column=col)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            else:
                cell.value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_geojson(records: Sequence[ExportRecord]) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": rec.data.external_id or rec.resource.id,
            "geometry": (
                None
                if rec.data.lat is None or rec.data.lon is None
                else {"type": "Point", "coordinates": [rec.data.lon, rec.data.lat]}
            ),
            "properties": to_properties(rec.data, rec.organisation, rec.provenance),
        }
        for rec in records
    ]
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False).encode()


async def hsds_context(tz: ZoneInfo) -> hsds_out.Context:
    """Areas, the synthetic flag and this database's instance id (made once, then kept)."""
    instance = await instance_id()
    areas = {a.code: a for a in await Area.all()}
    synthetic = await DatasetInfo.exists(key=SYNTHETIC_KEY)
    return hsds_out.Context(instance=instance, areas=areas, tz=tz, synthetic=synthetic)


def to_hsds(records: Sequence[ExportRecord], ctx: hsds_out.Context) -> bytes:
    services: list[dict[str, Any]] = [hsds_out.service(rec, ctx) for rec in records]
    return json.dumps(services, ensure_ascii=False).encode()


async def export_listings(
    fmt: str, *, tz: ZoneInfo, organisation_id: int | None = None, area_code: str | None = None
) -> bytes:
    """Every listing (or one organisation's, or those located in ``area_code``: the area an
    account is kept to) in ``fmt``, one of :data:`EXPORT_FORMATS`."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}", field="format")
    records = await load_records(organisation_id=organisation_id, area_code=area_code)
    if fmt == "hsds":
        return to_hsds(records, await hsds_context(tz))
    if fmt == "geojson":
        return to_geojson(records)
    if fmt == "csv":
        return to_csv(records)
    return to_xlsx(records)
