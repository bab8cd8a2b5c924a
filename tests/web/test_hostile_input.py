"""Hostile input on every JSON route (#16): wrong JSON types, huge numbers, NUL bytes,
impossible and far-off dates, coordinates off the globe and unknown enum values, in every
body field and query parameter the OpenAPI document lists, on SQLite and PostgreSQL. No
answer is a 5xx, and a 400 names the field or parameter that was wrong."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from resourcemap import accounts, tokens
from resourcemap.vocab import Role
from tests.booking_helpers import bookable_city
from tests.conftest import TEST_NOW
from tests.factories import run_in_db
from tests.web.api.test_staff import room_payload

BODY_VALUES: list[Any] = [
    [],
    {"x": 1},
    True,
    10**40,
    -(10**40),
    1e308,
    "\x00",
    "名\x00字",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+00:00",
    "2026-13-45T25:61:00+08:00",
    "no-such-value",
    "",
    None,
]
QUERY_VALUES = [
    "\x00",
    "a\x00b",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "-1",
    "99999999999999999999999",
    "1e309",
    "nan",
    "-inf",
    "91,181,-91,-181",
    "no-such-value",
]
# Coordinates off the globe, where a route takes them.
COORDINATES = {"lat": ["90.0001", "-1e300", "nan"], "lon": ["180.5", "1e300", "inf"]}
# Query parameters a route needs: given, so that a 400 can only be about the hostile one.
BASE_QUERY = {
    "/api/v1/nearest": {"lat": "22.7", "lon": "114.0"},
    "/api/v1/exports": {"format": "csv"},
    "/api/v1/referral-candidates": {"from": "{room}", "need": "anxiety"},
}
SKIP = {("POST", "/api/v1/imports"), ("DELETE", "/api/v1/session")}  # multipart; signs out


def _world() -> Any:
    async def make() -> dict[str, Any]:
        ids = await bookable_city(min_notice_minutes=0, seats=50)
        admin = await accounts.create_account(
            None, username="sweeper", password="correct-horse-9", role=Role.ADMIN
        )
        issued = await tokens.issue(None, admin.id, name="sweep", now=TEST_NOW)
        return {**ids, "token": issued.token}

    return make


def _path(path: str, ids: dict[str, Any]) -> str:
    path = path.replace("/api/v1/accounts/{id}", "/api/v1/accounts/999999")
    path = path.replace("/api/v1/areas/{code}", "/api/v1/areas/449901001001")
    return path.replace("{id}", str(ids["room"])).replace("{code}", "12345678")


def _schema(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    if "$ref" in schema:
        found: dict[str, Any] = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return found
    if not schema.get("properties"):  # PATCH of a listing: any field of ResourceIn
        resource: dict[str, Any] = doc["components"]["schemas"]["ResourceIn"]
        return resource
    return dict(schema)


# Fields checked together: an answer naming either is about the pair.
PAIRS = {"starts_at": {"ends_at"}, "ends_at": {"starts_at"}}


def _names(answer: Any, name: str) -> bool:
    body = answer.json()
    fields = body.get("fields") or {}
    wanted = {name, *PAIRS.get(name, set())}
    named = any(re.split(r"[.\[]", key)[0] in wanted for key in fields)
    return named or re.search(rf"\b{re.escape(name)}\b", body.get("reason", "")) is not None


def _base_bodies(client: TestClient, ids: dict[str, Any], headers: dict[str, str]) -> Any:
    slots = client.get(f"/api/v1/resources/{ids['room']}/slots?days=7").json()["slots"]
    start = slots[-1]["starts_at"]
    return {
        "ResourceIn": room_payload(),
        "OrganisationIn": {"name_zh": "机构", "type": "ngo"},
        "BookingIn": {"resource_id": ids["room"], "starts_at": start},
        # Joining the waitlist needs a way to be told; staff book callers and visitors.
        "/api/v1/waitlist": {
            "resource_id": ids["room"],
            "starts_at": start,
            "phone": "13812345678",
        },
        "/api/v1/staff/bookings": {
            "resource_id": ids["room"],
            "starts_at": start,
            "channel": "phone",
        },
        "RescheduleIn": {"starts_at": start},
        "CancelIn": {"reason": "ill"},
        "PolicyIn": client.get(
            f"/api/v1/resources/{ids['room']}/booking-policy", headers=headers
        ).json(),
        "BlockIn": {"starts_at": start, "ends_at": slots[-1]["ends_at"]},
    }


def test_no_hostile_value_makes_a_server_error(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, _world())
    # An admin's token, and a booking token for the holder's routes (no such booking: 404).
    headers = {"Authorization": f"Bearer {ids['token']}", "X-Booking-Token": "x" * 32}
    failures: list[str] = []
    with make_client(database_url, run_worker=False) as client:
        doc = client.get("/openapi.json").json()
        bases = _base_bodies(client, ids, headers)
        for spec_path, item in doc["paths"].items():
            for method, operation in item.items():
                if (method.upper(), spec_path) in SKIP:
                    continue
                path = _path(spec_path, ids)
                schema = _schema(doc, operation)
                if schema is not None:
                    name = operation["requestBody"]["content"]["application/json"]["schema"]
                    base = bases.get(spec_path) or bases.get(
                        str(name.get("$ref", "")).rsplit("/", 1)[-1]
                    )
                    if spec_path.endswith("{id}") and method == "patch":
                        base = {}
                    for field in schema.get("properties", {}):
                        for value in BODY_VALUES:
                            body = {**(base or {}), field: value}
                            answer = client.request(method, path, json=body, headers=headers)
                            if answer.status_code >= 500:
                                failures.append(f"{method} {path} {field}={value!r}: 5xx")
                            elif (
                                answer.status_code == 400
                                and base is not None
                                and not _names(answer, field)
                            ):
                                failures.append(
                                    f"{method} {path} {field}={value!r}: 400 not naming it: "
                                    f"{answer.text[:160]}"
                                )
                params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                for param in params:
                    for value in [*QUERY_VALUES, *COORDINATES.get(param, [])]:
                        base_query = {
                            k: v.format(**ids) for k, v in BASE_QUERY.get(spec_path, {}).items()
                        }
                        query = {**base_query, param: value}
                        answer = client.request(method, path, params=query, headers=headers)
                        if answer.status_code >= 500:
                            failures.append(f"{method} {path}?{param}={value!r}: 5xx")
                        elif answer.status_code == 400 and not _names(answer, param):
                            failures.append(
                                f"{method} {path}?{param}={value!r}: 400 not naming it: "
                                f"{answer.text[:160]}"
                            )
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures[:60])


@pytest.mark.parametrize(
    "body",
    [
        '{"resource_id": 1, "starts_at": "2026-12-02T10:00:00+08:00", "phone": "\\u0000"}',
        '{"resource_id": 1e400}',
        '{"resource_id": NaN}',
        "[" * 5000 + "]" * 5000,
    ],
)
def test_malformed_json_bodies_are_a_400(
    database_url: str, make_client: Callable[..., Any], body: str
) -> None:
    with make_client(database_url, run_worker=False) as client:
        answer = client.post(
            "/api/v1/bookings", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["reason"]
