"""What residents said and how the green channel worked, for planners (#23): residents'
scores per district and kind of service, and referrals per pair of kinds and districts
(sent, attended, declined and why, hours from sent to attended). Counts only, as the
domain gives them: a group of fewer than ``K`` is withheld and only counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from resourcemap.planning.area_places import Places, area_places
from resourcemap.referral.desk import ReferralDesk
from resourcemap.scope import scope_of
from resourcemap.vocab import DeclineReason
from web import clock, i18n
from web.api.planning import PLANNING
from web.pages.planning import text as planning_text
from web.pages.planning.workspace import render_planning
from web.pages.shell import Audience, page
from web.params import int_param

# The periods a planner reads referrals over (days); the first is the default.
PERIODS = (90, 30, 365)


@dataclass(frozen=True)
class ScoreRow:
    district: Markup
    kind: str
    answers: int
    scores: tuple[float | None, ...]  # reach, wait, respected, helped: 1–5


@dataclass(frozen=True)
class PairRow:
    from_service: Markup  # "kind, district"
    to_service: Markup
    sent: int
    attended: int
    declined: int
    declined_share: float
    why: list[str]  # "暂无名额 3": decline reasons with their counts, most frequent first
    hours_median: float | None
    hours_p90: float | None


def _district(places: Places, code: str) -> Markup:
    """A district by its name in the reader's language, or its Chinese one marked so."""
    place = places.get(code)
    return i18n.name(place.name, place.name_en) if place else Markup(escape(code or "—"))


def _kind_in(kind: str, district: Markup) -> Markup:
    return Markup(i18n.gettext("%(kind)s, %(district)s")) % {"kind": kind, "district": district}


@page(Audience.PLANNING, *PLANNING)
async def feedback_page(request: Request) -> Response:
    actor = request.state.principal
    desk: ReferralDesk = request.app.state.referrals
    days = int_param(request, "days", PERIODS[0], 1, 366)
    # An account kept to an area sees its figures only: the domain cuts them to it.
    scope = await scope_of(actor)
    voiced = await desk.feedback_for_planners(actor)
    since = clock.now(request) - dt.timedelta(days=days)
    referred = await desk.counts(actor, since=since)
    places = await area_places()
    scores = [
        ScoreRow(
            district=_district(places, g.area_code),
            kind=planning_text.kind_label(g.kind),
            answers=g.scores.answers,
            scores=(g.scores.reach, g.scores.wait, g.scores.respected, g.scores.helped),
        )
        for g in voiced.groups
    ]
    pairs = [
        PairRow(
            from_service=_kind_in(
                planning_text.kind_label(p.from_kind), _district(places, p.from_area)
            ),
            to_service=_kind_in(planning_text.kind_label(p.to_kind), _district(places, p.to_area)),
            sent=p.sent,
            attended=p.attended,
            declined=p.declined,
            declined_share=p.declined_share,
            why=[
                f"{i18n.vocab(DeclineReason(code))} {i18n.number(n)}"
                for code, n in sorted(p.declined_why.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            hours_median=p.hours_to_attended_median,
            hours_p90=p.hours_to_attended_p90,
        )
        for p in referred.pairs
    ]
    context = {
        "k": voiced.k,
        "scores": scores,
        "feedback_withheld": voiced.withheld,
        "pairs": pairs,
        "referrals_withheld": referred.withheld,
        "days": days,
        "periods": PERIODS if days in PERIODS else (*PERIODS, days),
        "since": referred.since,
    }
    return await render_planning(request, "planning/feedback.html", context, scope)
