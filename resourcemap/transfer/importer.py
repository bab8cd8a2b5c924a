"""Importing a listings file: validate every row, then write all of them or none.

Steps: read the file into candidates (:mod:`readers`, :mod:`hsds_in`, :mod:`hsds_tables`),
convert GCJ-02/BD-09 coordinates to WGS-84 for all rows at once, validate each row with
``ResourceIn`` (every problem of a row, not only the first), check the file as a whole
(``external_id`` present and unique) and against the database (areas, organisations, who
may change what), and only when no row is rejected write everything in one transaction
through ``edits.save_resource`` (audit entry and search change log per listing), stamping
each listing's provenance: file name, format, row or record, import time and account. Rows
are matched to stored listings by ``external_id``: importing the same file again updates
them. A row that states no fee gets ``unknown``, never ``free``.

Example (tortoise initialised)::

    report = await import_listings(
        SYSTEM, data, "rooms.csv", ImportOptions(dry_run=True), now=now)
    )
    report.ok, report.lines()
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from geo.chinacoords import CoordSystem, to_wgs84
from resourcemap import db
from resourcemap.accounts import Principal
from resourcemap.errors import DomainError, InvalidInput
from resourcemap.listings import edits, organisations
from resourcemap.listings.hours import Interval, minutes, validate
from resourcemap.models import Resource
from resourcemap.said import N_, said_of
from resourcemap.transfer import columns, community, confirmed, unchanged
from resourcemap.transfer.budget import Budget
from resourcemap.transfer.checks import (
    DatabaseChecks,
    Row,
    check_external_ids,
    error_message,
)
from resourcemap.transfer.columns import Candidate
from resourcemap.transfer.formats import read_listings
from resourcemap.transfer.hsds_schedules import Zone
from resourcemap.transfer.readers import Parsed, UnreadableFile
from resourcemap.transfer.report import ImportReport, Problem
from resourcemap.vocab import ORGANISATION_TYPE_LABELS, Fee, ResourceKind, Role

# Converted coordinates are kept to 1e-7° (about 1 cm); WGS-84 input is kept as given.
COORD_DECIMALS = 7

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
REPLACED_DEFAULTS: dict[str, Any] = {
    name: edits.ResourceIn.model_fields[name].get_default(call_default_factory=True)
    for name in sorted(edits.KEPT_UNLESS_GIVEN & set(edits.ResourceIn.model_fields))
}  # RESOURCEMAP_TIMEZONE's default
# The command line has no signed-in person: it acts as an administrator without an account.
SYSTEM = Principal.command_line()


@dataclass(frozen=True)
class ImportOptions:
    coords: CoordSystem = CoordSystem.WGS84
    """How ``lat``/``lon`` are given when a row has no ``coord_system``."""
    default_kind: ResourceKind | None = None
    """The kind of rows that name none (foreign HSDS records have no kind of ours)."""
    dry_run: bool = False
    tz: ZoneInfo = DEFAULT_TZ
    """``RESOURCEMAP_TIMEZONE``: opening times with a UTC offset are converted to it."""
    budget: Budget | None = None
    """What reading the file may cost (uploads through the web); ``None``: no limit."""


@dataclass(frozen=True)
class Source:
    """Where the listings come from: the file as the user named it, read at ``now``."""

    filename: str
    now: dt.datetime


async def import_listings(
    actor: Principal,
    data: bytes,
    filename: str,
    options: ImportOptions = ImportOptions(),
    *,
    now: dt.datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate and (unless ``dry_run`` or any row is rejected) write a listings file;
    ``now`` (aware) is the import time its listings' provenance records."""
    actor.require(Role.ADMIN, Role.STAFF)
    try:
        # Parsing is CPU work (an XLSX of thousands of rows): keep it off the event loop.
        parsed = await asyncio.to_thread(
            read_listings, data, filename, Zone(options.tz, now), options.budget
        )
    except UnreadableFile as exc:
        report = ImportReport(format="unknown", dry_run=options.dry_run)
        report.reject(0, "", said_of(exc))
        return report
    return await import_parsed(actor, parsed, options, Source(filename, now), progress=progress)


async def import_parsed(
    actor: Principal,
    parsed: Parsed,
    options: ImportOptions,
    source: Source,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    report = ImportReport(
        format=parsed.format,
        dry_run=options.dry_run,
        row_label=parsed.row_label,
        header_row=parsed.header_row,
    )
    report.rows = len(parsed.candidates)
    report.problems += parsed.problems
    for text in parsed.notes:
        report.note(text)
    if not parsed.candidates and not parsed.problems:
        report.reject(0, "", N_("the file holds no listings"))
    convert_coordinates(parsed.candidates, options.coords)
    await community.place(parsed.candidates)
    kind_said = False
    if (
        parsed.candidates
        and options.default_kind is None
        and not any("kind" in c.values for c in parsed.candidates)
    ):
        # Said once for the file, not once a row: it is one choice, made for all of them.
        report.reject(
            0,
            parsed.candidates[0].column("kind"),
            N_(
                "no record names its kind of service (another directory's records name none "
                "of ours): give the kind of the file's listings and import it again; a "
                "location or service areas, which depend on the kind, are checked then"
            ),
        )
        kind_said = report.asks_kind = True
    rows = [_validated(c, options, kind_said=kind_said) for c in parsed.candidates]
    for c in parsed.candidates:
        report.problems += c.problems
        for text in c.notes:
            report.note(text, c.row)
    check_external_ids(rows, report)
    checks = DatabaseChecks(actor, report)
    await checks.run(rows)
    if not report.ok:
        return report
    report.existing = sum(1 for r in rows if r.external_id in checks.existing)
    report.created = len(rows) - report.existing
    for new in checks.new_organisations.values():
        named = {
            "name": new.name_zh,
            "type": ORGANISATION_TYPE_LABELS[new.type],
            "id": new.external_id,
        }
        if options.dry_run and new.external_id:
            note = N_(
                "organisation %(name)r (external id %(id)r) would be created, type: %(type)s",
                **named,
            )
        elif options.dry_run:
            note = N_("organisation %(name)r would be created, type: %(type)s", **named)
        elif new.external_id:
            note = N_("organisation %(name)r (external id %(id)r) created, type: %(type)s", **named)
        else:
            note = N_("organisation %(name)r created, type: %(type)s", **named)
        report.note(note)
    if options.dry_run:
        report.unchanged = len(await unchanged.find(rows, checks))
    else:
        await _write(actor, rows, checks, report, source, progress)
        await db.analyse(Resource)
    return report


def convert_coordinates(candidates: Sequence[Candidate], default: CoordSystem) -> None:
    """GCJ-02/BD-09 → WGS-84, one vectorised call per coordinate system."""
    by_system: dict[CoordSystem, list[Candidate]] = defaultdict(list)
    for c in candidates:
        lat, lon = c.values.get("lat"), c.values.get("lon")
        if isinstance(lat, float | int) and isinstance(lon, float | int):
            by_system[c.coord_system or default].append(c)
    for system, group in by_system.items():
        if system is CoordSystem.WGS84:
            continue
        lon, lat = to_wgs84(
            [c.values["lon"] for c in group], [c.values["lat"] for c in group], system
        )
        lon, lat = np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)
        for c, x, y in zip(group, lon.tolist(), lat.tolist(), strict=True):
            c.values["lon"], c.values["lat"] = x, y


def _check_hours(c: Candidate) -> None:
    """Overlapping weekly hours, found whatever else is wrong with the row."""
    hours = c.values.get("hours")
    if not isinstance(hours, list) or c.column("hours") in {p.column for p in c.problems}:
        return
    intervals = []
    for h in hours:
        day = h.get("weekday") if isinstance(h, dict) else None
        try:
            if not isinstance(day, int) or not 0 <= day <= 6:
                return  # ResourceIn names it
            intervals.append(Interval(day, minutes(h["opens"]), minutes(h["closes"])))
        except (InvalidInput, KeyError, TypeError):
            return  # ResourceIn names it
    try:
        validate(intervals)
    except InvalidInput as exc:
        c.reject(c.column("hours"), exc.said)


def _model(c: Candidate, *, said: frozenset[str] = frozenset()) -> edits.ResourceIn | None:
    """``ResourceIn`` of the row, or None with every problem recorded: fields that do not
    validate are set aside and the rest validated again, so that the checks across fields
    (lat with lon, a location or service area for the kind) report too. Columns in
    ``said`` are reported elsewhere."""
    values = dict(c.values)
    reported = {p.column for p in c.problems} | said
    aside: set[str] = set()
    for attempt in range(3):
        try:
            data = edits.ResourceIn.model_validate(values)
        except ValidationError as exc:
            bad: set[str] = set()
            for err in exc.errors(include_url=False):
                column = _column(err, c)
                if not err["loc"] and set(re.findall(r"\w+", str(err["msg"]))) & aside:
                    continue  # about a field set aside, already reported
                if column not in reported:  # a cell that could not be read is reported once
                    c.reject(column, error_message(err))
                    reported.add(column)
                if err["loc"]:
                    bad.add(str(err["loc"][0]))
            if bad & {"lat", "lon"}:
                bad |= {"lat", "lon"}  # a point is both or neither
            if not bad & set(values):
                return None  # what is left wrong is a missing required field
            aside |= bad
            values = {k: v for k, v in values.items() if k not in bad}
            continue
        except InvalidInput as exc:
            # ExceptionIn's validator calls hours.minutes, whose InvalidInput (field "hours")
            # passes through pydantic unwrapped: it is about an exception's times.
            field = "exceptions" if exc.field == "hours" and values.get("exceptions") else exc.field
            column = c.column(field or "")
            if column not in reported:
                c.reject(column, exc.said)
            return None
        return data if attempt == 0 else None  # a later pass had fields set aside
    return None


def _column(err: Any, candidate: Candidate) -> str:
    loc = err["loc"]
    if loc:
        return candidate.column(str(loc[0]))
    message = str(err["msg"])
    if "service_area_codes" in message:
        return candidate.column("service_area_codes")
    if "lat" in message or "lon" in message:
        lat, lon = candidate.column("lat"), candidate.column("lon")
        where, _, name = lat.rpartition(", ")
        if where and lon.startswith(where + ", "):  # one table row: name it once
            return f"{where}, {name}, {lon.removeprefix(where + ', ')}"
        return f"{lat}, {lon}"
    return ""


def _validated(c: Candidate, options: ImportOptions, *, kind_said: bool = False) -> Row:
    """The row, with its ``ResourceIn`` if it is one; all its problems recorded on it but
    a missing kind when ``kind_said`` (the report says it once for the file)."""
    if "kind" not in c.values and options.default_kind is not None:
        c.values["kind"] = options.default_kind.value
    if "fee" not in c.values:
        c.values["fee"] = Fee.UNKNOWN.value  # the file does not say: never "free"
    for name, default in REPLACED_DEFAULTS.items():
        # An import replaces the listing: what a row does not say is the default, not
        # what was stored (as a form that lacks these fields would keep it).
        c.values.setdefault(name, copy.copy(default))
    if "kind" not in c.values and not kind_said:
        c.reject(c.column("kind"), N_("required (or give a default kind for the file)"))
    if not c.values.get("external_id"):
        c.reject(
            c.column("external_id"),
            N_("required: re-importing the file matches listings by external_id"),
        )
    _check_hours(c)
    data = _model(c, said=frozenset({c.column("kind")} if kind_said else ()))
    if data is None:
        return Row(c, None)
    for i, e in enumerate(data.exceptions, start=1):
        try:
            for value in (e.opens, e.closes):
                if value is not None:
                    minutes(value)
        except InvalidInput as exc:
            c.reject(
                c.column("exceptions"),
                N_("entry %(entry)s: %(problem)s", entry=i, problem=exc.said),
            )
    return Row(c, data)


def provenance(actor: Principal, report: ImportReport, source: Source, row: Row) -> dict[str, Any]:
    """The provenance fields of one written listing."""
    c = row.candidate
    return {
        "source_file": source.filename[:255],
        "source_format": report.format,
        "source_record": (c.record or f"{report.row_label} {c.row}")[:200],
        "imported_at": source.now,
        "imported_by": actor.username[:150],
        "earlier_sources": c.provenance[-columns.MAX_STEPS :],
    }


async def _write(
    actor: Principal,
    rows: list[Row],
    checks: DatabaseChecks,
    report: ImportReport,
    source: Source,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Everything in one transaction; a row the domain still refuses rolls all back."""
    current: Row | None = None
    try:
        async with in_transaction(Resource._meta.default_connection):
            stored = await confirmed.stored(rows, checks)
            # Read in the transaction that writes (on SQLite nothing changes meanwhile; on
            # PostgreSQL a staff edit committed between this read and a row left as it was
            # stays, and the listing is stamped as confirmed by the file).
            same = await unchanged.find(rows, checks)
            report.unchanged = len(same)
            org_ids = dict(checks.organisations)
            for key, new in checks.new_organisations.items():
                org_ids[key] = (await organisations.save_organisation(actor, new)).id
            for done, current in enumerate(rows, start=1):
                valid = cast(edits.ResourceIn, current.data)  # every row validated
                existing = checks.existing.get(cast(str, valid.external_id))
                data = current.written(org_ids, None if existing is None else existing[1])
                if existing is not None and existing[0] in same:
                    # Nothing to save; the import still confirms it, as a save would.
                    await edits.check_editable(actor, existing[0])
                    resource_id = existing[0]
                    stamp: dict[str, Any] = {"verified_at": source.now}
                else:
                    resource_id = (
                        await edits.save_resource(
                            actor,
                            data,
                            resource_id=None if existing is None else existing[0],
                            now=source.now,
                        )
                    ).id
                    stamp = {}
                stamp |= provenance(actor, report, source, current)
                if confirmed.says(current.candidate):
                    before = stored.get(resource_id)
                    stamp["verified_at"] = confirmed.when(current.candidate, before)
                await Resource.filter(id=resource_id).update(**stamp)
                if progress is not None:
                    progress(done, len(rows))
    except (DomainError, IntegrityError) as exc:
        reason = (
            exc.said
            if isinstance(exc, DomainError)
            else N_("the database refused it: %(error)s", error=str(exc))
        )
        field = exc.field if isinstance(exc, DomainError) else None
        row = 0 if current is None else current.candidate.row
        column = "" if current is None else current.candidate.column(field or "")
        report.problems.append(Problem.of(row, column, reason))
        report.created = report.existing = report.unchanged = 0
