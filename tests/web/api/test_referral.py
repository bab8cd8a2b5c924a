"""The referral and feedback API (#23) on both databases: a school counsellor refers a
student to a minors' guidance centre, the centre books a referral seat, the counsellor sees
"booked" and nothing of the visit, the student answers the feedback form; who may call what."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from resourcemap.clock import FixedClock
from resourcemap.models import Notification, Referral
from resourcemap.vault import Vault
from resourcemap.vocab import NotificationKind
from tests.conftest import make_settings
from tests.factories import run_in_db
from tests.referral_helpers import PASSWORD, PHONE, at, green_city

NINE = at(2, 9).isoformat()


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.clear()
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def body(ids: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "from_resource_id": ids["school"],
        "to_resource_id": ids["centre"],
        "need": "school_refusal",
        "reason": "两周未上学",
        "urgency": "soon",
        "consent": "written",
        "nickname": "小明",
        "phone": PHONE,
        **extra,
    }


def test_refer_accept_book_and_feedback_through_the_api(
    database_url: str, make_client: Callable[..., Any], caplog: Any
) -> None:
    ids = run_in_db(database_url, green_city)
    with make_client(database_url) as client:
        school = sign_in(client, "counsellor")
        found = client.get(
            "/api/v1/referral-candidates",
            params={"from": ids["school"], "need": "school_refusal"},
        )
        assert found.status_code == 200
        offered = [item["id"] for item in found.json()["items"]]
        assert ids["centre"] in offered and ids["school"] not in offered
        assert ids["hotline"] not in offered and ids["clinic"] not in offered
        bad = client.post("/api/v1/referrals", json=body(ids, need="perinatal"), headers=school)
        assert bad.status_code == 400 and "need" in bad.text
        made = client.post("/api/v1/referrals", json=body(ids), headers=school)
        assert made.status_code == 201, made.text
        referral = made.json()
        assert referral["status"] == "sent" and referral["phone"] == "138****5678"
        assert PHONE not in made.text and "两周" not in made.text
        rid = referral["id"]

        other = sign_in(client, "other")
        assert client.get(f"/api/v1/referrals/{rid}").status_code == 404
        assert client.get("/api/v1/referrals").json()["items"] == []
        assert (
            client.post(f"/api/v1/referrals/{rid}/accept", json={}, headers=other).status_code
            == 404
        )

        centre = sign_in(client, "centre")
        slots = client.get(f"/api/v1/resources/{ids['centre']}/referral-slots")
        assert slots.json()["items"][0]["starts_at"].startswith("2026-12-01T")
        booked = client.post(
            f"/api/v1/referrals/{rid}/accept", json={"starts_at": NINE}, headers=centre
        )
        assert booked.status_code == 200, booked.text
        assert booked.json()["status"] == "booked" and booked.json()["starts_at"] == NINE
        shown = client.post(f"/api/v1/referrals/{rid}/reveal", headers=centre)
        assert shown.json()["phone"] == PHONE and shown.headers["cache-control"] == "no-store"
        again = client.post(
            f"/api/v1/referrals/{rid}/decline", json={"reason": "no_capacity"}, headers=centre
        )
        assert again.status_code == 409

        sign_in(client, "counsellor")
        seen = client.get(f"/api/v1/referrals/{rid}").json()
        assert seen["status"] == "booked" and seen["starts_at"] is None

        planner = sign_in(client, "planner")
        assert client.get(f"/api/v1/referrals/{rid}").status_code == 403
        counted = client.get("/api/v1/referral-counts", headers=planner).json()
        assert counted["pairs"] == [] and counted["withheld"] == 1

    # The visit happens; the centre records it and the student is invited to give feedback.
    later = make_settings(database_url)
    with make_client(database_url, clock=FixedClock(at(2, 10))) as client:
        centre = sign_in(client, "centre")
        came = client.post(
            f"/api/v1/referrals/{rid}/outcome", json={"attended": True}, headers=centre
        )
        assert came.json()["status"] == "attended", came.text

    async def invitation() -> str:
        note = await Notification.get(kind=NotificationKind.FEEDBACK_INVITE)
        return Vault.from_settings(later).open(note.body_enc or "")

    token = re.findall(r"/feedback/([^\s?]+)", run_in_db(database_url, invitation))[0]
    with make_client(database_url, clock=FixedClock(at(2, 10))) as client:
        assert client.get(f"/api/v1/feedback/{token}").json()["name_zh"].startswith("测试区")
        scores = {"reach": 5, "wait": 4, "respected": 5, "helped": 4, "comment": "谢谢"}
        assert client.post(f"/api/v1/feedback/{token}", json=scores).status_code == 204
        assert client.post(f"/api/v1/feedback/{token}", json=scores).status_code == 404
        bad = client.post(f"/api/v1/feedback/x{token}", json={**scores, "reach": 9})
        assert bad.status_code == 400 and "reach" in bad.text
        centre = sign_in(client, "centre")
        own = client.get(f"/api/v1/resources/{ids['centre']}/feedback").json()
        assert own["scores"]["answers"] == 1 and own["comments"] == []
        # One answer's scores would be that resident's own: counted, not described.
        assert own["scores"]["helped"] is None and own["scores"]["reach"] is None
        page = client.get(f"/staff/resources/{ids['centre']}/feedback").text
        assert "满 5 份回答后才显示评分" in page and "/ 5" not in page
        spec = client.get("/openapi.json").json()
        assert "/api/v1/referrals/{id}/accept" in spec["paths"]
        assert "ReferralIn" in spec["components"]["schemas"]
    # Never in the logs: the phone, the name, the reason.
    logged = caplog.text
    assert PHONE not in logged and "小明" not in logged and "两周" not in logged


def test_the_resident_link_picks_a_time_or_declines(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, green_city)
    with make_client(database_url) as client:
        school = sign_in(client, "counsellor")
        rid = client.post("/api/v1/referrals", json=body(ids), headers=school).json()["id"]
        centre = sign_in(client, "centre")
        accepted = client.post(f"/api/v1/referrals/{rid}/accept", json={}, headers=centre)
        assert accepted.json()["status"] == "accepted" and accepted.json()["invited"]

    async def link() -> tuple[str, str]:
        row = await Referral.get(id=rid)
        note = await Notification.get(kind=NotificationKind.REFERRAL_INVITE)
        return row.code, note.body_enc or ""

    code, sealed = run_in_db(database_url, link)
    text = Vault.from_settings(make_settings(database_url)).open(sealed)
    token = re.findall(r"token=(\S+)", text)[0]
    with make_client(database_url) as client:
        mine = client.get(f"/api/v1/my-referral/{code}", params={"token": token}).json()
        assert mine["can_pick"] and mine["to_service"]["phone"] == "0755-20000009"
        assert client.get(f"/api/v1/my-referral/{code}", params={"token": "no"}).status_code == 404
        picked = client.post(
            f"/api/v1/my-referral/{code}/pick", params={"token": token}, json={"starts_at": NINE}
        )
        assert picked.status_code == 200 and picked.json()["status"] == "booked"
        late = client.post(f"/api/v1/my-referral/{code}/decline", params={"token": token})
        assert late.status_code == 409
