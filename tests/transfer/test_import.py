"""Importing listings: every format, the report, all-or-nothing, dry run, re-import, coordinates."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from geo.chinacoords import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from resourcemap import accounts, db
from resourcemap.errors import InvalidInput
from resourcemap.listings import edits
from resourcemap.models import AuditEntry, OpeningHours, Organisation, Resource, SearchChange
from resourcemap.transfer.importer import SYSTEM, ImportOptions, import_listings
from resourcemap.transfer.report import ImportReport
from resourcemap.vocab import ResourceKind, Role
from tests import DATA
from tests.factories import run_in_db
from tests.transfer_helpers import (
    CITY,
    DISTRICT,
    EAST,
    EAST_STREET,
    GOOD_ROWS,
    HEADER,
    NOW,
    ORG,
    city_areas,
    csv_bytes,
)

HSDS_EXAMPLE = DATA / "hsds/examples/service_full.json"


def _import(url: str, data: bytes, name: str, **options: Any) -> ImportReport:
    report: ImportReport = run_in_db(
        url, lambda: import_listings(SYSTEM, data, name, ImportOptions(**options), now=NOW)
    )
    return report


def _write(tmp_path: Path, name: str, data: bytes) -> bytes:
    """Files go through the disk, as a user's would."""
    path = tmp_path / name
    path.write_bytes(data)
    return path.read_bytes()


def _problems(report: ImportReport) -> set[tuple[int, str]]:
    return {(p.row, p.column) for p in report.problems}


def test_csv_with_bom_creates_listings_with_areas_hours_audit_and_search_log(
    database_url: str, tmp_path: Path
) -> None:
    org_id = run_in_db(database_url, city_areas)
    data = _write(tmp_path, "rooms.csv", csv_bytes(*GOOD_ROWS, bom=True))
    report = _import(database_url, data, "rooms.csv")
    assert report.ok, report.lines()
    assert (report.format, report.created, report.updated) == ("csv", 2, 0)

    async def stored() -> dict[str, Any]:
        room = await Resource.get(external_id="room-1")
        return {
            "room": room,
            "hours": await OpeningHours.filter(resource_id=room.id).count(),
            "audit": await AuditEntry.filter(entity="resource").values_list(
                "actor_id", "actor_name"
            ),
            "changes": await SearchChange.filter(op="upsert").values_list("resource_id", flat=True),
            "ids": await Resource.all().values_list("id", flat=True),
        }

    got = run_in_db(database_url, stored)
    room = got["room"]
    assert room.name_zh == "东湖社区心理咨询室"
    assert room.services == ["counselling", "group_activity"]  # Chinese labels read as codes
    assert room.organisation_id == org_id
    assert (room.city_code, room.district_code, room.street_code, room.community_code) == (
        CITY,
        DISTRICT,
        EAST_STREET,
        EAST,
    )
    assert (room.lat, room.lon) == (22.705, 114.005)
    assert room.verified_at is not None
    assert got["hours"] == 5
    assert got["audit"] == [(None, "cli"), (None, "cli")]
    assert sorted(got["changes"]) == sorted(got["ids"])


def test_gb18030_csv_from_chinese_excel(database_url: str, tmp_path: Path) -> None:
    run_in_db(database_url, city_areas)
    text = "\r\n".join([HEADER, *GOOD_ROWS]) + "\r\n"
    data = _write(tmp_path, "rooms.csv", text.encode("gb18030"))
    report = _import(database_url, data, "rooms.csv")
    assert report.ok, report.lines()
    names = run_in_db(database_url, lambda: Resource.all().order_by("id").values_list("name_zh"))
    assert [n for (n,) in names] == ["东湖社区心理咨询室", "西山社区心理咨询室"]


def test_xlsx_first_sheet_with_numeric_cells(database_url: str, tmp_path: Path) -> None:
    run_in_db(database_url, city_areas)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "资源"
    sheet.append(["external_id", "kind", "name_zh", "lat", "lon", "community_code", "phone"])
    sheet.append(["x-1", "心理咨询师", "李咨询师", 22.705, 114.005, int(EAST), 12320])
    sheet.append([None, None, None, None, None, None, None])  # an empty line is skipped
    sheet.append(["x-2", "hotline", "测试热线", None, None, None, "12355"])
    other = book.create_sheet("notes")
    other.append(["this sheet is not read"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    report = _import(database_url, path.read_bytes(), path.name)
    # The hotline lacks service_area_codes: rejected on its own spreadsheet row, 4.
    assert _problems(report) == {(4, "service_area_codes")}
    assert "needs the areas it serves" in report.problems[0].reason
    sheet.cell(row=4, column=8, value=CITY)
    sheet.cell(row=1, column=8, value="service_area_codes")
    book.save(path)
    report = _import(database_url, path.read_bytes(), path.name)
    assert report.ok, report.lines()
    person = run_in_db(database_url, lambda: Resource.get(external_id="x-1"))
    assert (person.kind, person.phone, person.community_code) == ("counsellor", "12320", EAST)


def test_geojson_points_and_null_geometry(database_url: str, tmp_path: Path) -> None:
    run_in_db(database_url, city_areas)
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [114.005, 22.705]},
                "properties": {
                    "external_id": "g-1",
                    "kind": "community_room",
                    "name_zh": "东湖社区心理咨询室",
                    "services": ["counselling", "危机干预"],
                    "hours": [{"weekday": 0, "opens": "09:00", "closes": "12:00"}],
                    "community_code": EAST,
                    "organisation_name_zh": ORG,
                },
            },
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "external_id": "g-2",
                    "kind": "volunteer_team",
                    "name_zh": "东街道心理志愿者服务队",
                    "service_area_codes": [EAST_STREET],
                    "hours": "周六 09:00-12:00",
                },
            },
        ],
    }
    data = _write(tmp_path, "map.geojson", json.dumps(collection, ensure_ascii=False).encode())
    report = _import(database_url, data, "map.geojson")
    assert report.ok and report.format == "geojson", report.lines()
    room = run_in_db(database_url, lambda: Resource.get(external_id="g-1"))
    assert (room.lon, room.lat) == (114.005, 22.705)
    assert room.services == ["counselling", "crisis_intervention"]
    collection["features"][1]["geometry"] = {"type": "LineString", "coordinates": [[0, 0]]}
    data = json.dumps(collection).encode()
    assert _problems(_import(database_url, data, "map.geojson")) == {(2, "geometry")}


BAD_ROWS = [
    GOOD_ROWS[0],
    f"room-3,castle,城堡,,counselling,22.70,114.00,{EAST},Mon 9-12,",
    f",community_room,无编号,,,22.70,114.00,{EAST},,",
    "room-4,community_room,未知社区,,,22.70,114.00,449901009009,,",
    f"room-1,community_room,重复编号,,,22.70,114.00,{EAST},,",
    f"room-5,community_room,坐标,,,95,114.00,{EAST},,not-a-phone",
    f"room-6,community_room,区代码,,,22.70,114.00,{EAST_STREET},Mon 09:00-12:00;Mon 11:00-13:00,",
    "room-7,community_room,无坐标,,,,,,,",
]


def test_bad_rows_are_reported_by_row_column_reason_and_nothing_is_written(
    database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    data = _write(tmp_path, "bad.csv", csv_bytes(*BAD_ROWS))
    report = _import(database_url, data, "bad.csv")
    assert not report.ok
    reasons = {(p.row, p.column): p.reason for p in report.problems}
    assert "'castle' is not a known code" in reasons[(3, "kind")]
    assert "'9-12' is not a time range" in reasons[(3, "hours")]
    assert "required" in reasons[(4, "external_id")]
    assert "'449901009009' is not a known area code" in reasons[(5, "community_code")]
    assert "also the external_id of row 2" in reasons[(6, "external_id")]
    assert "must be at most 90" in reasons[(7, "lat")]
    assert "phone number" in reasons[(7, "phone")]
    assert "is not a community" in reasons[(8, "community_code")]
    assert "intervals overlap" in reasons[(8, "hours")]
    assert "needs a location" in reasons[(9, "lat, lon")]
    assert 2 not in {p.row for p in report.problems}
    assert "nothing was written" in report.summary()
    counts = run_in_db(
        database_url, lambda: asyncio.gather(Resource.all().count(), SearchChange.all().count())
    )
    assert counts == [0, 0]


def test_dry_run_validates_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    run_in_db(database_url, city_areas)
    data = _write(tmp_path, "rooms.csv", csv_bytes(*GOOD_ROWS))
    report = _import(database_url, data, "rooms.csv", dry_run=True)
    assert report.ok and not report.written and report.created == 2
    assert report.summary().startswith("dry run: all 2 listings are valid")
    assert run_in_db(database_url, lambda: Resource.all().count()) == 0
    bad = _import(database_url, csv_bytes(*BAD_ROWS), "bad.csv", dry_run=True)
    assert not bad.ok and (3, "kind") in _problems(bad)


def test_reimport_updates_by_external_id_instead_of_duplicating(
    database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    assert _import(database_url, csv_bytes(*GOOD_ROWS), "rooms.csv").created == 2
    first = run_in_db(database_url, lambda: Resource.get(external_id="room-1"))
    changed = GOOD_ROWS[0].replace("东湖社区心理咨询室", "东湖社区心理服务室")
    report = _import(database_url, csv_bytes(changed, GOOD_ROWS[1]), "rooms.csv")
    # One row changed, one as it was: only the change is saved (and audited).
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1), report.lines()
    rows = run_in_db(
        database_url, lambda: Resource.all().order_by("id").values_list("id", "name_zh")
    )
    assert rows == [(first.id, "东湖社区心理服务室"), (first.id + 1, "西山社区心理咨询室")]
    actions = run_in_db(
        database_url, lambda: AuditEntry.filter(entity="resource").values_list("action", flat=True)
    )
    assert sorted(actions) == ["create", "create", "update"]


def test_a_file_imported_again_as_it_was_changes_nothing_and_says_so(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    assert _import(database_url, csv_bytes(*GOOD_ROWS), "rooms.csv").created == 2
    changes = run_in_db(database_url, lambda: SearchChange.all().count())
    # Next month's file: the same listings, one's hours written in another order.
    hours = "Mon-Fri 09:00-12:00; Sat 09:00-12:00"
    again = csv_bytes(
        GOOD_ROWS[0], GOOD_ROWS[1].replace(hours, "Sat 09:00-12:00; Mon-Fri 09:00-12:00")
    )
    dry = _import(database_url, again, "rooms.csv", dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (0, 0, 2)
    assert "(0 would be created, 0 updated, 2 unchanged)" in dry.summary()
    later = NOW + dt.timedelta(days=30)
    report: ImportReport = run_in_db(
        database_url,
        lambda: import_listings(SYSTEM, again, "rooms-12.csv", ImportOptions(), now=later),
    )
    assert report.summary() == "imported 2 listings: 0 created, 0 updated, 2 unchanged"
    # Nothing saved again: no edit in the audit log, nothing for search to index again ...
    actions = run_in_db(
        database_url, lambda: AuditEntry.filter(entity="resource").values_list("action", flat=True)
    )
    assert sorted(actions) == ["create", "create"]
    assert run_in_db(database_url, lambda: SearchChange.all().count()) == changes
    # ... but staff's own sheet, uploaded again, confirms its listings as a save does.
    room = run_in_db(database_url, lambda: Resource.get(external_id="room-2"))
    assert (room.verified_at, room.source_file) == (later, "rooms-12.csv")


def test_gcj02_and_bd09_coordinates_are_converted_to_wgs84(
    database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    wgs = (114.005, 22.705)
    gcj = [float(v) for v in wgs84_to_gcj02(*wgs)]
    bd = [float(v) for v in wgs84_to_bd09(*wgs)]
    header = "external_id,kind,name_zh,lon,lat,coord_system,community_code"
    rows = [
        f"a-gcj,community_room,高德坐标,{gcj[0]},{gcj[1]},gcj02,{EAST}",
        f"a-bd,community_room,百度坐标,{bd[0]},{bd[1]},,{EAST}",  # the file option: bd09
        f"a-wgs,community_room,原始坐标,{wgs[0]},{wgs[1]},WGS-84,{EAST}",
    ]
    data = _write(tmp_path, "coords.csv", csv_bytes(*rows, header=header))
    assert _import(database_url, data, "coords.csv", coords="bd09").ok
    rows = run_in_db(database_url, lambda: Resource.all().values_list("external_id", "lon", "lat"))
    got = {e: (x, y) for e, x, y in rows}
    expected_gcj = [float(v) for v in gcj02_to_wgs84(*gcj)]
    expected_bd = [float(v) for v in bd09_to_wgs84(*bd)]
    assert got["a-gcj"] == pytest.approx(expected_gcj, abs=1e-7)
    assert got["a-bd"] == pytest.approx(expected_bd, abs=1e-7)
    assert got["a-gcj"] == pytest.approx(wgs, abs=1e-6)  # back where it was, to ~0.1 m
    assert got["a-bd"] == pytest.approx(wgs, abs=1e-6)
    assert got["a-wgs"] == wgs
    assert abs(gcj[0] - wgs[0]) > 1e-3  # the shift was real (hundreds of metres)


async def _staff_world() -> dict[str, Any]:
    own = await city_areas()
    other = await Organisation.create(name_zh="别家机构", type="ngo")
    staff = await accounts.create_account(
        None, username="staff", password="correct-horse-9", role=Role.STAFF, organisation_id=own
    )
    theirs = await Resource.create(
        kind="community_room", name_zh="别家的室", external_id="theirs", lat=22.7, lon=114.0
    )
    theirs.organisation_id = other.id
    await theirs.save()
    return {"own": own, "staff": accounts.Principal.of(staff)}


@pytest.mark.anyio
async def test_staff_import_only_their_own_organisations_listings(database_url: str) -> None:
    async with db.database(database_url):
        world = await _staff_world()
        staff = world["staff"]
        rows = [
            GOOD_ROWS[1],  # no organisation named: the staff member's own
            f"x-9,community_room,别家新室,别家机构,,22.70,114.00,{EAST},,",
            f"theirs,community_room,别家的室,,,22.70,114.00,{EAST},,",
            f"x-10,community_room,新机构室,全新机构,,22.70,114.00,{EAST},,",
        ]
        report = await import_listings(staff, csv_bytes(*rows), "rooms.csv", now=NOW)
        reasons = {(p.row, p.column): p.reason for p in report.problems}
        assert "own organisation" in reasons[(3, "organisation_name_zh")]
        assert "another organisation's listing" in reasons[(4, "external_id")]
        assert "only admins create organisations" in reasons[(5, "organisation_name_zh")]
        assert 2 not in {p.row for p in report.problems}

        own_only = await import_listings(staff, csv_bytes(GOOD_ROWS[1]), "rooms.csv", now=NOW)
        assert own_only.ok
        room = await Resource.get(external_id="room-2")
    assert room.organisation_id == world["own"]


def test_admin_import_creates_named_organisations_once(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    header = HEADER + ",organisation_type"
    rows = [
        f"n-1,community_room,甲室,新社工机构,,22.70,114.00,{EAST},,,ngo",
        f"n-2,community_room,乙室,新社工机构,,22.70,114.00,{EAST},,,社会组织",
        f"n-3,community_room,丙室,无类型机构,,22.70,114.00,{EAST},,,",
    ]
    report = _import(database_url, csv_bytes(*rows, header=header), "orgs.csv")
    assert _problems(report) == {(4, "organisation_name_zh")}
    assert "organisation_type to create it" in report.problems[0].reason
    assert _import(database_url, csv_bytes(*rows[:2], header=header), "orgs.csv").ok
    orgs = run_in_db(database_url, lambda: Organisation.filter(name_zh="新社工机构").count())
    assert orgs == 1


def test_a_row_with_more_cells_than_the_header_is_refused(database_url: str) -> None:
    # An unquoted comma in an address moves the cells after it one column on: the row was
    # "valid" with its phone number in the wrong field and the rest dropped.
    run_in_db(database_url, city_areas)
    shifted = GOOD_ROWS[0] + ",0755-1234,extra"
    report = _import(database_url, csv_bytes(shifted, GOOD_ROWS[1]), "rooms.csv")
    assert _problems(report) == {(2, "K")}  # the 11th column, named as a spreadsheet does
    assert "2 filled cells have no column name in the header" in report.problems[0].reason
    # Empty cells past the header (a spreadsheet's trailing commas) are harmless.
    assert _import(database_url, csv_bytes(GOOD_ROWS[0] + ",,"), "rooms.csv").ok


def test_a_workbook_column_with_no_header_is_said_and_left_out(
    database_url: str, tmp_path: Path
) -> None:
    # No comma moves a cell in a workbook: a notes column nobody headed is not a reason to
    # refuse the file, but it is said, not dropped in silence.
    run_in_db(database_url, city_areas)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["external_id", "kind", "name_zh", "lat", "lon", "community_code", None])
    sheet.append(["w-1", "community_room", "东湖室", 22.705, 114.005, EAST, "call first"])
    path = tmp_path / "notes.xlsx"
    book.save(path)
    report = _import(database_url, path.read_bytes(), path.name)
    assert report.ok and report.created == 1
    assert any("column G has no name in the header" in str(n) for n in report.notes)


def test_unknown_columns_and_unreadable_files_are_messages(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    data = csv_bytes(GOOD_ROWS[0] + ",x", header=HEADER + ",colour")
    assert _problems(_import(database_url, data, "rooms.csv")) == {(1, "colour")}
    broken = _import(database_url, b"PK\x03\x04 not really a workbook", "rooms.xlsx")
    assert broken.problems[0].line().startswith("file: not a readable XLSX")
    assert "not a readable XLSX workbook" in broken.problems[0].reason
    latin = _import(database_url, b"\xff\xfe\x00garbage", "rooms.csv")
    assert not latin.ok
    empty = _import(database_url, csv_bytes(), "rooms.csv")
    assert "holds no listings" in empty.problems[0].reason
    deep = _import(database_url, b"[" * 100_000 + b"]" * 100_000, "services.json")
    assert "nested too deeply" in deep.problems[0].reason
    # Raw text is never sent to the database unchecked (PostgreSQL refuses NUL).
    nul = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"external_id": "a\u0000", "organisation_name_zh": "b\u0000"},
            },
            {"type": "Feature", "geometry": None, "properties": [1]},
        ],
    }
    report = _import(database_url, json.dumps(nul).encode(), "nul.geojson")
    assert {(1, "external_id"), (1, "organisation_name_zh"), (2, "properties")} <= _problems(report)


def test_a_row_the_domain_refuses_while_writing_rolls_back_the_whole_file(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_in_db(database_url, city_areas)
    real = edits.save_resource
    calls: list[int] = []

    async def refuse_second(*args: Any, **kwargs: Any) -> Resource:
        calls.append(1)
        if len(calls) == 2:
            raise InvalidInput("refused for the test", field="name_zh")
        return await real(*args, **kwargs)

    # The importer saves through resourcemap.listings.edits, the module object imported here.
    monkeypatch.setattr(edits, "save_resource", refuse_second)
    report = _import(database_url, csv_bytes(*GOOD_ROWS), "rooms.csv")
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (3, "name_zh", "refused for the test")
    ]
    assert report.created == 0
    counts = run_in_db(
        database_url,
        lambda: asyncio.gather(
            Resource.all().count(), SearchChange.all().count(), AuditEntry.all().count()
        ),
    )
    assert counts == [0, 0, 0]


def test_foreign_hsds_record_needs_a_kind_and_valid_values(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    record = json.loads(HSDS_EXAMPLE.read_text())
    data = json.dumps([record]).encode()
    report = _import(database_url, data, "services.json")
    assert report.format == "hsds"
    # Every problem of the record at once, each named by its HSDS place. The example's
    # phone number, written in quotes, is read (quotes are no part of a number).
    assert _problems(report) == {
        (0, "attributes (resourcemap-kind)"),  # no record has a kind of ours: the file's
        (1, "location.latitude"),  # 100
    }
    report = _import(database_url, data, "services.json", default_kind=ResourceKind.LICENSED_AGENCY)
    assert _problems(report) == {(1, "location.latitude")}
    location = record["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = 22.705, 114.005
    page = {"total_items": 1, "contents": [record]}
    report = _import(
        database_url,
        json.dumps(page).encode(),
        "page.json",
        default_kind=ResourceKind.LICENSED_AGENCY,
    )
    assert report.ok, report.lines()
    stored = run_in_db(database_url, lambda: Resource.get(external_id=record["id"]))
    assert (stored.name_zh, stored.kind, stored.fee) == (record["name"], "licensed_agency", "paid")
    assert stored.phone == "+44 1234 234567 ext. 100"
    hours = run_in_db(
        database_url,
        lambda: OpeningHours.filter(resource_id=stored.id).values_list(
            "weekday", "opens", "closes"
        ),
    )
    # TH,FR 10:00-18:00 at the schedule's "timezone": 3 (UTC+3) are 15:00-23:00 in Shanghai.
    assert sorted(hours) == [(3, 900, 1380), (4, 900, 1380)]
    org = run_in_db(
        database_url, lambda: Organisation.get(external_id=record["organization"]["id"])
    )
    assert org.name_zh == record["organization"]["name"]
