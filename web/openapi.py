"""The OpenAPI document, built from the endpoints' docstrings and the domain's input models.

A docstring says only what its route does not: the path's parameters are read from the route
(an ``{id:id}`` is an integer, any other a string), and ``body: Model`` stands for a required
JSON body of one of ``BODY_MODELS`` (or, with a schema under it, of that schema);
``optional_body`` the same for a body that may be left out.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

import resourcemap
from resourcemap.booking.requests import BookingIn, CancelIn, RescheduleIn, VerifyIn
from resourcemap.booking.staff import BlockIn, PolicyIn
from resourcemap.feedback.answers import FeedbackIn
from resourcemap.listings.edits import ResourceIn
from resourcemap.listings.organisations import OrganisationIn
from resourcemap.referral.requests import (
    AcceptIn,
    DeclineIn,
    OutcomeIn,
    PickIn,
    ReferralIn,
    SeatsIn,
)
from web.convertors import IdConvertor

BASE: dict[str, Any] = {
    # 3.1: its schemas are JSON Schema 2020-12, which is what pydantic writes.
    "openapi": "3.1.0",
    "info": {
        "title": "ResourceMap API",
        "version": resourcemap.__version__,
        "description": "Mental-health and social-psychological service resources on a map.",
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "rm_session"},
        }
    },
}
# Request bodies documented by model name in the endpoints' docstrings.
BODY_MODELS = (
    ResourceIn,
    OrganisationIn,
    BookingIn,
    RescheduleIn,
    VerifyIn,
    CancelIn,
    PolicyIn,
    BlockIn,
    ReferralIn,
    AcceptIn,
    DeclineIn,
    OutcomeIn,
    PickIn,
    SeatsIn,
    FeedbackIn,
)


def _components() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(model, "validation") for model in BODY_MODELS],
        ref_template="#/components/schemas/{model}",
    )
    defs: dict[str, Any] = schemas.get("$defs", {})
    return defs


def _json_body(schema: str | dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """A JSON body: a model's name, or a schema written out."""
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    content = {"application/json": {"schema": schema}}
    return {"required": True, "content": content} if required else {"content": content}


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if isinstance(conv, IdConvertor) else "string"},
        }
        for name, conv in route.param_convertors.items()
    ]


def build_schema(routes: list[BaseRoute]) -> dict[str, Any]:
    schema: dict[str, Any] = SchemaGenerator(BASE).get_schema(routes=routes)
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        for operation in schema["paths"].get(re.sub(r":\w+}", "}", route.path), {}).values():
            if "body" in operation:
                operation["requestBody"] = _json_body(operation.pop("body"))
            if "optional_body" in operation:
                body = operation.pop("optional_body")
                operation["requestBody"] = _json_body(body, required=False)
            given = operation.get("parameters", [])
            if route.param_convertors and not any(p["in"] == "path" for p in given):
                operation["parameters"] = _path_parameters(route) + given
    schema["components"] = {**BASE["components"], "schemas": _components()}
    return schema


async def openapi(request: Request) -> Response:
    """
    summary: This OpenAPI document
    responses:
      200: {description: OpenAPI 3.1 JSON}
    """
    return JSONResponse(build_schema(request.app.routes))
