"""The application factory: routes, error handlers and a lifespan that owns the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from resourcemap import db
from resourcemap.booking.desk import Desk
from resourcemap.booking.worker import running_worker
from resourcemap.clock import Clock, from_settings
from resourcemap.dataset import synthetic_label
from resourcemap.errors import DomainError
from resourcemap.listings.map_points import crisis_hotlines
from resourcemap.search.service import running_search
from resourcemap.settings import Settings
from web import assets, i18n
from web.auth import RateLimiter, session_middleware
from web.errors import HANDLERS, domain_error
from web.limits import BookingLimits
from web.middleware import FrontDoor
from web.pages.shell import failed
from web.routes import build_routes

TEMPLATES_DIR = Path(__file__).parent / "templates"


async def _domain_error(request: Request, exc: Exception) -> Response:
    """What the domain refused: JSON under /api, elsewhere the page shell's problem page (a
    page that failed before it could say whose it is)."""
    if request.url.path.startswith("/api/"):
        return await domain_error(request, exc)
    return await failed(request, exc)


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    """Assemble the app for ``settings``; nothing here reads the environment.

    ``clock`` is where every request and the booking worker read "now": by default the wall
    clock, or ``settings.fixed_now``; tests pass their own.
    """
    clock = clock or from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(
                db.database(settings.database_url, db.Timeouts.from_settings(settings))
            )
            app.state.search = await stack.enter_async_context(running_search(settings))
            # Read once now: pages show the 24/7 lines even when the database is down later.
            await crisis_hotlines()
            await synthetic_label()
            if settings.run_worker:
                await stack.enter_async_context(running_worker(settings, clock=clock))
            yield

    app = Starlette(
        routes=build_routes(),
        middleware=[Middleware(FrontDoor, settings=settings), session_middleware(settings)],
        exception_handlers={**HANDLERS, DomainError: _domain_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.desk = Desk(settings)
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    i18n.install(app.state.templates.env)
    app.state.templates.env.globals["asset"] = assets.asset
    app.state.login_limiter = RateLimiter(
        10, 60.0, "too many sign-in attempts from this address; wait a minute"
    )
    app.state.booking_limits = BookingLimits(settings)
    return app
