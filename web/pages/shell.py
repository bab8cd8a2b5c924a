"""The one page shell: every server-rendered page, whoever it is for, is rendered and fails
the same way.

A page names its audience (``Audience``) and, for signed-in audiences, the roles that may
see it. The shell then signs the person in (a form must carry the session's CSRF token),
turns what the domain refuses into the audience's problem page through the one error table
(``web.errors.problem_of``), sends someone not signed in to the sign-in page, and renders
templates with what every page of the audience shows (the language switch, the crisis
hotlines for residents, who is signed in for staff and planners). Headers and the language
are the middleware's (``web.middleware``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import ValidationError
from starlette.datastructures import URL, FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from resourcemap.accounts import Principal
from resourcemap.dataset import demo_of, synthetic_label
from resourcemap.errors import (
    DomainError,
    Forbidden,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from resourcemap.listings.map_points import crisis_hotlines
from resourcemap.vocab import Role
from web import auth, i18n, uploads
from web.errors import StaleForm, problem_of
from web.i18n import _

Endpoint = Callable[[Request], Awaitable[Response]]
# A form's parts at most: the listing form is the largest (hours, exceptions, qualifications).
FORM_FIELDS = 400
FORM_FILES = 1


class Audience(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    PLANNING = "planning"


PROBLEM_TEMPLATES = {
    Audience.RESIDENT: "resident/problem.html",
    Audience.STAFF: "staff/problem.html",
    Audience.PLANNING: "planning/problem.html",
}


def role_labels() -> dict[str, str]:
    return {Role.ADMIN: _("Administrator"), Role.STAFF: _("Staff"), Role.PLANNER: _("Planner")}


def page(audience: Audience, *roles: Role) -> Callable[[Endpoint], Endpoint]:
    """The page's audience and (signed-in audiences) the roles that may open it.

    With roles, the person is signed in before the handler runs (a POST form's CSRF token
    checked) and is ``request.state.principal``; without, a handler that needs someone calls
    ``signed_in`` itself.
    """

    def decorate(handler: Endpoint) -> Endpoint:
        @functools.wraps(handler)
        async def wrapped(request: Request) -> Response:
            request.state.audience = audience
            try:
                if roles:
                    form = None
                    if request.method == "POST":
                        # Who is there before the body is read (a form may carry a file).
                        await uploads.sender(request, *roles)
                        # Parsed once (Starlette keeps it for the handler), within limits.
                        form = await request.form(max_files=FORM_FILES, max_fields=FORM_FIELDS)
                    await signed_in(request, *roles, form=form)
                return await handler(request)
            except Unauthenticated:
                return _to_sign_in(request)
            except (DomainError, StaleForm, ValidationError) as exc:
                return await failed(request, exc)

        return wrapped

    return decorate


async def failed(request: Request, exc: Exception) -> Response:
    """The audience's page for an error: its status, title and words from the error table.
    Residents read a plain sentence; staff and planners also the domain's reason."""
    audience: Audience = getattr(request.state, "audience", Audience.RESIDENT)
    found = problem_of(exc)
    detail = _(found.detail)
    if audience is not Audience.RESIDENT:
        # What the domain refused says what to do next (no demand data: import it).
        detail = _reason(exc) or detail
    code = exc.code if isinstance(exc, DomainError) else None
    response = await problem(request, found.status, _(found.title), detail, code=code)
    if isinstance(exc, Unavailable | TooManyRequests):
        # Nothing was wrong with what the person did, or a limit: try again then (#16).
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return i18n.sentence(i18n.said(exc.said))  # the reader's language, not the domain's
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
    return ""


def _to_sign_in(request: Request) -> Response:
    target = request.url.path if request.method == "GET" else "/staff"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(
        f"{request.url_for('staff.login').path}?{urlencode({'next': target})}", status_code=303
    )


async def signed_in(request: Request, *roles: Role, form: FormData | None = None) -> Principal:
    """The signed-in person, who must hold one of ``roles``; a form must carry the session's
    CSRF token (``StaleForm`` otherwise)."""
    try:
        principal = await auth.require(request, form_csrf=None if form is None else form_csrf(form))
    except Forbidden as exc:
        # Without roles, require() refuses only a wrong CSRF token.
        raise StaleForm(exc.reason) from None
    request.state.principal = principal  # so that a 403 page still shows who is signed in
    if roles:
        principal.require(*roles)
    return principal


async def posted(request: Request, *roles: Role) -> tuple[Principal, FormData]:
    """Who posted this page's form, and the form: ``signed_in`` with the form's CSRF token."""
    form = await request.form()
    return await signed_in(request, *roles, form=form), form


def form_csrf(form: FormData) -> str:
    sent = form.get(auth.CSRF_FIELD)
    # compare_digest refuses non-ASCII text with a TypeError: such a token is simply wrong.
    return sent if isinstance(sent, str) and sent.isascii() else "not-ascii"


def check_csrf(request: Request, sent: str) -> None:
    """Forms of residents (no account) carry the same token as staff forms."""
    if not auth.csrf_ok(request, sent):
        raise StaleForm("missing or wrong CSRF token; reload the page and try again")


def form_text(form: FormData, name: str) -> str:
    """A field of a resident's form as typed, without surrounding blanks; "" if absent."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def checked_form(request: Request) -> FormData:
    """A resident's form, once its CSRF token is checked."""
    form = await request.form()
    check_csrf(request, form_text(form, "csrf_token"))
    return form


def safe_next(target: str, default: str = "/staff") -> str:
    """Only paths on this site: ``next`` must not send a signed-in person elsewhere.

    ``//host`` and ``///host`` are other sites to a browser (scheme-relative), and so is
    ``/\\host`` to some: a path must start with one slash followed by something else.
    """
    parts = urlsplit(target)
    plain = all(c.isprintable() and not c.isspace() and c != "\\" for c in target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and plain
        and not parts.scheme
        and not parts.netloc
    ):
        return target
    return default


def redirect(request: Request, to: str, flash: str | None = None) -> Response:
    """303 to ``to`` (after a form), with a one-time message for the next page."""
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(to, status_code=303)


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
    area_codes: frozenset[str] = frozenset(),
) -> Response:
    """Render a page with what every page of its audience shows."""
    audience: Audience = getattr(request.state, "audience", Audience.RESIDENT)
    base: dict[str, Any] = {
        "lang": i18n.current(),
        "switch_links": switch_links(request, context.get("get_url") or context.get("manage_url")),
        "dataset_label": dataset_text(await synthetic_label(), audience),
        # Called by forms only: a page without a form sets no cookie.
        "csrf_token": functools.partial(auth.csrf_token, request),
        "flash": request.session.pop("flash", None),
        "principal": getattr(request.state, "principal", None),
        "role_labels": role_labels(),
    }
    if audience is Audience.RESIDENT:
        # Crisis help one tap away on every resident page, those for the resident's area first.
        base["hotlines"] = await crisis_hotlines(area_codes)
    elif base["principal"] is not None and base["principal"].role is Role.STAFF:
        # Referrals waiting for the service's answer, beside "Referrals" on every page.
        base["referrals_waiting"] = await request.app.state.referrals.waiting(base["principal"])
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status
    )
    return response


def dataset_text(label: str | None, audience: Audience = Audience.PLANNING) -> str | None:
    """The label of the loaded data in the page's language: the demo's said in one
    language (#18), any other label as it was given. Residents are told what it means for
    them; staff and planners also get the seed, which names the data to rebuild it."""
    demo = demo_of(label)
    if demo is None:
        return label
    if audience is Audience.RESIDENT:
        return _("Demo data: the services listed here are made up.")
    text = _("Synthetic demo province") if demo.province else _("Synthetic demo data")
    return text if demo.seed is None else text + " · " + _("seed %(seed)s") % {"seed": demo.seed}


def local_time(request: Request, value: dt.datetime | None) -> str:
    """A stored instant as the configured zone's wall time, ``2026-12-01 09:00``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(request.app.state.settings.tz).strftime("%Y-%m-%d %H:%M")


async def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    back: str | None = None,
    code: str | None = None,
) -> Response:
    """The audience's problem page; ``code`` (a domain error's) lets it say what to do."""
    audience: Audience = getattr(request.state, "audience", Audience.RESIDENT)
    context = {"title": title, "detail": detail, "back": back, "code": code}
    return await render(request, PROBLEM_TEMPLATES[audience], context, status)
