"""What planners see of referrals: counts only, never a resident or a single referral.

Per pair of service kinds and districts (from → to): how many were sent, attended,
declined and why, and the time from sent to attended (median and 90th percentile, in
hours) — the waiting the green channel exists to shorten. A group of fewer than ``K``
referrals is withheld (counted in ``withheld``), so no figure describes one person.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from statistics import median

from pydantic import BaseModel
from tortoise.expressions import Q

from resourcemap.accounts import Principal
from resourcemap.errors import InvalidInput
from resourcemap.feedback.answers import in_area
from resourcemap.models import Referral
from resourcemap.vocab import ResourceKind, Role

K = 5


class PairCounts(BaseModel):
    from_kind: ResourceKind
    to_kind: ResourceKind
    from_area: str
    to_area: str
    sent: int
    attended: int
    declined: int
    declined_share: float
    declined_why: dict[str, int]
    hours_to_attended_median: float | None
    hours_to_attended_p90: float | None


class ReferralCounts(BaseModel):
    k: int
    since: dt.date
    pairs: list[PairCounts]
    withheld: int


def p90(values: list[float]) -> float:
    """The 90th percentile by the nearest-rank method.

    >>> p90([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    9.0
    """
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


async def counts(
    actor: Principal, *, since: dt.datetime, area: str | None = None
) -> ReferralCounts:
    actor.require(Role.PLANNER, Role.ADMIN)
    qs = Referral.filter(sent_at__gte=since.astimezone(dt.UTC))
    if area:
        if not area.isdigit() or len(area) != 12:
            raise InvalidInput("an area code has 12 digits", field="area")
        qs = qs.filter(
            Q(in_area(area, "from_resource__"), in_area(area, "to_resource__"), join_type="OR")
        )
    rows = await qs.values_list(
        "from_resource__kind",
        "to_resource__kind",
        "from_resource__district_code",
        "to_resource__district_code",
        "status",
        "decline_reason",
        "sent_at",
        "outcome_at",
        "attended",
    )
    groups: dict[tuple[str, str, str, str], list[tuple[str, dt.datetime, dt.datetime | None]]]
    groups = defaultdict(list)
    for fk, tk, fa, ta, _status, why, sent, outcome, attended in rows:
        groups[(fk, tk, fa, ta)].append((why, sent, outcome if attended else None))
    pairs, withheld = [], 0
    for (fk, tk, fa, ta), found in sorted(groups.items()):
        if len(found) < K:
            withheld += len(found)
            continue
        hours = [
            (outcome - sent).total_seconds() / 3600
            for _, sent, outcome in found
            if outcome is not None
        ]
        declined = [why for why, _, _ in found if why]
        pairs.append(
            PairCounts(
                from_kind=fk,
                to_kind=tk,
                from_area=fa,
                to_area=ta,
                sent=len(found),
                attended=len(hours),
                declined=len(declined),
                declined_share=round(len(declined) / len(found), 3),
                declined_why=dict(Counter(declined)),
                hours_to_attended_median=round(median(hours), 1) if hours else None,
                hours_to_attended_p90=round(p90(hours), 1) if hours else None,
            )
        )
    return ReferralCounts(k=K, since=since.date(), pairs=pairs, withheld=withheld)
