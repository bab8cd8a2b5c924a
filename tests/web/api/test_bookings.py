"""The booking API as residents, staff and planners use it, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from icalendar import Calendar
from starlette.testclient import TestClient

from resourcemap import accounts, tokens
from resourcemap.models import BookingPolicy, Organisation
from resourcemap.vocab import Role
from tests.conftest import TEST_NOW
from tests.factories import run_in_db, small_city

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

PASSWORD = "correct-horse-9"


async def _world() -> dict[str, Any]:
    ids: dict[str, Any] = await small_city()
    await BookingPolicy.create(
        resource_id=ids["room"],
        slot_minutes=50,
        buffer_minutes=10,
        seats=2,
        min_notice_minutes=60,
        horizon_days=30,
        change_notice_minutes=60,
    )
    own = await Organisation.get(name_zh="测试区卫健局")
    other = await Organisation.create(name_zh="别家机构", type="ngo")
    people = {
        "admin": (Role.ADMIN, None),
        "staff": (Role.STAFF, own.id),
        "other": (Role.STAFF, other.id),
        "planner": (Role.PLANNER, None),
    }
    for name, (role, org) in people.items():
        account = await accounts.create_account(
            None, username=name, password=PASSWORD, role=role, organisation_id=org
        )
        ids[f"token_{name}"] = (await tokens.issue(None, account.id, now=TEST_NOW)).token
    return ids


@pytest.fixture
def world(database_url: str) -> dict[str, Any]:
    ids: dict[str, Any] = run_in_db(database_url, _world)
    return ids


@pytest.fixture
def client(
    database_url: str, world: dict[str, Any], make_client: Callable[..., Any]
) -> Iterator[TestClient]:
    with make_client(database_url, run_worker=False) as c:
        yield c


def bearer(world: dict[str, Any], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world[f'token_{who}']}"}


def free_slots(client: TestClient, resource_id: int, days: int = 14) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/resources/{resource_id}/slots?days={days}")
    assert response.status_code == 200, response.text
    return [s for s in response.json()["slots"] if s["remaining"] > 0]


def book(client: TestClient, resource_id: int, starts_at: str, **fields: Any) -> Any:
    return client.post(
        "/api/v1/bookings", json={"resource_id": resource_id, "starts_at": starts_at, **fields}
    )


def test_resident_books_gets_calendar_reschedules_and_cancels(
    client: TestClient, world: dict[str, Any]
) -> None:
    room = world["room"]
    slots = free_slots(client, room)
    assert slots and all(s["starts_at"].endswith("+08:00") for s in slots)
    assert all(s["remaining"] == 2 for s in slots)
    first, second = slots[0]["starts_at"], slots[1]["starts_at"]

    made = book(client, room, first, nickname="小李", phone="13812345678")
    assert made.status_code == 201, made.text
    body = made.json()
    code, token = body["code"], body["token"]
    assert body["booking"]["status"] == "confirmed"
    assert body["booking"]["starts_at"] == first
    assert body["manage_url"].endswith(f"/bookings/{code}?token={token}")

    mine = client.get(f"/api/v1/bookings/{code}", headers={"X-Booking-Token": token})
    assert mine.status_code == 200 and mine.json()["phone"] == "13812345678"
    # The answer to the booking (built from what was written) is what reading it back says.
    assert body["booking"] == mine.json()
    assert (
        client.get(f"/api/v1/bookings/{code}", headers={"X-Booking-Token": "nope"}).status_code
        == 404
    )
    assert client.get(f"/api/v1/bookings/{code}").status_code == 400
    left = {s["starts_at"]: s["remaining"] for s in free_slots(client, room)}
    assert left[first] == 1

    ics = client.get(f"/api/v1/bookings/{code}.ics?token={token}")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert ics.headers["cache-control"] == "no-store"
    event = next(iter(Calendar.from_ical(ics.content).walk("VEVENT")))
    uid = str(event["uid"])
    assert event.decoded("dtstart") == dt.datetime.fromisoformat(first)

    moved = client.post(
        f"/api/v1/bookings/{code}/reschedule",
        json={"starts_at": second},
        headers={"X-Booking-Token": token},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == second
    event = next(
        iter(
            Calendar.from_ical(
                client.get(f"/api/v1/bookings/{code}.ics?token={token}").content
            ).walk("VEVENT")
        )
    )
    assert str(event["uid"]) == uid  # the same calendar entry, moved
    assert event.decoded("dtstart") == dt.datetime.fromisoformat(second)
    left = {s["starts_at"]: s["remaining"] for s in free_slots(client, room)}
    assert (left[first], left[second]) == (2, 1)

    cancelled = client.post(f"/api/v1/bookings/{code}/cancel", headers={"X-Booking-Token": token})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    left = {s["starts_at"]: s["remaining"] for s in free_slots(client, room)}
    assert left[second] == 2


def test_idempotency_key_and_clear_errors(client: TestClient, world: dict[str, Any]) -> None:
    room = world["room"]
    start = free_slots(client, room)[0]["starts_at"]
    payload = {"resource_id": room, "starts_at": start}
    first = client.post("/api/v1/bookings", json=payload, headers={"Idempotency-Key": "abc-1"})
    again = client.post("/api/v1/bookings", json=payload, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(
        "/api/v1/bookings", json={**payload, "nickname": "x"}, headers={"Idempotency-Key": "abc-1"}
    )
    assert other.status_code == 400 and "Idempotency-Key" in other.json()["fields"]

    assert book(client, room, start).status_code == 201  # second seat
    full = book(client, room, start)
    assert full.status_code == 409 and "full" in full.json()["reason"]

    bad = book(client, room, start.replace("+08:00", ""), phone="12")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"starts_at", "phone"}
    assert book(client, world["clinic"], start).status_code == 409
    assert book(client, 999_999, start).status_code == 404
    assert client.get(f"/api/v1/resources/{world['clinic']}/slots").status_code == 409
    assert client.get(f"/api/v1/resources/{room}/slots?days=500").status_code == 400
    assert client.get(f"/api/v1/resources/{room}/slots?from=soon").status_code == 400
    staff_channel = book(client, room, free_slots(client, room)[0]["starts_at"], channel="phone")
    assert staff_channel.status_code == 400


def test_waitlist_through_the_api(client: TestClient, world: dict[str, Any]) -> None:
    room = world["room"]
    start = free_slots(client, room)[0]["starts_at"]
    held = [book(client, room, start).json() for _ in range(2)]
    joined = client.post(
        "/api/v1/waitlist", json={"resource_id": room, "starts_at": start, "phone": "13900000000"}
    )
    assert joined.status_code == 201, joined.text
    wl = joined.json()
    assert wl["entry"]["position"] == 1 and wl["entry"]["status"] == "waiting"
    headers = {"X-Booking-Token": wl["token"]}
    client.post(
        f"/api/v1/bookings/{held[0]['code']}/cancel", headers={"X-Booking-Token": held[0]["token"]}
    )
    entry = client.get(f"/api/v1/waitlist/{wl['code']}", headers=headers).json()
    assert entry["status"] == "offered" and entry["offer"]["expires_at"]
    assert book(client, room, start).status_code == 409  # the seat is held for the offer
    accepted = client.post(f"/api/v1/waitlist/{wl['code']}/accept", headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["booking"]["status"] == "confirmed"
    assert accepted.json()["booking"]["phone"] == "13900000000"


def test_staff_manage_their_own_bookings_with_masked_contacts(
    client: TestClient, world: dict[str, Any]
) -> None:
    room = world["room"]
    start = free_slots(client, room)[0]["starts_at"]
    made = book(client, room, start, nickname="王小明", phone="13812345678", note="怕见人").json()
    day = start[:10]

    listed = client.get(f"/api/v1/staff/bookings?from={day}", headers=bearer(world, "staff"))
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item["phone"] == "138****5678" and item["nickname"] == "王**"
    assert "13812345678" not in listed.text and "怕见人" not in listed.text
    assert (
        client.get(f"/api/v1/staff/bookings?from={day}", headers=bearer(world, "other")).json()[
            "items"
        ]
        == []
    )
    assert client.get("/api/v1/staff/bookings").status_code == 401
    assert client.get("/api/v1/staff/bookings", headers=bearer(world, "planner")).status_code == 403

    assert (
        client.post(
            f"/api/v1/staff/bookings/{item['id']}/reveal", headers=bearer(world, "other")
        ).status_code
        == 404
    )
    shown = client.post(
        f"/api/v1/staff/bookings/{item['id']}/reveal", headers=bearer(world, "staff")
    )
    assert shown.json()["phone"] == "13812345678" and shown.json()["note"] == "怕见人"

    stats = client.get(f"/api/v1/booking-stats?from={day}&days=1", headers=bearer(world, "planner"))
    assert stats.status_code == 200
    assert stats.json()["total"] == 1
    assert "13812345678" not in stats.text and "code" not in stats.text

    cancelled = client.post(
        f"/api/v1/staff/bookings/{item['id']}/cancel",
        json={"reason": "咨询师病假"},
        headers=bearer(world, "staff"),
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    resident_view = client.get(
        f"/api/v1/bookings/{made['code']}", headers={"X-Booking-Token": made["token"]}
    )
    assert resident_view.json()["cancel_reason"] == "咨询师病假"
    audit = client.get(
        f"/api/v1/audit?entity=booking&entity_id={item['id']}", headers=bearer(world, "admin")
    )
    reveals = [e for e in audit.json()["items"] if e["action"] == "reveal_contact"]
    assert [e["actor"] for e in reveals] == ["staff"]
    assert "13812345678" not in audit.text and "怕见人" not in audit.text


def test_staff_book_callers_block_time_and_set_rules(
    client: TestClient, world: dict[str, Any]
) -> None:
    room = world["room"]
    staff = bearer(world, "staff")
    start = free_slots(client, room)[0]["starts_at"]
    phoned = client.post(
        "/api/v1/staff/bookings",
        json={"resource_id": room, "starts_at": start, "channel": "phone", "phone": "13700000000"},
        headers=staff,
    )
    assert phoned.status_code == 201, phoned.text
    assert phoned.json()["booking"]["channel"] == "phone"
    assert phoned.json()["booking"]["phone"] == "137****0000"
    refused = client.post(
        "/api/v1/staff/bookings",
        json={"resource_id": room, "starts_at": start, "channel": "phone"},
        headers=bearer(world, "other"),
    )
    assert refused.status_code == 404

    second = free_slots(client, room)[1]
    block = client.post(
        f"/api/v1/resources/{room}/blocks",
        json={"starts_at": second["starts_at"], "ends_at": second["ends_at"], "reason": "督导"},
        headers=staff,
    )
    assert block.status_code == 201
    assert second["starts_at"] not in {s["starts_at"] for s in free_slots(client, room)}
    assert client.delete(f"/api/v1/blocks/{block.json()['id']}", headers=staff).status_code == 204
    assert second["starts_at"] in {s["starts_at"] for s in free_slots(client, room)}

    rules = client.put(
        f"/api/v1/resources/{room}/booking-policy",
        json={"slot_minutes": 90, "buffer_minutes": 0, "seats": 8, "min_notice_minutes": 0},
        headers=staff,
    )
    assert rules.status_code == 200 and rules.json()["seats"] == 8
    assert (
        client.put(
            f"/api/v1/resources/{room}/booking-policy", json={"slot_minutes": 1}, headers=staff
        ).status_code
        == 400
    )
    clinic_rules = client.put(
        f"/api/v1/resources/{world['clinic']}/booking-policy", json={}, headers=staff
    )
    assert clinic_rules.status_code == 404  # the clinic belongs to no organisation of theirs


def test_mark_attended_needs_the_slot_to_have_started(
    client: TestClient, world: dict[str, Any]
) -> None:
    room = world["room"]
    start = free_slots(client, room)[0]["starts_at"]
    book(client, room, start)
    listed = client.get(f"/api/v1/staff/bookings?from={start[:10]}", headers=bearer(world, "staff"))
    booking_id = listed.json()["items"][0]["id"]
    early = client.post(
        f"/api/v1/staff/bookings/{booking_id}/status",
        json={"status": "attended"},
        headers=bearer(world, "staff"),
    )
    assert early.status_code == 409 and "not started" in early.json()["reason"]
    wrong = client.post(
        f"/api/v1/staff/bookings/{booking_id}/status",
        json={"status": "cancelled"},
        headers=bearer(world, "staff"),
    )
    assert wrong.status_code == 400


def test_nearest_bookable_gives_the_next_free_slot_to_book_in_one_step(
    demo_client: TestClient,
) -> None:
    point = {"lat": 22.75, "lon": 113.93}
    everything = demo_client.get("/api/v1/nearest", params={**point, "limit": 5}).json()
    assert all("next_slot" not in item for item in everything["items"])
    body = demo_client.get(
        "/api/v1/nearest",
        params={**point, "service": "counselling", "bookable": "true", "limit": 3},
    ).json()
    items = body["items"]
    assert len(items) == 3
    distances = [i["distance_m"] for i in items]
    assert distances == sorted(distances)
    # Hotlines and volunteer teams cover the point but take no bookings: they are left out.
    assert {i["kind"] for i in items}.isdisjoint({"hotline", "volunteer_team"})
    # Each says what every other card says: it takes bookings online.
    assert all(i["bookable"] for i in items)
    nearest = items[0]
    slots = demo_client.get(f"/api/v1/resources/{nearest['id']}/slots?days=14").json()["slots"]
    first_free = next(s for s in slots if s["remaining"] > 0)
    assert nearest["next_slot"]["starts_at"] == first_free["starts_at"]
    booked = book(demo_client, nearest["id"], nearest["next_slot"]["starts_at"])
    assert booked.status_code == 201, booked.text
    assert (
        demo_client.get("/api/v1/nearest", params={**point, "bookable": "maybe"}).status_code == 400
    )


def test_a_retried_waitlist_request_is_the_same_place(
    client: TestClient, world: dict[str, Any]
) -> None:
    room = world["room"]
    start = free_slots(client, room)[0]["starts_at"]
    for _ in range(2):
        assert book(client, room, start).status_code == 201
    body = {"resource_id": room, "starts_at": start, "phone": "13900000000"}
    key = {"Idempotency-Key": "wl-7f3a"}
    first = client.post("/api/v1/waitlist", json=body, headers=key)
    again = client.post("/api/v1/waitlist", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]
    assert again.json()["entry"]["position"] == 1
    other = client.post("/api/v1/waitlist", json=body | {"phone": "13900001111"}, headers=key)
    assert other.status_code == 400 and other.json()["fields"] == {
        "Idempotency-Key": other.json()["reason"]
    }
    second = client.post("/api/v1/waitlist", json=body | {"phone": "13900001111"})
    assert second.json()["entry"]["position"] == 2
