"""Every URL the app answers, in one list."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web.endpoints import areas, health, pages, resources, search
from web.openapi import openapi

STATIC_DIR = Path(__file__).parent / "static"


def build_routes() -> list[BaseRoute]:
    return [
        Route("/", pages.home, name="home", include_in_schema=False),
        Route("/healthz", health.healthz),
        Route("/openapi.json", openapi, include_in_schema=False),
        Route("/api/v1/resources", resources.list_resources),
        Route("/api/v1/resources.geojson", resources.resources_geojson),
        Route("/api/v1/resources/{id:int}", resources.get_resource),
        Route("/api/v1/search", search.search),
        Route("/api/v1/nearest", search.nearest),
        Route("/api/v1/areas", areas.list_areas),
        Route("/api/v1/areas/{code}", areas.get_area),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
