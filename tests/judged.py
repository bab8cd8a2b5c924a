"""The judged query set (``tests/data/judged_queries.toml``) and how search is scored on it.

Shared by ``tests/search/test_judged.py`` (which holds the goals) and ``bench/search.py``
(which prints the figures). Queries run through :class:`SearchService` on a database
holding the demo city, so needs, eligibility, ranking, widening and crisis lines all count.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resourcemap.search.base import Hit, SearchQuery
from resourcemap.search.needs import NEEDS
from resourcemap.search.service import SearchService

SOURCE = Path(__file__).with_name("data") / "judged_queries.toml"
POINT = (22.7245, 113.938)  # inside 白鹭社区 of the demo city
AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TOP = 5
NEAR_M = 1500.0


@dataclass(frozen=True)
class Judged:
    q: str
    params: dict[str, Any]
    expect: frozenset[str] | None  # None: any public listing serving ``concern``
    concern: str | None = None
    crisis: bool = False

    @property
    def label(self) -> str:
        extra = {k: v for k, v in self.params.items() if k not in ("q", "lat", "lon", "limit")}
        return (
            self.q
            + (f" {extra}" if extra else "")
            + ("" if "lat" in self.params else " (no point)")
        )


@dataclass
class Outcome:
    judged: Judged
    top: list[str]  # names of the first results
    recall: float
    suitable: bool  # at least one expected (or serving) result in the top
    near: bool  # a public, suitable place within 1.5 km in the top (with a point)
    crisis_first: bool
    flagged_crisis: bool
    total: int


@dataclass
class Scores:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def recall_at_5(self) -> float:
        return sum(o.recall for o in self.outcomes) / len(self.outcomes)

    @property
    def zero_suitable_share(self) -> float:
        return sum(not o.suitable for o in self.outcomes) / len(self.outcomes)

    def summary(self) -> str:
        return (
            f"judged queries: {len(self.outcomes)}; recall@{TOP} {self.recall_at_5:.3f}; "
            f"queries with no suitable result in the top {TOP}: "
            f"{self.zero_suitable_share:.1%}"
        )


def load(path: Path = SOURCE) -> list[Judged]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    groups: dict[str, list[str]] = data["groups"]
    judged = []
    for raw in data["query"]:
        params: dict[str, Any] = {"q": raw["q"], **raw.get("filters", {}), "limit": 20}
        if raw.get("point", True):
            params |= {"lat": POINT[0], "lon": POINT[1]}
        expect = raw["expect"]
        names = None if expect == "serves" else frozenset(groups.get(expect, expect))
        judged.append(
            Judged(raw["q"], params, names, raw.get("concern"), bool(raw.get("crisis", False)))
        )
    return judged


def _suitable(j: Judged, hit: Hit) -> bool:
    d = hit.document
    return j.concern is not None and j.concern in NEEDS.served_by(d.kind, d.services, d.audiences)


async def evaluate(service: SearchService, judged: list[Judged]) -> Scores:
    scores = Scores()
    for j in judged:
        result = await service.search(SearchQuery.model_validate(j.params), now=AT)
        hits = result.hits[:TOP]
        names = [h.document.name_zh for h in hits]
        public = [h for h in hits if h.document.eligibility == "public"]
        if j.expect is None:
            good = [h for h in public if _suitable(j, h)]
            recall = len(good) / TOP
        else:
            good = [h for h in hits if h.document.name_zh in j.expect]
            recall = len(good) / min(TOP, len(j.expect))
        near = any(
            h.document.reach == "walk" and h.distance_m is not None and h.distance_m <= NEAR_M
            for h in good
            if h.document.eligibility == "public"
        )
        first = hits[0].document if hits else None
        scores.outcomes.append(
            Outcome(
                judged=j,
                top=names,
                recall=recall,
                suitable=bool(good),
                near=near,
                crisis_first=first is not None and first.kind == "hotline" and first.always_open,
                flagged_crisis=result.crisis,
                total=result.total,
            )
        )
    return scores
