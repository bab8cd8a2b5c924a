"""The application factory: routes, error handlers and a lifespan that owns the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.templating import Jinja2Templates
from tortoise.exceptions import BaseORMException

from resourcemap import db
from resourcemap.search.service import SearchService
from resourcemap.settings import Settings
from web.errors import HANDLERS
from web.routes import build_routes

TEMPLATES_DIR = Path(__file__).parent / "templates"
log = logging.getLogger("resourcemap.web")


def create_app(settings: Settings) -> Starlette:
    """Assemble the app for ``settings``; nothing here reads the environment."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with db.database(settings.database_url):
            search = SearchService(settings.tz, follow_interval=settings.search_follow_seconds)
            try:
                await search.refresh()
            except (OSError, BaseORMException) as exc:
                # Start anyway: /healthz reports the database, search loads on first use.
                log.warning("database not ready at start (%s)", type(exc).__name__)
            app.state.search = search
            yield

    app = Starlette(
        routes=build_routes(),
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    return app
