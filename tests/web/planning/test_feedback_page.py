"""The planners' page of residents' feedback and referral counts (#23), on both databases,
as a planner reads it: per district and kind, only groups of at least K, the rest counted;
in the planner's language; closed to staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup

from resourcemap.models import FeedbackAnswer
from resourcemap.referral import flow
from resourcemap.referral.requests import AcceptIn, DeclineIn
from resourcemap.vocab import DeclineReason
from tests.booking_helpers import NOW
from tests.factories import run_in_db
from tests.html_helpers import text_of
from tests.referral_helpers import at, green_city, ledger, referral_in
from tests.web.staff.test_pages import html, sign_in
from tests.web.test_english_pages import stray_chinese


def _world(database_url: str) -> dict[str, Any]:
    """Five answers about the minors' centre, two about the school room; five referrals
    from the school room to the centre (one declined, two attended)."""

    async def make() -> dict[str, Any]:
        ids = await green_city(referral_seats=10)
        led = ledger(database_url)
        week = NOW.date() - dt.timedelta(days=NOW.weekday())
        for reach in (2, 3, 3, 4, 5):
            await FeedbackAnswer.create(
                resource_id=ids["centre"], week=week, reach=reach, wait=4, respected=5, helped=4
            )
        for _ in range(2):
            await FeedbackAnswer.create(
                resource_id=ids["school"], week=week, reach=1, wait=1, respected=1, helped=1
            )
        made = [
            await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW) for _ in range(5)
        ]
        centre = ids["centre_staff"]
        await flow.decline(
            led, centre, made[0].id, DeclineIn(reason=DeclineReason.NO_CAPACITY), now=NOW
        )
        for r in made[1:3]:
            await flow.accept(led, centre, r.id, AcceptIn(starts_at=at(2, 9)), now=NOW)
            await flow.outcome(led, centre, r.id, True, now=at(2, 10))
        return ids

    found: dict[str, Any] = run_in_db(database_url, make)
    return found


def test_planners_read_feedback_and_referrals_by_district_and_kind(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    _world(database_url)
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "planner", "/planning")
        zh = html(client.get("/planning/feedback?lang=zh-CN"))
        nav = zh.select_one(".planning-nav a[aria-current=page]")
        assert nav is not None and nav.get_text(strip=True) == "评价与转介"
        (row,) = zh.select("table.feedback-scores tbody tr")
        cells = [c.get_text(strip=True) for c in row.select("th, td")]
        assert cells[1:] == ["未成年人心理健康成长辅导中心", "5", "3.4", "4.0", "5.0", "4.0"]
        # The school room's two answers are too few to describe: counted, not shown.
        assert "2" in text_of(zh.select("section.voices")[0], ".withheld")
        (pair,) = zh.select("table.referral-pairs tbody tr")
        cells = [c.get_text(" ", strip=True) for c in pair.select("th, td")]
        assert cells[:2] == ["测试区中小学心理辅导室", "测试区未成年人心理健康成长辅导中心"]
        assert cells[2:5] == ["5", "2", "1 (20%)"]
        assert cells[5] == "暂无名额 1"
        assert cells[6] == "26.0"  # Tue 08:00 sent, Wed 10:00 attended
        assert "小明" not in str(zh)
        en = html(client.get("/planning/feedback?lang=en"))
        assert text_of(en, "h1") == "Residents' feedback and the green channel"
        page = BeautifulSoup(str(en), "html.parser")
        assert stray_chinese(str(page)) == []
        period = en.select("select[name=days] option")
        assert [o.get_text() for o in period] == ["90 days", "30 days", "365 days"]
        assert period[0].has_attr("selected")
        sign_in(client, "centre")
        assert client.get("/planning/feedback").status_code == 403
