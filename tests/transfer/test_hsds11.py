"""Open Referral's HSDS 1.1 sample package (``tests/data/realdata/hsds11``): a table for
each thing a service has, languages and eligibility among them, and no kind of ours."""

from __future__ import annotations

import csv
import io

from resourcemap.transfer.hsds_tables import zip_folder
from tests.factories import run_in_db
from tests.transfer.test_foreign import AGENCY, _import, _problems, _stored
from tests.transfer_helpers import CORPUS, city_areas, folder_zip

HSDS11 = CORPUS / "hsds11"
HELPLINE = "c89eb05c-62dd-4b64-b494-0cc347b6ea7f"  # Never Homeless Helpline
KIND_ASKED = (
    "no record names its kind of service (another directory's records name none of ours): "
    "give the kind of the file's listings and import it again; a location or service areas, "
    "which depend on the kind, are checked then"
)


def _located() -> bytes:
    """The package with a point for every location, as its user adds them after the first
    report (eight of its ten locations have none)."""
    files = []
    for path in sorted(HSDS11.glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        if path.name == "locations.csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            for i, row in enumerate(rows):
                row["latitude"], row["longitude"] = f"{22.701 + i / 1000:.3f}", "114.005"
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            text = out.getvalue()
        files.append((path.name, text.encode()))
    return zip_folder(files)


def test_the_kind_is_asked_once_for_the_whole_file(database_url: str) -> None:
    report = _import(database_url, folder_zip(HSDS11), "hsds11/")
    # Thirteen services, one question: not thirteen times "required".
    assert _problems(report) == [(0, "attributes (resourcemap-kind)", KIND_ASKED)]


def test_languages_and_eligibility_come_from_their_own_tables(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    report = _import(database_url, _located(), "hsds11/", default_kind=AGENCY)
    assert report.ok, report.lines()
    assert report.created == 13
    helpline = _stored(database_url, HELPLINE)
    assert helpline.languages == ["en", "es"]  # languages.csv: English, Spanish
    # eligibility.csv: "adult", English as the record is, so English pages show it too.
    assert (helpline.eligibility_note_zh, helpline.eligibility_note_en) == ("adult", "adult")
    # Whom it serves is not said: none listed, not "everyone" beside "adult".
    assert helpline.audiences == []
    assert helpline.verified_at is None  # the package says nothing of when it was checked
    # An American address, read as one line in its own language (not "Address 1 (in Chinese)").
    assert (
        helpline.address_zh
        == helpline.address_en
        == ("Address 1, Address 2, New York City, NY 10001")
    )
    # accessibility_for_disabilities.csv, the 1.1 name of accessibility.csv
    assert helpline.accessibility_note == "disabled parking: Some details regarding the parking lot"
    assert helpline.accessibility_note_en == helpline.accessibility_note
    # What is not read is said, table by table, never dropped in silence.
    assert (
        "not read: contacts.csv, funding.csv, meta_table_descriptions.csv, metadata.csv, "
        "payments_accepted.csv, programs.csv, required_documents.csv, taxonomy.csv (ResourceMap "
        "keeps no contacts, programs, funding, documents, payments or taxonomies of other "
        "directories)"
    ) in report.note_lines()
    # The others list no language: the default is said, not silently applied.
    assert "languages not given: listed as Chinese (zh) (services.csv rows 3–14)" in (
        report.note_lines()
    )
    assert _stored(database_url, "25870bcf-7528-4e05-8f0c-7e639075ce71").languages == ["zh"]
