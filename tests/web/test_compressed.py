"""Large answers are gzipped without holding up the process's other requests."""

from __future__ import annotations

import asyncio
import gzip
import random

from starlette.requests import Request

from web.compressed import THREAD_BYTES, compressed


def _request(accept: str) -> Request:
    headers = [(b"accept-encoding", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_a_large_body_is_compressed_while_other_requests_go_on() -> None:
    # A province's map document: megabytes of varied text (random enough that zlib works).
    rng = random.Random(7)
    body = "".join(f"[{rng.random():.6f},{rng.random():.6f}]," for _ in range(400_000)).encode()
    assert len(body) > 4 * THREAD_BYTES

    async def run() -> tuple[bytes, int]:
        done = asyncio.Event()
        turns = 0

        async def others() -> None:  # another request's turns on the same event loop
            nonlocal turns
            while not done.is_set():
                turns += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(others())
        await asyncio.sleep(0)
        started = turns
        response = await compressed(_request("gzip, br"), body, "text/html", {})
        done.set()
        await ticker
        return bytes(response.body), turns - started

    packed, turns = asyncio.run(run())
    assert gzip.decompress(packed) == body
    assert turns > 0, "the event loop waited for the compression"


def test_small_or_unasked_bodies_travel_as_they_are() -> None:
    async def run(body: bytes, accept: str) -> tuple[bytes, dict[str, str]]:
        response = await compressed(_request(accept), body, "application/json", {"X-A": "1"})
        return bytes(response.body), dict(response.headers)

    small, small_headers = asyncio.run(run(b"[1,2,3]", "gzip"))
    assert small == b"[1,2,3]" and "content-encoding" not in small_headers
    big = b"x" * 5000
    plain, plain_headers = asyncio.run(run(big, "identity"))
    assert plain == big and "content-encoding" not in plain_headers
    packed, packed_headers = asyncio.run(run(big, "gzip"))
    assert packed_headers["content-encoding"] == "gzip" and gzip.decompress(packed) == big
    assert packed_headers["vary"] == "Accept-Encoding" and packed_headers["x-a"] == "1"
