"""When a listing was last confirmed true, as the file says: HSDS ``assured_date``.

Residents read "Listing checked" and staff "Last confirmed" from it. An import of another
directory's records is not a confirmation: the date is the record's own, and a record that
gives none is shown as never confirmed. Our CSV is staff's own sheet: importing it confirms
the listings, as a save by staff does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from resourcemap.models import Resource
from resourcemap.transfer.importer import DEFAULT_TZ
from tests.factories import run_in_db
from tests.transfer.test_foreign import (
    AGENCY,
    _export_hsds,
    _import,
    _problems,
    _stored,
    _uk_service,
)
from tests.transfer_helpers import NOW, city_areas, csv_bytes

UNCONFIRMED = (
    "assured_date not given: a new listing shows no date it was last confirmed until staff "
    "confirm it"
)


def _local_day(when: dt.datetime | None) -> dt.date | None:
    return None if when is None else when.astimezone(DEFAULT_TZ).date()


def _record(**changes: Any) -> bytes:
    record = _uk_service()  # assured_date 2005-01-01
    record.update(changes)
    return json.dumps(record).encode()


def test_the_records_assured_date_is_the_listings_last_confirmation(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    report = _import(database_url, _record(), "s.json", default_kind=AGENCY)
    assert report.ok, report.lines()
    stored = _stored(database_url, _uk_service()["id"])
    assert _local_day(stored.verified_at) == dt.date(2005, 1, 1)  # not the import's day
    assert _export_hsds(database_url)[0]["assured_date"] == "2005-01-01"


def test_a_record_without_one_is_never_confirmed_until_staff_confirm_it(
    database_url: str,
) -> None:
    run_in_db(database_url, city_areas)
    key = _uk_service()["id"]
    data = _record(assured_date=None)
    report = _import(database_url, data, "s.json", default_kind=AGENCY)
    assert report.ok, report.lines()
    assert f"{UNCONFIRMED} (service 1)" in report.note_lines()
    assert _stored(database_url, key).verified_at is None
    assert not _export_hsds(database_url)[0].get("assured_date")  # none said
    # Staff confirm it; the directory's next file, still without a date, leaves theirs.
    confirmed = dt.datetime(2026, 11, 20, 7, 30, tzinfo=dt.UTC)
    run_in_db(database_url, lambda: Resource.filter(external_id=key).update(verified_at=confirmed))
    assert _import(database_url, data, "s.json", default_kind=AGENCY).unchanged == 1
    assert _stored(database_url, key).verified_at == confirmed
    # A file confirming it on that day keeps the hour staff did; a later day replaces it.
    same_day = _record(assured_date="2026-11-20")
    assert _import(database_url, same_day, "s.json", default_kind=AGENCY).ok
    assert _stored(database_url, key).verified_at == confirmed
    later = _record(assured_date="2026-12-01")
    assert _import(database_url, later, "s.json", default_kind=AGENCY).ok
    assert _local_day(_stored(database_url, key).verified_at) == dt.date(2026, 12, 1)


def test_our_csv_is_staffs_own_sheet_and_confirms_its_listings(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    row = "room-1,community_room,东湖社区心理咨询室,测试区卫健局,,22.705,114.005,,,"
    assert _import(database_url, csv_bytes(row), "rooms.csv").ok
    assert _stored(database_url, "room-1").verified_at == NOW


def test_an_unreadable_or_future_assured_date_names_its_cell(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    for given, reason in (
        ("31/12/2025", "'31/12/2025' is not a date such as 2026-11-30"),
        ("2026-12-03", "2026-12-03 is later than today"),  # NOW is 2 December in Shanghai
    ):
        report = _import(database_url, _record(assured_date=given), "s.json", default_kind=AGENCY)
        assert _problems(report) == [(1, "assured_date", reason)]
    # A date and time, as some directories write it, is read for its date.
    report = _import(
        database_url, _record(assured_date="2026-11-30T16:00:00Z"), "s.json", default_kind=AGENCY
    )
    assert report.ok, report.lines()
    assert _local_day(_stored(database_url, _uk_service()["id"]).verified_at) == dt.date(
        2026, 11, 30
    )
