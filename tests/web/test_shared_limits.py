"""Four app processes keep one limit (#22): sign-in attempts from one address, counted in the
database by default and in a real Redis server when ``RESOURCEMAP_REDIS_URL`` is set.

A limit kept in each process's memory would let four processes pass four times the limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

import httpx2
import pytest

from tests.load_helpers import client, gather_all, running_server
from web.limits import SIGN_IN_PER_MINUTE

pytestmark = pytest.mark.load

ATTEMPTS = 3 * SIGN_IN_PER_MINUTE
# Mid-window, and the same for every process: the count cannot roll over during the test.
FIXED_NOW = dt.datetime(2026, 12, 1, 2, 0, 30, tzinfo=dt.UTC)


async def _sign_in(http: httpx2.AsyncClient, k: int) -> int:
    # Unknown names: no account is locked, so only the address limit can refuse.
    answer = await http.post("/api/v1/session", json={"username": f"nobody{k}", "password": "x"})
    return answer.status_code


async def _attempts(base_url: str) -> Counter[int]:
    async with client(base_url, ATTEMPTS) as http:
        return Counter(await gather_all(*(_sign_in(http, k) for k in range(ATTEMPTS))))


@pytest.mark.parametrize("store", ["database", "redis"])
def test_four_app_processes_let_one_address_sign_in_only_as_often_as_one_would(
    database_url: str, store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    settings = {"fixed_now": FIXED_NOW.isoformat()}
    if store == "redis":
        settings["redis_url"] = str(request.getfixturevalue("redis_url"))
    with running_server(database_url, tmp_path, workers=4, **settings) as server:
        answers = asyncio.run(_attempts(server.base_url))
    # Wrong name or password (403) for the first ten, "wait a minute" (429) for the rest.
    assert answers == Counter({403: SIGN_IN_PER_MINUTE, 429: ATTEMPTS - SIGN_IN_PER_MINUTE})
