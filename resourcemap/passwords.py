"""Passwords: argon2 hashes, made and checked in worker threads, a few at a time.

An argon2 hash costs about a third of a second of CPU and 64 MB. Done on the event loop, 20
sign-ins held every other request of the process (a health check waited 17 s, #15); done in
unbounded threads they would take all memory. So each hash runs in a worker thread and at
most ``concurrency`` of them at once per process (``RESOURCEMAP_PASSWORD_HASH_CONCURRENCY``);
the rest wait their turn without blocking anything else.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

import anyio.to_thread
from anyio import CapacityLimiter
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from resourcemap.errors import InvalidInput
from resourcemap.said import N_

MIN_LENGTH = 10
# Hashing cost grows with length: refuse absurd inputs before they reach argon2.
MAX_LENGTH = 256
DEFAULT_CONCURRENCY = 2
_HASHER = PasswordHasher()
_concurrency = DEFAULT_CONCURRENCY
# One limiter per event loop: a limiter belongs to the loop that first waits on it (tests
# and commands run several loops in one process).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def set_concurrency(hashes: int) -> None:
    """At most ``hashes`` argon2 computations at once in this process (the app sets it)."""
    global _concurrency
    _concurrency = max(1, hashes)
    _limiters.clear()


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(_concurrency)
    return limiter


_dummy: list[str] = []
_dummy_lock = threading.Lock()


def _dummy_hash() -> str:
    """Verified when there is no account to check against, so that a wrong name costs as
    long as a wrong password. Made on first use, not at import (#16), and once: parallel
    first sign-ins in worker threads wait for the one that makes it."""
    with _dummy_lock:
        if not _dummy:
            _dummy.append(_HASHER.hash("not-a-real-password"))
        return _dummy[0]


def _verify_now(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_HASHER.hash, password, limiter=_limiter())


async def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` checks against a dummy hash (same cost)."""
    matched = await anyio.to_thread.run_sync(
        _verify_in_thread, password_hash, password, limiter=_limiter()
    )
    return matched and password_hash is not None


def _verify_in_thread(password_hash: str | None, password: str) -> bool:
    # The dummy hash is made here too, not on the event loop, the first time it is needed.
    return _verify_now(_dummy_hash() if password_hash is None else password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def check_strength(password: str) -> None:
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            N_("password must have at most %(n)s characters", n=MAX_LENGTH), field="password"
        )
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            N_("password must have at least %(n)s characters", n=MIN_LENGTH), field="password"
        )
    if password.isdigit() or password.isalpha():
        raise InvalidInput(N_("password must mix letters with digits or symbols"), field="password")
