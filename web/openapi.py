"""The OpenAPI document, built from the endpoints' docstrings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.schemas import SchemaGenerator

import resourcemap

BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "ResourceMap API",
        "version": resourcemap.__version__,
        "description": "Mental-health and social-psychological service resources on a map.",
    },
}


def build_schema(routes: list[BaseRoute]) -> dict[str, Any]:
    schema: dict[str, Any] = SchemaGenerator(BASE).get_schema(routes=routes)
    return schema


async def openapi(request: Request) -> Response:
    """
    summary: This OpenAPI document
    responses:
      200: {description: OpenAPI 3 JSON}
    """
    return JSONResponse(build_schema(request.app.routes))
