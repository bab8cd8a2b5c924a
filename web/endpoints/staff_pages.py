"""Server-rendered staff pages: sign-in, the listings a person keeps, and the resource form.

Plain HTML forms that work without JavaScript; every unsafe request carries the session's
CSRF token as a hidden ``csrf_token`` field. Errors become pages here, never JSON: 401 sends
the browser to /login, 403 and 404 show a page saying why, and invalid input re-renders the
form with what was typed and a message next to each field.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.exceptions import IntegrityError
from tortoise.exceptions import ValidationError as StorageValidationError
from tortoise.expressions import Q

from resourcemap import accounts, areas, edits, organisations
from resourcemap.accounts import Principal
from resourcemap.dataset import synthetic_label
from resourcemap.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from resourcemap.hours import Interval, hhmm, minutes, validate
from resourcemap.models import Resource
from resourcemap.vocab import (
    AUDIENCE_LABELS,
    KIND_INFO,
    QUALIFICATION_LABELS,
    SERVICE_LABELS,
    Accessibility,
    AreaLevel,
    Mode,
    ResourceKind,
    Role,
    Status,
)
from web import auth

Endpoint = Callable[[Request], Awaitable[Response]]
LIST_LIMIT = 300
EXTRA_ROWS = 2  # blank exception/qualification rows offered below the filled ones
MAX_ROWS = 60

STATUS_LABELS = {
    Status.ACTIVE: ("开放", "active"),
    Status.SUSPENDED: ("暂停", "suspended"),
    Status.CLOSED: ("已关闭", "closed"),
}
MODE_LABELS = {
    Mode.IN_PERSON: ("到场", "in person"),
    Mode.ONLINE: ("线上", "online"),
    Mode.PHONE: ("电话", "phone"),
}
ACCESSIBILITY_LABELS = {
    Accessibility.WHEELCHAIR: ("轮椅可达", "wheelchair access"),
    Accessibility.ACCESSIBLE_TOILET: ("无障碍卫生间", "accessible toilet"),
    Accessibility.ELEVATOR: ("电梯", "elevator"),
    Accessibility.SIGN_LANGUAGE: ("手语", "sign language"),
    Accessibility.BRAILLE: ("盲文", "braille"),
    Accessibility.HEARING_LOOP: ("助听环路", "hearing loop"),
}
ROLE_LABELS = {Role.ADMIN: "管理员", Role.STAFF: "工作人员", Role.PLANNER: "规划人员"}


class Message(NamedTuple):
    zh: str
    en: str


class StaleForm(Exception):
    """The form came without this session's CSRF token: old page, other tab, or other site."""


# Chinese first line for pydantic's error types; the English detail follows.
_ZH = {
    "missing": "必填",
    "string_too_short": "不能为空或太短",
    "string_too_long": "太长",
    "int_parsing": "请输入整数",
    "float_parsing": "请输入数字",
    "greater_than_equal": "超出允许范围",
    "less_than_equal": "超出允许范围",
    "enum": "请从列表中选择",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "请填写日期",
    "value_error": "格式不正确",
}


# --- responses shared by every page -------------------------------------------------------


def page(handler: Endpoint) -> Endpoint:
    """Turn sign-in and permission errors into a redirect or a friendly page."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Unauthenticated:
            target = request.url.path if request.method == "GET" else "/staff"
            if request.method == "GET" and request.url.query:
                target += "?" + request.url.query
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        except StaleForm as exc:
            return await _problem(request, 403, Message("页面已过期,请刷新后重试", str(exc)))
        except Forbidden as exc:
            return await _problem(request, 403, Message("没有权限", exc.reason))
        except NotFound as exc:
            return await _problem(request, 404, Message("找不到", exc.reason))

    return wrapped


async def _render(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    base = {
        "principal": getattr(request.state, "principal", None),
        "role_labels": ROLE_LABELS,
        "csrf_token": auth.csrf_token(request),
        "dataset_label": await synthetic_label(),
        "flash": request.session.pop("flash", None),
    }
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status
    )
    # Signed-in pages: never cached, never framed (the buttons change listings).
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


async def _problem(request: Request, status: int, message: Message) -> Response:
    return await _render(request, "staff/problem.html", {"message": message}, status)


async def _signed_in(request: Request, *roles: Role, form: FormData | None = None) -> Principal:
    try:
        # Without roles, require() raises Forbidden only for a wrong CSRF token.
        principal = await auth.require(request, form_csrf=None if form is None else _csrf(form))
    except Forbidden as exc:
        raise StaleForm(exc.reason) from None
    request.state.principal = principal  # so that a 403 page still shows who is signed in
    if roles:
        principal.require(*roles)
    return principal


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    # No one types a NUL; PostgreSQL refuses to store one.
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _csrf(form: FormData) -> str:
    # compare_digest refuses non-ASCII text with a TypeError: such a token is simply wrong.
    sent = _text(form, auth.CSRF_FIELD)
    return sent if sent.isascii() else "not-ascii"


def _safe_next(target: str, default: str = "/staff") -> str:
    """Only paths on this site: ``next`` must not send a signed-in person elsewhere."""
    parts = urlsplit(target)
    plain = all(c.isprintable() and not c.isspace() and c != "\\" for c in target)
    if target.startswith("/") and plain and not parts.scheme and not parts.netloc:
        return target
    return default


def _redirect(request: Request, to: str, flash: str | None = None) -> Response:
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(to, status_code=303)


# --- signing in and out -------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next", ""))
    # Someone already signed in sees who they are (and may sign in as someone else).
    request.state.principal = await auth.current_principal(request)
    return await _render(request, "staff/login.html", {"next": next_url, "username": ""})


async def login(request: Request) -> Response:
    form = await request.form()
    username = _text(form, "username").strip().lower()
    next_url = _safe_next(_text(form, "next"))
    context: dict[str, Any] = {"next": next_url, "username": username}
    # Login CSRF: the token was put in the anonymous session when the form was shown.
    expected = request.session.get("csrf")
    sent = _csrf(form)
    if not isinstance(expected, str) or not secrets.compare_digest(sent, expected):
        error = Message("页面已过期,请重新登录", "the form expired; please sign in again")
        return await _render(request, "staff/login.html", {**context, "error": error}, 403)
    if not username or not _text(form, "password"):
        error = Message("请填写用户名和密码", "username and password are required")
        return await _render(request, "staff/login.html", {**context, "error": error}, 400)
    try:
        limiter: auth.RateLimiter = request.app.state.login_limiter
        limiter.hit(request.client.host if request.client else "unknown")
        principal = await accounts.authenticate(
            username, _text(form, "password"), now=dt.datetime.now(dt.UTC)
        )
    except TooManyRequests as exc:
        error = Message("尝试过于频繁,请稍后再试", exc.reason)
        return await _render(request, "staff/login.html", {**context, "error": error}, 429)
    except Forbidden as exc:
        # The domain words the two cases differently; it has no separate error class.
        locked = exc.reason.startswith("too many")
        zh = "登录失败次数过多,账户已暂时锁定" if locked else "用户名或密码错误"
        error = Message(zh, exc.reason)
        return await _render(request, "staff/login.html", {**context, "error": error}, 403)
    auth.start_session(request, principal)
    return _redirect(request, next_url)


async def logout(request: Request) -> Response:
    form = await request.form()
    try:
        principal = await auth.current_principal(request, form_csrf=_csrf(form))
    except Forbidden as exc:
        return await _problem(request, 403, Message("无法退出,请刷新页面后重试", exc.reason))
    auth.end_session(request)
    flash = "已退出 / signed out" if principal is not None else None
    return _redirect(request, "/login", flash)


# --- the listings a person keeps ----------------------------------------------------------


async def _kept_resources(
    organisation: int | None, unowned: bool, text: str
) -> tuple[list[Resource], int]:
    # A read the domain's listings module does not offer yet (every status, by owner).
    qs = Resource.all()
    if unowned:
        qs = qs.filter(organisation_id__isnull=True)
    elif organisation is not None:
        qs = qs.filter(organisation_id=organisation)
    if text:
        qs = qs.filter(
            Q(name_zh__icontains=text) | Q(name_en__icontains=text) | Q(address_zh__icontains=text)
        )
    return await qs.order_by("name_zh", "id").limit(LIST_LIMIT), await qs.count()


def _local(value: dt.datetime | None, request: Request) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(request.app.state.settings.tz).strftime("%Y-%m-%d %H:%M")


@page
async def staff_home(request: Request) -> Response:
    principal = await _signed_in(request, Role.ADMIN, Role.STAFF)
    text = request.query_params.get("q", "").strip()[:100]
    org_param = request.query_params.get("org", "")
    orgs = await organisations.list_organisations()
    org_names = {o["id"]: o["name_zh"] for o in orgs}
    if principal.role is Role.STAFF:
        rows, total = await _kept_resources(principal.organisation_id, False, text)
    else:
        org_id = int(org_param) if org_param.isdigit() and int(org_param) in org_names else None
        org_param = "0" if org_param == "0" else ("" if org_id is None else str(org_id))
        rows, total = await _kept_resources(org_id, org_param == "0", text)
    items = [
        {
            "id": r.id,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "kind": KIND_INFO[r.kind],
            "status": Status(r.status),
            "status_label": STATUS_LABELS[Status(r.status)],
            "verified_at": _local(r.verified_at, request),
            "organisation": org_names.get(r.organisation_id, ""),  # type: ignore[attr-defined]
        }
        for r in rows
    ]
    back = request.url.path + ("?" + request.url.query if request.url.query else "")
    return await _render(
        request,
        "staff/list.html",
        {
            "items": items,
            "total": total,
            "limit": LIST_LIMIT,
            "q": text,
            "org": org_param,
            "orgs": orgs,
            "own_org": org_names.get(principal.organisation_id or -1, ""),
            "back": back,
        },
    )


@page
async def change_status(request: Request) -> Response:
    form = await request.form()
    principal = await _signed_in(request, Role.ADMIN, Role.STAFF, form=form)
    try:
        status = Status(_text(form, "status"))
    except ValueError:
        return await _problem(request, 400, Message("未知状态", "unknown status"))
    resource = await edits.set_status(principal, request.path_params["id"], status)
    zh, en = STATUS_LABELS[status]
    flash = f"「{resource.name_zh}」已设为{zh} / status set to {en}"
    return _redirect(request, _safe_next(_text(form, "back")), flash)


# --- the resource form --------------------------------------------------------------------

SCALARS = (
    "external_id", "organisation_id", "kind", "name_zh", "name_en", "description_zh",
    "description_en", "accessibility_note", "fee", "fee_note", "phone", "email", "website",
    "capacity", "status", "lat", "lon", "address_zh", "address_en", "community_code",
)  # fmt: skip
CHOICES = ("services", "audiences", "modes", "accessibility", "service_area_codes")
EXCEPTION_FIELDS = ("start_date", "end_date", "opens", "closes", "note")
QUALIFICATION_FIELDS = ("type", "certificate_number", "issuer", "issued_on", "verified_on")
HOURS_PART = re.compile(r"^(\d{1,2}:\d{2})\s*[-–—~～至]\s*(\d{1,2}:\d{2})$")


def _values_from_input(data: edits.ResourceIn) -> dict[str, Any]:
    """What the form shows for a stored resource: strings, lists of strings, rows."""
    plain = data.model_dump(mode="json")
    values: dict[str, Any] = {k: "" if plain[k] is None else str(plain[k]) for k in SCALARS}
    values.update({k: list(plain[k]) for k in CHOICES})
    values["languages"] = ", ".join(data.languages)
    values["always_open"] = data.always_open
    days: list[list[str]] = [[] for _ in range(7)]
    for h in data.hours:
        days[h.weekday].append(f"{h.opens}-{h.closes}")
    values["hours"] = [", ".join(d) for d in days]
    values["exceptions"] = [
        {**{k: "" if e[k] is None else str(e[k]) for k in EXCEPTION_FIELDS}, "closed": e["closed"]}
        for e in plain["exceptions"]
    ]
    values["qualifications"] = [
        {k: "" if q[k] is None else str(q[k]) for k in QUALIFICATION_FIELDS}
        for q in plain["qualifications"]
    ]
    return values


def _rows(form: FormData, prefix: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS):
        if not any(f"{prefix}-{i}-{f}" in form for f in fields):
            break
        rows.append({f: _text(form, f"{prefix}-{i}-{f}").strip() for f in fields})
    return rows


def _values_from_form(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: _text(form, k).strip() for k in SCALARS}
    values.update({k: [v for v in form.getlist(k) if isinstance(v, str) and v] for k in CHOICES})
    values["languages"] = _text(form, "languages").strip()
    values["always_open"] = "always_open" in form
    values["hours"] = [_text(form, f"hours_{d}").strip() for d in range(7)]
    exceptions = _rows(form, "exc", EXCEPTION_FIELDS)
    for i, row in enumerate(exceptions):
        row["closed"] = f"exc-{i}-closed" in form
    values["exceptions"] = exceptions
    values["qualifications"] = _rows(form, "q", QUALIFICATION_FIELDS)
    return values


def _blank(row: dict[str, Any]) -> bool:
    return not any(v for k, v in row.items() if k != "closed")


def _parse_day(weekday: int, line: str) -> tuple[list[dict[str, Any]], Message | None]:
    """``"09:00-12:00, 14:00-17:30"`` → HoursIn entries, or why not."""
    parts = [p.strip() for p in re.split(r"[,，、;；]", line) if p.strip()]
    entries, intervals = [], []
    for part in parts:
        match = HOURS_PART.match(part)
        if match is None:
            return [], Message(f"「{part}」格式应为 09:00-12:00", f"{part!r} is not HH:MM-HH:MM")
        try:
            opens, closes = minutes(match[1]), minutes(match[2])
        except InvalidInput as exc:
            return [], Message("时间不正确", exc.reason)
        entries.append({"weekday": weekday, "opens": hhmm(opens), "closes": hhmm(closes)})
        intervals.append(Interval(weekday, opens, closes))
    try:
        validate(intervals)
    except InvalidInput as exc:
        return [], Message("时段不正确(开始须早于结束,且不能重叠)", exc.reason)
    return entries, None


class Payload(NamedTuple):
    data: dict[str, Any]
    errors: dict[str, Message]
    exception_rows: list[int]  # form row of each submitted exception
    qualification_rows: list[int]


def _payload(values: dict[str, Any]) -> Payload:
    """The form's values as ``ResourceIn`` input; empty optional fields become ``None``."""
    errors: dict[str, Message] = {}
    data: dict[str, Any] = {k: values[k] for k in SCALARS}
    data.update({k: values[k] for k in CHOICES}, always_open=values["always_open"])
    for key in ("external_id", "organisation_id", "lat", "lon"):
        data[key] = data[key] or None
    data["languages"] = [c for c in re.split(r"[\s,，、;；]+", values["languages"]) if c]
    data["hours"] = []
    for day, line in enumerate(values["hours"]):
        entries, problem = _parse_day(day, line)
        data["hours"] += entries
        if problem is not None:
            errors[f"hours_{day}"] = problem
    exc_rows = [i for i, row in enumerate(values["exceptions"]) if not _blank(row)]
    data["exceptions"] = []
    for i in exc_rows:
        row = values["exceptions"][i]
        for key in ("opens", "closes"):
            if row[key]:
                try:
                    minutes(row[key])
                except InvalidInput as exc:
                    errors[f"exc-{i}-{key}"] = Message("时间格式应为 HH:MM", exc.reason)
        data["exceptions"].append(
            {k: row[k] or None for k in ("start_date", "end_date", "opens", "closes")}
            | {"closed": row["closed"], "note": row["note"]}
        )
    q_rows = [i for i, row in enumerate(values["qualifications"]) if not _blank(row)]
    data["qualifications"] = [
        {k: row[k] for k in ("type", "certificate_number", "issuer")}
        | {"issued_on": row["issued_on"] or None, "verified_on": row["verified_on"] or None}
        for row in (values["qualifications"][i] for i in q_rows)
    ]
    return Payload(data, errors, exc_rows, q_rows)


def _field_of(loc: tuple[int | str, ...], msg: str, payload: Payload) -> str:
    """The form field a pydantic error belongs to."""
    if not loc:
        # Whole-model checks name the fields only in their message.
        if "service_area_codes" in msg:
            return "service_area_codes"
        return "location" if "lat" in msg else "_form"
    head = str(loc[0])
    if head in ("exceptions", "qualifications") and len(loc) > 1 and isinstance(loc[1], int):
        rows = payload.exception_rows if head == "exceptions" else payload.qualification_rows
        prefix = "exc" if head == "exceptions" else "q"
        row = rows[loc[1]]
        return f"{prefix}-{row}-{loc[2]}" if len(loc) > 2 else f"{prefix}-{row}"
    return head


def _field_errors(exc: ValidationError, payload: Payload) -> dict[str, Message]:
    errors: dict[str, Message] = {}
    for err in exc.errors(include_url=False, include_input=False):
        en = err["msg"].removeprefix("Value error, ")
        field = _field_of(tuple(err["loc"]), en, payload)
        errors.setdefault(field, Message(_ZH.get(err["type"], "请检查"), en))
    return errors


async def _choices() -> dict[str, Any]:
    """Areas and organisations the form offers."""
    features = (await areas.list_areas(areas.AreaQuery(geometry=False)))["features"]
    props = [f["properties"] for f in features]
    names = {p["code"]: p["name_zh"] for p in props}
    streets: dict[str, dict[str, Any]] = {}  # communities grouped under their street
    for p in props:
        if p["level"] == AreaLevel.COMMUNITY:
            street = streets.setdefault(
                p["parent"] or "", {"name": names.get(p["parent"], "—"), "communities": []}
            )
            street["communities"].append(p)
    served = sorted(
        ({**p, "depth": AreaLevel(p["level"]).depth} for p in props), key=lambda p: p["code"]
    )
    orgs = await organisations.list_organisations()
    return {
        "communities": streets,
        "service_areas": served,
        "org_options": [(o["id"], o["name_zh"]) for o in orgs],
    }


async def _form_page(
    request: Request,
    principal: Principal,
    values: dict[str, Any],
    resource_id: int | None,
    errors: dict[str, Message] | None = None,
) -> Response:
    values = {
        **values,
        "exceptions": [r for r in values["exceptions"] if not _blank(r)]
        + [dict.fromkeys(EXCEPTION_FIELDS, "") | {"closed": True}] * EXTRA_ROWS,
        "qualifications": [r for r in values["qualifications"] if not _blank(r)]
        + [dict.fromkeys(QUALIFICATION_FIELDS, "")] * EXTRA_ROWS,
    }
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
        "weekdays": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
        "weekdays_en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        **await _choices(),
    }
    return await _render(request, "staff/form.html", context, 400 if errors else 200)


async def _check_editable(principal: Principal, resource_id: int) -> edits.ResourceIn:
    current = await edits.current_input(resource_id)
    if not principal.may_edit_listings_of(current.organisation_id):
        raise Forbidden("staff may only edit their own organisation's listings")
    return current


@page
async def new_resource(request: Request) -> Response:
    principal = await _signed_in(request, Role.ADMIN, Role.STAFF)
    # Defaults of the input model; kind and name are left for the person to choose.
    blank = edits.ResourceIn.model_construct(kind=ResourceKind.COMMUNITY_ROOM, name_zh="")
    values = _values_from_input(blank) | {"kind": ""}
    if principal.role is Role.STAFF:
        values["organisation_id"] = str(principal.organisation_id)
    return await _form_page(request, principal, values, None)


@page
async def edit_resource(request: Request) -> Response:
    principal = await _signed_in(request, Role.ADMIN, Role.STAFF)
    resource_id = request.path_params["id"]
    current = await _check_editable(principal, resource_id)
    return await _form_page(request, principal, _values_from_input(current), resource_id)


@page
async def save_resource(request: Request) -> Response:
    form = await request.form()
    principal = await _signed_in(request, Role.ADMIN, Role.STAFF, form=form)
    resource_id: int | None = request.path_params.get("id")
    if resource_id is not None:
        await _check_editable(principal, resource_id)
    values = _values_from_form(form)
    if principal.role is Role.STAFF:
        values["organisation_id"] = str(principal.organisation_id)
    payload = _payload(values)
    errors = dict(payload.errors)
    try:
        data = edits.ResourceIn.model_validate(payload.data)
    except ValidationError as exc:
        errors = _field_errors(exc, payload) | errors
    if errors:
        return await _form_page(request, principal, values, resource_id, errors)
    try:
        resource = await edits.save_resource(principal, data, resource_id=resource_id)
    except (InvalidInput, Conflict) as exc:
        field = exc.field or "_form"
        errors = {field: Message("请检查", exc.reason)}
        return await _form_page(request, principal, values, resource_id, errors)
    except IntegrityError:
        # The only unique column a resource has; the domain does not check it first.
        errors = {"external_id": Message("外部编号已被使用", "this external id is taken")}
        return await _form_page(request, principal, values, resource_id, errors)
    except StorageValidationError as exc:
        errors = {"_form": Message("有内容无法保存", str(exc))}
        return await _form_page(request, principal, values, resource_id, errors)
    flash = f"已保存「{resource.name_zh}」/ saved"
    return _redirect(request, "/staff", flash)
