"""Server-rendered staff pages: sign-in, the listings a person keeps, and the resource form.

Plain HTML forms that work without JavaScript; every unsafe request carries the session's
CSRF token as a hidden ``csrf_token`` field. Errors become pages here, never JSON: 401 sends
the browser to /login, 403 and 404 show a page saying why, and invalid input re-renders the
form with what was typed and a message next to each field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from resourcemap import accounts, areas
from resourcemap.accounts import Principal
from resourcemap.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    TooManyRequests,
    Unique,
)
from resourcemap.listings import edits, holidays, organisations
from resourcemap.listings import views as listings
from resourcemap.vocab import (
    ACCESSIBILITY_LABELS,
    AUDIENCE_LABELS,
    ELIGIBILITY_LABELS,
    KIND_INFO,
    MODE_LABELS,
    QUALIFICATION_LABELS,
    SERVICE_LABELS,
    STATUS_LABELS,
    AreaLevel,
    ResourceKind,
    Role,
    Status,
)
from web import auth, clock, forms, i18n
from web.i18n import _
from web.limits import client_address, limits
from web.pages.shell import (
    Audience,
    form_csrf,
    local_time,
    page,
    posted,
    problem,
    redirect,
    render,
    safe_next,
    signed_in,
)
from web.pages.staff import history
from web.pages.staff import listing_form as resource_form
from web.params import page_number

LIST_LIMIT = 100  # listings a page of the staff list shows
MAX_PAGE = 99_999
EXTRA_ROWS = 2  # blank exception/qualification rows offered below the filled ones
# How far ahead the form looks for holidays nobody has given (the longest booking horizon
# staff set is a year; most are weeks).
HOLIDAYS_AHEAD_DAYS = 90

# --- signing in and out -------------------------------------------------------------------


def _landing(principal: Principal) -> str:  # a sign-in without ``next``: pages it may open
    return "/planning" if principal.role is Role.PLANNER else "/staff"


async def login_form(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next", ""), default="")
    # Someone already signed in sees who they are (and may sign in as someone else).
    request.state.principal = await auth.current_principal(request)
    return await render(request, "staff/login.html", {"next": next_url, "username": ""})


async def login(request: Request) -> Response:
    form = await request.form()
    username = resource_form.text(form, "username").strip().lower()
    next_url = safe_next(resource_form.text(form, "next"), default="")  # empty: _landing
    context: dict[str, Any] = {"next": next_url, "username": username}
    # Login CSRF: the token was put in the anonymous session when the form was shown.
    if not auth.csrf_ok(request, form_csrf(form)):
        error = _("The form expired; please sign in again.")
        return await render(request, "staff/login.html", {**context, "error": error}, 403)
    if not username or not resource_form.text(form, "password"):
        error = _("Enter your username and password.")
        return await render(request, "staff/login.html", {**context, "error": error}, 400)
    try:
        await limits(request).check_sign_in(request)
        address = client_address(request) or "unknown"
        principal = await accounts.authenticate(
            username, resource_form.text(form, "password"), now=clock.now(request), address=address
        )
    except TooManyRequests:
        error = _("Too many attempts; please try again later.")
        return await render(request, "staff/login.html", {**context, "error": error}, 429)
    except Forbidden:
        # One answer for an unknown name, a wrong password and a locked account (#15).
        error = _(
            "Wrong username or password. After %(count)s failures in a row the account is "
            "locked for %(minutes)s minutes.",
            count=accounts.MAX_FAILED_LOGINS,
            minutes=accounts.LOCKOUT.seconds // 60,
        )
        return await render(request, "staff/login.html", {**context, "error": error}, 403)
    auth.start_session(request, principal)
    return redirect(request, next_url or _landing(principal))


async def logout(request: Request) -> Response:
    form = await request.form()
    try:
        principal = await auth.current_principal(request, form_csrf=form_csrf(form))
    except Forbidden as exc:
        return await problem(request, 403, _("You could not be signed out"), exc.reason)
    await auth.sign_out(request)
    flash = _("Signed out") if principal is not None else None
    return redirect(request, "/login", flash)


# --- the listings a person keeps ----------------------------------------------------------


@page(Audience.STAFF)
async def staff_home(request: Request) -> Response:
    principal = await signed_in(request, Role.ADMIN, Role.STAFF)
    text = request.query_params.get("q", "").strip()[:100]
    org_param = request.query_params.get("org", "")
    number = page_number(request.query_params.get("page", ""), MAX_PAGE)
    offset = (number - 1) * LIST_LIMIT
    orgs = await organisations.list_organisations()
    # Both names: the page shows the reader's language (Yunxi Subdistrict Office in English).
    org_names = {o.id: (o.name_zh, o.name_en or "") for o in orgs}
    if principal.role is Role.STAFF:
        rows, total = await listings.kept_resources(
            principal.organisation_id, False, text, limit=LIST_LIMIT, offset=offset
        )
    else:
        org_id = int(org_param) if org_param.isdigit() and int(org_param) in org_names else None
        org_param = "0" if org_param == "0" else ("" if org_id is None else str(org_id))
        rows, total = await listings.kept_resources(
            org_id, org_param == "0", text, limit=LIST_LIMIT, offset=offset
        )
    items = [
        {
            "id": r.id,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "kind": ResourceKind(r.kind),
            "status": Status(r.status),
            "verified_at": local_time(request, r.verified_at),
            "organisation": org_names.get(r.organisation_id or -1),
        }
        for r in rows
    ]
    back = request.url.path + ("?" + request.url.query if request.url.query else "")
    pages = max(1, -(-total // LIST_LIMIT))

    def page_link(n: int) -> str | None:
        if not 1 <= n <= pages or n == number:
            return None
        kept = {k: v for k, v in (("q", text), ("org", org_param)) if v}
        return "/staff?" + urlencode({**kept, "page": n})

    return await render(
        request,
        "staff/list.html",
        {
            "items": items,
            "total": total,
            "shown": (offset + 1, offset + len(items)) if items else None,
            "page": {
                "number": number,
                "of": pages,
                "prev": page_link(min(number - 1, pages)),
                "next": page_link(number + 1),
            },
            "q": text,
            "org": org_param,
            "orgs": orgs,
            "own_org": org_names.get(principal.organisation_id or -1, ("", "")),
            "back": back,
        },
    )


@page(Audience.STAFF)
async def change_status(request: Request) -> Response:
    principal, form = await posted(request, Role.ADMIN, Role.STAFF)
    try:
        status = Status(resource_form.text(form, "status"))
    except ValueError:
        return await problem(request, 400, _("Please check your input"), "unknown status")
    if status is Status.SUSPENDED and resource_form.text(form, "confirm") != "yes":
        # Suspending takes a listing off residents' map and search: asked once more.
        current = await _check_editable(principal, request.path_params["id"])
        context = {
            "resource_id": request.path_params["id"],
            "listing_name": i18n.label((current.name_zh, current.name_en)),
            "back": safe_next(resource_form.text(form, "back")),
        }
        return await render(request, "staff/suspend.html", context)
    resource = await edits.set_status(
        principal, request.path_params["id"], status, now=clock.now(request)
    )
    flash = _(
        "“%(name)s” is now %(status)s",
        name=i18n.label((resource.name_zh, resource.name_en)),
        status=i18n.vocab(status),
    )
    return redirect(request, safe_next(resource_form.text(form, "back")), flash)


async def _choices() -> dict[str, Any]:
    """Areas and organisations the form offers."""
    features = (await areas.list_areas(areas.AreaQuery(geometry=False))).features
    props = [f.properties for f in features]
    names = {p.code: p.name_zh for p in props}
    streets: dict[str, dict[str, Any]] = {}  # communities grouped under their street
    for p in props:
        if p.level == AreaLevel.COMMUNITY:
            street = streets.setdefault(
                p.parent or "", {"name": names.get(p.parent or "", "—"), "communities": []}
            )
            street["communities"].append(p)
    served = sorted(
        ({**p.model_dump(), "depth": p.level.depth} for p in props), key=lambda p: p["code"]
    )
    orgs = await organisations.list_organisations()
    return {
        "communities": streets,
        "service_areas": served,
        "org_options": [(o.id, o.name_zh) for o in orgs],
    }


async def _form_page(
    request: Request,
    principal: Principal,
    values: dict[str, Any],
    resource_id: int | None,
    errors: dict[str, str] | None = None,
) -> Response:
    values = resource_form.with_blank_rows(values, EXTRA_ROWS)
    settings = request.app.state.settings
    action = (
        "/staff/resources/new" if resource_id is None else f"/staff/resources/{resource_id}/edit"
    )
    context = {
        "values": values,
        "errors": errors or {},
        "resource_id": resource_id,
        "action": action,
        "is_admin": principal.role is Role.ADMIN,
        "kinds": KIND_INFO,
        "services": SERVICE_LABELS,
        "audiences": AUDIENCE_LABELS,
        "modes": MODE_LABELS,
        "accessibility": ACCESSIBILITY_LABELS,
        "qualification_types": QUALIFICATION_LABELS,
        "statuses": STATUS_LABELS,
        **resource_form.labels(),
        "eligibilities": ELIGIBILITY_LABELS,
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        "attribution_prefix": settings.map_attribution_prefix,
        "back": safe_next(values.get("back") or ""),  # where saving returns (the list as left)
        # The coming months whose holidays nobody has given: special dates are how to say them.
        "holidays_unknown": holidays.unknown_ahead(
            clock.now(request).astimezone(settings.tz).date(), HOLIDAYS_AHEAD_DAYS
        ),
        **await _choices(),
        "history": [] if resource_id is None else await history.of_listing(request, resource_id),
    }
    return await render(request, "staff/form.html", context, 400 if errors else 200)


async def _check_editable(principal: Principal, resource_id: int) -> edits.ResourceIn:
    await edits.check_editable(principal, resource_id)  # organisation and area (#20)
    return await edits.current_input(resource_id)


@page(Audience.STAFF)
async def new_resource(request: Request) -> Response:
    principal = await signed_in(request, Role.ADMIN, Role.STAFF)
    # Defaults of the input model; kind and name are left for the person to choose.
    blank = edits.ResourceIn.model_construct(kind=ResourceKind.COMMUNITY_ROOM, name_zh="")
    values = resource_form.values_from_input(blank) | {"kind": ""}
    if principal.role is Role.STAFF:
        values["organisation_id"] = str(principal.organisation_id)
    return await _form_page(request, principal, values, None)


@page(Audience.STAFF)
async def edit_resource(request: Request) -> Response:
    principal = await signed_in(request, Role.ADMIN, Role.STAFF)
    resource_id = request.path_params["id"]
    current = await _check_editable(principal, resource_id)
    values = resource_form.values_from_input(current) | {"back": request.query_params.get("back")}
    return await _form_page(request, principal, values, resource_id)


@page(Audience.STAFF)
async def save_resource(request: Request) -> Response:
    principal, form = await posted(request, Role.ADMIN, Role.STAFF)
    resource_id: int | None = request.path_params.get("id")
    stored = None if resource_id is None else await _check_editable(principal, resource_id)
    values = resource_form.values_from_form(form)
    if principal.role is Role.STAFF:
        values["organisation_id"] = str(principal.organisation_id)
    payload = resource_form.payload_of(values)
    errors = dict(payload.errors)
    try:
        data = edits.ResourceIn.model_validate(payload.data)
    except ValidationError as exc:
        errors = resource_form.field_errors(exc, payload) | errors
    else:
        today = clock.now(request).astimezone(request.app.state.settings.tz).date()
        errors |= resource_form.past_rows(data, payload, stored, today)
    if errors:
        return await _form_page(request, principal, values, resource_id, errors)
    try:
        resource = await edits.save_resource(
            principal, data, resource_id=resource_id, now=clock.now(request)
        )
    except Unique:
        errors = {"external_id": _("This external id is taken.")}
        return await _form_page(request, principal, values, resource_id, errors)
    except (InvalidInput, Conflict) as exc:
        field = exc.field or "_form"
        errors = {field: forms.reason(exc)}
        return await _form_page(request, principal, values, resource_id, errors)
    flash = _("Saved “%(name)s”", name=i18n.label((resource.name_zh, resource.name_en)))
    return redirect(request, safe_next(values["back"]), flash)
