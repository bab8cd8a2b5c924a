"""The staff bulk-import page: a file of listings (our template, GeoJSON, HSDS JSON or a
ZIP of HSDS tables), checked first by default (a dry run writes nothing), with the report
of what was and would be written and every problem by row and column.

Foreign records (another directory's HSDS) name no kind of ours: the page asks for the
kind of rows that name none, as the command line's ``--kind`` and the API's ``kind`` do.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from geo.chinacoords import CoordSystem
from resourcemap.errors import TooLarge
from resourcemap.transfer.budget import Budget
from resourcemap.transfer.importer import ImportOptions, import_listings
from resourcemap.transfer.report import ImportReport
from resourcemap.vocab import ResourceKind, Role
from web import clock, i18n, uploads
from web.i18n import _
from web.pages.shell import Audience, page, render, signed_in
from web.pages.staff import listing_form as resource_form

# An HSDS package's cell, as the report names it: its table and row, then the column.
_TABLE_ROW = re.compile(r"(\b[\w-]+\.csv) row (\d+)")


def _import_coords() -> tuple[tuple[str, str], ...]:
    return (
        ("wgs84", _("WGS84 (GPS, default)")),
        ("gcj02", _("GCJ-02 (AMap, Tencent)")),
        ("bd09", _("BD-09 (Baidu)")),
    )


async def _import_page(
    request: Request,
    *,
    coords: str = "wgs84",
    kind: str = "",
    dry_run: bool = True,
    report: ImportReport | None = None,
    filename: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    asks_kind = report is not None and report.asks_kind
    context = {
        "coord_options": _import_coords(),
        "kind_options": [(k.value, i18n.vocab(k)) for k in ResourceKind],
        # The form's fields (staff/_fields.html): what was chosen, and the kind's error.
        "values": {"coords": coords, "kind": kind},
        "errors": {"kind": _("No row of the file names its kind: choose it here.")}
        if asks_kind
        else {},
        "dry_run": dry_run,
        "report": report,
        "problems": [
            (p.row, _cell(p.column), p.said)
            for p in (sorted(report.problems) if report is not None else [])
        ],
        "asks_kind": asks_kind,
        "rejected": report.rejected_rows if report is not None else 0,
        "filename": filename,
        "error": error,
    }
    return await render(request, "staff/import.html", context, status)


def _cell(column: str) -> Markup:
    """Where a problem is, in the page's language: ``locations.csv row 4, latitude`` reads
    ``locations.csv 第 4 行、latitude`` on a Chinese page."""
    parts = [
        _TABLE_ROW.sub(lambda m: _("%(table)s row %(row)s", table=m[1], row=m[2]), part)
        for part in column.split(", ")
    ]
    return i18n.separated(parts)  # escaped once, here: not again by the template


@page(Audience.STAFF)
async def import_form(request: Request) -> Response:
    await signed_in(request, Role.ADMIN, Role.STAFF)
    return await _import_page(request)


@page(Audience.STAFF)
async def import_upload(request: Request) -> Response:
    # Nothing of the file is read for someone who may not import; past
    # RESOURCEMAP_IMPORT_LIMIT_BYTES the front door refuses it while it streams in.
    await uploads.sender(request, Role.ADMIN, Role.STAFF)
    async with request.form(max_files=1, max_fields=10) as form:
        principal = await signed_in(request, Role.ADMIN, Role.STAFF, form=form)
        coords = resource_form.text(form, "coords").strip().lower() or "wgs84"
        kind = resource_form.text(form, "kind").strip()
        dry_run = bool(resource_form.text(form, "dry_run"))
        error = None
        if coords not in {value for value, _label in _import_coords()}:
            error, coords = _("Choose a coordinate system from the list."), "wgs84"
        elif kind and kind not in {k.value for k in ResourceKind}:
            error, kind = _("Choose a kind of service from the list."), ""
        upload = form.get("file")
        filename = upload.filename if isinstance(upload, UploadFile) else None
        if error is None and not filename:
            error = _("Choose a file to import.")
        if error is not None or not isinstance(upload, UploadFile) or not filename:
            return await _import_page(
                request, coords=coords, kind=kind, dry_run=dry_run, error=error, status=400
            )
        data = await upload.read()
    settings = request.app.state.settings
    options = ImportOptions(
        coords=CoordSystem(coords),
        dry_run=dry_run,
        tz=settings.tz,
        budget=Budget.of(settings),
        default_kind=ResourceKind(kind) if kind else None,
    )
    try:
        report = await import_listings(principal, data, filename, options, now=clock.now(request))
    except TooLarge as exc:
        # Over the import budget (rows, cells, seconds): nothing was written.
        error = i18n.said(exc.said)
        return await _import_page(
            request, coords=coords, kind=kind, dry_run=dry_run, error=error, status=413
        )
    return await _import_page(
        request,
        coords=coords,
        kind=kind,
        dry_run=dry_run or report.written,  # after a write, the next upload checks first
        report=report,
        filename=filename,
        status=200 if report.ok else 400,
    )
