"""Property tests of the booking desk: any schedule, any sequence of operations.

Hypothesis draws a resource's weekly hours, dated exceptions and booking rules, then a
sequence of resident operations (book, cancel, reschedule, waitlist, accept an offer) mixed
with staff changes (slot length, buffer, seats, blocked time, dated hours) and the clock
moving on. After every step the database and the listing are checked:

* seats taken never exceed the capacity, and equal the bookings holding a seat;
* booked slots never overlap within a resource, nor do listed slots;
* the listing is exactly what the hours, rules, blocks and booked slots allow (an
  independent calculation, in a zone without daylight saving);
* a listed slot with a free seat can be booked, any other time is refused; a booking never
  makes a slot hold more seats than the rules in force allow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from resourcemap import db
from resourcemap.booking import slots
from resourcemap.booking.desk import Desk, Issued
from resourcemap.booking.requests import BookingIn
from resourcemap.errors import Conflict
from resourcemap.models import (
    Booking,
    BookingPolicy,
    HoursException,
    OpeningHours,
    Resource,
    Slot,
    TimeBlock,
)
from resourcemap.vocab import SEAT_HOLDING, BookingStatus, WaitlistStatus
from tests.booking_helpers import SHANGHAI, desk
from tests.conftest import Backend
from tests.factories import run_in_db
from tests.load_helpers import check_seats

# Many concurrent requests, processes or generated cases: the slow tier.
pytestmark = pytest.mark.load

EXAMPLES = {"sqlite": 100, "postgres": 40}
# Tuesday 1 December 2026, 08:00 in Shanghai; three ordinary working days are listed.
START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)
FIRST_DAY = START.date()
DAYS = 3
MIDNIGHT = int(dt.datetime(2026, 12, 1, tzinfo=SHANGHAI).timestamp())

minutes_of_day = st.integers(0, 47).map(lambda half_hours: half_hours * 30)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[int, int]:
    opens = draw(minutes_of_day)
    closes = draw(st.integers(opens // 30 + 1, 48)) * 30
    return opens, closes


@dataclass(frozen=True)
class Policy:
    slot_minutes: int
    buffer_minutes: int
    seats: int
    min_notice_minutes: int = 0
    change_notice_minutes: int = 0
    horizon_days: int = 30


policies = st.builds(
    Policy,
    slot_minutes=st.sampled_from([20, 30, 45, 50, 60, 90]),
    buffer_minutes=st.sampled_from([0, 5, 10, 15, 30]),
    seats=st.sampled_from([1, 2, 3, 3]),
    min_notice_minutes=st.sampled_from([0, 60, 120]),
    change_notice_minutes=st.sampled_from([0, 240]),
)


@dataclass(frozen=True)
class World:
    always_open: bool
    weekly: dict[int, list[tuple[int, int]]]  # weekday -> intervals
    exceptions: list[tuple[int, bool, tuple[int, int]]]  # (day index, closed, hours)
    policy: Policy


worlds = st.builds(
    World,
    always_open=st.sampled_from([False, False, False, True]),
    # Tuesday to Thursday are listed: each has hours, of one to three (overlapping) spans.
    weekly=st.fixed_dictionaries(
        {weekday: st.lists(intervals(), min_size=1, max_size=3) for weekday in (1, 2, 3)}
    ),
    exceptions=st.lists(
        st.tuples(st.integers(0, DAYS - 1), st.booleans(), intervals()), max_size=2
    ),
    policy=policies,
)

pick = st.integers(0, 10_000)
early = st.integers(0, 1)  # one of the first two slots: they fill up, and have waitlists
operations = st.one_of(
    st.tuples(st.just("book"), early),
    st.tuples(st.just("book"), early),
    st.tuples(st.just("book"), early),
    st.tuples(st.just("book"), pick),
    st.tuples(st.just("book_at"), st.integers(0, DAYS * 24 * 12 - 1)),  # any 5-minute step listed
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("reschedule"), pick, early),
    st.tuples(st.just("reschedule"), pick, pick),
    st.tuples(st.just("waitlist"), early),
    st.tuples(st.just("accept"), pick),
    st.tuples(st.just("tick"), st.sampled_from([5, 30, 45, 180])),
    st.tuples(st.just("policy"), policies),
    st.tuples(st.just("seats"), st.sampled_from([1, 1, 2, 3])),
    st.tuples(st.just("block"), st.integers(0, DAYS * 96), st.sampled_from([15, 50, 120])),
    st.tuples(st.just("unblock"), pick),
    st.tuples(st.just("hours"), st.integers(0, DAYS - 1), st.booleans(), intervals()),
)


# --------------------------------------------------------------------------- the oracle


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for o, c in sorted(spans):
        if merged and o <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], c))
        else:
            merged.append((o, c))
    return merged


async def expected_listing(
    resource_id: int, always_open: bool, now: dt.datetime
) -> list[tuple[int, int, int]]:
    """(start, end, remaining) of every slot that should be listed, computed from the
    database rows without the slot module. Shanghai has no daylight saving: a local day is
    86 400 s and minute ``m`` of day ``d`` is ``MIDNIGHT + d*86400 + m*60``."""
    policy = await BookingPolicy.get(resource_id=resource_id)
    length = policy.slot_minutes * 60
    step = (policy.slot_minutes + policy.buffer_minutes) * 60
    weekly = await OpeningHours.filter(resource_id=resource_id).values_list(
        "weekday", "opens", "closes"
    )
    exceptions = await HoursException.filter(resource_id=resource_id).values_list(
        "start_date", "end_date", "closed", "opens", "closes"
    )
    candidates: set[int] = set()
    for d in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=d)
        todays = [e for e in exceptions if e[0] <= day <= e[1]]
        if always_open:
            hours = [(0, 1440)]
        elif todays:
            hours = [] if any(e[2] for e in todays) else _union([(e[3], e[4]) for e in todays])
        else:
            hours = _union([(o, c) for w, o, c in weekly if w == day.weekday()])
        base = MIDNIGHT + d * 86400
        for o, c in hours:
            t = base + o * 60
            while t + length <= base + c * 60:
                candidates.add(t)
                t += step
    earliest = int(now.timestamp()) + policy.min_notice_minutes * 60
    blocks = [
        (slots.epoch(s), slots.epoch(e))
        for s, e in await TimeBlock.filter(resource_id=resource_id).values_list(
            "starts_at", "ends_at"
        )
    ]
    rows = {
        slots.epoch(s): (slots.epoch(e), taken)
        for s, e, taken in await Slot.filter(resource_id=resource_id).values_list(
            "starts_at", "ends_at", "taken"
        )
    }
    listed = []
    for start in sorted(candidates):
        end = start + length
        if start < earliest or any(s < end and e > start for s, e in blocks):
            continue
        own = rows.get(start)
        if any(
            taken > 0 and s < end and e > start and (s, e) != (start, end)
            for s, (e, taken) in rows.items()
        ):
            continue
        taken = own[1] if own is not None and own[0] == end else 0
        listed.append((start, end, max(policy.seats - taken, 0)))
    return listed


# --------------------------------------------------------------------------- the run


def _note(outcome: str) -> None:
    """Count outcomes for ``--hypothesis-show-statistics``; a no-op outside hypothesis."""
    if currently_in_test_context():
        event(outcome)


@dataclass
class Run:
    desk: Desk
    resource_id: int
    always_open: bool
    now: dt.datetime = START
    bookings: list[Issued] = field(default_factory=list)
    entries: list[Issued] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def at(self, epoch: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, SHANGHAI)

    async def listing(self) -> list[tuple[int, int, int]]:
        listed = await self.desk.slot_list(self.resource_id, FIRST_DAY, DAYS, now=self.now)
        return list(
            zip(
                listed.starts.tolist(), listed.ends.tolist(), listed.remaining.tolist(), strict=True
            )
        )

    async def seats_rule(self) -> int:
        seats: int = (await BookingPolicy.get(resource_id=self.resource_id)).seats
        return seats

    async def holding(self, starts_at: dt.datetime) -> int:
        return await Booking.filter(
            resource_id=self.resource_id,
            starts_at=starts_at.astimezone(dt.UTC),
            status__in=[s.value for s in SEAT_HOLDING],
        ).count()

    async def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        listed = await self.listing()
        free = {s: r for s, _, r in listed}
        self.log.append(repr(op))
        if kind in ("book", "book_at", "waitlist"):
            if kind == "book_at":
                start = MIDNIGHT + op[1] * 300
            elif listed:
                start = listed[op[1] % len(listed)][0]
            else:
                start = MIDNIGHT + 10 * 3600
            if kind == "waitlist":
                await self._waitlist(start, free)
            else:
                await self._book(start, free)
        elif kind == "cancel" and self.bookings:
            await self._cancel(self.bookings[op[1] % len(self.bookings)])
        elif kind == "reschedule" and self.bookings and listed:
            issued = self.bookings[op[1] % len(self.bookings)]
            await self._reschedule(issued, listed[op[2] % len(listed)][0], free)
        elif kind == "accept" and self.entries:
            await self._accept(self.entries[op[1] % len(self.entries)])
        elif kind == "tick":
            self.now += dt.timedelta(minutes=op[1])
            await self.desk.expire_offers(self.now)
        elif kind == "policy":
            p: Policy = op[1]
            await BookingPolicy.filter(resource_id=self.resource_id).update(**vars(p))
        elif kind == "seats":
            await BookingPolicy.filter(resource_id=self.resource_id).update(seats=op[1])
        elif kind == "block":
            starts_at = slots.as_utc(MIDNIGHT + op[1] * 900)
            await TimeBlock.create(
                resource_id=self.resource_id,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=op[2]),
            )
        elif kind == "unblock":
            blocks = await TimeBlock.filter(resource_id=self.resource_id).order_by("id")
            if blocks:
                await blocks[op[1] % len(blocks)].delete()
        elif kind == "hours":
            _, d, closed, (opens, closes) = op
            day = FIRST_DAY + dt.timedelta(days=d)
            await HoursException.filter(resource_id=self.resource_id, start_date=day).delete()
            await HoursException.create(
                resource_id=self.resource_id,
                start_date=day,
                end_date=day,
                closed=closed,
                opens=None if closed else opens,
                closes=None if closed else closes,
            )

    async def _book(self, start: int, free: dict[int, int]) -> None:
        bookable = free.get(start, 0) > 0
        data = BookingIn(resource_id=self.resource_id, starts_at=self.at(start))
        try:
            issued = await self.desk.book(data, now=self.now)
        except Conflict as exc:
            assert not bookable, f"a listed slot with a free seat was refused: {exc}"
            _note("book refused")
            return
        _note("booked")
        assert bookable, f"booked {self.at(start)}, which was not listed with a free seat"
        self.bookings.append(issued)
        assert await self.holding(self.at(start)) <= await self.seats_rule()

    async def _cancel(self, issued: Issued) -> None:
        before = await self.desk.get(issued.code, issued.token)
        rules = await BookingPolicy.get(resource_id=self.resource_id)
        too_late = self.now > before.starts_at - dt.timedelta(minutes=rules.change_notice_minutes)
        try:
            after = await self.desk.cancel(issued.code, issued.token, now=self.now)
        except Conflict:
            assert before.status is BookingStatus.CONFIRMED and too_late
            return
        if before.status in SEAT_HOLDING:
            assert before.status is not BookingStatus.CONFIRMED or not too_late
            assert after.status is BookingStatus.CANCELLED
        else:
            assert after.status is before.status

    async def _reschedule(self, issued: Issued, start: int, free: dict[int, int]) -> None:
        before = await self.desk.get(issued.code, issued.token)
        rules = await BookingPolicy.get(resource_id=self.resource_id)
        may = (
            before.status is BookingStatus.CONFIRMED
            and self.now <= before.starts_at - dt.timedelta(minutes=rules.change_notice_minutes)
            and free.get(start, 0) > 0
            and start != slots.epoch(before.starts_at)
        )
        try:
            moved = await self.desk.reschedule(
                issued.code, issued.token, self.at(start), now=self.now
            )
        except Conflict as exc:
            assert not may, f"a move into a listed slot with a free seat was refused: {exc}"
            _note("move refused")
            return
        _note("moved")
        assert may, f"moved {before.status} booking to {self.at(start)}, which it may not"
        assert slots.epoch(moved.starts_at) == start
        assert moved.status is BookingStatus.CONFIRMED
        assert await self.holding(self.at(start)) <= await self.seats_rule()

    async def _waitlist(self, start: int, free: dict[int, int]) -> None:
        data = BookingIn(
            resource_id=self.resource_id, starts_at=self.at(start), phone="13800000000"
        )
        try:
            issued = await self.desk.join_waitlist(data, now=self.now)
        except Conflict:
            assert free.get(start) != 0, "a listed full slot could not be waited for"
            return
        assert free.get(start) == 0, "joined the waitlist of a slot with free seats"
        _note("joined waitlist")
        self.entries.append(issued)

    async def _accept(self, issued: Issued) -> None:
        entry = await self.desk.waitlist_entry(issued.code, issued.token)
        offer = None
        if entry.status is WaitlistStatus.OFFERED and entry.booking_id is not None:
            offer = await Booking.get(id=entry.booking_id)
        live = (
            offer is not None
            and offer.status is BookingStatus.OFFERED
            and offer.offer_expires_at is not None
            and offer.offer_expires_at > self.now
        )
        try:
            booked = await self.desk.accept_offer(issued.code, issued.token, now=self.now)
        except Conflict:
            assert not live, "a live offer could not be accepted"
            _note("accept refused")
            return
        _note("offer accepted")
        assert live, "accepted an offer that was not live"
        assert (await self.desk.get(booked.code, booked.token)).status is BookingStatus.CONFIRMED
        self.bookings.append(booked)

    async def check(self) -> None:
        seats = await check_seats(self.resource_id)
        assert seats.problems == [], seats.problems
        listed = await self.listing()
        for (_, end, _), (start, _, _) in itertools.pairwise(listed):
            assert end <= start, "listed slots overlap"
        expected = await expected_listing(self.resource_id, self.always_open, self.now)
        assert listed == expected


_names = itertools.count()


async def _resource(world: World) -> int:
    resource = await Resource.create(
        kind="community_room",
        name_zh=f"咨询室{next(_names)}",
        services=["counselling"],
        lat=22.7,
        lon=114.0,
        always_open=world.always_open,
    )
    for weekday, spans in world.weekly.items():
        for opens, closes in spans:
            await OpeningHours.create(
                resource=resource, weekday=weekday, opens=opens, closes=closes
            )
    for d, closed, (opens, closes) in world.exceptions:
        day = FIRST_DAY + dt.timedelta(days=d)
        await HoursException.create(
            resource=resource,
            start_date=day,
            end_date=day,
            closed=closed,
            opens=None if closed else opens,
            closes=None if closed else closes,
        )
    await BookingPolicy.create(resource=resource, **vars(world.policy))
    return int(resource.id)


def _run(database_url: str, world: World, ops: list[tuple[Any, ...]]) -> None:
    async def go() -> None:
        async with db.database(database_url):
            rid = await _resource(world)
            run = Run(desk(database_url), rid, world.always_open)
            await run.check()
            for op in ops:
                await run.apply(op)
                await run.check()

    asyncio.run(go())


# One profile per database: PostgreSQL round trips cost more, so it runs fewer examples.
for _name, _count in EXAMPLES.items():
    settings.register_profile(
        f"booking-{_name}",
        max_examples=_count,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _examples(backend: Backend) -> settings:
    return settings.get_profile(f"booking-{backend.name}")


def test_any_schedule_and_operations_keep_seats_and_slots_consistent(
    backend: Backend, database_url: str
) -> None:
    run_in_db(database_url, lambda: asyncio.sleep(0))  # the database exists and is migrated

    @_examples(backend)
    @given(world=worlds, ops=st.lists(operations, min_size=10, max_size=30))
    def property_holds(world: World, ops: list[tuple[Any, ...]]) -> None:
        _run(database_url, world, ops)

    property_holds()


FOCUSED = {"sqlite": 60, "postgres": 25}
one_morning = World(False, {1: [(9 * 60, 12 * 60)]}, [], Policy(50, 10, 3))
staff_and_residents = st.one_of(
    st.tuples(st.just("book"), early),
    st.tuples(st.just("book"), early),
    st.tuples(st.just("book"), early),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("reschedule"), pick, early),
    st.tuples(st.just("seats"), st.integers(1, 3)),
    st.tuples(st.just("policy"), policies),
    st.tuples(st.just("block"), st.integers(36, 47), st.sampled_from([15, 50])),
    st.tuples(st.just("unblock"), pick),
)


def test_staff_changes_between_bookings_of_one_morning(backend: Backend, database_url: str) -> None:
    """The same checks on a single morning of three slots, where staff changes of seats,
    slot length and blocked time keep meeting bookings of the same few slots."""
    run_in_db(database_url, lambda: asyncio.sleep(0))

    @settings(_examples(backend), max_examples=FOCUSED[backend.name])
    @given(ops=st.lists(staff_and_residents, min_size=4, max_size=20))
    def property_holds(ops: list[tuple[Any, ...]]) -> None:
        _run(database_url, one_morning, ops)

    property_holds()


@pytest.mark.parametrize("seats_after", [1, 2])
@pytest.mark.anyio
async def test_fewer_seats_refuse_bookings_beyond_the_new_count(
    database_url: str, seats_after: int
) -> None:
    """Staff lower the seats of a slot already holding 2 of 3: no further booking fits."""
    world = World(False, {1: [(9 * 60, 12 * 60)]}, [], Policy(50, 10, 3))

    async with db.database(database_url):
        rid = await _resource(world)
        run = Run(desk(database_url), rid, False)
        nine = int(dt.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI).timestamp())
        for _ in range(2):
            await run._book(nine, {nine: 1})
        await BookingPolicy.filter(resource_id=rid).update(seats=seats_after)
        with pytest.raises(Conflict, match="full"):
            await run.desk.book(BookingIn(resource_id=rid, starts_at=run.at(nine)), now=START)
        assert await run.holding(run.at(nine)) == 2
        await run.check()
