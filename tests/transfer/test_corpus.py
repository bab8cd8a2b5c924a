"""``resourcemap import --dry-run`` on every file of the real-data corpus prints the expected
report, line for line (#19). The files and where they come from: tests/data/realdata/README.md.

Published examples are often refused, each for its true reason: Open Referral's examples
place their location at latitude 100, a record of another directory has no kind of ours
until ``--kind`` gives one, and Ohana's sample has a Monday 9am–03:00 and a location without
a point. What is understood but not kept is a note, never a silent drop.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from resourcemap.cli import main
from resourcemap.models import Area, Resource
from tests.factories import run_in_db
from tests.transfer_helpers import CORPUS, DATAV, HSDS_SERVICE, SHENZHEN, shenzhen

REFUSED = "nothing was written (an import is all or nothing)"
AGENCY = ["--kind", "licensed_agency"]
NOT_KEPT_AREAS = (
    "note: service areas given as text are not kept: ResourceMap takes the areas' statistical "
    "division codes"
)
OWN_HOURS_WIN = (
    "note: location schedules not used: the service has its own (a service's own hours win)"
)
LATITUDE_100 = "100: must be at most 90"
NO_LANGUAGES = "note: languages not given: listed as Chinese (zh)"
NO_SERVICES = (
    "note: services not given: a search by service does not find the listing until staff tick them"
)
UNCONFIRMED = (
    "note: assured_date not given: a new listing shows no date it was last confirmed until "
    "staff confirm it"
)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    return CliRunner()


def _dry_run(cli: CliRunner, path: Path, *options: str) -> tuple[int, list[str]]:
    result = cli.invoke(main, ["import", str(path), "--dry-run", *options])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout.splitlines()


async def _city() -> None:
    await Area.create(code=SHENZHEN, level="city", name_zh="深圳市", population=0)


def test_datav_districts(cli: CliRunner, database_url: str) -> None:
    run_in_db(database_url, _city)
    assert _dry_run(cli, DATAV, "--areas") == (
        1,
        [
            "file: 440300_full_extract.json is a DataV/AMap boundary file (adcode, acroutes): "
            "its coordinates are GCJ-02; give --coords gcj02 (or --coords wgs84 if it was "
            "converted already)",
            f"the file is refused, 1 problem in all; {REFUSED}",
        ],
    )
    assert _dry_run(cli, DATAV, "--areas", "--coords", "gcj02") == (
        0,
        [
            "note: a DataV/AMap file has no population: stored as 0 (unknown)",
            "note: boundaries converted from GCJ-02 to WGS-84, vertex by vertex (823 vertices)",
            "dry run: all 4 areas are valid (4 would be created, 0 updated); nothing was written",
        ],
    )


def test_messy_gbk_csv(cli: CliRunner, database_url: str) -> None:
    run_in_db(database_url, shenzhen)
    assert _dry_run(cli, CORPUS / "messy/rooms_gbk.csv") == (
        0,
        [
            "note: organisation '示例社工机构' (external id 'ORG-1') would be created, type: "
            "Non-governmental organisation",
            "dry run: all 5 listings are valid (5 would be created, 0 updated); nothing was "
            "written",
        ],
    )


def test_messy_xlsx_phones(cli: CliRunner, database_url: str) -> None:
    run_in_db(database_url, shenzhen)
    assert _dry_run(cli, CORPUS / "messy/phones.xlsx") == (
        1,
        [
            "row 3, 电话: 75525533524 is stored as a number, which drops a leading 0 (a landline "
            "such as 0755-25533524 would need it) and is not a mobile, 400/800 or short "
            "service number: format the column as text and type the whole number",
            f"1 row rejected, 1 problem in all; {REFUSED}",
        ],
    )


def _spec_notes(where: str, label: str) -> list[str]:
    """What Open Referral's example service says that is not kept."""
    return [
        f"{OWN_HOURS_WIN} ({label})",
        f"{NOT_KEPT_AREAS} ({label})",
        f"{NO_SERVICES} ({label})",
        # Written in English: its name is the English name too, and its alias is not kept.
        f"note: alternate_name 'MyCity Counselling Services' is not kept: a listing has one "
        f"name ({label})",
        *(
            f"note: {where}: {name} is ignored on a WEEKLY schedule ({label})"
            for name in ("bymonthday", "byweekno", "byyearday")
        ),
        f"note: {where}: valid until 2005-01-01, which is past; its weekly hours were imported "
        f"as current ({label})",
    ]


def test_hsds3_csv_package(cli: CliRunner) -> None:
    assert _dry_run(cli, CORPUS / "hsds3/csv", *AGENCY) == (
        1,
        [
            f"services.csv row 2, locations.csv row 2, latitude: {LATITUDE_100}",
            *_spec_notes("schedules.csv row 2", "services.csv row 2"),
            f"1 row rejected, 1 problem in all; {REFUSED}",
        ],
    )


@pytest.mark.parametrize("path", [HSDS_SERVICE, CORPUS / "hsds3/organization_full.json"])
def test_hsds3_service_and_organization_with_services(cli: CliRunner, path: Path) -> None:
    assert _dry_run(cli, path, *AGENCY) == (
        1,
        [
            f"service 1, location.latitude: {LATITUDE_100}",
            *_spec_notes("schedules[0]", "service 1"),
            f"1 service rejected, 1 problem in all; {REFUSED}",
        ],
    )


def test_hsds3_service_without_a_kind_of_ours(cli: CliRunner) -> None:
    code, lines = _dry_run(cli, HSDS_SERVICE)
    assert (code, lines[:2]) == (
        1,
        [
            # Once for the file, not once a record: the kind is one choice for all of them.
            "file, attributes (resourcemap-kind): no record names its kind of service "
            "(another directory's records name none of ours): give the kind of the file's "
            "listings and import it again; a location or service areas, which depend on the "
            "kind, are checked then",
            f"service 1, location.latitude: {LATITUDE_100}",
        ],
    )


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            CORPUS / "hsds3/organization_list.json",
            "this is an HSDS organization record ('Example Organization Inc.'), not a service, "
            "and it lists no services: import its services (a services page, or the "
            "organization with its services nested)",
        ),
        (
            CORPUS / "hsds3-uk/organization_list.json",
            "this is an HSDS organization record ('Example Organization Inc.'), not a service, "
            "and it lists no services: import its services (a services page, or the "
            "organization with its services nested)",
        ),
        (
            CORPUS / "hsds3/taxonomy_term_list.json",
            "this is an HSDS taxonomy or taxonomy term, which holds no service",
        ),
    ],
)
def test_hsds_pages_without_services(cli: CliRunner, path: Path, reason: str) -> None:
    assert _dry_run(cli, path) == (
        1,
        [f"service 1: {reason}", f"1 service rejected, 1 problem in all; {REFUSED}"],
    )


def test_hsds3_uk_service(cli: CliRunner) -> None:
    assert _dry_run(cli, CORPUS / "hsds3-uk/service_full.json", *AGENCY) == (
        1,
        [
            f"service 1, location.latitude: {LATITUDE_100}",
            f"{NOT_KEPT_AREAS} (service 1)",
            f"{NO_LANGUAGES} (service 1)",  # it lists one language, with an id and no name
            f"{NO_SERVICES} (service 1)",
            "note: schedules[0]: bymonthday is ignored on a WEEKLY schedule (service 1)",
            "note: schedules[0]: valid until 2005-01-01, which is past; its weekly hours were "
            "imported as current (service 1)",
            f"1 service rejected, 1 problem in all; {REFUSED}",
        ],
    )


def test_hsds3_uk_pages(cli: CliRunner) -> None:
    assert _dry_run(cli, CORPUS / "hsds3-uk/service_list.json", *AGENCY) == (
        1,
        [
            # The kind by its label, as chosen on the page (not its code).
            "service 1, location.latitude, location.longitude: Licensed psychological service "
            "agency needs a location (lat, lon)",
            f"{NO_LANGUAGES} (service 1)",
            f"{NO_SERVICES} (service 1)",
            f"1 service rejected, 1 problem in all; {REFUSED}",
        ],
    )
    assert _dry_run(cli, CORPUS / "hsds3-uk/service_at_location_list.json", *AGENCY) == (
        1,
        [
            f"service 1, location.latitude: {LATITUDE_100}",
            f"{NO_LANGUAGES} (service 1)",
            f"{NO_SERVICES} (service 1)",
            f"1 service rejected, 1 problem in all; {REFUSED}",
        ],
    )


def test_ohana_sample_csv(cli: CliRunner, database_url: str) -> None:
    assert _dry_run(cli, CORPUS / "ohana", *AGENCY) == (
        1,
        [
            "services.csv row 2, regular_schedules.csv row 12, closes_at: closes '03:00' is not "
            "after opens '9am'",
            "services.csv row 21, locations.csv row 21, latitude, longitude: Licensed "
            "psychological service agency needs a location (lat, lon)",
            *(
                f"note: holiday_schedules.csv row {n}: a yearly holiday (year 0001) is not kept: "
                "ResourceMap keeps dated exceptions only"
                for n in (2, 4, 5)
            ),
            f"{NOT_KEPT_AREAS} (services.csv rows 2–16, 18–20, 22–24)",
            f"{NO_SERVICES} (services.csv rows 2–24)",
            f"{UNCONFIRMED} (services.csv rows 2–24)",
            "note: eligibility_description is longer than 300 characters: cut to 300 "
            "(services.csv row 6)",
            f"{NO_LANGUAGES} (services.csv rows 12–14, 18, 21–22)",
            f"{OWN_HOURS_WIN} (services.csv row 23)",
            # Its Spanish alias: the English name is the listing's English name.
            "note: alternate_name 'Fotos para pasaportes' is not kept: a listing has one name "
            "(services.csv row 23)",
            "note: language 'Taiwanese' is not kept: it names no language code (services.csv "
            "row 24)",
            f"2 rows rejected, 2 problems in all; {REFUSED}",
        ],
    )
    assert run_in_db(database_url, lambda: Resource.all().count()) == 0
