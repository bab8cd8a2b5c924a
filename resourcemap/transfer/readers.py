"""Reading listing files into numbered rows of canonical columns.

Accepted shapes:

- **CSV**: a header row, then one listing per row. UTF-8 with or without BOM, else GB18030
  (what Chinese Excel saves as "CSV", also after a stray UTF-8 BOM); comma- or tab-separated.
- **XLSX**: the first sheet, laid out like the CSV.
- **GeoJSON**: a ``FeatureCollection`` (or one ``Feature``) whose features are ``Point``
  geometries (or ``null`` for area-served listings) with the columns as properties.
- **HSDS 3.0 JSON**: see :mod:`resourcemap.transfer.hsds_in`.
- **HSDS table packages**: a ZIP of CSV tables (HSDS 3.0, or HSDS 1.x/Ohana), see
  :mod:`resourcemap.transfer.hsds_tables`.

Row numbers are what a person finds in the file: the spreadsheet row (header = 1) for CSV
and XLSX, the feature number (from 1) for GeoJSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from geo.encodings import decoded
from resourcemap.errors import TooLarge
from resourcemap.said import N_, Said
from resourcemap.transfer import columns, texts
from resourcemap.transfer.budget import charge, check_archive
from resourcemap.transfer.columns import Candidate
from resourcemap.transfer.report import Problem

FORMATS = ("csv", "xlsx", "geojson", "hsds", "hsds-tables")
SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
# The tables of HSDS 3.0, HSDS 1.x and Ohana packages that carry listings.
HSDS_TABLE_FILES = frozenset(
    {
        "services.csv",
        "locations.csv",
        "organizations.csv",
        "service_at_location.csv",
        "services_at_location.csv",
        "schedules.csv",
        "regular_schedules.csv",
        "phones.csv",
        "addresses.csv",
    }
)
WGS84_CRS_NAMES = ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class Parsed:
    """A file read into candidates, with any problem of the file as a whole (row 0)."""

    format: str
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    row_label: str = "row"
    header_row: int | None = None
    notes: list[Said] = field(default_factory=list)


def detect_format(data: bytes, filename: str) -> str:
    """``csv``, ``xlsx``, ``geojson`` or ``hsds``, from the name and, for JSON, the content."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".zip":
        return "hsds-tables"
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    if data[:2] == b"PK" and zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
        return "xlsx" if "[Content_Types].xml" in names else "hsds-tables"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if suffix in (".json", ".geojson") or head in (b"{", b"["):
        document = load_json(data)
        return "geojson" if is_geojson(document) else "hsds"
    return "csv"


def load_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UnreadableFile(N_("JSON files must be UTF-8")) from None
    except ValueError as exc:
        raise UnreadableFile(texts.json_refusal(exc)) from None
    except RecursionError:
        raise UnreadableFile(N_("the JSON is nested too deeply")) from None


def is_geojson(document: Any) -> bool:
    return isinstance(document, dict) and document.get("type") in ("FeatureCollection", "Feature")


def decode_text(data: bytes) -> str:
    """The file as text (``geo.encodings``), or refused naming the encodings read."""
    text = decoded(data)
    if text is None:
        raise UnreadableFile(N_("the file is neither UTF-8 nor GB18030 (GBK) text"))
    return text


def _table(format: str, records: Iterable[tuple[int, Sequence[Any]]], filename: str) -> Parsed:
    """Header row then data rows → candidates; unknown columns are a problem of the header."""
    rows = iter(records)
    header_row, header = next(rows, (1, []))
    parsed = Parsed(format, header_row=header_row)
    names = [columns.canonical(h) for h in header]
    written = {n: str(h).strip().lstrip("\ufeff") for n, h in zip(names, header, strict=True)}
    if not any(names):
        raise UnreadableFile(
            N_("the first row must name the columns (external_id, kind, name_zh…)")
        )
    unknown = columns.unknown_columns(names)
    foreign_table = PurePath(filename).name.lower()
    if unknown and foreign_table in HSDS_TABLE_FILES:
        raise UnreadableFile(
            N_(
                "%(table)s is one table of an HSDS or Ohana table package, not a listings "
                "file: import the whole package (the folder, or a ZIP of its CSV files)",
                table=foreign_table,
            )
        )
    for name in unknown:
        parsed.problems.append(Problem.of(header_row, written[name], N_("unknown column")))
    for name in sorted({n for n in names if n and names.count(n) > 1}):
        parsed.problems.append(Problem.of(header_row, written[name], N_("column appears twice")))
    shown = {n: h for n, h in written.items() if n in columns.KNOWN and h != n}
    for number, cells in rows:
        if all(_blank(c) for c in cells):
            continue  # empty lines between rows are harmless
        raw = {n: c for n, c in zip(names, cells, strict=False) if n in columns.KNOWN}
        candidate = columns.from_row(number, raw, shown)
        unheaded = [
            i for i, c in enumerate(cells) if (i >= len(names) or not names[i]) and not _blank(c)
        ]
        if unheaded:
            _unheaded(candidate, format, _letter(unheaded[0] + 1), len(unheaded))
        parsed.candidates.append(candidate)
    return parsed


def _unheaded(candidate: columns.Candidate, format: str, column: str, count: int) -> None:
    """Filled cells under no header. In a CSV file an unquoted comma in an address moves
    every cell after it one column on, and the row was taken with its values in the wrong
    fields: refused. In a workbook no comma moves a cell: a note nobody headed, said and
    left out."""
    if format == "csv":
        candidate.reject(
            column,
            N_(
                "%(count)s filled cells have no column name in the header: is a comma in a "
                "value not in quotes? (cells after it move one column on)",
                count=count,
            ),
        )
    else:
        candidate.notes.append(
            N_(
                "column %(column)s has no name in the header: its %(count)s cells are not imported",
                column=column,
                count=count,
            )
        )


def _letter(column: int) -> str:
    """A column's spreadsheet name: 1 is A, 27 is AA."""
    name = ""
    while column:
        column, rest = divmod(column - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _blank(cell: Any) -> bool:
    return cell is None or str(cell).strip() == ""


def read_csv(data: bytes, filename: str = "") -> Parsed:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _table("csv", _charged(enumerate(reader, start=1)), filename)
    except csv.Error:
        raise UnreadableFile(N_("not a readable CSV file")) from None


def _charged(rows: Iterable[tuple[int, Sequence[Any]]]) -> Iterable[tuple[int, Sequence[Any]]]:
    """Rows as read, each charged to the import's budget before it is kept."""
    for number, cells in rows:
        charge(1, len(cells))
        yield number, cells


def _xlsx_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()[:5] if isinstance(value, dt.time) else value.isoformat()
    return value


def read_xlsx(data: bytes, filename: str = "") -> Parsed:
    # Imported on use: the app rarely needs it. No stubs in the dev dependencies yet.
    from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

    # openpyxl raises many kinds of error on a damaged or foreign file, some only while
    # rows are read: any of them means the same to the person importing it.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive)  # a few KB may unpack to gigabytes of XML
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except TooLarge:
        raise
    except Exception:
        raise UnreadableFile(N_("not a readable XLSX workbook")) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read every cell
        rows = [
            (i, [_xlsx_text(v) for v in row])
            for i, row in _charged(enumerate(sheet.iter_rows(values_only=True), start=1))
        ]
    except TooLarge:
        raise
    except Exception:
        raise UnreadableFile(N_("not a readable XLSX workbook")) from None
    finally:
        book.close()
    return _table("xlsx", rows, filename)


def read_geojson(document: Any) -> Parsed:
    parsed = Parsed("geojson", row_label="feature")
    if document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    crs_member = document.get("crs")
    properties = crs_member.get("properties") if isinstance(crs_member, dict) else None
    crs = properties.get("name") if isinstance(properties, dict) else crs_member
    if crs is not None and crs not in WGS84_CRS_NAMES:
        raise UnreadableFile(
            N_(
                "the file declares crs %(crs)r; GeoJSON coordinates must be longitude/latitude "
                "(WGS-84, or GCJ-02/BD-09 with the coords option)",
                crs=crs,
            )
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise UnreadableFile(N_("a FeatureCollection needs a features list"))
    reported: set[str] = set()
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        charge(1, len(properties) if isinstance(properties, dict) else 1)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            parsed.problems.append(Problem.of(number, "type", N_("not a GeoJSON Feature")))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            parsed.problems.append(
                Problem.of(number, "properties", N_("properties must be an object"))
            )
            continue
        raw = {columns.canonical(k): v for k, v in props.items()}
        for name in columns.unknown_columns(raw):
            if name not in reported:
                reported.add(name)
                parsed.problems.append(Problem.of(number, name, N_("unknown property")))
        raw = {k: v for k, v in raw.items() if k in columns.KNOWN}
        geometry_problem = _point_into(feature.get("geometry"), raw)
        candidate = columns.from_row(number, raw)
        if geometry_problem:
            candidate.reject("geometry", geometry_problem)
        parsed.candidates.append(candidate)
    return parsed


def _point_into(geometry: Any, raw: dict[str, Any]) -> str | None:
    """Put a Point's coordinates into ``raw``; say what is wrong with any other geometry."""
    if geometry is None:
        return None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        return f"a listing is a Point (or null for area-served listings), not {kind}"
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return "a Point needs [longitude, latitude]"
    raw["lon"], raw["lat"] = coordinates[0], coordinates[1]
    return None
