"""Importing a listings file: validate every row, then write all of them or none.

Steps: read the file into candidates (:mod:`readers`, :mod:`hsds_in`), convert GCJ-02/BD-09
coordinates to WGS-84 for all rows at once, validate each row with ``ResourceIn``, check the
file as a whole (``external_id`` present and unique) and against the database (areas,
organisations, who may change what), and only when no row is rejected write everything in
one transaction through ``edits.save_resource`` (audit entry and search change log per
listing). Rows are matched to stored listings by ``external_id``: importing the same file
again updates them.

Example (tortoise initialised)::

    report = await import_listings(SYSTEM, data, "rooms.csv", ImportOptions(dry_run=True), now=now)
    report.ok, report.lines()
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from pydantic import ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from geo.chinacoords import CoordSystem, to_wgs84
from resourcemap import edits, organisations
from resourcemap.accounts import Principal
from resourcemap.errors import DomainError, InvalidInput
from resourcemap.hours import Interval, minutes, validate
from resourcemap.models import Resource
from resourcemap.transfer.checks import (
    DatabaseChecks,
    Row,
    check_external_ids,
    error_message,
)
from resourcemap.transfer.columns import Candidate
from resourcemap.transfer.readers import Parsed, UnreadableFile, read_listings
from resourcemap.transfer.report import ImportReport, Problem
from resourcemap.vocab import ResourceKind, Role

# Converted coordinates are kept to 1e-7° (about 1 cm); WGS-84 input is kept as given.
COORD_DECIMALS = 7

# The command line has no signed-in person: it acts as an administrator without an account.
SYSTEM = Principal.command_line()


@dataclass(frozen=True)
class ImportOptions:
    coords: CoordSystem = CoordSystem.WGS84
    """How ``lat``/``lon`` are given when a row has no ``coord_system``."""
    default_kind: ResourceKind | None = None
    """The kind of rows that name none (foreign HSDS records have no kind of ours)."""
    dry_run: bool = False


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
    ``now`` stamps the listings as verified."""
    actor.require(Role.ADMIN, Role.STAFF)
    try:
        # Parsing is CPU work (an XLSX of thousands of rows): keep it off the event loop.
        parsed = await asyncio.to_thread(read_listings, data, filename)
    except UnreadableFile as exc:
        report = ImportReport(format="unknown", dry_run=options.dry_run)
        report.reject(0, "", str(exc))
        return report
    return await import_parsed(actor, parsed, options, now=now, progress=progress)


async def import_parsed(
    actor: Principal,
    parsed: Parsed,
    options: ImportOptions,
    *,
    now: dt.datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    report = ImportReport(format=parsed.format, dry_run=options.dry_run)
    report.rows = len(parsed.candidates)
    report.problems += parsed.problems
    if not parsed.candidates and not parsed.problems:
        report.reject(0, "", "the file holds no listings")
    convert_coordinates(parsed.candidates, options.coords)
    rows = [_validated(c, options) for c in parsed.candidates]
    for c in parsed.candidates:
        report.problems += c.problems
    check_external_ids(rows, report)
    checks = DatabaseChecks(actor, report)
    await checks.run(rows)
    if not report.ok:
        return report
    report.updated = sum(1 for r in rows if r.external_id in checks.existing)
    report.created = len(rows) - report.updated
    if not options.dry_run:
        await _write(actor, rows, checks, report, progress, now=now)
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


def _column(err: Any, candidate: Candidate) -> str:
    loc = err["loc"]
    if loc:
        return candidate.column(str(loc[0]))
    message = str(err["msg"])
    if "service_area_codes" in message:
        return candidate.column("service_area_codes")
    if "lat" in message or "lon" in message:
        return f"{candidate.column('lat')}, {candidate.column('lon')}"
    return ""


def _validated(c: Candidate, options: ImportOptions) -> Row:
    """The row, with its ``ResourceIn`` if it is one; its problems recorded on it."""
    if "kind" not in c.values and options.default_kind is not None:
        c.values["kind"] = options.default_kind.value
    if "kind" not in c.values:
        c.reject(c.column("kind"), "required (or give a default kind for the file)")
    if not c.values.get("external_id"):
        c.reject(
            c.column("external_id"),
            "required: re-importing the file matches listings by external_id",
        )
    reported = {p.column for p in c.problems}
    try:
        data = edits.ResourceIn.model_validate(c.values)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            column = _column(err, c)
            if column not in reported:  # a cell that could not be read is reported once
                c.reject(column, error_message(err))
        return Row(c, None)
    except InvalidInput as exc:
        # ExceptionIn's validator calls hours.minutes, whose InvalidInput (field "hours")
        # passes through pydantic unwrapped: it is about an exception's times.
        field = "exceptions" if exc.field == "hours" and c.values.get("exceptions") else exc.field
        c.reject(c.column(field or ""), exc.reason)
        return Row(c, None)
    try:
        validate(Interval(h.weekday, minutes(h.opens), minutes(h.closes)) for h in data.hours)
    except InvalidInput as exc:
        c.reject(c.column("hours"), exc.reason)
    for i, e in enumerate(data.exceptions, start=1):
        try:
            for value in (e.opens, e.closes):
                if value is not None:
                    minutes(value)
        except InvalidInput as exc:
            c.reject(c.column("exceptions"), f"entry {i}: {exc.reason}")
    return Row(c, data)


async def _write(
    actor: Principal,
    rows: list[Row],
    checks: DatabaseChecks,
    report: ImportReport,
    progress: Callable[[int, int], None] | None,
    *,
    now: dt.datetime,
) -> None:
    """Everything in one transaction; a row the domain still refuses rolls all back."""
    current: Row | None = None
    try:
        async with in_transaction(Resource._meta.default_connection):
            org_ids = dict(checks.organisations)
            for key, new in checks.new_organisations.items():
                org_ids[key] = (await organisations.save_organisation(actor, new)).id
            for done, current in enumerate(rows, start=1):
                ref = current.candidate.organisation
                data = cast(edits.ResourceIn, current.data)  # every row validated
                existing = checks.existing.get(cast(str, data.external_id))
                if ref is not None:
                    data = data.model_copy(update={"organisation_id": org_ids[ref.key]})
                elif data.organisation_id is None and existing is not None:
                    # A row that names no organisation leaves the listing's as it is.
                    data = data.model_copy(update={"organisation_id": existing[1]})
                await edits.save_resource(
                    actor, data, resource_id=None if existing is None else existing[0], now=now
                )
                if progress is not None:
                    progress(done, len(rows))
    except (DomainError, IntegrityError) as exc:
        reason = exc.reason if isinstance(exc, DomainError) else f"the database refused it: {exc}"
        field = exc.field if isinstance(exc, DomainError) else None
        row = 0 if current is None else current.candidate.row
        column = "" if current is None else current.candidate.column(field or "")
        report.problems.append(Problem(row, column, reason))
        report.created = report.updated = 0
