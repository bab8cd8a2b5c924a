"""The import template as a download (CSV or XLSX), linked from the import page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from resourcemap.errors import NotFound
from resourcemap.transfer import sample
from resourcemap.vocab import Role
from web.pages.shell import Audience, page, signed_in

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@page(Audience.STAFF)
async def import_template(request: Request) -> Response:
    await signed_in(request, Role.ADMIN, Role.STAFF)
    fmt = request.path_params["fmt"]
    if fmt not in MEDIA:
        raise NotFound(f"no template as {fmt}")
    body = sample.template_csv() if fmt == "csv" else sample.template_xlsx()
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="resourcemap-import-template.{fmt}"'
        },
    )
