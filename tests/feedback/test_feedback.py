"""Feedback after a visit (#23), on SQLite and PostgreSQL: one invitation per attended
visit, one answer per link, nothing in the database that links an answer to its visit,
comments released in weekly batches of at least five, planners' aggregates only from k."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from pydantic import ValidationError

from resourcemap import db
from resourcemap.booking import reserve
from resourcemap.booking import staff as booking_staff
from resourcemap.booking.ledger import Ledger
from resourcemap.errors import Forbidden, NotFound
from resourcemap.feedback import answers, invites, rounds
from resourcemap.feedback.answers import FeedbackIn
from resourcemap.models import Booking, FeedbackAnswer, FeedbackInvite, FeedbackToken, Notification
from resourcemap.vocab import BookingStatus, NotificationKind
from tests.booking_helpers import NOW, request
from tests.referral_helpers import PHONE, at, green_city, ledger

NINE = at(2, 9)
AFTER = at(2, 10)


async def visits(led: Ledger, ids: dict[str, Any], n: int) -> list[int]:
    """``n`` attended bookings at the centre (one slot per visit), each resident invited."""
    made = []
    for i in range(n):
        start = at(2 + i // 3, 9 + i % 3)
        issued = await reserve.book(
            led, request(ids["centre"], start, phone=f"1381234{i:04d}"), now=NOW
        )
        booking = await Booking.get(code=issued.code)
        await booking_staff.mark(
            led, ids["centre_staff"], booking.id, BookingStatus.ATTENDED, now=at(9, 8)
        )
        made.append(booking.id)
    return made


def tokens_sent(led: Ledger, bodies: list[Any]) -> list[str]:
    return [
        re.findall(r"/feedback/([^\s?]+)", led.vault.open(b))[0] for b in bodies if b is not None
    ]


@pytest.mark.anyio
async def test_one_invitation_and_one_answer_per_visit_and_no_link_back(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city(seats=3)
        led = ledger(database_url)
        (booking_id,) = await visits(led, ids, 1)
        assert await invites.invite(led, booking_id, now=AFTER)
        assert not await invites.invite(led, booking_id, now=AFTER)  # once per visit
        assert await invites.invite_attended(led, now=AFTER) == 0
        sent = await Notification.filter(kind=NotificationKind.FEEDBACK_INVITE).values_list(
            "body_enc", flat=True
        )
        (token,) = tokens_sent(led, list(sent))
        shown = await answers.form(led, token, now=AFTER)
        assert shown.name_zh.startswith("测试区未成年人")
        scores = FeedbackIn(reach=4, wait=3, respected=5, helped=4, comment="很耐心")
        await answers.submit(led, token, scores, now=AFTER)
        with pytest.raises(NotFound):  # one answer per visit
            await answers.submit(led, token, scores, now=AFTER)
        # In the database: the answer names no booking, contact, code, token or time of day;
        # the link is gone; the invitation says only that the visit was invited.
        (answer,) = await FeedbackAnswer.all().values()
        booking = await Booking.get(id=booking_id)
        assert set(answer) == {
            "id",
            "resource_id",
            "week",
            "reach",
            "wait",
            "respected",
            "helped",
            "comment_enc",
            "released",
        }
        assert answer["week"] == dt.date(2026, 11, 30)
        stored = repr(answer)
        for secret in (booking.code, token, led.vault.digest(token), PHONE):
            assert secret not in stored
        assert await FeedbackToken.all().count() == 0
        assert await FeedbackInvite.filter(booking_id=booking_id).count() == 1
        with pytest.raises(ValidationError):
            FeedbackIn.model_validate({"reach": 6, "wait": 1, "respected": 1, "helped": 1})


@pytest.mark.anyio
async def test_the_invitation_is_in_the_language_the_resident_booked_in(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await green_city(seats=3)
        led = ledger(database_url)
        english, chinese = await visits(led, ids, 2)
        await Booking.filter(id=english).update(lang="en")
        for booking_id in (english, chinese):
            assert await invites.invite(led, booking_id, now=AFTER)
        notes = Notification.filter(kind=NotificationKind.FEEDBACK_INVITE).order_by("id")
        bodies: list[Any] = await notes.values_list("body_enc", flat=True)
        links = [re.findall(r"https?://\S+/feedback/\S+", led.vault.open(b))[0] for b in bodies]
        assert links[0].endswith("?lang=en")
        assert "?" not in links[1]
        # The invitation opens the form in that language and is written in it, subject too.
        written = await notes
        (en_subject, en_text), (zh_subject, zh_text) = [
            (n.subject, led.vault.open(n.body_enc or "").splitlines()[0]) for n in written
        ]
        assert en_subject == "How was your visit?"
        assert en_text == (
            "Thank you for visiting District Minors' Guidance Centre. "
            "Tell us anonymously how it went (1 minute):"
        )
        assert zh_subject == "服务评价"
        assert (
            zh_text
            == "感谢您到访测试区未成年人心理健康成长辅导中心。欢迎匿名评价本次服务（约1分钟）："
        )


@pytest.mark.anyio
async def test_comments_are_released_in_weekly_batches_of_five_or_dropped(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await green_city(seats=3)
        led = ledger(database_url)
        await visits(led, ids, 9)
        # The worker's round invites every attended visit, once.
        assert (await rounds.run(led, now=at(9, 8))).invited == 9
        assert (await rounds.run(led, now=at(9, 8))).invited == 0
        bodies = await Notification.filter(kind=NotificationKind.FEEDBACK_INVITE).values_list(
            "body_enc", flat=True
        )
        links = tokens_sent(led, list(bodies))
        # Four answers with comments this week, five the next.
        for i, token in enumerate(links):
            when = at(9, 10) if i < 4 else at(16, 10)
            data = FeedbackIn(reach=4, wait=4, respected=5, helped=3, comment=f"意见{i}")
            await answers.submit(led, token, data, now=when)
        before = await answers.for_service(led, ids["centre_staff"], ids["centre"])
        released = await answers.release(led, now=at(30, 8))
        after = await answers.for_service(led, ids["centre_staff"], ids["centre"])
        with pytest.raises(NotFound):
            await answers.for_service(led, ids["school_staff"], ids["centre"])
    assert before.comments == [] and before.scores.answers == 9
    assert released == (5, 4)
    assert sorted(after.comments) == [f"意见{i}" for i in range(4, 9)]
    assert after.scores.helped == 3.0


@pytest.mark.anyio
async def test_planners_see_aggregates_from_k_answers(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city(seats=3)
        led = ledger(database_url)
        for booking_id in await visits(led, ids, 5):
            await invites.invite(led, booking_id, now=AFTER)
        bodies = await Notification.filter(kind=NotificationKind.FEEDBACK_INVITE).values_list(
            "body_enc", flat=True
        )
        links = tokens_sent(led, list(bodies))
        for token in links[:4]:
            await answers.submit(
                led, token, FeedbackIn(reach=2, wait=2, respected=2, helped=2), now=AFTER
            )
        few = await answers.for_planners(ids["planner"])
        await answers.submit(
            led, links[4], FeedbackIn(reach=5, wait=5, respected=5, helped=5), now=AFTER
        )
        with pytest.raises(Forbidden):
            await answers.for_planners(ids["centre_staff"])
        enough = await answers.for_planners(ids["planner"], area="449901000000")
    assert few.groups == [] and few.withheld == 4
    (group,) = enough.groups
    assert (group.kind, group.area_code, group.scores.answers, group.scores.reach) == (
        "minors_centre",
        "449901000000",
        5,
        2.6,
    )
