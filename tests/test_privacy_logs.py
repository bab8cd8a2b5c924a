"""No personal or secret data in the logs, even at DEBUG, over a full staff and resident flow."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from resourcemap import accounts
from resourcemap.logs import configure
from resourcemap.models import Organisation
from resourcemap.vocab import Role
from tests.factories import run_in_db, small_city

PASSWORD = "Secret-Pass-4711"
PHONE = "0755-29384756"
POSITION = ("22.70493", "114.00491")


def test_full_flow_leaves_no_personal_data_in_logs(
    database_url: str, make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    async def setup() -> None:
        await small_city()
        org = await Organisation.get(name_zh="测试区卫健局")
        await accounts.create_account(
            None, username="carer", password=PASSWORD, role=Role.STAFF, organisation_id=org.id
        )

    run_in_db(database_url, setup)
    configure("debug")  # what an operator chasing a problem would do
    caplog.set_level(logging.DEBUG)
    with make_client(database_url, search_follow_seconds=0) as client:
        wrong = client.post("/api/v1/session", json={"username": "carer", "password": "Nope-0000"})
        assert wrong.status_code == 403
        csrf = client.post(
            "/api/v1/session", json={"username": "carer", "password": PASSWORD}
        ).json()["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        created = client.post(
            "/api/v1/resources",
            json={
                "kind": "community_room",
                "name_zh": "新站",
                "lat": 22.705,
                "lon": 114.005,
                "community_code": "449901001001",
                "phone": PHONE,
            },
            headers=headers,
        )
        assert created.status_code == 201
        token = client.post("/api/v1/tokens", json={}, headers=headers).json()["token"]
        found = client.get(
            "/api/v1/search", params={"lat": POSITION[0], "lon": POSITION[1], "q": "新站"}
        )
        assert found.json()["total"] == 1
        client.get("/api/v1/resources/999999")  # an error path too
    logged = caplog.text
    assert caplog.records, "the flow should have logged something at DEBUG"
    for secret in (PASSWORD, "Nope-0000", token, PHONE, *POSITION, csrf):
        assert secret not in logged, f"{secret!r} reached the logs"
