"""Other directories' data (#19 items 1–3 and 7): Open Referral's HSDS 3.0 examples, an HSDS
3.0 UK API's mock pages and Code for America's Ohana sample (a real San Mateo County
directory), each case with its exact outcome. Files: tests/data/realdata/README.md."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup

from resourcemap.models import HoursException, OpeningHours, Organisation, Resource
from resourcemap.transfer.importer import SYSTEM, ImportOptions, import_listings
from resourcemap.transfer.report import ImportReport
from resourcemap.vocab import ResourceKind
from tests.factories import run_in_db
from tests.transfer.test_export import _schema_errors
from tests.transfer_helpers import (
    CORPUS,
    EAST,
    HEADER,
    HSDS_SERVICE,
    NOW,
    city_areas,
    csv_bytes,
    folder_zip,
    transfer_client,
)

AGENCY = ResourceKind.LICENSED_AGENCY
UK = CORPUS / "hsds3-uk"
OHANA = CORPUS / "ohana"
# What a user fixes after the first report of the Ohana sample (test_transfer_corpus): a
# Monday "9am"–"03:00" (closes before it opens) and a service whose location has no point.
OHANA_FIXED = {"regular_schedules.csv": {"13"}, "services.csv": {"20"}}


def _import(url: str, data: bytes, name: str, **options: Any) -> ImportReport:
    report: ImportReport = run_in_db(
        url, lambda: import_listings(SYSTEM, data, name, ImportOptions(**options), now=NOW)
    )
    return report


def _problems(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in sorted(report.problems)]


def _uk_service(**location: Any) -> dict[str, Any]:
    """The UK API's service_full.json, its location moved to a real place (its latitude 100
    is refused, see test_transfer_corpus)."""
    record: dict[str, Any] = json.loads((UK / "service_full.json").read_text())
    record["service_at_locations"][0]["location"] |= {"latitude": 22.705, "longitude": 114.005}
    record["service_at_locations"][0]["location"] |= location
    return record


def _stored(url: str, external_id: str) -> Resource:
    async def get() -> Resource:
        return await Resource.get(external_id=external_id).prefetch_related(
            "organisation", "hours", "exceptions"
        )

    resource: Resource = run_in_db(url, get)
    return resource


def _organisation_of(url: str, external_id: str) -> Organisation:
    found = _stored(url, external_id).organisation
    assert found is not None, f"{external_id} was filed under no organisation"
    return found


def _hours(resource: Resource) -> list[tuple[int, int, int]]:
    return sorted((h.weekday, h.opens, h.closes) for h in resource.hours)


# 1. Organisation ids in files are other directories' ids.


def test_ohana_organisation_ids_are_external_ids_never_our_database_ids(
    database_url: str,
) -> None:
    async def locals_first() -> list[int]:
        return [
            (await Organisation.create(name_zh=f"本地机构{i}", type="government")).id
            for i in range(1, 9)
        ]

    local_ids = run_in_db(database_url, locals_first)
    assert 3 in local_ids and 5 in local_ids  # Ohana's ids 3 and 5 are ours too
    report = _import(database_url, folder_zip(OHANA, OHANA_FIXED), "ohana/", default_kind=AGENCY)
    assert report.ok, report.lines()
    assert (report.created, report.rows) == (22, 22)
    assert (
        "organisation 'Samaritan House' (external id '5') created, type: "
        "Non-governmental organisation" in (report.note_lines())
    )
    for clinic in ("18", "19"):  # Project Smile, San Mateo Free Medical Clinic
        org = _organisation_of(database_url, clinic)
        assert (org.name_zh, org.external_id) == (
            "Samaritan House",
            "5",
        )
    library = _organisation_of(database_url, "10")  # Main Library
    assert library.name_zh == "Redwood City Public Library"
    on_locals = run_in_db(
        database_url, lambda: Resource.filter(organisation_id__in=local_ids).count()
    )
    assert on_locals == 0


def test_organization_id_column_is_matched_as_external_id(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    header = "external_id,kind,name_zh,organization_id,organization_name,lat,lon"
    uuid = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"  # the HSDS 3.0 example organisation
    first = f"a-1,licensed_agency,甲,{uuid},Example Organization Inc.,22.705,114.005"
    created = _import(
        database_url, csv_bytes(first, header=header + ",organisation_type") + b"", "a.csv"
    )
    assert not created.ok  # named, but no type to create it with
    assert _problems(created) == [
        (
            2,
            "organization_id",
            f"no organisation has the external id {uuid!r}; give its organisation_name_zh and "
            "organisation_type to create it (a file's organisation ids are other "
            "directories' ids, never ours)",
        )
    ]
    report = _import(
        database_url, csv_bytes(first + ",ngo", header=header + ",organisation_type"), "a.csv"
    )
    assert report.ok, report.lines()
    org = _organisation_of(database_url, "a-1")
    assert (org.external_id, org.name_zh) == (uuid, "Example Organization Inc.")
    # A small integer is someone else's id too: our organisation with id 1 is not it.
    second = _import(
        database_url, csv_bytes("a-2,licensed_agency,乙,1,,22.705,114.005", header=header), "b.csv"
    )
    assert [(p.row, p.column) for p in second.problems] == [(2, "organization_id")]
    assert second.problems[0].reason.startswith("no organisation has the external id '1'")


# 2. No cost options: the fee is unknown, never free.


def test_ohana_fees_stay_unknown_with_their_text(database_url: str) -> None:
    report = _import(database_url, folder_zip(OHANA, OHANA_FIXED), "ohana/", default_kind=AGENCY)
    assert report.ok, report.lines()
    fees = run_in_db(database_url, lambda: Resource.all().values_list("fee", flat=True))
    assert set(fees) == {"unknown"}  # no Ohana service has cost options: none is "free"
    rosener = _stored(database_url, "7")  # Rosener House Adult Day Services
    assert rosener.fee_note.startswith("$85 per day. Vary according to income")


def test_ohana_accessibility_words_that_are_ours_read_in_the_page_language(
    database_url: str,
) -> None:
    report = _import(database_url, folder_zip(OHANA, OHANA_FIXED), "ohana/", default_kind=AGENCY)
    assert report.ok, report.lines()
    centre = _stored(
        database_url, "1"
    )  # its location: "disabled_parking, ramp, restroom, wheelchair"
    assert centre.accessibility == ["wheelchair"]
    # The words that are not one of ours stay the record's own, in its language.
    assert centre.accessibility_note == "disabled parking；ramp；restroom"
    with transfer_client(database_url) as client:
        page_zh = client.get(f"/resources/{centre.id}", params={"lang": "zh"}).text
    text = " ".join(BeautifulSoup(page_zh, "html.parser").get_text(" ").split())
    assert "轮椅可达" in text and "wheelchair" not in text


def test_unknown_fee_is_not_free_for_the_filter_the_page_or_the_export(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    record = _uk_service()
    del record["cost_options"]
    report = _import(database_url, json.dumps(record).encode(), "s.json", default_kind=AGENCY)
    assert report.ok, report.lines()
    stored = _stored(database_url, record["id"])
    assert (stored.fee, stored.fee_note) == ("unknown", "fees_description")
    with transfer_client(database_url) as client:
        free = client.get("/api/v1/search", params={"fee": "free"}).json()
        everything = client.get("/api/v1/search").json()
        page = client.get(f"/resources/{stored.id}", params={"lang": "en"}).text
        page_zh = client.get(f"/resources/{stored.id}", params={"lang": "zh"}).text
    assert (free["total"], everything["total"]) == (0, 1)
    cost = " ".join(BeautifulSoup(page, "html.parser").get_text(" ").split())
    assert "Fee not stated — fees_description" in cost and "Free" not in page
    assert "费用未注明" in page_zh
    exported = _export_hsds(database_url)[0]
    assert "cost_options" not in exported and exported["fees_description"] == "fees_description"


def test_cost_options_give_the_fee_and_come_back_as_they_came(
    database_url: str, tmp_path: Path
) -> None:
    run_in_db(database_url, city_areas)
    uk = _uk_service()  # option, amount 35, no currency
    spec: dict[str, Any] = json.loads(HSDS_SERVICE.read_text())  # amount 35, currency gbp
    spec["id"] = "8b2d1f3e-0000-4000-8000-000000000001"
    spec["service_at_locations"][0]["location"] |= {"latitude": 22.71, "longitude": 114.01}
    report = _import(
        database_url, json.dumps([uk, spec]).encode(), "services.json", default_kind=AGENCY
    )
    assert report.ok, report.lines()
    stored = _stored(database_url, uk["id"])
    assert (stored.fee, stored.fee_note) == ("paid", "fees_description")  # its deprecated fees
    services = {s["id"]: s for s in _export_hsds(database_url)}
    strip = [
        {k: v for k, v in c.items() if k not in ("id", "service_id")}
        for c in services[uk["id"]]["cost_options"]
    ]
    assert strip == [{k: v for k, v in c.items() if k != "id"} for c in uk["cost_options"]]
    assert "currency" not in services[uk["id"]]["cost_options"][0]  # none came in
    assert services[spec["id"]]["cost_options"][0]["currency"] == "gbp"


def _export_hsds(url: str) -> list[dict[str, Any]]:
    from resourcemap.transfer.exporter import export_listings

    services: list[dict[str, Any]] = json.loads(
        run_in_db(url, lambda: export_listings("hsds", tz=ZoneInfo("Asia/Shanghai")))
    )
    return services


# 3. Hours: 12-hour clocks, UTC offsets, service and location schedules apart.


def test_ohana_twelve_hour_times_and_service_hours_apart_from_location_hours(
    database_url: str,
) -> None:
    report = _import(database_url, folder_zip(OHANA, OHANA_FIXED), "ohana/", default_kind=AGENCY)
    assert report.ok, report.lines()
    passport = _stored(database_url, "22")  # its own schedules: 08:00, 14:00-4:00 PM, 3pm
    assert _hours(passport) == [(0, 480, 720), (0, 840, 960), (2, 600, 900)]
    assert (
        "location schedules not used: the service has its own (a service's own hours win) "
        "(services.csv row 22)"
    ) in report.note_lines()
    example = _stored(database_url, "23")  # none of its own: its location's, and holiday
    assert _hours(example) == [*((d, 480, 1020) for d in range(5)), (5, 600, 1080), (6, 660, 1020)]
    holiday = [(str(e.start_date), e.closed, e.opens, e.closes) for e in example.exceptions]
    assert holiday == [("2015-12-24", False, 600, 960)]  # "12/24/2015".."12/24/15"


def _with_schedules(*schedules: dict[str, Any]) -> bytes:
    record = _uk_service()
    record["schedules"] = [{"freq": "WEEKLY", **s} for s in schedules]
    return json.dumps(record).encode()


def test_utc_offsets_are_converted_to_the_configured_zone(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    data = _with_schedules(
        {"byday": "MO", "opens_at": "08:00Z", "closes_at": "12:00Z"},
        {"byday": "TU", "opens_at": "08:00-07:00", "closes_at": "10:00-07:00"},
        {"byday": "TH", "opens_at": "08:00+08:00", "closes_at": "12:00+08:00"},
    )
    assert _import(database_url, data, "service.json", default_kind=AGENCY).ok
    stored = _stored(database_url, _uk_service()["id"])
    # Monday 16:00-20:00; Tuesday 23:00 to Wednesday 01:00; Thursday as given.
    assert _hours(stored) == [(0, 960, 1200), (1, 1380, 1440), (2, 0, 60), (3, 480, 720)]
    assert "times_without_offset" not in stored.foreign_fields
    london = _import(
        database_url, data, "service.json", default_kind=AGENCY, tz=ZoneInfo("Europe/London")
    )
    assert _problems(london)[0] == (
        1,
        "schedules[0].opens_at",
        "a time with a UTC offset is not one local time in Europe/London, which changes its "
        "offset during the year: give local times without an offset",
    )


def test_unreadable_times_are_problems_naming_the_cell(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    data = _with_schedules(
        {"byday": "MO", "opens_at": "noonish", "closes_at": "5pm"},
        {"byday": "Monday", "opens_at": "9am", "closes_at": "5pm"},
    )
    report = _import(database_url, data, "service.json", default_kind=AGENCY)
    assert _problems(report) == [
        (1, "schedules[0].opens_at", "'noonish' is not a time like 09:00, 9am or 4:00 PM"),
        (1, "schedules[1].byday", "'Monday' names no weekday (MO,TU,WE,TH,FR,SA,SU)"),
    ]


def test_spec_example_service_and_location_schedules_are_not_merged(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    record: dict[str, Any] = json.loads(HSDS_SERVICE.read_text())
    record["service_at_locations"][0]["location"] |= {"latitude": 22.705, "longitude": 114.005}
    location = record["service_at_locations"][0]["location"]
    assert location["schedules"] and record["schedules"]  # both levels have hours
    report = _import(database_url, json.dumps(record).encode(), "s.json", default_kind=AGENCY)
    assert report.ok, report.lines()
    # TH,FR 10:00-18:00 at "timezone": 3 (UTC+3) are 15:00-23:00 in Shanghai.
    assert _hours(_stored(database_url, record["id"])) == [(3, 900, 1380), (4, 900, 1380)]


# 7. Smaller: every problem of a row, record shapes, service areas, round trips.


def test_every_problem_of_a_row_is_reported_at_once(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    header = "external_id,kind,name_zh,phone,hours,lat,lon"
    row = "r-1,community_room,甲,电话号码,Mon 09:00-12:00; Mon 11:00-13:00,,"
    report = _import(database_url, csv_bytes(row, header=header), "rows.csv")
    assert [(p.row, p.column) for p in sorted(report.problems)] == [
        (2, "hours"),  # overlapping
        (2, "lat, lon"),  # a community room needs a location
        (2, "phone"),  # not a number
    ]


def test_a_header_problem_is_not_a_rejected_row(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    rows = [f"h-{i},community_room,室{i},,,22.705,114.005,{EAST},,,x" for i in range(22)]
    report = _import(database_url, csv_bytes(*rows, header=HEADER + ",colour"), "rooms.csv")
    assert (report.rows, report.rejected_rows) == (22, 0)
    assert report.lines() == [
        "row 1, colour: unknown column",
        "1 problem in the header row, 1 problem in all; nothing was written (an import is all "
        "or nothing)",
    ]


def test_hsds_pages_of_other_records_say_what_they_are(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    organizations = (CORPUS / "hsds3/organization_list.json").read_bytes()
    report = _import(database_url, organizations, "organizations.json", default_kind=AGENCY)
    assert _problems(report) == [
        (
            1,
            "",
            "this is an HSDS organization record ('Example Organization Inc.'), not a service, "
            "and it lists no services: import its services (a services page, or the "
            "organization with its services nested)",
        )
    ]
    # An organization with its services, and a page of service_at_locations, are services.
    full = (CORPUS / "hsds3/organization_full.json").read_bytes()
    links = (UK / "service_at_location_list.json").read_bytes()
    for data in (full, links):
        report = _import(database_url, data, "page.json", default_kind=AGENCY)
        assert [(p.row, p.column) for p in report.problems] == [(1, "location.latitude")]


def test_free_text_service_area_gets_a_hint(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    record = _uk_service()
    del record["service_at_locations"]
    report = _import(
        database_url, json.dumps(record).encode(), "s.json", default_kind=ResourceKind.HOTLINE
    )
    assert _problems(report) == [
        (
            1,
            "service_areas",
            "Psychological assistance hotline needs the areas it serves (service_area_codes) "
            "(service_areas[0] 'The service is available to "
            "all residents of the MyCity area' is text, not an area code: give the areas' "
            "statistical division codes (our resourcemap-field:area_code))",
        )
    ]


def test_foreign_record_round_trip_keeps_address_times_and_costs(
    database_url: str, backend: Any
) -> None:
    run_in_db(database_url, city_areas)
    record = _uk_service()
    assert _import(database_url, json.dumps(record).encode(), "s.json", default_kind=AGENCY).ok
    exported = _export_hsds(database_url)[0]
    assert _schema_errors([exported]) == []
    address = exported["service_at_locations"][0]["location"]["addresses"][0]
    given = record["service_at_locations"][0]["location"]["addresses"][0]
    assert {k: address[k] for k in given if k != "id"} == {
        k: v for k, v in given.items() if k != "id"
    }
    assert address["country"] == "US" and address["address_type"] == "postal"
    schedule = exported["schedules"][0]
    assert (schedule["opens_at"], schedule["closes_at"], "timezone" in schedule) == (
        "10:00",
        "18:00",
        False,
    )  # "10:00:00" without an offset comes back without one, never "+08:00"
    target = backend.fresh("empty")
    run_in_db(target, city_areas)
    again = _import(target, json.dumps(exported).encode(), "export.json")
    assert again.ok, again.lines()
    first, second = _stored(database_url, record["id"]), _stored(target, record["id"])
    fields = ("name_zh", "fee", "fee_note", "phone", "foreign_fields", "lat", "lon", "kind")
    assert [getattr(second, f) for f in fields] == [getattr(first, f) for f in fields]
    assert _hours(second) == _hours(first) == [(3, 600, 1080), (4, 600, 1080)]


def test_organisation_without_external_id_survives_the_round_trip(
    database_url: str, backend: Any
) -> None:
    org_id = run_in_db(database_url, city_areas)  # 测试区卫健局 has no external id
    # In no community (the target database has no areas to find one in).
    row = "room-1,community_room,东湖社区心理咨询室,测试区卫健局,,22.75,114.005,,,"
    assert _import(database_url, csv_bytes(row), "rooms.csv").ok
    exported = json.dumps(_export_hsds(database_url)).encode()
    again = _import(database_url, exported, "export.json")
    assert again.ok and again.notes == {}, again.lines()  # no organisation created
    orgs = run_in_db(database_url, lambda: Organisation.all().values_list("id", "external_id"))
    assert orgs == [(org_id, None)]
    target = backend.fresh("empty")
    elsewhere = _import(target, exported, "export.json")
    assert elsewhere.ok, elsewhere.lines()
    uuid = json.loads(exported)[0]["organization"]["id"]
    moved = run_in_db(target, lambda: Organisation.get(name_zh="测试区卫健局"))
    assert moved.external_id == uuid  # elsewhere, our id becomes its external id


def test_holiday_and_schedule_rows_are_named_by_their_table_and_row(database_url: str) -> None:
    broken = copy.deepcopy(OHANA_FIXED)
    report = _import(database_url, folder_zip(OHANA, broken), "ohana/", default_kind=AGENCY)
    assert report.ok
    counts = run_in_db(
        database_url,
        lambda: HoursException.all().count(),
    )
    assert counts == 1  # the one dated holiday; three yearly ones noted, not kept
    assert run_in_db(database_url, lambda: OpeningHours.all().count()) == 10
