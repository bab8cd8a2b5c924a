# Over 400 lines: the tables of two HSDS generations, each joined into one service record.
"""Reading HSDS table packages: a ZIP (or, from the command line, a folder) of CSV tables.

Two generations are read, by the tables they hold:

- **HSDS 3.0** (``examples/csv`` of the specification): ``services.csv`` with
  ``organization_id``, ``organizations.csv``, ``locations.csv``, ``service_at_location.csv``,
  ``schedules.csv``, ``phones.csv``, ``addresses.csv``, ``cost_options.csv``,
  ``languages.csv``, ``service_areas.csv``, ``accessibility.csv``, ``attributes.csv`` with
  ``taxonomy_terms.csv``.
- **HSDS 1.x and Ohana API** (Code for America's ``data/sample-csv``): ``services.csv`` with
  ``location_id`` (Ohana) or ``organization_id``, ``locations.csv`` with
  ``organization_id``, ``regular_schedules.csv`` (one weekday a row), ``holiday_schedules.csv``,
  ``addresses.csv``/``physical_addresses.csv``, ``mail_addresses.csv``/``postal_addresses.csv``,
  ``phones.csv`` with ``number_type``, ``languages.csv`` with ``language``,
  ``eligibility.csv``; or languages and service areas as text in their columns (Ohana).

Each service is assembled into the nested 3.0 ``service`` record and read by
:mod:`resourcemap.transfer.hsds_in`, so both paths follow one mapping. Reports count rows of
``services.csv`` (header = row 1) and name nested cells by their own table and row
(``regular_schedules.csv row 10, closes_at``). Contacts, programs, funding, metadata and the
other tables are not read: a note names the ones a package holds.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from resourcemap.said import N_, Said
from resourcemap.transfer import hsds_terms as terms
from resourcemap.transfer.budget import charge, check_archive
from resourcemap.transfer.hsds_in import COLUMNS, read_services
from resourcemap.transfer.hsds_schedules import Zone
from resourcemap.transfer.readers import Parsed, UnreadableFile, decode_text
from resourcemap.transfer.report import Problem

MAX_FILES = 60
MAX_BYTES = 100 * 1024 * 1024  # uncompressed, all tables together
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ALIASES = {
    "service_at_location.csv": "services_at_location.csv",
    "physical_addresses.csv": "addresses.csv",
    "postal_addresses.csv": "mail_addresses.csv",
    "accessibility_for_disabilities.csv": "accessibility.csv",
}
# The tables read (by their names after ALIASES); a package's others are named in a note.
READ = frozenset(
    f"{name}.csv"
    for name in (
        "services", "organizations", "locations", "services_at_location", "phones",
        "addresses", "mail_addresses", "regular_schedules", "holiday_schedules", "schedules",
        "languages", "eligibility", "service_areas", "accessibility", "attributes",
        "taxonomy_terms", "cost_options",
    )
)  # fmt: skip
NUMBERS = ("latitude", "longitude", "amount", "timezone", "interval")
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december"), start=1)}  # fmt: skip


@dataclass
class Row:
    table: str
    number: int
    cells: dict[str, str]

    @property
    def source(self) -> str:
        return f"{self.table} row {self.number}"

    def get(self, name: str) -> str:
        return self.cells.get(name, "").strip()


@dataclass
class Tables:
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def of(self, table: str) -> list[Row]:
        return self.rows.get(table, [])

    def by(self, table: str, column: str) -> dict[str, list[Row]]:
        index: dict[str, list[Row]] = defaultdict(list)
        for row in self.of(table):
            if row.get(column):
                index[row.get(column)].append(row)
        return index


def _files(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile(N_("not a readable ZIP of HSDS tables")) from None
    with archive:
        check_archive(archive)
        entries = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
        if len(entries) > MAX_FILES or sum(i.file_size for i in entries) > MAX_BYTES:
            raise UnreadableFile(
                N_("a package holds at most %(files)s tables and 100 MB", files=MAX_FILES)
            )
        files: dict[str, bytes] = {}
        for info in entries:
            name = PurePath(info.filename).name.lower()
            files[ALIASES.get(name, name)] = archive.read(info)
    return files


def _read(files: dict[str, bytes]) -> Tables:
    tables = Tables()
    for name, data in files.items():
        reader = csv.reader(io.StringIO(decode_text(data), newline=""))
        try:
            header = [h.strip().lower() for h in next(reader, [])]
            rows = [
                Row(name, number, dict(zip(header, cells, strict=False)))
                for number, cells in enumerate(reader, start=2)
                if _charged(cells) and any(c.strip() for c in cells)
            ]
        except csv.Error:
            raise UnreadableFile(N_("%(name)s is not a readable CSV table", name=name)) from None
        tables.rows[name] = rows
    if "services.csv" not in tables.rows:
        if not files:
            raise UnreadableFile(
                N_("an HSDS table package needs services.csv (found no CSV files)")
            )
        raise UnreadableFile(
            N_(
                "an HSDS table package needs services.csv (found: %(found)s)",
                found=", ".join(sorted(files)),
            )
        )
    return tables


def _charged(cells: list[str]) -> bool:
    charge(1, len(cells))
    return True


def _plain(row: Row, *skip: str) -> dict[str, Any]:
    """A table row as a JSON record: empty cells left out, numbers as numbers."""
    out: dict[str, Any] = {"_source": row.source}
    for key, value in row.cells.items():
        value = value.strip()
        if not value or key in skip:
            continue
        if key in NUMBERS:
            try:
                out[key] = float(value) if "." in value else int(value)
            except ValueError:
                out[key] = value  # validation names it
        else:
            out[key] = value
    return out


def _date(text: str) -> str | None:
    """ISO, ``12/24/2015``, ``12/24/15`` or ``January 01, 0001``; None if none of them."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", text)
    if match:
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
        return f"{year:04d}-{int(match[1]):02d}-{int(match[2]):02d}"
    match = re.fullmatch(r"([A-Za-z]+)\s+(\d{1,2}),\s*(\d{1,4})", text)
    if match and match[1].lower() in _MONTHS:
        return f"{int(match[3]):04d}-{_MONTHS[match[1].lower()]:02d}-{int(match[2]):02d}"
    return None


class _Package:
    def __init__(self, tables: Tables) -> None:
        self.t = tables
        self.locations = {r.get("id"): r for r in tables.of("locations.csv")}
        self.organizations = {r.get("id"): r for r in tables.of("organizations.csv")}
        links = ("service_id", "location_id", "organization_id", "service_at_location_id")
        self.phones = {c: tables.by("phones.csv", c) for c in links}
        self.schedules: dict[str, dict[str, list[Row]]] = {}
        for table in ("schedules.csv", "regular_schedules.csv", "holiday_schedules.csv"):
            for c in ("service_id", "location_id", "service_at_location_id"):
                for key, rows in tables.by(table, c).items():
                    self.schedules.setdefault(c, defaultdict(list))[key] += rows
        self.attributes = tables.by("attributes.csv", "link_id")
        self.terms = {r.get("id"): r for r in tables.of("taxonomy_terms.csv")}
        self.problems: list[tuple[int, str, Said]] = []
        self.notes: list[Said] = []

    def _phones(self, column: str, key: str) -> list[dict[str, Any]]:
        phones = []
        for row in self.phones[column].get(key, []):
            phone = _plain(row)
            if "number_type" in phone:
                phone["type"] = phone.pop("number_type")
            phones.append(phone)
        return phones

    def _schedules(self, column: str, key: str, service_row: int) -> list[dict[str, Any]]:
        result = []
        for row in self.schedules.get(column, {}).get(key, []):
            item = _plain(row, "service_id", "location_id", "service_at_location_id")
            if row.table == "regular_schedules.csv":
                day = row.get("weekday").lower()
                if day.isdigit() and 1 <= int(day) <= 7:
                    day = WEEKDAYS[int(day) - 1]
                item["freq"] = "WEEKLY"
                item["byday"] = CODES[WEEKDAYS.index(day)] if day in WEEKDAYS else day
            elif row.table == "holiday_schedules.csv":
                holiday = self._holiday(row, item, service_row)
                if holiday is None:
                    continue
                item = holiday
            result.append(item)
        return result

    def _holiday(self, row: Row, item: dict[str, Any], service_row: int) -> dict[str, Any] | None:
        dates = {name: _date(row.get(name)) for name in ("start_date", "end_date")}
        for name, value in dates.items():
            if value is None:
                reason = N_(
                    "%(value)r is not a date (YYYY-MM-DD, MM/DD/YYYY, Month DD, YYYY)",
                    value=row.get(name),
                )
                self.problems.append((service_row, f"{row.source}, {name}", reason))
                return None
        if (dates["start_date"] or "").startswith("0001"):
            self.notes.append(
                N_(
                    "%(where)s: a yearly holiday (year 0001) is not kept: ResourceMap keeps "
                    "dated exceptions only",
                    where=row.source,
                )
            )
            return None
        closed = row.get("closed").lower() in ("true", "t", "1", "yes")
        item.update(valid_from=dates["start_date"], valid_to=dates["end_date"])
        item["_holiday"] = "closed" if closed else "open"
        return item

    def _attributes(self, link_id: str) -> list[dict[str, Any]]:
        result = []
        for row in self.attributes.get(link_id, []):
            term = self.terms.get(row.get("taxonomy_term_id"))
            if term is not None:
                result.append({"value": row.get("value") or None, "taxonomy_term": _plain(term)})
        return result

    def _location(self, location_id: str, service_row: int) -> dict[str, Any] | None:
        row = self.locations.get(location_id)
        if row is None:
            return None
        loc = _plain(row, "accessibility", "languages")
        addresses = [
            {**_plain(a), "address_type": a.get("address_type") or kind}
            for table, kind in (("addresses.csv", "physical"), ("mail_addresses.csv", "postal"))
            for a in self.t.by(table, "location_id").get(location_id, [])
        ]
        accessibility = []
        for a in self.t.by("accessibility.csv", "location_id").get(location_id, []):
            if a.get("accessibility") and not a.get("description"):
                # HSDS 1.x (accessibility_for_disabilities.csv): ``accessibility`` and
                # ``details``.
                accessibility += _accessibility(
                    location_id, [a.get("accessibility")], a.get("details")
                )
            else:
                accessibility.append(_plain(a))
        if row.get("accessibility"):  # Ohana: a list of words in one cell
            accessibility += _accessibility(location_id, row.get("accessibility").split(","), "")
        loc.update(
            addresses=addresses,
            accessibility=accessibility,
            phones=self._phones("location_id", location_id),
            schedules=self._schedules("location_id", location_id, service_row),
            attributes=self._attributes(location_id),
        )
        return loc

    def _linked(self, table: str, service_id: str) -> list[dict[str, Any]]:
        return [_plain(r) for r in self.t.by(table, "service_id").get(service_id, [])]

    def service(self, row: Row) -> dict[str, Any]:
        """One row of services.csv as a full HSDS 3.0 service record."""
        sid = row.get("id")
        service = _plain(row, "location_id", "languages", "service_areas", "fees", "eligibility")
        service.update(
            url=row.get("url") or row.get("website") or None,
            fees_description=row.get("fees_description") or row.get("fees") or None,
            eligibility_description="; ".join(
                w
                for w in (
                    row.get("eligibility_description") or row.get("eligibility"),
                    # HSDS 1.x: eligibility.csv, one criterion a row.
                    *(r.get("eligibility") for r in self._linked("eligibility.csv", sid)),
                )
                if w
            )
            or None,
            phones=self._phones("service_id", sid),
            schedules=self._schedules("service_id", sid, row.number),
            attributes=self._attributes(sid),
            cost_options=self._linked("cost_options.csv", sid),
            service_areas=self._linked("service_areas.csv", sid)
            + [{"name": n} for n in _words(row.get("service_areas"))],
            languages=[
                # HSDS 1.x names a language in ``language``, 3.0 in ``name`` and ``code``.
                {"name": r["language"], **r} if "language" in r else r
                for r in self._linked("languages.csv", sid)
            ]
            + [{"name": n} for n in _words(row.get("languages"))],
        )
        at = self.t.by("services_at_location.csv", "service_id").get(sid, [])
        links = [(r.get("id"), r.get("location_id")) for r in at]
        if not links and row.get("location_id"):  # Ohana: the service names its location
            links = [(f"{sid}@{row.get('location_id')}", row.get("location_id"))]
        sals = []
        for link_id, location_id in links:
            location = self._location(location_id, row.number)
            if location is None:
                self.problems.append(
                    (
                        row.number,
                        "location_id",
                        N_("no location %(id)r in locations.csv", id=location_id),
                    )
                )
                continue
            if not service["languages"]:  # Ohana lists languages on the location
                words = _words(self.locations[location_id].get("languages"))
                service["languages"] = [{"name": n} for n in words]
            sals.append(
                {
                    "id": link_id,
                    "location": location,
                    "phones": self._phones("service_at_location_id", link_id),
                    "schedules": self._schedules("service_at_location_id", link_id, row.number),
                }
            )
        service["service_at_locations"] = sals
        org_id = row.get("organization_id") or (
            self.locations[links[0][1]].get("organization_id")
            if links and links[0][1] in self.locations
            else ""
        )
        organization = self.organizations.get(org_id)
        if organization is not None:
            service["organization"] = {
                **_plain(organization),
                "phones": self._phones("organization_id", org_id),
            }
        elif org_id:
            service["organization_id"] = org_id
        return {k: v for k, v in service.items() if v not in (None, "", [])}


def _words(text: str) -> list[str]:
    """A comma-separated cell, commas inside brackets kept: ``Chinese (Mandarin), Tagalog``."""
    return [w.strip() for w in re.split(r",(?![^(]*\))", text) if w.strip()]


def _columns(service: dict[str, Any]) -> dict[str, str]:
    """Report names of a package's cells: their own table and row where there is one."""
    names = {**COLUMNS, "external_id": "id", "organisation_external_id": "organization_id"}
    sals = service.get("service_at_locations") or []
    if len(sals) == 1:
        where = sals[0]["location"].get("_source", "locations.csv")
        names |= {"lat": f"{where}, latitude", "lon": f"{where}, longitude"}
    phones = service.get("phones") or []
    if phones:
        names["phone"] = f"{phones[0]['_source']}, number"
    return names


def read_package(data: bytes, zone: Zone) -> Parsed:
    """An HSDS table package (ZIP of CSV files) → candidates, one per service and location."""
    package = _Package(_read(_files(data)))
    parsed = Parsed("hsds-tables", row_label="services.csv row", header_row=1)
    services: list[tuple[int, dict[str, Any] | None, str | Said]] = [
        (row.number, package.service(row), "") for row in package.t.of("services.csv")
    ]
    read_services(services, zone, parsed)
    by_row = {number: service for number, service, _ in services}
    for candidate in parsed.candidates:
        service = by_row[candidate.row] or {}
        candidate.columns = _columns(service)
        candidate.record = f"services.csv id {service.get('id', '')}".strip()
    parsed.problems += [Problem.of(row, column, reason) for row, column, reason in package.problems]
    parsed.notes += sorted(set(package.notes), key=_natural)
    unread = sorted(name for name, rows in package.t.rows.items() if rows and name not in READ)
    if unread:
        parsed.notes.append(
            N_(
                "not read: %(tables)s (ResourceMap keeps no contacts, programs, funding, "
                "documents, payments or taxonomies of other directories)",
                tables=", ".join(unread),
            )
        )
    return parsed


def _natural(text: Said) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(text))]


def zip_folder(files: Iterable[tuple[str, bytes]]) -> bytes:
    """The CSV files of a folder as one ZIP, what :func:`read_package` reads."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()


def _accessibility(location_id: str, words: list[str], details: str) -> list[dict[str, Any]]:
    """HSDS 3.0 accessibility entries of HSDS 1.x words (``disabled_parking``): one of our
    features for a word that means one (:data:`.hsds_terms.ACCESSIBILITY_WORDS`), read in
    the page's language; the record's own words, with its details, for the rest."""
    entries = []
    coded: set[str] = set()
    for word in (w.strip() for w in words):
        code = terms.ACCESSIBILITY_WORDS.get(word.lower().replace(" ", "_"))
        if code is not None and code.value not in coded:  # "lift, elevator": one feature
            coded.add(code.value)
            entry_id = terms.child_id("accessibility", location_id, code.value)
            entries.append(
                {
                    "id": entry_id,
                    "attributes": [
                        terms.attribute("accessibility", entry_id, "accessibility", code.value)
                    ],
                }
            )
        if word and (code is None or details):
            entries.append(
                {"description": ": ".join(p for p in (word.replace("_", " "), details) if p)}
            )
    return entries
