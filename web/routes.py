"""Every URL the app answers, in one table made of each package's named routes."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from web import api, convertors
from web.assets import StaticAssets
from web.openapi import openapi
from web.pages import planning, resident, staff


def build_routes() -> list[BaseRoute]:
    convertors.register()
    return [
        *api.routes(),
        Route("/openapi.json", openapi, name="openapi", include_in_schema=False),
        *resident.routes(),
        *staff.routes(),
        *planning.routes(),
        # Hashed names cached for good, compressed once: web.assets.
        Mount("/static", app=StaticAssets(), name="static"),
    ]
