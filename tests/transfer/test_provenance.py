"""Provenance (#19): every imported listing records file, format, row or record, import time
and account; the exports write it, and it survives a round trip."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

from resourcemap import accounts
from resourcemap.listings import edits
from resourcemap.models import Resource
from resourcemap.transfer.exporter import export_listings
from resourcemap.transfer.importer import SYSTEM, ImportOptions, import_listings
from resourcemap.transfer.report import ImportReport
from resourcemap.vocab import ResourceKind, Role
from tests.factories import run_in_db
from tests.transfer.test_export import _schema_errors
from tests.transfer_helpers import (
    CORPUS,
    GOOD_ROWS,
    NOW,
    city_areas,
    csv_bytes,
    folder_zip,
)

LATER = NOW + dt.timedelta(days=30)
TZ = ZoneInfo("Asia/Shanghai")


def _import(
    url: str, data: bytes, name: str, *, now: dt.datetime = NOW, actor: Any = SYSTEM, **options: Any
) -> ImportReport:
    report: ImportReport = run_in_db(
        url, lambda: import_listings(actor, data, name, ImportOptions(**options), now=now)
    )
    assert report.ok, report.lines()
    return report


def _export(url: str, fmt: str) -> bytes:
    data: bytes = run_in_db(url, lambda: export_listings(fmt, tz=TZ))
    return data


def _provenance(url: str, external_id: str) -> tuple[Any, ...]:
    r = run_in_db(url, lambda: Resource.get(external_id=external_id))
    return (
        r.source_file,
        r.source_format,
        r.source_record,
        r.imported_at,
        r.imported_by,
        r.earlier_sources,
    )


STEP = {
    "file": "rooms.csv",
    "format": "csv",
    "record": "row 2",
    "imported_at": NOW.isoformat(),
    "imported_by": "cli",
}


def test_every_format_records_file_format_record_time_and_account(database_url: str) -> None:
    org = run_in_db(database_url, city_areas)
    _import(database_url, csv_bytes(*GOOD_ROWS), "rooms.csv")
    assert _provenance(database_url, "room-1") == ("rooms.csv", "csv", "row 2", NOW, "cli", [])
    staff = run_in_db(
        database_url,
        lambda: accounts.create_account(
            None,
            username="li.staff",
            password="correct-horse-9",
            role=Role.STAFF,
            organisation_id=org,
        ),
    )
    own_row = GOOD_ROWS[1].replace("room-2", "room-9")  # staff's own new listing
    _import(
        database_url, csv_bytes(own_row), "again.csv", now=LATER, actor=accounts.Principal.of(staff)
    )
    assert _provenance(database_url, "room-9")[:5] == (
        "again.csv",
        "csv",
        "row 2",
        LATER,
        "li.staff",
    )
    service = json.loads((CORPUS / "hsds3-uk/service_full.json").read_text())
    service["service_at_locations"][0]["location"] |= {"latitude": 22.7, "longitude": 114.0}
    _import(
        database_url,
        json.dumps(service).encode(),
        "uk.json",
        default_kind=ResourceKind.LICENSED_AGENCY,
    )
    assert _provenance(database_url, service["id"])[:3] == ("uk.json", "hsds", service["id"])
    ohana = folder_zip(CORPUS / "ohana", {"regular_schedules.csv": {"13"}, "services.csv": {"20"}})
    _import(database_url, ohana, "ohana/", default_kind=ResourceKind.LICENSED_AGENCY)
    assert _provenance(database_url, "18")[:3] == ("ohana/", "hsds-tables", "services.csv id 18")


def test_hsds_export_writes_provenance_and_a_round_trip_keeps_it(
    database_url: str, backend: Any
) -> None:
    run_in_db(database_url, city_areas)
    _import(database_url, csv_bytes(*GOOD_ROWS), "rooms.csv")
    services = json.loads(_export(database_url, "hsds"))
    assert _schema_errors(services) == []
    room = next(s for s in services if s["name"] == "东湖社区心理咨询室")
    carried = [a["value"] for a in room["attributes"] if a["taxonomy_term"]["code"] == "provenance"]
    assert [json.loads(v) for v in carried] == [[STEP]]
    assert [
        (m["last_action_type"], m["last_action_date"], m["replacement_value"], m["updated_by"])
        for m in room["metadata"]
    ] == [("import", "2026-12-02", "rooms.csv csv row 2", "cli")]

    target = backend.fresh("empty")
    run_in_db(target, city_areas)
    _import(target, json.dumps(services).encode(), "export.json", now=LATER)
    moved = _provenance(target, "room-1")
    assert moved[:5] == ("export.json", "hsds", "room-1", LATER, "cli")
    assert moved[5] == [STEP]  # where it came from before, as it was
    again = json.loads(_export(target, "hsds"))
    chain = next(
        json.loads(a["value"])
        for s in again
        if s["name"] == "东湖社区心理咨询室"
        for a in s["attributes"]
        if a["taxonomy_term"]["code"] == "provenance"
    )
    assert [step["file"] for step in chain] == ["rooms.csv", "export.json"]


def test_csv_export_carries_provenance_and_reads_it_back(database_url: str, backend: Any) -> None:
    run_in_db(database_url, city_areas)
    _import(database_url, csv_bytes(*GOOD_ROWS), "rooms.csv")
    data = _export(database_url, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert json.loads(rows[0]["provenance"]) == [STEP]
    target = backend.fresh("empty")
    run_in_db(target, city_areas)
    _import(target, data, "export.csv", now=LATER)
    assert _provenance(target, "room-1")[2:] == ("row 2", LATER, "cli", [STEP])


def test_a_staff_edit_keeps_provenance_and_what_a_foreign_record_said(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    service = json.loads((CORPUS / "hsds3-uk/service_full.json").read_text())
    service["service_at_locations"][0]["location"] |= {"latitude": 22.7, "longitude": 114.0}
    _import(
        database_url,
        json.dumps(service).encode(),
        "uk.json",
        default_kind=ResourceKind.LICENSED_AGENCY,
    )
    before = run_in_db(database_url, lambda: Resource.get(external_id=service["id"]))

    async def edit() -> Resource:
        current = (await edits.current_input(before.id)).model_dump()
        del current["foreign_fields"]  # a form has no such field
        data = edits.ResourceIn.model_validate(current | {"name_zh": "社区心理咨询"})
        await edits.save_resource(SYSTEM, data, resource_id=before.id, now=NOW)
        return await Resource.get(id=before.id)

    after = run_in_db(database_url, edit)
    assert after.name_zh == "社区心理咨询"
    assert (after.source_file, after.imported_at) == ("uk.json", NOW)
    assert after.foreign_fields == before.foreign_fields != {}
