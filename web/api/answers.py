"""How the API answers with the domain's typed views: one JSON shape for one view, and
``{"items": [...]}`` for a list of them."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from starlette.responses import JSONResponse


def view(found: BaseModel, *, status_code: int = 200) -> JSONResponse:
    return JSONResponse(found.model_dump(mode="json"), status_code=status_code)


def items(found: Iterable[BaseModel]) -> JSONResponse:
    return JSONResponse({"items": [one.model_dump(mode="json") for one in found]})
