"""Server-rendered pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from resourcemap import listings
from resourcemap.dataset import synthetic_label
from resourcemap.vocab import ResourceKind


async def home(request: Request) -> Response:
    settings = request.app.state.settings
    hotlines = await listings.list_resources(
        listings.ResourceQuery(kind=(ResourceKind.HOTLINE,), limit=20)
    )
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "home.html",
        {
            "dataset_label": await synthetic_label(),
            "hotlines": [h for h in hotlines.items if h.always_open],
            "tile_url": settings.tile_url,
            "tile_attribution": settings.tile_attribution,
        },
    )
    return response
