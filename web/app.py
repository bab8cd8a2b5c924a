"""The application factory: routes, error handlers and a lifespan that owns the database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from resourcemap import db, passwords
from resourcemap.booking import rotation
from resourcemap.booking.desk import Desk
from resourcemap.booking.worker import running_worker
from resourcemap.clock import Clock, from_settings
from resourcemap.dataset import synthetic_label
from resourcemap.errors import DomainError
from resourcemap.listings import holidays
from resourcemap.listings.map_points import crisis_hotlines
from resourcemap.planning.job_runner import running_jobs
from resourcemap.referral.desk import ReferralDesk
from resourcemap.search.service import running_search
from resourcemap.settings import Settings
from web import assets, i18n
from web.auth import session_middleware
from web.errors import HANDLERS, domain_error, http_error
from web.limits import RequestLimits
from web.middleware import FrontDoor
from web.pages.shell import Audience, failed
from web.routes import STATIC, build_routes

TEMPLATES_DIR = Path(__file__).parent / "templates"


async def _domain_error(request: Request, exc: Exception) -> Response:
    """What the domain refused: JSON under /api, elsewhere the page shell's problem page (a
    page that failed before it could say whose it is)."""
    if request.url.path.startswith("/api/"):
        return await domain_error(request, exc)
    return await failed(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """No route for the address, or not for its method: JSON under /api and /static, else a
    page in the shell of the audience the address belongs to, with a way back."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")):
        return await http_error(request, exc)
    if not hasattr(request.state, "audience"):
        request.state.audience = next(
            (who for prefix, who in AUDIENCE_OF_PATH if path.startswith(prefix)),
            Audience.RESIDENT,
        )
    return await failed(request, exc)


log = logging.getLogger("resourcemap.web")
AUDIENCE_OF_PATH = (("/staff", Audience.STAFF), ("/planning", Audience.PLANNING))


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    """Assemble the app for ``settings``; nothing here reads the environment.

    ``clock`` is where every request and the booking worker read "now": by default the wall
    clock, or ``settings.fixed_now``; tests pass their own.
    """
    clock = clock or from_settings(settings)
    # Which days are holidays, for years the library does not know: every process reads
    # the same file, so all of them open and take bookings on the same days.
    path = settings.holidays_file
    holidays.use(holidays.read(path) if path is not None else holidays.PublicDays())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(
                db.database(settings.database_url, db.Timeouts.from_settings(settings))
            )
            app.state.search = await stack.enter_async_context(running_search(settings))
            stack.push_async_callback(app.state.limits.counts.close)
            if await rotation.newest_readable(app.state.desk.ledger.vault) is False:
                log.error(
                    "the newest booking cannot be decrypted with RESOURCEMAP_DATA_KEYS: is the "
                    "key that sealed it missing? Pages showing bookings will fail until it is "
                    "given (`resourcemap rotate-keys` counts what no key opens)"
                )
            # Read once now: pages show the 24/7 lines even when the database is down later.
            await crisis_hotlines(fresh=True)
            await synthetic_label()
            if settings.run_worker:
                await stack.enter_async_context(running_worker(settings, clock=clock))
                await stack.enter_async_context(running_jobs(settings, clock=clock))
            yield

    app = Starlette(
        routes=build_routes(),
        middleware=[Middleware(FrontDoor, settings=settings), session_middleware(settings)],
        exception_handlers={**HANDLERS, DomainError: _domain_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.desk = Desk(settings)
    # Referrals share the booking desk's ledger: one seat ledger, one schedule cache.
    app.state.referrals = ReferralDesk(app.state.desk.ledger)
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    i18n.install(app.state.templates.env)
    assets.install(app.state.templates.env, STATIC)
    app.state.limits = RequestLimits(settings)
    passwords.set_concurrency(settings.password_hash_concurrency)
    return app
