"""Access beyond distance on the small city, by hand: E2SFCA with each supply measure,
evening/weekend hours and waiting from the booking tables — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resourcemap import db
from resourcemap.models import OpeningHours, Resource, Slot
from resourcemap.planning.access import (
    AccessQuery,
    AccessService,
    AreaAccess,
    SupplyMeasure,
    WeeklyRuns,
)
from resourcemap.planning.coverage import CoverageService
from resourcemap.planning.demand import import_demand
from resourcemap.vocab import AreaLevel
from tests.booking_helpers import NOW, SHANGHAI, bookable_city, local

EAST, WEST = "449901001001", "449901002001"
# 100 people at the room; 40 at the clinic (and its psychiatrist); 60 about 604 m from it.
PEOPLE = "lon,lat,weight\n114.005,22.705,100\n113.905,22.705,40\n113.909,22.709,60\n"


async def _city() -> dict[str, int]:
    ids = await bookable_city(seats=2)
    path = Path(tempfile.mkdtemp()) / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    await import_demand(path, "points")
    # The clinic opens on Saturday mornings: an evening-or-weekend service.
    await OpeningHours.create(resource_id=ids["clinic"], weekday=5, opens=540, closes=720)
    # Tuesday 10:00 and 11:00 are full: the next free time is 14:00, six hours after NOW.
    for hour in (10, 11):
        await Slot.create(
            resource_id=ids["room"], starts_at=local(1, hour), ends_at=local(1, hour, 50),
            capacity=2, taken=2,
        )  # fmt: skip
    return ids


@pytest.mark.anyio
async def test_access_per_area_by_hand(database_url: str) -> None:
    async with db.database(database_url):
        await _city()
        service = AccessService(CoverageService())

        async def report(measure: SupplyMeasure) -> dict[str, AreaAccess]:
            query = AccessQuery(level=AreaLevel.COMMUNITY, supply=measure)
            found = await service.report(query, now=NOW, tz=SHANGHAI)
            return {r.code: r for r in found.rows}

        # Capacity: the room's 1 place shared by the 100 beside it; the clinic's and the
        # psychiatrist's 2 places shared by 40 (weight 1) and 60 (in the far third, 0.68).
        by_capacity = await report(SupplyMeasure.CAPACITY)
        assert by_capacity[EAST].access == pytest.approx(10.0)  # per 1,000 residents
        assert by_capacity[WEST].access == pytest.approx(20.0)  # all 2 places, 100 people
        # Weekly hours: the room is open 5 × (3 + 3.5) = 32.5 h; the clinic 3 h on Saturday.
        by_hours = await report(SupplyMeasure.HOURS)
        assert by_hours[EAST].access == pytest.approx(325.0)
        assert by_hours[WEST].access == pytest.approx(30.0)
        # Bookable seats: 6 slots a weekday × 5 days × 2 seats; the clinic takes no bookings.
        by_seats = await report(SupplyMeasure.SEATS)
        assert by_seats[EAST].access == pytest.approx(600.0)
        assert by_seats[WEST].access == 0 and by_seats[WEST].no_service_share == 1.0

        east, west = by_hours[EAST], by_hours[WEST]
        # Within 500 m of a service open evenings or weekends: the 40 at the clinic only.
        assert (east.evening_share, west.evening_share) == (0.0, 0.4)
        # Waiting: the room's next free time is 14:00, 6 hours from NOW; the west has no
        # bookable service at all.
        assert east.waiting.services == 1 and east.waiting.median_days == pytest.approx(0.25)
        assert west.waiting.services == 0 and west.waiting.median_days is None


@pytest.mark.anyio
async def test_waiting_beyond_the_horizon_and_the_clock_is_the_callers(database_url: str) -> None:
    async with db.database(database_url):
        ids = await _city()
        service = AccessService(CoverageService())
        query = AccessQuery(level=AreaLevel.STREET)
        later = await service.report(query, now=NOW + dt.timedelta(hours=3), tz=SHANGHAI)
        east = next(r for r in later.rows if r.code == "449901001000")
        # At 11:00 the 14:00 slot is still more than the 2-hour notice away: 3 hours.
        assert east.waiting.median_days == pytest.approx(3 / 24)
        await OpeningHours.filter(resource_id=ids["room"]).delete()
        gone = await service.report(query, now=NOW, tz=SHANGHAI)
        east = next(r for r in gone.rows if r.code == "449901001000")
        assert east.waiting.services == 1 and east.waiting.with_free_slot == 0
        assert east.waiting.median_days is None and east.waiting.beyond_horizon
        with pytest.raises(ValueError, match="aware"):
            await service.report(query, now=dt.datetime(2026, 12, 1), tz=SHANGHAI)


@pytest.mark.parametrize("name", ["resourcemap.planning.access", "resourcemap.planning.waiting"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# --- what each listing offers, for every listing at once -----------------------------------


def _merged_by_hand(
    intervals: list[tuple[int, int, int]], always: bool
) -> list[tuple[int, int, int]]:
    """One resource's open stretches per day, merged one interval at a time."""
    if always:
        return [(day, 0, 1440) for day in range(7)]
    merged: list[tuple[int, int, int]] = []
    for day, opens, closes in sorted(intervals):
        if merged and merged[-1][0] == day and opens <= merged[-1][2]:
            merged[-1] = (day, merged[-1][1], max(merged[-1][2], closes))
        elif closes > opens:
            merged.append((day, opens, closes))
    return merged


MINUTE = st.integers(0, 48).map(lambda n: n * 30)
RESOURCE = st.tuples(
    st.lists(st.tuples(st.integers(0, 6), MINUTE, MINUTE), max_size=8),  # may overlap, or be empty
    st.booleans(),  # always open
    st.sampled_from([(0, 0, 0), (50, 10, 2), (45, 0, 1), (60, 30, 3)]),  # booking rules, or none
)


@settings(max_examples=300, deadline=None)
@given(
    resources=st.lists(RESOURCE, max_size=6),
    strangers=st.lists(st.tuples(st.integers(0, 6), MINUTE, MINUTE), max_size=3),
)
def test_weekly_hours_seats_and_evenings_of_every_listing_at_once(
    resources: list[tuple[list[tuple[int, int, int]], bool, tuple[int, int, int]]],
    strangers: list[tuple[int, int, int]],
) -> None:
    """Hours, bookable seats and evening-or-weekend opening per listing, from all their
    intervals at once (a province's two million), equal those worked out one listing
    at a time; intervals of listings not counted are left out."""
    ids = np.arange(len(resources), dtype=np.int64) * 10 + 10
    rows = [
        (int(i), *interval)
        for i, (intervals, _, _) in zip(ids, resources, strict=True)
        for interval in intervals
    ]
    rows += [(5, *interval) for interval in strangers]  # a listing that is not counted
    runs = WeeklyRuns.of(
        np.array(rows, dtype=np.int64).reshape(-1, 4),
        ids=ids,
        always_open=np.array([always for _, always, _ in resources], dtype=bool),
    )
    rules = np.array([rule for _, _, rule in resources], dtype=np.int64).reshape(-1, 3)
    hours, seats, evening = runs.hours(), runs.seats(*rules.T), runs.evening_or_weekend()
    for k, (intervals, always, (slot, pause, places)) in enumerate(resources):
        merged = _merged_by_hand(intervals, always)
        assert hours[k] == sum(c - o for _, o, c in merged) / 60
        slots = sum(
            (c - o - slot) // (slot + pause) + 1 for _, o, c in merged if slot and c - o >= slot
        )
        assert seats[k] == slots * places
        assert evening[k] == any(c > 18 * 60 or day >= 5 for day, _, c in merged)


@pytest.mark.anyio
async def test_access_counts_the_places_coverage_counts(database_url: str) -> None:
    """A school's room for its own pupils is no supply for the residents around it: access,
    as coverage, counts places open to the public (both pages said different counts)."""
    async with db.database(database_url):
        ids = await _city()
        coverage = CoverageService()
        service = AccessService(coverage)
        query = AccessQuery(level=AreaLevel.COMMUNITY, supply=SupplyMeasure.CAPACITY)
        before = await service.report(query, now=NOW, tz=SHANGHAI)
        covered = await coverage.analyse(query)
        assert before.services == covered.resources
        await Resource.filter(id=ids["room"]).update(eligibility="students")
        after = await AccessService(CoverageService()).report(query, now=NOW, tz=SHANGHAI)
        assert after.services == before.services - 1
        east = {r.code: r for r in after.rows}[EAST]
        assert east.access == 0  # the room no longer counts for the 100 beside it
        everyone = query.model_copy(update={"eligibility": "all"})
        counted = await AccessService(CoverageService()).report(everyone, now=NOW, tz=SHANGHAI)
        assert counted.services == before.services
