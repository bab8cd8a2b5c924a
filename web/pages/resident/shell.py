"""What every resident page shares: language, crisis hotlines, headers, problem pages.

Resident pages are for people who may be anxious or in crisis: every one of them shows the
24/7 hotlines, speaks the resident's language, and never sends the booking token anywhere
(``Referrer-Policy: no-referrer``; pages holding personal details are not cached).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response

from resourcemap.dataset import synthetic_label
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.resident_map import crisis_hotlines
from web import auth, i18n
from web.i18n import _

Endpoint = Callable[[Request], Awaitable[Response]]


class StaleForm(Exception):
    """A resident's form came without this browser's CSRF token (old page or other site)."""


def resident_page(handler: Endpoint) -> Endpoint:
    """Choose the language, and turn what the domain refuses into a page saying why."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            response = await handler(request)
        except NotFound:
            response = await problem(
                request,
                404,
                _("Not found"),
                _("This page does not exist, or the link is incomplete."),
            )
        except StaleForm:
            response = await problem(
                request,
                403,
                _("This page has expired"),
                _("Please go back, reload the page and try again. Nothing was changed."),
            )
        except Conflict:
            response = await problem(
                request,
                409,
                _("This cannot be done online now"),
                _("Please choose another time, or call the service."),
            )
        except InvalidInput:
            response = await problem(
                request, 400, _("Please check your input"), _("Something in the request is wrong.")
            )
        return response

    return wrapped


def check_csrf(request: Request, sent: str) -> None:
    if not auth.csrf_ok(request, sent):
        raise StaleForm


def switch_links(request: Request, page: str | None = None) -> list[tuple[i18n.Language, str]]:
    """This page in each language: same path and query, ``lang`` replaced. A page that
    answers a form (POST) is switched at ``page``, the GET page it belongs to."""
    url = URL(page) if page and request.method != "GET" else request.url
    query = [(k, v) for k, v in parse_qsl(url.query) if k != "lang"]
    return [
        (lang, f"{url.path}?{urlencode([*query, ('lang', lang.tag)])}")
        for lang in i18n.LANGUAGES.values()
    ]


async def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    private: bool = False,
    area_codes: frozenset[str] = frozenset(),
) -> Response:
    """Render a resident page. ``private`` pages (a booking, a form) are never cached."""
    base = {
        "lang": i18n.current(),
        "switch_links": switch_links(request, context.get("get_url") or context.get("manage_url")),
        "hotlines": await crisis_hotlines(area_codes),
        "dataset_label": await synthetic_label(),
        # Called by forms only: a page without a form sets no cookie.
        "csrf_token": functools.partial(auth.csrf_token, request),
        "flash": request.session.pop("flash", None),
    }
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status
    )
    # Headers (no referrer: manage links carry the booking token; never cached) are the
    # middleware's, for every page alike.
    return response


async def problem(request: Request, status: int, title: str, detail: str) -> Response:
    return await render(
        request, "resident/problem.html", {"title": title, "detail": detail}, status, private=True
    )
