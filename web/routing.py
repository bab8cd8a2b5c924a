"""How every package names its routes: ``<group>.<name>`` (``api.search``,
``staff.bookings``), so pages and templates reach them with ``url_for`` and never spell a
URL by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def group(name: str, *, prefix: str = "", documented: bool = False) -> Callable[..., Route]:
    """A maker of routes for one package: ``route(path, endpoint, method, name)``. Pages are
    left out of the API document (``documented=False``)."""

    def route(path: str, endpoint: Endpoint, method: str, route_name: str) -> Route:
        return Route(
            prefix + path,
            endpoint,
            methods=[method],
            name=f"{name}.{route_name}",
            include_in_schema=documented,
        )

    return route
