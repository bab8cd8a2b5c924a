"""Bulk import and export of listings for staff and admins (JSON API).

Thin: read the upload or the query, call ``resourcemap.transfer``, answer with the import
report or the exported file. Staff import and export their own organisation's listings
only: the importer checks every row against the signed-in principal before anything is
written, and ``edits.save_resource`` checks again.
"""

from __future__ import annotations

import re

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from geo.chinacoords import CoordSystem
from resourcemap.errors import InvalidInput
from resourcemap.settings import Settings
from resourcemap.transfer.budget import Budget
from resourcemap.transfer.exporter import EXPORT_FORMATS, MEDIA_TYPES, SUFFIXES, export_listings
from resourcemap.transfer.importer import ImportOptions, import_listings
from resourcemap.vocab import ResourceKind, Role
from web import auth, clock, uploads

TRUE = ("1", "true", "on", "yes")


def _choice(value: object, allowed: type[CoordSystem] | type[ResourceKind], field: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text not in {member.value for member in allowed}:
        names = ", ".join(member.value for member in allowed)
        raise InvalidInput(f"{field} must be one of {names}", field=field)
    return text


async def import_upload(request: Request) -> Response:
    """
    summary: Import listings from a file (CSV, XLSX, GeoJSON, HSDS 3.0 JSON, ZIP of HSDS tables)
    description: >
      Multipart form: `file`, optional `dry_run` (true to only check), `coords` (wgs84,
      gcj02 or bd09, for rows without a coord_system column), `kind` (for rows naming
      none) and `csrf_token` (session sign-in). Every row is checked; nothing is written
      unless all pass. Rows are matched to stored listings by external_id. Staff import
      their own organisation's listings only.
    requestBody:
      required: true
      content:
        multipart/form-data:
          schema:
            type: object
            required: [file]
            properties:
              file: {type: string, format: binary}
              dry_run: {type: boolean}
              coords: {type: string, enum: [wgs84, gcj02, bd09]}
              kind: {type: string}
              csrf_token: {type: string}
    responses:
      200: {description: "Report {format, rows, created, updated, dry_run, written, notes,
        summary}"}
      400: {description: "Report whose problems give row, column and reason; nothing written"}
      401: {description: Not signed in}
      403: {description: "Not staff or admin, or a wrong CSRF token"}
      413: {description: "Larger than RESOURCEMAP_IMPORT_LIMIT_BYTES (checked while it streams
        in), or more rows, cells or seconds than the import budget allows: the reason says
        which"}
    """
    settings: Settings = request.app.state.settings
    # Nothing of the upload is read (or spooled to disk) for someone who may not send it;
    # the web's one front door stops it at RESOURCEMAP_IMPORT_LIMIT_BYTES as it streams in.
    await uploads.sender(request, Role.ADMIN, Role.STAFF)
    async with request.form(max_files=1, max_fields=10) as form:
        csrf = form.get(auth.CSRF_FIELD)
        principal = await auth.require(
            request, Role.ADMIN, Role.STAFF, form_csrf=csrf if isinstance(csrf, str) else None
        )
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("attach the file to import as the form field 'file'", field="file")
        data = await upload.read()
        dry_run = str(form.get("dry_run", "")).strip().lower() in TRUE
        coords = form.get("coords") or CoordSystem.WGS84.value
        kind = form.get("kind")
        options = ImportOptions(
            coords=CoordSystem(_choice(coords, CoordSystem, "coords")),
            default_kind=ResourceKind(_choice(kind, ResourceKind, "kind")) if kind else None,
            dry_run=dry_run,
            tz=settings.tz,
            budget=Budget.of(settings),
        )
        filename = upload.filename or "upload"
    report = await import_listings(principal, data, filename, options, now=clock.now(request))
    return JSONResponse(report.as_dict(), status_code=200 if report.ok else 400)


async def export_download(request: Request) -> Response:
    """
    summary: Export listings as HSDS 3.0 JSON, GeoJSON, CSV or XLSX
    description: >
      `format` is one of hsds, geojson, csv, xlsx. CSV and XLSX have the columns the
      import reads. Staff get their own organisation's listings; admins and planners every
      listing, or one organisation's with `organisation`. An account kept to an area gets
      the listings located in it only.
    parameters:
      - name: format
        in: query
        required: true
        schema: {type: string, enum: [hsds, geojson, csv, xlsx]}
      - {name: organisation, in: query, schema: {type: integer}}
    responses:
      200: {description: "The file, as an attachment"}
      400: {description: Unknown format or organisation}
      401: {description: Not signed in}
    """
    principal = await auth.require(request, Role.ADMIN, Role.STAFF, Role.PLANNER)
    fmt = request.query_params.get("format", "")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    organisation_id: int | None = None
    wanted = request.query_params.get("organisation", "")
    if principal.role is Role.STAFF:
        organisation_id = principal.organisation_id
    elif wanted:
        if re.fullmatch(r"[0-9]{1,9}", wanted) is None:
            raise InvalidInput("organisation must be an organisation id", field="organisation")
        organisation_id = int(wanted)
    settings: Settings = request.app.state.settings
    data = await export_listings(
        fmt, tz=settings.tz, organisation_id=organisation_id, area_code=principal.area_code
    )
    stamp = clock.now(request).astimezone(settings.tz).strftime("%Y%m%d")
    filename = f"resourcemap-listings-{stamp}{SUFFIXES[fmt]}"
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
