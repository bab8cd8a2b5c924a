"""Server-rendered admin pages: organisations and accounts.

Admins only; staff and planners get the 403 page, anonymous visitors are sent to /login.
Same conventions as ``web.pages.staff.listings``: plain HTML forms carrying the session's
CSRF token, invalid input re-renders the form with what was typed and a message next to each
field, success redirects (303) with a flash message.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from resourcemap import accounts, tokens
from resourcemap.accounts import Principal
from resourcemap.errors import Conflict, InvalidInput, NotFound, Unique
from resourcemap.listings import organisations
from resourcemap.said import N_
from resourcemap.vocab import ORGANISATION_TYPE_LABELS, OrganisationType, Role
from web import clock, forms, i18n
from web.i18n import _
from web.pages.shell import (
    Audience,
    local_time,
    page,
    posted,
    redirect,
    render,
    role_labels,
    signed_in,
)
from web.pages.staff import listing_form as resource_form

ORG_FIELDS = ("external_id", "name_zh", "name_en", "type", "description", "website", "phone")
ACCOUNT_FIELDS = ("username", "display_name", "role", "organisation_id", "area_code")


def _errors_of(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors keyed by form field (the first message per field)."""
    empty = {"name_zh": _("Enter the name in Chinese."), "type": _("Choose a type.")}
    return forms.field_errors(exc, empty=empty)


def _domain_error(
    exc: InvalidInput | Conflict, known: tuple[str, ...], values: dict[str, str] | None = None
) -> dict[str, str]:
    field = exc.field if exc.field in known else "_form"
    return {field or "_form": forms.reason(exc)}


# --- organisations ------------------------------------------------------------------------


def _type_options() -> list[tuple[str, str]]:
    return [(str(t), i18n.vocab(t)) for t in OrganisationType]


@page(Audience.STAFF)
async def organisation_list(request: Request) -> Response:
    await signed_in(request, Role.ADMIN)
    items = [
        {**o.model_dump(mode="json"), "type_label": i18n.vocab(o.type, ORGANISATION_TYPE_LABELS)}
        for o in await organisations.list_organisations()
    ]
    return await render(request, "staff/organisations.html", {"items": items})


async def _organisation_form(
    request: Request,
    values: dict[str, str],
    organisation_id: int | None,
    errors: dict[str, str] | None = None,
) -> Response:
    action = (
        "/staff/organisations/new"
        if organisation_id is None
        else f"/staff/organisations/{organisation_id}/edit"
    )
    context = {
        "values": values,
        "errors": errors or {},
        "organisation_id": organisation_id,
        "action": action,
        "type_options": _type_options(),
    }
    return await render(request, "staff/organisation_form.html", context, 400 if errors else 200)


async def _stored_organisation(organisation_id: int) -> organisations.OrganisationView:
    for org in await organisations.list_organisations():
        if org.id == organisation_id:
            return org
    raise NotFound(N_("no organisation with id %(id)s", id=organisation_id))


@page(Audience.STAFF)
async def new_organisation(request: Request) -> Response:
    await signed_in(request, Role.ADMIN)
    return await _organisation_form(request, dict.fromkeys(ORG_FIELDS, ""), None)


@page(Audience.STAFF)
async def edit_organisation(request: Request) -> Response:
    await signed_in(request, Role.ADMIN)
    organisation_id: int = request.path_params["id"]
    stored = await _stored_organisation(organisation_id)
    stored_values = stored.model_dump(mode="json")
    values = {
        name: "" if stored_values[name] is None else str(stored_values[name]) for name in ORG_FIELDS
    }
    return await _organisation_form(request, values, organisation_id)


@page(Audience.STAFF)
async def save_organisation(request: Request) -> Response:
    principal, form = await posted(request, Role.ADMIN)
    organisation_id: int | None = request.path_params.get("id")
    if organisation_id is not None:
        await _stored_organisation(organisation_id)  # 404 before anything else
    values = {name: resource_form.text(form, name) for name in ORG_FIELDS}
    data_in: dict[str, Any] = dict(values)
    data_in["external_id"] = values["external_id"].strip() or None
    try:
        data = organisations.OrganisationIn.model_validate(data_in)
    except ValidationError as exc:
        return await _organisation_form(request, values, organisation_id, _errors_of(exc))
    try:
        org = await organisations.save_organisation(
            principal, data, organisation_id=organisation_id
        )
    except Unique:
        errors = {"external_id": _("This external id is taken.")}
        return await _organisation_form(request, values, organisation_id, errors)
    except (InvalidInput, Conflict) as exc:
        errors = _domain_error(exc, ORG_FIELDS)
        return await _organisation_form(request, values, organisation_id, errors)
    return redirect(
        request,
        "/staff/organisations",
        _("Saved “%(name)s”", name=i18n.label((org.name_zh, org.name_en or ""))),
    )


# --- accounts -----------------------------------------------------------------------------


async def _account_rows(request: Request, principal: Principal) -> list[dict[str, Any]]:
    rows = await accounts.list_accounts(principal)
    return [
        {
            **accounts.account_view(a),
            "last_login": local_time(request, a.last_login_at),
        }
        for a in rows
    ]


async def _accounts_page(
    request: Request,
    principal: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    reset_errors: dict[int, str] | None = None,
    role_errors: dict[int, str] | None = None,
) -> Response:
    orgs = await organisations.list_organisations()
    org_names = {o.id: i18n.name(o.name_zh, o.name_en) for o in orgs}
    in_force = await tokens.all_tokens(
        principal, now=clock.now(request), lifetime=request.app.state.settings.token_lifetime
    )
    context = {
        "items": await _account_rows(request, principal),
        "tokens": [
            {
                "id": t.id,
                "username": t.username,
                "name": t.name,
                "expires": local_time(request, t.expires_at),
                "last_used": local_time(request, t.last_used_at),
            }
            for t in in_force
        ],
        "org_names": org_names,
        "org_options": [(o.id, i18n.label((o.name_zh, o.name_en or ""))) for o in orgs],
        "role_options": [(str(r), label) for r, label in role_labels().items()],
        "values": values or dict.fromkeys(ACCOUNT_FIELDS, "") | {"role": str(Role.STAFF)},
        "errors": errors or {},
        "reset_errors": reset_errors or {},
        "role_errors": role_errors or {},
    }
    status = 400 if errors or reset_errors or role_errors else 200
    return await render(request, "staff/accounts.html", context, status)


@page(Audience.STAFF)
async def account_list(request: Request) -> Response:
    principal = await signed_in(request, Role.ADMIN)
    return await _accounts_page(request, principal)


def _role_and_org(values: dict[str, str]) -> tuple[Role | None, int | None, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        role: Role | None = Role(values["role"])
    except ValueError:
        role = None
        errors["role"] = _("Choose a role from the list.")
    org = values["organisation_id"].strip()
    organisation_id = int(org) if org.isdigit() and len(org) <= 9 else None
    if org and organisation_id is None:
        errors["organisation_id"] = _("Choose an organisation from the list.")
    return role, organisation_id, errors


@page(Audience.STAFF)
async def create_account(request: Request) -> Response:
    principal, form = await posted(request, Role.ADMIN)
    values = {name: resource_form.text(form, name) for name in ACCOUNT_FIELDS}
    values["username"] = values["username"].strip().lower()
    values["display_name"] = values["display_name"].strip()
    password = resource_form.text(form, "password")
    role, organisation_id, errors = _role_and_org(values)
    if len(values["display_name"]) > 100:
        errors["display_name"] = _("At most 100 characters.")
    area = values["area_code"].strip()
    if area and not (area.isdigit() and len(area) <= 12):
        errors["area_code"] = _("An area code has up to 12 digits.")
    if role is not None:
        # Every rule of the domain at once, each beside its field (not the first alone).
        for problem in await accounts.refusals(
            username=values["username"],
            password=password,
            role=role,
            organisation_id=organisation_id,
            area_code=area or None,
        ):
            errors.setdefault(problem.field or "_form", forms.reason(problem))
    if errors or role is None:
        return await _accounts_page(request, principal, values, errors)
    try:
        account = await accounts.create_account(
            principal,
            username=values["username"],
            password=password,
            role=role,
            organisation_id=organisation_id,
            display_name=values["display_name"],
            area_code=values["area_code"].strip() or None,
        )
    except Unique:  # created by someone else between the check and the insert
        errors = {"username": _("This username is taken.")}
        return await _accounts_page(request, principal, values, errors)
    except (InvalidInput, Conflict) as exc:
        known = (*ACCOUNT_FIELDS, "password")
        refused = _domain_error(exc, known, values)
        return await _accounts_page(request, principal, values, refused)
    flash = _("Account “%(name)s” created", name=account.username)
    return redirect(request, "/staff/accounts", flash)


@page(Audience.STAFF)
async def reset_password(request: Request) -> Response:
    principal, form = await posted(request, Role.ADMIN)
    account_id: int = request.path_params["id"]
    try:
        account = await accounts.reset_password(
            principal, account_id, _password(form), now=clock.now(request)
        )
    except InvalidInput as exc:
        return await _accounts_page(
            request, principal, reset_errors={account_id: forms.reason(exc)}
        )
    flash = _("The password of “%(name)s” was reset", name=account.username)
    return redirect(request, "/staff/accounts", flash)


def _password(form: FormData) -> str:
    return resource_form.text(form, "new_password")


@page(Audience.STAFF)
async def set_active(request: Request) -> Response:
    """Deactivate (sessions and tokens end) or reactivate an account."""
    principal, form = await posted(request, Role.ADMIN)
    account_id: int = request.path_params["id"]
    active = resource_form.text(form, "active") == "1"
    account = await accounts.set_active(principal, account_id, active, now=clock.now(request))
    if active:
        flash = _("Account “%(name)s” reactivated", name=account.username)
    else:
        flash = _(
            "Account “%(name)s” deactivated; its sessions and tokens no longer work",
            name=account.username,
        )
    return redirect(request, "/staff/accounts", flash)


@page(Audience.STAFF)
async def revoke_token(request: Request) -> Response:
    principal, _form = await posted(request, Role.ADMIN)
    await tokens.revoke(principal, request.path_params["id"], now=clock.now(request))
    return redirect(request, "/staff/accounts", _("Token revoked"))


@page(Audience.STAFF)
async def change_role(request: Request) -> Response:
    """A new role, organisation and area for an account; its sessions end (#15, #20)."""
    principal, form = await posted(request, Role.ADMIN)
    account_id: int = request.path_params["id"]
    values = {name: resource_form.text(form, name) for name in ACCOUNT_FIELDS}
    role, organisation_id, errors = _role_and_org(values)
    area = values["area_code"].strip()
    if area and not (area.isdigit() and len(area) <= 12):
        errors["area_code"] = _("An area code has up to 12 digits.")
    if errors or role is None:
        first = next(iter(errors.values()))
        return await _accounts_page(request, principal, role_errors={account_id: first})
    try:
        account = await accounts.change_role(
            principal, account_id, role, organisation_id, area or None
        )
    except InvalidInput as exc:
        return await _accounts_page(request, principal, role_errors={account_id: forms.reason(exc)})
    flash = _("The role of “%(name)s” was changed; they were signed out", name=account.username)
    return redirect(request, "/staff/accounts", flash)
