"""Every URL the app answers, in one table made of each package's named routes."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route

from web import api, convertors
from web.assets import StaticAssets
from web.openapi import openapi
from web.pages import planning, resident, staff

STATIC_DIR = Path(__file__).parent / "static"
# One per process: files are read and compressed once, however many apps a process builds.
STATIC = StaticAssets(STATIC_DIR)


def build_routes() -> list[BaseRoute]:
    convertors.register()
    return [
        *api.routes(),
        Route("/openapi.json", openapi, name="openapi", include_in_schema=False),
        *resident.routes(),
        *staff.routes(),
        *planning.routes(),
        Mount("/static", STATIC, name="static"),
    ]
