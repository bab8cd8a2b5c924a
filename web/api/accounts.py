"""Sessions, accounts, API tokens and the audit log, over JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import accounts, audit, tokens
from resourcemap.errors import Forbidden, InvalidInput
from resourcemap.vocab import MAX_ID, Role
from web import auth, clock
from web.limits import client_address, limits
from web.params import json_body, query_dict


def _role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise InvalidInput("role must be admin, staff or planner", field="role") from None


def _area(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.isdigit() or len(value) > 12:
        raise InvalidInput("area_code must be an area's code (up to 12 digits)", field="area_code")
    return value


def _id(value: object, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{field} must be a positive integer id", field=field)
    return value


async def login(request: Request) -> Response:
    """
    summary: Sign in (session cookie for pages)
    description: Returns the CSRF token to send with writes.
    body:
      type: object
      required: [username, password]
      properties: {username: {type: string}, password: {type: string}}
    responses:
      200: {description: "{username, role, csrf_token}"}
      403: {description: "Wrong username or password, locked, or from another site"}
      415: {description: Not JSON}
      429: {description: Too many attempts from this address}
    """
    if auth.from_another_site(request):
        raise Forbidden("sign-in from a page of another site is refused")
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInput("username and password are required", field="username")
    await limits(request).check_sign_in(request)
    principal = await accounts.authenticate(
        username, password, now=clock.now(request), address=client_address(request) or "unknown"
    )
    token = auth.start_session(request, principal)
    return JSONResponse(
        {"username": principal.username, "role": principal.role, "csrf_token": token}
    )


async def logout(request: Request) -> Response:
    """
    summary: Sign out
    description: >
      Ends the session on the server: a copy of the cookie no longer works, nor do the
      account's sessions in other browsers.
    responses:
      204: {description: Signed out}
    """
    await auth.sign_out(request)
    return Response(status_code=204)


async def whoami(request: Request) -> Response:
    """
    summary: The signed-in account
    responses:
      200: {description: "{username, role, organisation_id, area_code, csrf_token}"}
      401: {description: Not signed in}
    """
    principal = await auth.require(request)
    return JSONResponse(
        {
            "id": principal.id,
            "username": principal.username,
            "role": principal.role,
            "organisation_id": principal.organisation_id,
            "area_code": principal.area_code,
            "csrf_token": auth.csrf_token(request),
        }
    )


async def create_account(request: Request) -> Response:
    """
    summary: Create an account (admin)
    body:
      type: object
      required: [username, password, role]
      properties:
        username: {type: string}
        password: {type: string}
        role: {type: string, enum: [admin, staff, planner]}
        organisation_id: {type: integer}
        display_name: {type: string}
        area_code: {type: string, description: "planners and staff: keep to this area"}
    responses:
      201: {description: The account (never its password)}
      400: {description: Invalid field}
      403: {description: Not allowed}
      409: {description: Username taken}
    """
    principal = await auth.require(request, Role.ADMIN)
    body = await json_body(request)
    account = await accounts.create_account(
        principal,
        username=str(body.get("username", "")),
        password=str(body.get("password", "")),
        role=_role(body.get("role")),
        organisation_id=_id(body.get("organisation_id"), "organisation_id"),
        display_name=str(body.get("display_name", "")),
        area_code=_area(body.get("area_code")),
    )
    return JSONResponse(accounts.account_view(account), status_code=201)


async def reset_password(request: Request) -> Response:
    """
    summary: Set a new password for an account (admin); its sessions end
    body: {type: object, properties: {password: {type: string}}}
    responses:
      204: {description: Done}
      400: {description: Weak password}
      403: {description: Not allowed}
      404: {description: No such account}
    """
    principal = await auth.require(request, Role.ADMIN)
    body = await json_body(request)
    await accounts.reset_password(
        principal, request.path_params["id"], str(body.get("password", "")), now=clock.now(request)
    )
    return Response(status_code=204)


async def list_accounts(request: Request) -> Response:
    """
    summary: Every account (admin)
    responses:
      200: {description: "{items}: by username, never a password"}
      403: {description: Not allowed}
    """
    principal = await auth.require(request, Role.ADMIN)
    items = [accounts.account_view(a) for a in await accounts.list_accounts(principal)]
    return JSONResponse({"items": items})


async def update_account(request: Request) -> Response:
    """
    summary: Change an account's role, deactivate or reactivate it (admin)
    description: >
      A new `role` (with `organisation_id` for staff and `area_code` for an account kept
      to an area; both as they should be after the change) ends the account's sessions.
      `active: false` ends them too and revokes its API tokens; it cannot sign in until
      `active: true`.
    body:
      type: object
      properties:
        role: {type: string, enum: [admin, staff, planner]}
        organisation_id: {type: integer}
        area_code: {type: string}
        active: {type: boolean}
    responses:
      200: {description: The account}
      400: {description: Invalid field}
      403: {description: Not allowed}
      404: {description: No such account}
    """
    principal = await auth.require(request, Role.ADMIN)
    body = await json_body(request)
    account_id: int = request.path_params["id"]
    account = None
    organisation_id = _id(body.get("organisation_id"), "organisation_id")
    area_code = _area(body.get("area_code"))
    if "role" not in body:
        for name in ("organisation_id", "area_code"):
            if name in body:
                raise InvalidInput(f"{name} is changed together with role: send both", field=name)
    else:
        account = await accounts.change_role(
            principal, account_id, _role(body["role"]), organisation_id, area_code
        )
    if "active" in body:
        active = body["active"]
        if not isinstance(active, bool):
            raise InvalidInput("active must be true or false", field="active")
        account = await accounts.set_active(principal, account_id, active, now=clock.now(request))
    if account is None:
        raise InvalidInput("nothing to change: send role or active", field="body")
    return JSONResponse(accounts.account_view(account))


async def create_token(request: Request) -> Response:
    """
    summary: Issue an API token for scripts
    description: >
      For yourself, or (admins) for another account with `account_id`. It works for
      `RESOURCEMAP_TOKEN_LIFETIME_DAYS` (90) days, until revoked, or until the account's
      password is reset or the account is deactivated.
    optional_body:
      type: object
      properties: {name: {type: string}, account_id: {type: integer}}
    responses:
      201: {description: "{token, id, expires_at, …}: the token is shown once"}
      403: {description: Not allowed}
    """
    principal = await auth.require(request)
    body = await json_body(request)
    account_id = _id(body.get("account_id"), "account_id") or principal.id
    if account_id is None:
        raise InvalidInput("account_id is required", field="account_id")
    issued = await tokens.issue(
        principal,
        account_id,
        str(body.get("name", "")),
        now=clock.now(request),
        lifetime=request.app.state.settings.token_lifetime,
    )
    return JSONResponse({"token": issued.token, **issued.view.as_json()}, status_code=201)


async def list_tokens(request: Request) -> Response:
    """
    summary: API tokens (never the tokens themselves)
    description: >
      Your own tokens; admins name an account with `account_id`, or `all=1` for every
      token still in force.
    parameters:
      - {name: account_id, in: query, schema: {type: integer}}
      - {name: all, in: query, schema: {type: boolean}}
    responses:
      200: {description: "{items}: newest first, with created, expires, last used, revoked"}
      403: {description: Not allowed}
    """
    principal = await auth.require(request)
    now, lifetime = clock.now(request), request.app.state.settings.token_lifetime
    if request.query_params.get("all") in ("1", "true"):
        views = await tokens.all_tokens(principal, now=now, lifetime=lifetime)
    else:
        raw = request.query_params.get("account_id")
        account_id = None
        if raw is not None:
            account_id = _id(int(raw) if raw.isdigit() and len(raw) < 10 else -1, "account_id")
        views = await tokens.list_tokens(principal, account_id, now=now, lifetime=lifetime)
    return JSONResponse({"items": [v.as_json() for v in views]})


async def revoke_token(request: Request) -> Response:
    """
    summary: Revoke an API token (its owner or an admin)
    responses:
      204: {description: Revoked (also when it already was)}
      404: {description: No such token of yours}
    """
    principal = await auth.require(request)
    await tokens.revoke(principal, request.path_params["id"], now=clock.now(request))
    return Response(status_code=204)


async def audit_log(request: Request) -> Response:
    """
    summary: The audit log (admin)
    parameters:
      - {name: entity, in: query, schema: {type: string}}
      - {name: entity_id, in: query, schema: {type: string}}
      - {name: limit, in: query, schema: {type: integer, maximum: 500}}
    responses:
      200: {description: "{items}: newest first"}
      403: {description: Not allowed}
    """
    await auth.require(request, Role.ADMIN)
    query = audit.AuditQuery.model_validate(query_dict(request))
    entries = await audit.list_entries(query)
    return JSONResponse({"items": [e.model_dump(mode="json") for e in entries]})
