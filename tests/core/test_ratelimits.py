"""Rate limits shared by every app process (#22): counted in the database, atomically."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import pytest

from resourcemap.errors import TooManyRequests
from resourcemap.models import RateCount
from resourcemap.ratelimits import SharedRateLimiter
from tests.factories import run_in_db

T0 = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)  # a window start for a 60 s window


def limiter(limit: int = 3) -> SharedRateLimiter:
    return SharedRateLimiter("test", limit, 60.0, "slow down")


async def allowed(lim: SharedRateLimiter, key: str, at: dt.datetime, tries: int) -> int:
    passed = 0
    for _ in range(tries):
        try:
            await lim.hit(key, now=at)
        except TooManyRequests as exc:
            assert exc.reason == "slow down"
        else:
            passed += 1
    return passed


def test_the_limit_holds_per_key_and_a_later_window_starts_afresh(database_url: str) -> None:
    async def scenario() -> list[int]:
        one, other = limiter(), limiter()  # two processes' limiters: one count
        return [
            await allowed(one, "a", T0, 2) + await allowed(other, "a", T0, 5),
            await allowed(one, "b", T0, 5),  # another key has its own count
            # 30 s into the next window, half the earlier window still counts: 3 − ⌈1.5⌉.
            await allowed(one, "a", T0 + dt.timedelta(seconds=90), 5),
            await allowed(one, "a", T0 + dt.timedelta(seconds=240), 5),  # long after
            await RateCount.filter(key="test:a").count(),
        ]

    assert run_in_db(database_url, scenario) == [3, 3, 1, 3, 3]


def test_no_limit_counts_nothing(database_url: str) -> None:
    async def scenario() -> tuple[int, int]:
        return await allowed(limiter(0), "a", T0, 50), await RateCount.all().count()

    assert run_in_db(database_url, scenario) == (50, 0)


def _process(url: str, tries: int) -> int:
    return int(run_in_db(url, lambda: allowed(limiter(7), "shared", T0, tries)))


@pytest.mark.load
def test_four_processes_together_never_pass_more_than_the_limit(database_url: str) -> None:
    run_in_db(database_url, lambda: RateCount.all().count())  # the schema, before they start
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        passed = pool.starmap(_process, [(database_url, 10)] * 4)
    assert sum(passed) == 7
    assert run_in_db(database_url, lambda: RateCount.get(key="test:shared")).count == 7
