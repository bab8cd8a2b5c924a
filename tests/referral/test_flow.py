"""Referral between services, the green channel (#23), on SQLite and PostgreSQL: the state
machine, referral seats under the seat ledger, who sees what, planners' counts, purge."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from resourcemap import db
from resourcemap.booking import reserve
from resourcemap.booking import staff as booking_staff
from resourcemap.errors import Conflict, Forbidden, NotFound
from resourcemap.models import AuditEntry, Booking, Notification, Referral, Slot
from resourcemap.referral import counts, flow, resident
from resourcemap.referral.purge import purge
from resourcemap.referral.requests import AcceptIn, DeclineIn
from resourcemap.vocab import (
    BookingStatus,
    Channel,
    DeclineReason,
    NotificationKind,
    ReferralStatus,
    Role,
    Urgency,
)
from tests.booking_helpers import NOW, request
from tests.load_helpers import check_seats
from tests.referral_helpers import PHONE, at, green_city, ledger, referral_in

S = ReferralStatus
NINE = at(2, 9)  # Wednesday 09:00, the centre's first slot that day


@pytest.mark.anyio
async def test_a_referral_moves_forward_only_and_the_referrer_sees_the_status(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await green_city()
        led = ledger(database_url)
        school, centre = ids["school_staff"], ids["centre_staff"]
        made = await flow.create(led, school, referral_in(ids), now=NOW)
        assert made.status is S.SENT and made.side == "out"
        assert made.phone == "138****5678" and made.nickname == "小*"
        # Nothing skips a status: no outcome, booking or closing before its time.
        with pytest.raises(Conflict):
            await flow.close(led, school, made.id, now=NOW)
        with pytest.raises(Conflict):
            await flow.outcome(led, centre, made.id, True, now=NOW)
        with pytest.raises(Conflict):
            await flow.book(led, centre, made.id, NINE, now=NOW)
        # Accepted without a time: the resident gets one message with their link.
        accepted = await flow.accept(led, centre, made.id, AcceptIn(), now=NOW)
        assert accepted.status is S.ACCEPTED and accepted.invited
        invites = await Notification.filter(kind=NotificationKind.REFERRAL_INVITE)
        assert len(invites) == 1 and invites[0].address_enc and PHONE not in invites[0].address_enc
        # Their language is not known: Chinese first, then English.
        assert invites[0].subject == "转介预约 Choose a time for your referral"
        zh, en, _link = led.vault.open(invites[0].body_enc or "").splitlines()
        assert zh == (
            "东湖中学心理辅导室已将您转介至测试区未成年人心理健康成长辅导中心。"
            "请通过链接选择时间，或谢绝。"
        )
        assert en == (
            "Donghu Middle School Counselling Room referred you to District Minors' Guidance "
            "Centre. Choose a time through the link, or decline."
        )
        with pytest.raises(Conflict):  # no going back
            await flow.accept(led, centre, made.id, AcceptIn(), now=NOW)
        booked = await flow.book(led, centre, made.id, NINE, now=NOW)
        assert booked.status is S.BOOKED and booked.starts_at == NINE
        booking = await Booking.get(id=booked.booking_id)
        assert booking.channel is Channel.REFERRAL and booking.status is BookingStatus.CONFIRMED
        # The resident did not book it: the confirmation says who referred them, in
        # Chinese (staff booking for them do not know their language).
        (confirmed,) = await Notification.filter(kind=NotificationKind.CONFIRMATION)
        said, _link = led.vault.open(confirmed.body_enc or "").splitlines()
        assert said == (
            "东湖中学心理辅导室已将您转介至测试区未成年人心理健康成长辅导中心，时间："
            f"{NINE:%Y-%m-%d %H:%M}。预约码 {booking.code[:4]} {booking.code[4:]}。"
        )
        # The referring service sees "booked", and not when or anything of the visit.
        seen = await flow.get(led, school, made.id)
        assert seen.status is S.BOOKED and seen.starts_at is None and seen.booking_id is None
        with pytest.raises(Conflict):
            await flow.decline(
                led, centre, made.id, DeclineIn(reason=DeclineReason.NO_CAPACITY), now=NOW
            )
        with pytest.raises(Conflict):  # the visit has not begun
            await flow.outcome(led, centre, made.id, True, now=NOW)
        later = NINE + dt.timedelta(minutes=55)
        came = await flow.outcome(led, centre, made.id, True, now=later)
        assert came.status is S.ATTENDED
        assert (await flow.get(led, school, made.id)).status is S.ATTENDED
        closed = await flow.close(led, school, made.id, now=later)
        assert closed.status is S.CLOSED
        with pytest.raises(Conflict):
            await flow.close(led, school, made.id, now=later)


@pytest.mark.anyio
async def test_concurrent_accept_and_decline_of_one_referral_gives_one_winner(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await green_city()
        led = ledger(database_url)
        centre = ids["centre_staff"]
        outcomes = []
        for _ in range(4):
            made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
            results = await asyncio.gather(
                flow.accept(led, centre, made.id, AcceptIn(), now=NOW),
                flow.decline(
                    led, centre, made.id, DeclineIn(reason=DeclineReason.NO_CAPACITY), now=NOW
                ),
                return_exceptions=True,
            )
            failed = [r for r in results if isinstance(r, BaseException)]
            assert len(failed) == 1 and isinstance(failed[0], Conflict), results
            final = await Referral.get(id=made.id)
            winner = next(r for r in results if not isinstance(r, BaseException))
            assert final.status is winner.status
            outcomes.append(final.status)
    assert set(outcomes) <= {S.ACCEPTED, S.DECLINED}


@pytest.mark.anyio
async def test_referral_seats_are_never_taken_by_public_bookings(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city(seats=1, referral_seats=1)
        led = ledger(database_url)
        centre = ids["centre_staff"]
        await reserve.book(led, request(ids["centre"], NINE), now=NOW)
        with pytest.raises(Conflict) as full:
            await reserve.book(led, request(ids["centre"], NINE), now=NOW)
        assert full.value.code == "full"  # the referral seat is not the public's
        first = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        second = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        booked = await flow.accept(led, centre, first.id, AcceptIn(starts_at=NINE), now=NOW)
        assert booked.status is S.BOOKED
        with pytest.raises(Conflict) as taken:
            await flow.accept(led, centre, second.id, AcceptIn(starts_at=NINE), now=NOW)
        assert taken.value.code == "referral_full"
        # A refused seat changes nothing: the second referral is still waiting.
        assert (await Referral.get(id=second.id)).status is S.SENT
        slot = await Slot.get(resource_id=ids["centre"], starts_at=NINE.astimezone(dt.UTC))
        assert (slot.taken, slot.capacity, slot.referral_taken, slot.referral_capacity) == (
            1,
            1,
            1,
            1,
        )
        # Cancelling the referral's booking gives the seat back to the green channel.
        await booking_staff.cancel(led, centre, booked.booking_id or 0, "改期", now=NOW)
        again = await flow.accept(led, centre, second.id, AcceptIn(starts_at=NINE), now=NOW)
        assert again.status is S.BOOKED
        with pytest.raises(Conflict):
            await reserve.book(led, request(ids["centre"], NINE), now=NOW)
        assert (await check_seats(ids["centre"])).problems == []
        assert (await flow.get(led, ids["school_staff"], first.id)).status is S.CLOSED


STORM = 200
SEATS, REFERRAL_SEATS = 3, 2


@pytest.mark.anyio
async def test_no_overbooking_under_a_200_way_storm_of_referrals_and_public_bookings(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await green_city(seats=SEATS, referral_seats=REFERRAL_SEATS)
        led = ledger(database_url)
        centre = ids["centre_staff"]
        referrals = [
            await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
            for _ in range(STORM // 4)
        ]

        async def public() -> Any:
            return await reserve.book(led, request(ids["centre"], NINE), now=NOW)

        async def referred(referral_id: int) -> Any:
            return await flow.accept(led, centre, referral_id, AcceptIn(starts_at=NINE), now=NOW)

        calls = [public() for _ in range(STORM - len(referrals))]
        calls += [referred(r.id) for r in referrals]
        results = await asyncio.gather(*calls, return_exceptions=True)
        unexpected = [
            r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)
        ]
        assert not unexpected, unexpected[:3]
        public_ok = sum(
            1 for r in results[: STORM - len(referrals)] if not isinstance(r, BaseException)
        )
        referral_ok = sum(
            1 for r in results[STORM - len(referrals) :] if not isinstance(r, BaseException)
        )
        check = await check_seats(ids["centre"])
    assert (public_ok, referral_ok) == (SEATS, REFERRAL_SEATS)
    assert check.problems == []


@pytest.mark.anyio
async def test_only_the_two_services_staff_see_a_referral(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city()
        led = ledger(database_url)
        made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        with pytest.raises(NotFound):
            await flow.get(led, ids["other_staff"], made.id)
        assert await flow.listed(led, ids["other_staff"]) == []
        with pytest.raises(Forbidden):
            await flow.get(led, ids["planner"], made.id)
        # The referring side cannot act for the receiving one, nor read the contact.
        with pytest.raises(NotFound):
            await flow.accept(led, ids["school_staff"], made.id, AcceptIn(), now=NOW)
        with pytest.raises(NotFound):
            await flow.reveal(led, ids["school_staff"], made.id)
        # Another organisation cannot refer from a service it does not run.
        with pytest.raises(NotFound):
            await flow.create(led, ids["other_staff"], referral_in(ids), now=NOW)
        assert [r.id for r in await flow.listed(led, ids["centre_staff"], side="in")] == [made.id]
        assert await flow.listed(led, ids["centre_staff"], side="out") == []
        shown = await flow.reveal(led, ids["centre_staff"], made.id)
        assert shown.phone == PHONE and shown.nickname == "小明"
        entry = await AuditEntry.get(action="reveal_referral_contact")
        assert entry.entity_id == str(made.id) and PHONE not in str(entry.after)
        # Stored encrypted: the row holds no phone number or reason in the clear.
        row = await Referral.get(id=made.id)
        assert PHONE not in str(row.phone_enc) and "上学" not in str(row.reason_enc)


@pytest.mark.anyio
async def test_urgent_referrals_show_numbers_to_call_now(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city()
        led = ledger(database_url)
        made = await flow.create(
            led, ids["school_staff"], referral_in(ids, urgency=Urgency.URGENT), now=NOW
        )
        phones = [line.phone for line in made.call_now]
        assert phones == ["0755-20000009", "12320"]
        routine = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        assert routine.call_now == []


@pytest.mark.anyio
async def test_the_resident_picks_a_time_or_declines_through_their_link(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city()
        led = ledger(database_url)
        centre = ids["centre_staff"]
        made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        row = await Referral.get(id=made.id)
        token = led.vault.open(row.token_enc)
        with pytest.raises(NotFound):
            await resident.view(led, row.code, "wrong")
        await flow.accept(led, centre, made.id, AcceptIn(), now=NOW)
        offered = await flow.referral_slots(led, ids["centre"], NINE.date(), 1, now=NOW)
        assert [s.starts_at for s in offered][:2] == [NINE, at(2, 10)]
        picked = await resident.pick(led, row.code, token, at(2, 10), now=NOW, lang="en")
        assert picked.status is S.BOOKED and picked.starts_at == at(2, 10)
        assert not picked.can_pick and not picked.can_decline
        # Picked on the English page: the booking's messages and links are in English.
        booking = await Booking.get(code=picked.booking_code)
        assert booking.lang == "en" and picked.booking_token == led.vault.open(booking.token_enc)
        (confirmed,) = await Notification.filter(kind=NotificationKind.CONFIRMATION)
        said, link = led.vault.open(confirmed.body_enc or "").splitlines()
        assert said.startswith(
            "Donghu Middle School Counselling Room referred you to District Minors' Guidance "
            f"Centre. Your time: {at(2, 10):%Y-%m-%d %H:%M}."
        )
        assert link.endswith("&lang=en")
        # Another referral: the resident declines.
        other = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        other_row = await Referral.get(id=other.id)
        await flow.accept(led, centre, other.id, AcceptIn(), now=NOW)
        said_no = await resident.decline(
            led, other_row.code, led.vault.open(other_row.token_enc), now=NOW
        )
        assert said_no.status is S.DECLINED
        seen = await flow.get(led, ids["school_staff"], other.id)
        assert seen.decline_reason == DeclineReason.RESIDENT_DECLINED


@pytest.mark.anyio
async def test_planners_see_counts_only_and_nothing_under_k(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city(referral_seats=10)
        led = ledger(database_url)
        made = [
            await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW) for _ in range(4)
        ]
        few = await counts.counts(ids["planner"], since=NOW - dt.timedelta(days=30))
        made.append(await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW))
        await flow.decline(
            led,
            ids["centre_staff"],
            made[0].id,
            DeclineIn(reason=DeclineReason.NO_CAPACITY),
            now=NOW,
        )
        for r in made[1:3]:
            await flow.accept(led, ids["centre_staff"], r.id, AcceptIn(starts_at=NINE), now=NOW)
            await flow.outcome(
                led, ids["centre_staff"], r.id, True, now=NINE + dt.timedelta(hours=1)
            )
        with pytest.raises(Forbidden):
            await counts.counts(ids["school_staff"], since=NOW)
        enough = await counts.counts(
            ids["planner"], since=NOW - dt.timedelta(days=30), area="449901000000"
        )
    assert few.pairs == [] and few.withheld == 4
    (pair,) = enough.pairs
    assert (pair.from_kind, pair.to_kind, pair.sent, pair.attended, pair.declined) == (
        "school_room",
        "minors_centre",
        5,
        2,
        1,
    )
    assert pair.declined_why == {"no_capacity": 1}
    assert pair.hours_to_attended_median == 26.0  # Tue 08:00 sent, Wed 10:00 attended
    assert "小明" not in enough.model_dump_json() and PHONE not in enough.model_dump_json()


@pytest.mark.anyio
async def test_purge_clears_referral_contacts(database_url: str) -> None:
    async with db.database(database_url):
        ids = await green_city()
        led = ledger(database_url)
        made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        row = await Referral.get(id=made.id)
        token = led.vault.open(row.token_enc)
        assert await purge(NOW + dt.timedelta(days=10), 30) == 0
        assert await purge(NOW + dt.timedelta(days=31), 30, dry_run=True) == 1
        assert await purge(NOW + dt.timedelta(days=31), 30) == 1
        row = await Referral.get(id=made.id)
        assert (row.nickname_enc, row.phone_enc, row.email_enc, row.reason_enc) == (
            None,
            None,
            None,
            None,
        )
        assert row.status is S.SENT and row.purged_at is not None
        with pytest.raises(NotFound):
            await resident.view(led, row.code, token)
        assert (await flow.get(led, ids["centre_staff"], made.id)).phone == ""
        assert await purge(NOW + dt.timedelta(days=32), 30) == 0


@pytest.mark.anyio
async def test_rotating_the_data_keys_covers_referrals_and_feedback(database_url: str) -> None:
    async with db.database(database_url):
        from resourcemap.booking.rotation import rotate_keys
        from resourcemap.feedback import answers
        from resourcemap.models import FeedbackAnswer, FeedbackToken
        from resourcemap.vault import Vault, generate_key
        from tests.conftest import TEST_DATA_KEY

        ids = await green_city()
        led = ledger(database_url)
        made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        await FeedbackAnswer.create(
            resource_id=ids["centre"],
            week=NOW.date(),
            reach=3,
            wait=3,
            respected=3,
            helped=3,
            comment_enc=led.vault.seal("谢谢"),
        )
        await FeedbackToken.create(
            digest=led.vault.digest("link"), resource_id=ids["centre"], expires_on=NOW.date()
        )
        new = generate_key()
        rotated = await rotate_keys(Vault([new, TEST_DATA_KEY]))
        assert rotated.unreadable == 0 and rotated.rotated >= 5
        only_new = ledger(database_url, data_keys=f"{new},{TEST_DATA_KEY}")
        row = await Referral.get(id=made.id)
        for value in (row.token_enc, row.phone_enc, row.nickname_enc, row.reason_enc):
            assert value is not None and only_new.vault.is_current(value)
        comment = (await FeedbackAnswer.first()).comment_enc  # type: ignore[union-attr]
        assert comment is not None and only_new.vault.is_current(comment)
        assert (await flow.reveal(only_new, ids["centre_staff"], made.id)).phone == PHONE
        # A link sent before the rotation still opens.
        assert (await answers.form(only_new, "link", now=NOW)).name_zh


@pytest.mark.anyio
async def test_accounts_kept_to_an_area_see_only_what_lies_in_it(database_url: str) -> None:
    async with db.database(database_url):
        from resourcemap.models import Organisation
        from tests.referral_helpers import staff

        ids = await green_city()
        led = ledger(database_url)
        made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        centre_org = await Organisation.get(name_zh="测试区未成年人中心")
        # The centre's organisation, but an account kept to the west street: not its centre.
        west = await staff("west", centre_org.id, area_code="449901002000")
        with pytest.raises(NotFound):
            await flow.get(led, west, made.id)
        assert await flow.listed(led, west) == []
        east = await staff("east", centre_org.id, area_code="449901001000")
        assert [r.id for r in await flow.listed(led, east)] == [made.id]
        # Planners: their area by default, nothing outside it.
        district = await staff("district", None, Role.PLANNER, area_code="449901000000")
        street = await staff("street", None, Role.PLANNER, area_code="449901002000")
        since = NOW - dt.timedelta(days=1)
        assert (await counts.counts(district, since=since)).withheld == 1
        assert (await counts.counts(district, since=since, area="449901001000")).withheld == 1
        assert (await counts.counts(street, since=since)).withheld == 0
        with pytest.raises(Forbidden):
            await counts.counts(street, since=since, area="449901001000")


@pytest.mark.anyio
async def test_a_resident_whose_language_staff_recorded_is_written_to_in_it(
    database_url: str,
) -> None:
    """Staff record the resident's language: the invitation is in it alone, its link opens
    the page in it, and a time staff book for them is confirmed and reminded in it."""
    async with db.database(database_url):
        ids = await green_city(referral_seats=2)
        led = ledger(database_url)
        centre = ids["centre_staff"]
        made = await flow.create(led, ids["school_staff"], referral_in(ids, lang="en"), now=NOW)
        await flow.accept(led, centre, made.id, AcceptIn(), now=NOW)
        (invite,) = await Notification.filter(kind=NotificationKind.REFERRAL_INVITE)
        said, link = led.vault.open(invite.body_enc or "").splitlines()
        assert invite.subject == "Choose a time for your referral"
        assert said == (
            "Donghu Middle School Counselling Room referred you to District Minors' Guidance "
            "Centre. Choose a time through the link, or decline."
        )
        assert link.endswith("&lang=en")
        booked = await flow.book(led, centre, made.id, NINE, now=NOW)
        assert (await Booking.get(id=booked.booking_id)).lang == "en"
