"""No personal or secret data in the logs, even at DEBUG, over a full staff and resident flow."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from resourcemap import accounts
from resourcemap.booking.dispatch import Dispatcher
from resourcemap.logs import configure
from resourcemap.models import BookingPolicy, Organisation
from resourcemap.vocab import Role
from tests.conftest import TEST_NOW, make_settings
from tests.factories import run_in_db, small_city

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

PASSWORD = "Secret-Pass-4711"
PHONE = "0755-29384756"
POSITION = ("22.70493", "114.00491")
RESIDENT_PHONE = "13987654321"
RESIDENT_EMAIL = "xiaoli@example.cn"
NICKNAME = "独一无二的昵称"
NOTE = "最近总是失眠想找人聊聊"


def test_full_flow_leaves_no_personal_data_in_logs(
    database_url: str, make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    async def setup() -> None:
        ids = await small_city()
        await BookingPolicy.create(resource_id=ids["room"], min_notice_minutes=0, seats=2)
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

        # A resident books with every contact detail, then staff list and reveal it.
        room = client.get("/api/v1/resources?kind=community_room").json()["items"][0]["id"]
        start = next(
            s["starts_at"]
            for s in client.get(f"/api/v1/resources/{room}/slots?days=14").json()["slots"]
            if s["remaining"]
        )
        contact = {"phone": RESIDENT_PHONE, "email": RESIDENT_EMAIL, "nickname": NICKNAME}
        booked = client.post(
            "/api/v1/bookings",
            json={"resource_id": room, "starts_at": start, "note": NOTE, **contact},
            headers={"Idempotency-Key": "privacy-flow-1"},
        )
        assert booked.status_code == 201, booked.text
        code, manage = booked.json()["code"], booked.json()["token"]
        bad = client.post(
            "/api/v1/bookings",
            json={"resource_id": room, "starts_at": start, "phone": "x" + RESIDENT_PHONE},
        )
        assert bad.status_code == 400
        listed = client.get(f"/api/v1/staff/bookings?from={start[:10]}", headers=headers)
        booking_id = listed.json()["items"][0]["id"]
        shown = client.post(f"/api/v1/staff/bookings/{booking_id}/reveal", headers=headers)
        assert shown.json()["phone"] == RESIDENT_PHONE
        # Nothing of the booking reaches the search index. (The note names a concern, 失眠,
        # so searching for it finds services for sleep problems: none may carry the note.)
        for private in (RESIDENT_PHONE, NICKNAME, NOTE):
            items = client.get("/api/v1/search", params={"q": private}).json()["items"]
            assert not any(private in json.dumps(i, ensure_ascii=False) for i in items)
        assert client.get("/api/v1/search", params={"q": NICKNAME}).json()["total"] == 0
        client.post(f"/api/v1/bookings/{code}/cancel", headers={"X-Booking-Token": manage})
    # The worker ran at start-up; run a dispatch round now that messages are queued.
    run_in_db(
        database_url,
        lambda: Dispatcher(make_settings(database_url)).dispatch(TEST_NOW),
    )
    logged = caplog.text
    assert caplog.records, "the flow should have logged something at DEBUG"
    assert "139****4321" in logged, "the log sender should have sent the masked messages"
    for secret in (
        PASSWORD,
        "Nope-0000",
        token,
        PHONE,
        *POSITION,
        csrf,
        RESIDENT_PHONE,
        RESIDENT_EMAIL,
        NICKNAME,
        NOTE,
        manage,
    ):
        assert secret not in logged, f"{secret!r} reached the logs"
