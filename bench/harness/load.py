"""A closed-loop HTTP load driver: a fixed number of concurrent clients for a fixed time."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
import numpy as np

MAX_FAILURES_KEPT = 20


@dataclass
class LoadResult:
    """What one run measured; latencies of successful requests only, in seconds."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failed: int = 0
    body_bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.failed

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def latency_ms(self, percentile: float) -> float:
        return float(np.percentile(self.latencies, percentile)) * 1000 if self.latencies else 0.0

    @property
    def mean_body_kb(self) -> float:
        return self.body_bytes / len(self.latencies) / 1024 if self.latencies else 0.0


def is_page(body: Any) -> bool:
    """A JSON object with a list of ``items``, as every paged API answer is."""
    return isinstance(body, dict) and isinstance(body.get("items"), list)


async def drive(
    base_url: str,
    paths: Sequence[str],
    *,
    seconds: float,
    concurrency: int,
    max_requests: int,
    valid: Callable[[Any], bool] = is_page,
) -> LoadResult:
    """GET ``paths`` in turn from ``concurrency`` clients until time or count runs out.

    A request fails unless it answers 200 with JSON that ``valid`` accepts.
    """
    result = LoadResult()
    counter = itertools.count()
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:

        async def worker(deadline: float) -> None:
            while (i := next(counter)) < max_requests and time.perf_counter() < deadline:
                path = paths[i % len(paths)]
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    elapsed = time.perf_counter() - started
                    ok = response.status_code == 200 and valid(response.json())
                    problem = f"{response.status_code} {response.text[:300]}"
                except (httpx2.HTTPError, ValueError) as exc:
                    ok, problem = False, f"{type(exc).__name__}: {exc}"
                if ok:
                    result.latencies.append(elapsed)
                    result.body_bytes += len(response.content)
                else:
                    result.failed += 1
                    if len(result.failures) < MAX_FAILURES_KEPT:
                        result.failures.append(f"GET {path} -> {problem}")

        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result
