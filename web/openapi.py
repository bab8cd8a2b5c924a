"""The OpenAPI document, built from the endpoints' docstrings and the domain's input models."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
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


def build_schema(routes: list[BaseRoute]) -> dict[str, Any]:
    schema: dict[str, Any] = SchemaGenerator(BASE).get_schema(routes=routes)
    schema["components"] = {**BASE["components"], "schemas": _components()}
    return schema


async def openapi(request: Request) -> Response:
    """
    summary: This OpenAPI document
    responses:
      200: {description: OpenAPI 3.1 JSON}
    """
    return JSONResponse(build_schema(request.app.routes))
