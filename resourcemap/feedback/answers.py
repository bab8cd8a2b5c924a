"""Answers to the short form after a visit, and what services and planners see of them.

An answer keeps the service, the week it was given in and the scores; its comment is shown
to the service's staff only once that week's batch of the service holds at least
``MIN_BATCH`` comments (released) — otherwise it is dropped — so staff cannot tell who wrote
one from its timing. Planners see aggregates per area and kind, none below ``K`` answers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from statistics import mean
from typing import Any

from pydantic import BaseModel, Field

from resourcemap.accounts import Principal
from resourcemap.booking.ledger import Ledger
from resourcemap.booking.staff import managed_resource
from resourcemap.errors import NotFound
from resourcemap.feedback.invites import week_of
from resourcemap.listings.edits import Input
from resourcemap.models import FeedbackAnswer, FeedbackToken, Resource
from resourcemap.said import N_
from resourcemap.scope import figures_area, located_in
from resourcemap.vocab import ResourceKind, Role

MIN_BATCH = 5  # comments of one service and week, to be shown at all
K = 5  # answers behind any figure a planner sees
SCORES = ("reach", "wait", "respected", "helped")


class FeedbackIn(Input):
    reach: int = Field(ge=1, le=5, description="Was it easy to reach? 1-5")
    wait: int = Field(ge=1, le=5, description="How long did you wait? 5 = not at all")
    respected: int = Field(ge=1, le=5, description="Did you feel respected? 1-5")
    helped: int = Field(ge=1, le=5, description="Did it help? 1-5")
    comment: str = Field("", max_length=500)


class FormView(BaseModel):
    """What the form shows: the service's name only."""

    name_zh: str
    name_en: str


class Scores(BaseModel):
    answers: int
    reach: float | None
    wait: float | None
    respected: float | None
    helped: float | None


class ServiceFeedback(BaseModel):
    resource_id: int
    name_zh: str
    name_en: str
    scores: Scores
    comments: list[str]


class AreaFeedback(BaseModel):
    area_code: str
    kind: ResourceKind
    scores: Scores


class PlannerFeedback(BaseModel):
    k: int
    groups: list[AreaFeedback]
    # Answers in groups too small to show: counted, not described.
    withheld: int


async def _token(ledger: Ledger, token: str, today: dt.date) -> FeedbackToken:
    found = None
    if token:
        # Made under any data key: a link sent before a key rotation still opens.
        found = await FeedbackToken.filter(digest__in=ledger.vault.digests(token)).first()
    if found is None or found.expires_on < today:
        raise NotFound(N_("this feedback link was used already or has expired"))
    return found


async def form(ledger: Ledger, token: str, *, now: dt.datetime) -> FormView:
    found = await _token(ledger, token, now.astimezone(ledger.tz).date())
    resource = await Resource.get(id=found.resource_id)
    return FormView(name_zh=resource.name_zh, name_en=resource.name_en)


async def submit(ledger: Ledger, token: str, data: FeedbackIn, *, now: dt.datetime) -> None:
    """Write one answer and forget the link: one answer per visit, nothing that leads back."""
    today = now.astimezone(ledger.tz).date()
    found = await _token(ledger, token, today)
    # The delete decides between two submissions of one link: only one removes the row.
    if not await FeedbackToken.filter(digest=found.digest).delete():
        raise NotFound(N_("this feedback link was used already or has expired"))
    comment = data.comment.strip()
    await FeedbackAnswer.create(
        resource_id=found.resource_id,
        week=week_of(today),
        reach=data.reach,
        wait=data.wait,
        respected=data.respected,
        helped=data.helped,
        comment_enc=ledger.vault.seal(comment) if comment else None,
    )


async def release(ledger: Ledger, *, now: dt.datetime) -> tuple[int, int]:
    """Release the comments of weeks that have ended, per service: all of a batch of at least
    ``MIN_BATCH``, else none (dropped). Returns (released, dropped)."""
    this_week = week_of(now.astimezone(ledger.tz).date())
    rows = await FeedbackAnswer.filter(
        week__lt=this_week, released=False, comment_enc__isnull=False
    ).values_list("id", "resource_id", "week")
    batches: dict[tuple[int, dt.date], list[object]] = defaultdict(list)
    for answer_id, rid, week in rows:
        batches[(rid, week)].append(answer_id)
    released = dropped = 0
    for ids in batches.values():
        if len(ids) >= MIN_BATCH:
            released += await FeedbackAnswer.filter(id__in=ids).update(released=True)
        else:
            dropped += await FeedbackAnswer.filter(id__in=ids).update(comment_enc=None)
    return released, dropped


def _scores(rows: list[tuple[int, int, int, int]]) -> Scores:
    """The means of ``rows``, from ``K`` of them on; fewer are counted, not described (with
    one visit attended on a day, its scores were that resident's own)."""
    if len(rows) < K:
        return Scores(answers=len(rows), reach=None, wait=None, respected=None, helped=None)
    cols = list(zip(*rows, strict=True))
    means = {name: round(mean(col), 2) for name, col in zip(SCORES, cols, strict=True)}
    return Scores(answers=len(rows), **means)


async def for_service(ledger: Ledger, actor: Principal, resource_id: int) -> ServiceFeedback:
    """A service's own aggregates, from ``K`` answers on, and its released comments
    (shuffled: no order to read)."""
    resource = await managed_resource(actor, resource_id)
    rows = await FeedbackAnswer.filter(resource_id=resource_id).values_list(*SCORES)
    sealed: list[Any] = await FeedbackAnswer.filter(
        resource_id=resource_id, released=True, comment_enc__isnull=False
    ).values_list("comment_enc", flat=True)
    comments = [ledger.vault.open(c) for c in sealed if c]
    random.shuffle(comments)
    return ServiceFeedback(
        resource_id=resource.id,
        name_zh=resource.name_zh,
        name_en=resource.name_en,
        scores=_scores([tuple(r) for r in rows]),
        comments=comments,
    )


async def for_planners(actor: Principal, *, area: str | None = None) -> PlannerFeedback:
    """Aggregates per district and kind of service, only where at least ``K`` answered."""
    actor.require(Role.PLANNER, Role.ADMIN)
    qs = FeedbackAnswer.all()
    area = await figures_area(actor, area)
    if area:
        qs = qs.filter(located_in(area, "resource__"))
    rows = await qs.values_list("resource__district_code", "resource__kind", *SCORES)
    groups: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)
    for district, kind, *scores in rows:
        groups[(district, kind)].append((scores[0], scores[1], scores[2], scores[3]))
    shown, withheld = [], 0
    for (district, kind), scored in sorted(groups.items()):
        if len(scored) < K:
            withheld += len(scored)
            continue
        shown.append(AreaFeedback(area_code=district, kind=kind, scores=_scores(scored)))
    return PlannerFeedback(k=K, groups=shown, withheld=withheld)
