"""How the API answers with the domain's typed views: one JSON shape for one view, and
``{"items": [...]}`` for a list of them; tables as CSV files a spreadsheet opens."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response


def view(found: BaseModel, *, status_code: int = 200) -> JSONResponse:
    return JSONResponse(found.model_dump(mode="json"), status_code=status_code)


def items(found: Iterable[BaseModel]) -> JSONResponse:
    return JSONResponse({"items": [one.model_dump(mode="json") for one in found]})


def csv_file(text: str, filename: str) -> Response:
    """``text`` (CSV) as a download named ``filename``, UTF-8 with a byte-order mark: Excel
    on a Chinese Windows reads a CSV without one as GBK, and every area name comes out
    garbled (the staff exports and the import template carry it too; readers, ours and
    pandas' ``utf-8-sig``, skip it)."""
    return Response(
        ("\ufeff" + text).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
