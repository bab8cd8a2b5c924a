"""Which rows of the embedded indexes match a search, before ranking: the filters, what is
near the point (the grid's shortlist and the area-served rows), every query term, and the
distance to each match. The list (:mod:`.embedded`) ranks these rows; the map
(:mod:`.map_view`) clusters them, so both show the same matches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from geo.distance import geodesic_m
from resourcemap.search import distances, intent
from resourcemap.search.base import Criteria
from resourcemap.search.embedded_index import BoolArray, Columns

FloatArray = npt.NDArray[np.float64]


def _filter_mask(
    cols: Columns, criteria: Criteria, rows: npt.NDArray[np.intp] | None = None
) -> BoolArray:
    """Which documents pass the filters: all of them, or only ``rows`` (aligned with it)."""
    q = criteria.query
    none = np.zeros(len(cols.docs) if rows is None else rows.size, dtype=bool)

    def column(values: BoolArray) -> BoolArray:
        return values if rows is None else values[rows]

    def tag(name: str, value: str) -> BoolArray:
        found = cols.tags[name].get(value)
        return none if found is None else column(found)

    mask: BoolArray = tag("status", q.status.value).copy()
    if q.kind:
        any_kind = none.copy()
        for kind in q.kind:
            any_kind |= tag("kind", kind.value)
        mask &= any_kind
    for name, value in (
        ("services", q.service),
        ("audiences", q.audience),
        ("languages", q.language),
        ("modes", q.mode),
        ("fee", q.fee),
    ):
        if value is not None:
            mask &= tag(name, str(value))
    allowed = q.eligibility
    if allowed is not None:
        eligible = none.copy()
        for value in allowed:
            eligible |= tag("eligibility", value)
        mask &= eligible
    if criteria.open_ids is not None:
        mask &= column(cols.among(criteria.open_ids))
    if criteria.located_only:
        mask &= column(cols.walk)
    return mask


@dataclass
class Found:
    """One index's part of an answer: the rows that pass, their relevance and distance."""

    cols: Columns
    rows: npt.NDArray[np.intp]
    score: FloatArray  # aligned with rows
    distance: FloatArray  # aligned with rows; NaN where not located or no point
    exact: BoolArray | None = None  # which distances are geodesic (None: all of them)
    planar: bool = False  # whether ``distance`` holds planar metres already (the grid's)
    margin: float = distances.MARGIN  # planar against geodesic metres, for every match


def _candidates(cols: Columns, criteria: Criteria) -> Found:
    """Rows passing the filters and, with a radius, the grid's shortlist (sorted)."""
    q = criteria.query
    point = q.point
    if point is not None and q.radius_m is not None:
        # What is near first, then the filters on those rows only: a search within a
        # radius reads no column as long as the index.
        lat, lon = point
        x, y = cols.to_metric.transform(lon, lat)
        # Twice the radius: beyond what the margin can add to it (it is below 2).
        bound = distances.margin(cols.frame, x, 2 * q.radius_m)
        near, metres = cols.grid.within(x, y, q.radius_m * bound)
        served = [cols.serving[c] for c in criteria.point_area_codes if c in cols.serving]
        # The grid's order is the rows' (see build_columns), located rows first: what is
        # near comes sorted, before every area-served row (those have no point).
        rows, planar = near, metres
        if served:
            beyond = _sorted_union(served, len(cols.docs))
            rows = np.concatenate((near, beyond))
            planar = np.concatenate((metres, np.full(beyond.size, np.nan)))
        keep = _filter_mask(cols, criteria, rows)
        return Found(
            cols, rows[keep], np.zeros(int(keep.sum())), planar[keep], planar=True, margin=bound
        )
    mask = _filter_mask(cols, criteria)
    if point is not None:
        area_hit = np.zeros(len(cols.docs), dtype=bool)
        for code in criteria.point_area_codes:
            area_hit[cols.serving.get(code, [])] = True
        mask &= cols.located | area_hit
    rows = np.flatnonzero(mask)
    return Found(cols, rows, np.zeros(rows.size), np.full(rows.size, np.nan))


def _sorted_union(parts: list[npt.NDArray[np.intp]], n: int) -> npt.NDArray[np.intp]:
    """The distinct rows of ``parts`` (of ``n``), ascending: sorted when they are few, else
    marked in one pass over ``n`` (cheaper than sorting tens of thousands; ``np.unique``'s
    hashing took up to 300 ms for them). Marking costs about what sorting a hundredth of
    ``n`` does (200,000 rows: 56 µs either way for 2,000; for 10,000, 100 against 370 µs)."""
    if sum(p.size for p in parts) * 100 >= n:
        hit = np.zeros(n, dtype=bool)
        for part in parts:
            hit[part] = True
        return np.flatnonzero(hit)
    rows = np.sort(np.concatenate(parts))
    if rows.size:
        rows = rows[np.concatenate(([True], rows[1:] != rows[:-1]))]
    return rows


def _match_terms(found: list[Found], plan: intent.QueryPlan) -> None:
    """Keep the rows matching every term, adding up relevance. Whether a word matches as
    typed is decided over all indexes together, as one index would."""
    for term in plan.terms:
        hits: list[tuple[npt.NDArray[np.intp], FloatArray]] = []
        for f in found:
            if term.need is not None:
                hits.append(f.cols.need_within(term.need, f.rows))
            else:
                hits.append(f.cols.matches(term.text, typo=False).within(f.rows, len(f.cols.docs)))
        if term.need is None and term.sounds and not any(h.size for h, _ in hits):
            # A Chinese word found nowhere: a slip of the same sound stands for the need or
            # the known word it sounds like (心里咨询: 心理咨询), or the names that do.
            for k, f in enumerate(found):
                if term.fuzzy_need is not None:
                    hits[k] = f.cols.need_within(term.fuzzy_need, f.rows)
                    continue
                word = term.heard if term.heard is not None else term.sounds
                hits[k] = f.cols.matches(word, typo=False).within(f.rows, len(f.cols.docs))
        if term.need is None and term.latin and not any(h.size for h, _ in hits):
            # As typed it matches nothing: a typo of a need word stands for the need,
            # anything else is corrected to the indexes' words.
            corrections = _corrections(found, term.text)
            for k, f in enumerate(found):
                if term.fuzzy_need is not None:
                    hits[k] = f.cols.need_within(term.fuzzy_need, f.rows)
                    continue
                if corrections is None:
                    continue
                if len(found) == 1:
                    match = f.cols.matches(term.text, typo=True)
                else:
                    match = f.cols.corrected(term.text, corrections)
                hits[k] = match.within(f.rows, len(f.cols.docs))
        for f, (keep, score) in zip(found, hits, strict=True):
            f.rows, f.score = f.rows[keep], f.score[keep] + score
            f.distance = f.distance[keep]


def _corrections(found: list[Found], token: str) -> list[tuple[str, int]] | None:
    """What ``token`` may stand for in any index (None: no typo allowed in it)."""
    typos = found[0].cols.typos
    if not typos.allowed(token):
        return None
    best: dict[str, int] = {}
    for f in found:
        for term, cost in f.cols.corrections(token):
            best[term] = min(cost, best.get(term, cost))
    return sorted(best.items(), key=lambda c: (c[1], c[0]))


def match_rows(segments: list[Columns], criteria: Criteria, *, exact: bool = True) -> list[Found]:
    """Every index's matching rows, unranked (what the map shows for a search). Without
    ``exact``, distances are planar except where the radius needed geodesic metres (see
    :mod:`.distances`: the ranking settles the rest)."""
    q = criteria.query
    found = [_candidates(cols, criteria) for cols in segments if cols.docs]
    plan = criteria.plan
    if plan.terms and found:
        _match_terms(found, plan)
    point = q.point
    for f in found:
        if point is None:
            continue
        # Area-served matches have no distance: they are not a walk (NaN passes the radius).
        lat, lon = point
        if exact:
            located = f.cols.located[f.rows]
            f.distance[located] = geodesic_m(
                lat, lon, f.cols.lat[f.rows[located]], f.cols.lon[f.rows[located]]
            )
        else:
            if not f.planar:
                x, y = f.cols.to_metric.transform(lon, lat)
                near = f.rows[f.cols.located[f.rows]]
                dx, dy = f.cols.x[near] - x, f.cols.y[near] - y
                # Not np.hypot: several times slower; these are only bounds (.distances).
                f.distance[f.cols.located[f.rows]] = np.sqrt(dx * dx + dy * dy)
            f.exact = np.isnan(f.distance)
            if q.radius_m is not None:
                f.distance, f.exact = distances.within_radius(
                    f.distance, q.radius_m, coords([f]), point, f.margin
                )
        if q.radius_m is not None:
            keep = ~(f.distance > q.radius_m)
            f.rows, f.score, f.distance = f.rows[keep], f.score[keep], f.distance[keep]
            if f.exact is not None:
                f.exact = f.exact[keep]
    return found


def coords(found: list[Found]) -> distances.Coords:
    """The coordinates of the matches a mask over every index's matches (joined) picks."""

    def picked(mask: BoolArray) -> tuple[FloatArray, FloatArray]:
        lats, lons, at = [], [], 0
        for f in found:
            rows = f.rows[mask[at : at + f.rows.size]]
            at += f.rows.size
            lats.append(f.cols.lat[rows])
            lons.append(f.cols.lon[rows])
        return joined(lats), joined(lons)

    return picked


G = TypeVar("G", bound=np.generic)


def joined(values: list[npt.NDArray[G]]) -> npt.NDArray[G]:
    """One array of every index's values (no copy when there is one index)."""
    return values[0] if len(values) == 1 else np.concatenate(values)
