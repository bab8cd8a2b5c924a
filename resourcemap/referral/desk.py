"""The referral desk: one object per app process over the referral and feedback use cases,
sharing the booking desk's ledger (its vault, zone, links and schedule cache), so a
referral's seat goes through the same seat ledger as every booking."""

from __future__ import annotations

import datetime as dt

from resourcemap.accounts import Principal
from resourcemap.booking.ledger import Ledger
from resourcemap.feedback import answers, rounds
from resourcemap.referral import counts, directory, flow, inbox, resident
from resourcemap.referral.requests import AcceptIn, DeclineIn, ReferralIn
from resourcemap.referral.views import (
    Candidates,
    ContactView,
    ReferralSlot,
    ReferralView,
    ResidentReferralView,
    ServiceRef,
)


class ReferralDesk:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # ------------------------------------------------------------------ staff

    async def candidates(
        self,
        actor: Principal,
        from_id: int,
        need: str,
        *,
        members_only: bool = False,
        named: str = "",
    ) -> Candidates:
        return await directory.candidates(
            actor, from_id, need, members_only=members_only, named=named
        )

    async def own_services(self, actor: Principal) -> list[ServiceRef]:
        return await directory.own_services(actor)

    async def create(self, actor: Principal, data: ReferralIn, *, now: dt.datetime) -> ReferralView:
        return await flow.create(self.ledger, actor, data, now=now)

    async def get(self, actor: Principal, referral_id: int) -> ReferralView:
        return await flow.get(self.ledger, actor, referral_id)

    async def listed(
        self, actor: Principal, *, side: str | None = None, status: str | None = None
    ) -> list[ReferralView]:
        return await flow.listed(self.ledger, actor, side=side, status=status)

    async def accept(
        self, actor: Principal, referral_id: int, data: AcceptIn, *, now: dt.datetime
    ) -> ReferralView:
        return await flow.accept(self.ledger, actor, referral_id, data, now=now)

    async def resend(self, actor: Principal, referral_id: int, *, now: dt.datetime) -> ReferralView:
        return await flow.resend(self.ledger, actor, referral_id, now=now)

    async def book(
        self, actor: Principal, referral_id: int, starts_at: dt.datetime, *, now: dt.datetime
    ) -> ReferralView:
        return await flow.book(self.ledger, actor, referral_id, starts_at, now=now)

    async def decline(
        self, actor: Principal, referral_id: int, data: DeclineIn, *, now: dt.datetime
    ) -> ReferralView:
        return await flow.decline(self.ledger, actor, referral_id, data, now=now)

    async def outcome(
        self, actor: Principal, referral_id: int, attended: bool, *, now: dt.datetime
    ) -> ReferralView:
        return await flow.outcome(self.ledger, actor, referral_id, attended, now=now)

    async def close(self, actor: Principal, referral_id: int, *, now: dt.datetime) -> ReferralView:
        return await flow.close(self.ledger, actor, referral_id, now=now)

    async def reveal(self, actor: Principal, referral_id: int) -> ContactView:
        return await flow.reveal(self.ledger, actor, referral_id)

    async def set_seats(self, actor: Principal, resource_id: int, count: int) -> int:
        return await flow.set_seats(actor, resource_id, count)

    async def slots(
        self, resource_id: int, first_day: dt.date, days: int, *, now: dt.datetime
    ) -> list[ReferralSlot]:
        return await flow.referral_slots(self.ledger, resource_id, first_day, days, now=now)

    async def waiting(self, actor: Principal) -> inbox.Waiting:
        return await inbox.waiting(actor)

    async def counts(
        self, actor: Principal, *, since: dt.datetime, area: str | None = None
    ) -> counts.ReferralCounts:
        return await counts.counts(actor, since=since, area=area)

    # ------------------------------------------------------------------ residents

    async def resident_view(self, code: str, token: str) -> ResidentReferralView:
        return await resident.view(self.ledger, code, token)

    async def resident_slots(
        self, code: str, token: str, first_day: dt.date, days: int, *, now: dt.datetime
    ) -> list[ReferralSlot]:
        found = await resident.view(self.ledger, code, token)
        if not found.can_pick:
            return []
        return await flow.referral_slots(
            self.ledger, found.to_service.id, first_day, days, now=now, notice=True
        )

    async def resident_pick(
        self, code: str, token: str, starts_at: dt.datetime, *, now: dt.datetime, lang: str = ""
    ) -> ResidentReferralView:
        return await resident.pick(self.ledger, code, token, starts_at, now=now, lang=lang)

    async def resident_decline(
        self, code: str, token: str, *, now: dt.datetime
    ) -> ResidentReferralView:
        return await resident.decline(self.ledger, code, token, now=now)

    # ------------------------------------------------------------------ feedback

    async def feedback_form(self, token: str, *, now: dt.datetime) -> answers.FormView:
        return await answers.form(self.ledger, token, now=now)

    async def feedback_submit(
        self, token: str, data: answers.FeedbackIn, *, now: dt.datetime
    ) -> None:
        await answers.submit(self.ledger, token, data, now=now)

    async def feedback_for_service(
        self, actor: Principal, resource_id: int
    ) -> answers.ServiceFeedback:
        return await answers.for_service(self.ledger, actor, resource_id)

    async def feedback_for_planners(
        self, actor: Principal, *, area: str | None = None
    ) -> answers.PlannerFeedback:
        return await answers.for_planners(actor, area=area)

    async def feedback_round(self, *, now: dt.datetime) -> rounds.FeedbackRound:
        """The worker's feedback chores (``feedback.rounds``), for commands and tests."""
        return await rounds.run(self.ledger, now=now)
