"""The feedback chores the booking worker runs each round: invite the residents of visits
marked attended (by any page: the bookings list or a referral), forget expired links, and
release or drop the comments of weeks that have ended."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from resourcemap.booking.ledger import Ledger
from resourcemap.feedback import answers, invites


class FeedbackRound(NamedTuple):
    invited: int
    expired: int
    released: int
    dropped: int


async def run(ledger: Ledger, *, now: dt.datetime) -> FeedbackRound:
    invited = await invites.invite_attended(ledger, now=now)
    expired = await invites.expire(ledger, now=now)
    released, dropped = await answers.release(ledger, now=now)
    return FeedbackRound(invited, expired, released, dropped)
