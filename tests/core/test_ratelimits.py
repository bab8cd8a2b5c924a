"""Rate limits shared by every app process (#22): counted atomically in the database, or in a
real Redis server when ``RESOURCEMAP_REDIS_URL`` is set — with N processes a limit is
still the limit."""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import socket
from collections.abc import Callable
from typing import Any

import pytest

from resourcemap.errors import TooManyRequests, Unavailable
from resourcemap.models import RateCount
from resourcemap.ratelimits import DatabaseCounts, RedisCounts, SharedRateLimiter, WindowCounts
from tests.factories import run_in_db

T0 = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)  # a window start for a 60 s window


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """Which store counts, and the Redis URL when it is Redis."""
    if request.param == "redis":
        return "redis", str(request.getfixturevalue("redis_url"))
    return "database", None


def counts_of(store: tuple[str, str | None]) -> WindowCounts:
    """A new store object, as each process makes its own."""
    _, url = store
    return RedisCounts(url) if url else DatabaseCounts()


def limiter(counts: WindowCounts, limit: int = 3) -> SharedRateLimiter:
    return SharedRateLimiter("test", limit, 60, "slow down", counts)


async def allowed(lim: SharedRateLimiter, key: str, at: dt.datetime, tries: int) -> int:
    passed = 0
    for _ in range(tries):
        try:
            await lim.hit(key, now=at)
        except TooManyRequests as exc:
            assert exc.reason == "slow down"
            assert 1 <= exc.retry_after <= 60
        else:
            passed += 1
    return passed


def test_the_limit_holds_per_key_and_a_later_window_starts_afresh(
    database_url: str, store: tuple[str, str | None]
) -> None:
    async def scenario() -> list[int]:
        first, second = counts_of(store), counts_of(store)
        one, other = limiter(first), limiter(second)  # two processes' limiters: one count
        try:
            return [
                await allowed(one, "a", T0, 2) + await allowed(other, "a", T0, 5),
                await allowed(one, "b", T0, 5),  # another key has its own count
                # 30 s into the next window, half the earlier window still counts: 3 − ⌈1.5⌉.
                await allowed(one, "a", T0 + dt.timedelta(seconds=90), 5),
                await allowed(one, "a", T0 + dt.timedelta(seconds=240), 5),  # long after
            ]
        finally:
            await first.close()
            await second.close()

    assert run_in_db(database_url, scenario) == [3, 3, 1, 3]


def test_the_database_counts_in_its_table_and_redis_in_its_own(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> tuple[int, int, int]:
        redis = RedisCounts(redis_url)
        try:
            in_redis = await allowed(limiter(redis), "a", T0, 5)
            in_table = await allowed(limiter(DatabaseCounts()), "a", T0, 5)
            counted = sum(r.count for r in await RateCount.filter(key="test:a"))
            return in_redis, in_table, counted
        finally:
            await redis.close()

    # Two stores, two counts: a deployment uses one (RESOURCEMAP_REDIS_URL or not).
    assert run_in_db(database_url, scenario) == (3, 3, 3)


def test_no_limit_counts_nothing(database_url: str) -> None:
    async def scenario() -> tuple[int, int]:
        passed = await allowed(limiter(DatabaseCounts(), 0), "a", T0, 50)
        return passed, await RateCount.all().count()

    assert run_in_db(database_url, scenario) == (50, 0)


def _process(url: str, redis: str | None, tries: int) -> int:
    async def scenario() -> int:
        counts = RedisCounts(redis) if redis else DatabaseCounts()
        try:
            return await allowed(limiter(counts, 7), "shared", T0, tries)
        finally:
            await counts.close()

    return int(run_in_db(url, scenario))


@pytest.mark.load
def test_four_processes_together_never_pass_more_than_the_limit(
    database_url: str, store: tuple[str, str | None]
) -> None:
    run_in_db(database_url, lambda: RateCount.all().count())  # the schema, before they start
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        passed = pool.starmap(_process, [(database_url, store[1], 10)] * 4)
    assert sum(passed) == 7


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


def test_an_unreachable_redis_refuses_with_503_instead_of_letting_requests_through(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"

    async def hit() -> None:
        counts = RedisCounts(url)
        try:
            await limiter(counts).hit("a", now=T0)
        finally:
            await counts.close()

    with pytest.raises(Unavailable, match="cannot be counted"):
        asyncio.run(hit())
    with make_client(database_url, redis_url=url) as client:
        answer = client.post("/api/v1/session", json={"username": "nobody", "password": "x"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "limits cannot be counted" in answer.text
