"""Exporting listings: round trips through every format; HSDS checked by the official schemas."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openpyxl import load_workbook
from referencing import Registry
from referencing import Resource as SchemaResource
from referencing.jsonschema import DRAFT202012

from resourcemap.models import HoursException, Organisation, Resource
from resourcemap.transfer.columns import COLUMNS
from resourcemap.transfer.exporter import export_listings
from resourcemap.transfer.importer import SYSTEM, ImportOptions, import_listings
from resourcemap.transfer.records import load_records
from resourcemap.transfer.report import ImportReport
from tests import DATA
from tests.conftest import Backend
from tests.factories import run_in_db, small_city
from tests.transfer_helpers import NOW, city_areas

SCHEMAS = DATA / "hsds/schema"
TZ = ZoneInfo("Asia/Shanghai")


def _export(url: str, fmt: str) -> bytes:
    data: bytes = run_in_db(url, lambda: export_listings(fmt, tz=TZ))
    return data


def _import(url: str, data: bytes, name: str) -> ImportReport:
    report: ImportReport = run_in_db(
        url, lambda: import_listings(SYSTEM, data, name, ImportOptions(), now=NOW)
    )
    return report


async def _listings() -> dict[str | None, Any]:
    """What a user sees of every listing, by external_id: input fields and organisation."""
    out = {}
    for rec in await load_records():
        org = rec.organisation
        fields = rec.data.model_dump(mode="json", exclude={"organisation_id"})
        out[rec.data.external_id] = (fields, None if org is None else (org.name_zh, org.type))
    return out


async def _city_with_listings() -> dict[str, int]:
    """``small_city``, plus a listing whose texts test the CSV escaping and list markers."""
    ids = await small_city()
    room = await Resource.get(id=ids["room"])
    room.accessibility = ["wheelchair", "elevator"]
    room.accessibility_note = "北门有坡道; 电梯在东侧"
    room.address_en = "1 Donghu Road"
    await room.save()
    await HoursException.create(
        resource=room,
        start_date=dt.date(2026, 10, 3),
        end_date=dt.date(2026, 10, 4),
        closed=False,
        opens=9 * 60,
        closes=12 * 60,
        note="国庆加开",
    )
    await Resource.create(
        kind="hotline",
        accessibility=["sign_language"],
        accessibility_note="视频手语",
        description_en="Line 1\nLine 2",
        capacity=3,
        always_open=True,
        name_zh='=HYPERLINK("http://example.invalid","点击")',
        description_zh="第一行\n第二行, 含逗号; 含分号",
        phone="+86 755 1234 5678",
        audiences=[],
        modes=["phone"],
        service_area_codes=["449900000000"],
        external_id="ext-hotline",
        fee="unknown",
        eligibility="referral",
        eligibility_note_zh="需社区转介",
        eligibility_note_en="Referred by a community worker",
    )
    return ids


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "hsds"])
def test_export_then_import_into_an_empty_database_gives_the_same_listings(
    fmt: str, database_url: str, backend: Backend, tmp_path: Path
) -> None:
    run_in_db(database_url, _city_with_listings)
    before = run_in_db(database_url, _listings)
    path = tmp_path / f"listings.{'json' if fmt == 'hsds' else fmt}"
    path.write_bytes(_export(database_url, fmt))

    target = backend.fresh("empty")
    run_in_db(target, city_areas)  # the same areas and organisation, no listings
    report = _import(target, path.read_bytes(), path.name)
    assert report.ok, report.lines()
    assert report.created == len(before) == 7
    after = run_in_db(target, _listings)
    for key in before:
        for field, value in before[key][0].items():
            assert (key, field, after[key][0].get(field)) == (key, field, value)
    assert after == before

    # Back into the database it came from: none duplicated; the six listings that had no
    # external_id take the key they were exported under, the seventh is as it was.
    again = _import(database_url, path.read_bytes(), path.name)
    assert (again.created, again.updated, again.unchanged) == (0, 6, 1), again.lines()
    assert run_in_db(database_url, lambda: Resource.all().count()) == 7
    assert run_in_db(database_url, _listings) == before
    assert run_in_db(database_url, lambda: Resource.filter(external_id=None).count()) == 0


def test_csv_columns_are_what_import_reads_and_formulas_are_defused(database_url: str) -> None:
    run_in_db(database_url, _city_with_listings)
    data = _export(database_url, "csv")
    assert data.startswith("\ufeff".encode())  # so that Excel shows Chinese
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    by_name = {r["external_id"]: r for r in rows}
    hotline = by_name["ext-hotline"]
    assert hotline["name_zh"].startswith("'=HYPERLINK")
    assert hotline["phone"] == "'+86 755 1234 5678"
    assert hotline["audiences"] == "[]"  # explicitly none, not the default
    room = next(r for r in rows if r["name_zh"] == "东湖社区心理咨询室")
    assert room["hours"] == "Mon-Fri 09:00-12:00, 14:00-17:30"
    assert (
        room["exceptions"]
        == "2026-10-03..2026-10-04 09:00-12:00 国庆加开; 2026-12-04 closed 员工培训"
    )
    assert room["accessibility"] == "wheelchair; elevator"
    assert room["organisation_name_zh"] == "测试区卫健局"
    assert room["community_code"] == "449901001001" and room["coord_system"] == "wgs84"
    doctor = next(r for r in rows if r["name_zh"] == "王医生")
    assert (
        doctor["qualifications"] == "psychiatrist|YS-2015-000123|测试市卫生健康委员会||2026-03-01"
    )


def test_xlsx_cells_are_text_never_formulas(database_url: str, tmp_path: Path) -> None:
    run_in_db(database_url, _city_with_listings)
    path = tmp_path / "listings.xlsx"
    path.write_bytes(_export(database_url, "xlsx"))
    sheet = load_workbook(path).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert tuple(header) == COLUMNS
    name_col = header.index("name_zh") + 1
    cells = [sheet.cell(row=r, column=name_col) for r in range(2, sheet.max_row + 1)]
    formula = next(c for c in cells if str(c.value).startswith("="))
    assert formula.data_type == "s"


def test_geojson_export_is_a_feature_collection_of_points(database_url: str) -> None:
    run_in_db(database_url, small_city)
    collection = json.loads(_export(database_url, "geojson"))
    assert collection["type"] == "FeatureCollection"
    features = {f["properties"]["name_zh"]: f for f in collection["features"]}
    room = features["东湖社区心理咨询室"]
    assert room["geometry"] == {"type": "Point", "coordinates": [114.005, 22.705]}
    assert room["properties"]["services"] == ["counselling", "group_activity"]
    assert features["测试市心理援助热线"]["geometry"] is None
    assert "lat" not in room["properties"]


def _validators() -> list[Draft202012Validator]:
    registry: Registry[Any] = Registry()
    for path in SCHEMAS.glob("*.json"):
        if path.name != "openapi.json":  # its $refs are URLs; nothing here is fetched
            contents = json.loads(path.read_text())
            registry = registry.with_resource(
                path.name, SchemaResource.from_contents(contents, DRAFT202012)
            )
    service = json.loads((SCHEMAS / "service.json").read_text())
    compiled = json.loads((SCHEMAS / "compiled/service_with_definitions.json").read_text())
    checker = FormatChecker()
    return [
        Draft202012Validator(service, registry=registry, format_checker=checker),
        Draft202012Validator(compiled, format_checker=checker),
    ]


def _schema_errors(services: list[dict[str, Any]]) -> list[str]:
    return [
        f"{s['name']}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for validator in _validators()
        for s in services
        for e in validator.iter_errors(s)
    ]


def test_hsds_export_validates_against_the_official_schemas(database_url: str) -> None:
    run_in_db(database_url, _city_with_listings)
    services = json.loads(_export(database_url, "hsds"))
    assert len(services) == 7
    assert _schema_errors(services) == []
    by_name = {s["name"]: s for s in services}
    room = by_name["东湖社区心理咨询室"]
    location = room["service_at_locations"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (22.705, 114.005)
    assert location["external_identifier"] == "449901001001"
    assert location["addresses"][0]["state_province"] == "广东省"
    assert {s.get("byday") for s in room["schedules"]} >= {"MO,TU,WE,TH,FR"}
    assert room["organization"]["name"] == "测试区卫健局"
    hotline = by_name["测试市心理援助热线"]
    assert "service_at_locations" not in hotline
    assert hotline["schedules"][0]["closes_at"] == "24:00+08:00"
    assert hotline["service_areas"][0]["name"] == "测试市"
    closed = by_name["旧址心理咨询室"]
    assert closed["status"] == "defunct"
    # Ids are stable: a second export gives the same ones.
    again = json.loads(_export(database_url, "hsds"))
    assert [s["id"] for s in again] == [s["id"] for s in services]
    # The check is real: a broken record fails it.
    broken = dict(room, id="not-a-uuid", status="open")
    assert len(_schema_errors([broken])) >= 2


def test_hsds_export_of_the_demo_city_validates(demo_url: str) -> None:
    services = json.loads(_export(demo_url, "hsds"))
    assert len(services) > 200
    assert _schema_errors(services) == []
    synthetic = [
        a["value"] for a in services[0]["attributes"] if a["taxonomy_term"]["code"] == "synthetic"
    ]
    assert synthetic == ["true"]  # demo data never passes for real listings elsewhere


def test_staff_export_is_their_organisations_only(database_url: str) -> None:
    run_in_db(database_url, small_city)

    async def own() -> bytes:
        org = await Organisation.get(name_zh="测试区卫健局")
        return await export_listings("csv", tz=TZ, organisation_id=org.id)

    rows = list(csv.DictReader(io.StringIO(run_in_db(database_url, own).decode("utf-8-sig"))))
    assert [r["name_zh"] for r in rows] == ["东湖社区心理咨询室"]
