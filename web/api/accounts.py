"""Sessions, accounts, API tokens and the audit log, over JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resourcemap import accounts, audit
from resourcemap.errors import InvalidInput
from resourcemap.vocab import MAX_ID, Role
from web import auth, clock
from web.params import json_body, query_dict


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
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [username, password]
            properties: {username: {type: string}, password: {type: string}}
    responses:
      200: {description: "{username, role, csrf_token}"}
      403: {description: "Wrong username or password, or account locked"}
      429: {description: Too many attempts from this address}
    """
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInput("username and password are required", field="username")
    limiter: auth.RateLimiter = request.app.state.login_limiter
    limiter.hit(request.client.host if request.client else "unknown")
    principal = await accounts.authenticate(username, password, now=clock.now(request))
    token = auth.start_session(request, principal)
    return JSONResponse(
        {"username": principal.username, "role": principal.role, "csrf_token": token}
    )


async def logout(request: Request) -> Response:
    """
    summary: Sign out
    responses:
      204: {description: Signed out}
    """
    auth.end_session(request)
    return Response(status_code=204)


async def whoami(request: Request) -> Response:
    """
    summary: The signed-in account
    responses:
      200: {description: "{username, role, organisation_id, csrf_token}"}
      401: {description: Not signed in}
    """
    principal = await auth.require(request)
    return JSONResponse(
        {
            "id": principal.id,
            "username": principal.username,
            "role": principal.role,
            "organisation_id": principal.organisation_id,
            "csrf_token": auth.csrf_token(request),
        }
    )


async def create_account(request: Request) -> Response:
    """
    summary: Create an account (admin)
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [username, password, role]
            properties:
              username: {type: string}
              password: {type: string}
              role: {type: string, enum: [admin, staff, planner]}
              organisation_id: {type: integer}
              display_name: {type: string}
    responses:
      201: {description: The account (never its password)}
      400: {description: Invalid field}
      403: {description: Not allowed}
      409: {description: Username taken}
    """
    principal = await auth.require(request, Role.ADMIN)
    body = await json_body(request)
    try:
        role = Role(str(body.get("role")))
    except ValueError:
        raise InvalidInput("role must be admin, staff or planner", field="role") from None
    account = await accounts.create_account(
        principal,
        username=str(body.get("username", "")),
        password=str(body.get("password", "")),
        role=role,
        organisation_id=_id(body.get("organisation_id"), "organisation_id"),
        display_name=str(body.get("display_name", "")),
    )
    return JSONResponse(accounts.account_view(account), status_code=201)


async def reset_password(request: Request) -> Response:
    """
    summary: Set a new password for an account (admin); its sessions end
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, properties: {password: {type: string}}}
    responses:
      204: {description: Done}
      400: {description: Weak password}
      403: {description: Not allowed}
      404: {description: No such account}
    """
    principal = await auth.require(request, Role.ADMIN)
    body = await json_body(request)
    await accounts.reset_password(
        principal, request.path_params["id"], str(body.get("password", ""))
    )
    return Response(status_code=204)


async def create_token(request: Request) -> Response:
    """
    summary: Issue an API token for scripts
    description: For yourself, or (admins) for another account with `account_id`.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties: {name: {type: string}, account_id: {type: integer}}
    responses:
      201: {description: "{token}: shown once"}
      403: {description: Not allowed}
    """
    principal = await auth.require(request)
    body = await json_body(request)
    account_id = _id(body.get("account_id"), "account_id") or principal.id
    if account_id is None:
        raise InvalidInput("account_id is required", field="account_id")
    token = await accounts.issue_token(principal, account_id, str(body.get("name", "")))
    return JSONResponse({"token": token}, status_code=201)


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
    return JSONResponse({"items": await audit.list_entries(query)})
