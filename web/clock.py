"""The app's clock for endpoints: every request reads "now" from the one ``Clock`` the app
was built with (``create_app(settings, clock=...)``), never from the wall clock directly."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request

from resourcemap.clock import Clock


def now(request: Request) -> dt.datetime:
    clock: Clock = request.app.state.clock
    return clock.now()
