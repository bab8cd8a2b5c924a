"""What waits for a receiving service's answer: referrals sent to the actor's services and
not yet accepted or declined, shown beside "Referrals" on every staff page, so that a
referral is seen the day it arrives rather than when someone opens the list; and what waits
for the referring service: its referrals another service declined, until it closes them
(having found the resident another service)."""

from __future__ import annotations

from pydantic import BaseModel

from resourcemap.accounts import Principal
from resourcemap.listings.edits import located
from resourcemap.models import Referral
from resourcemap.scope import located_in
from resourcemap.vocab import DeclineReason, ReferralStatus, Role, Urgency

# A service's queue is short; more than this reads "50+" (counting further costs a page).
MOST = 50


class Waiting(BaseModel):
    count: int
    urgent: int
    # More than ``count`` are waiting (``count`` stopped at ``MOST``).
    more: bool = False
    # The actor's own referrals declined and not closed yet (at most ``MOST``).
    declined: int = 0


async def waiting(actor: Principal) -> Waiting:
    """The referrals sent to services the actor runs (their organisation's, inside the area
    their account is kept to). Administrators answer none: they see none waiting."""
    if actor.role is not Role.STAFF or actor.organisation_id is None:
        return Waiting(count=0, urgent=0)
    rows = (
        await Referral.filter(
            status=ReferralStatus.SENT, to_resource__organisation_id=actor.organisation_id
        )
        .order_by("-sent_at")
        .limit(MOST + 1)
        .prefetch_related("to_resource")
    )
    mine = [r for r in rows if actor.in_area(located(r.to_resource))]
    shown = mine[:MOST]
    # Declined by the receiving service, not by the resident (who said so themselves), the
    # referring service's own, inside the area the account is kept to.
    declined = Referral.filter(
        status=ReferralStatus.DECLINED, from_resource__organisation_id=actor.organisation_id
    ).exclude(decline_reason=DeclineReason.RESIDENT_DECLINED)
    if actor.area_code is not None:
        declined = declined.filter(located_in(actor.area_code, "from_resource__"))
    return Waiting(
        count=len(shown),
        urgent=sum(r.urgency is Urgency.URGENT for r in shown),
        more=len(mine) > MOST,
        declined=await declined.count(),
    )
