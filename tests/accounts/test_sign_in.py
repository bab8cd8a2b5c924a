"""Sign-in under pressure (#15): a lockout that holds under parallel guesses, argon2 off the
event loop a few at a time, refusals logged without the password."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from resourcemap import accounts, passwords
from resourcemap.errors import Forbidden
from resourcemap.models import Account
from resourcemap.vocab import Role
from tests.conftest import TEST_NOW
from tests.factories import run_in_db

# Parallel guesses overlap as long as a real check takes: argon2 at the product's cost.
pytestmark = pytest.mark.real_password_cost

PASSWORD = "correct-horse-9"
GUESSES = 40


async def _make_account() -> int:
    account = await accounts.create_account(
        None, username="target", password=PASSWORD, role=Role.PLANNER
    )
    return account.id


def _counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the hash of every argon2 check (the account's or a dummy one)."""
    checked: list[str] = []
    real = passwords._verify_now

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "_verify_now", counting)
    return checked


def test_forty_parallel_wrong_passwords_lock_the_account(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = _counting_checks(monkeypatch)

    async def attack() -> tuple[list[BaseException | None], Account, bool]:
        account_id = await _make_account()

        async def guess(n: int) -> BaseException | None:
            try:
                await accounts.authenticate("target", f"guess-{n:03d}x", now=TEST_NOW)
            except Forbidden as exc:
                return exc
            return None

        outcomes = await asyncio.gather(*(guess(n) for n in range(GUESSES)))
        account = await Account.get(id=account_id)
        try:
            await accounts.authenticate("target", PASSWORD, now=TEST_NOW + dt.timedelta(minutes=1))
        except Forbidden:
            let_in = False
        else:
            let_in = True
        return list(outcomes), account, let_in

    outcomes, account, let_in = run_in_db(database_url, attack)
    assert all(isinstance(o, Forbidden) for o in outcomes)
    # Only the account's five tries reached the password; the rest were refused unread.
    assert len(checked) == GUESSES + 1  # every refusal costs one check, the last one too
    assert checked.count(account.password_hash) == accounts.MAX_FAILED_LOGINS
    assert account.locked_until is not None and account.locked_until > TEST_NOW
    assert not let_in, "the right password got in while the account was locked"


def test_the_lock_lifts_after_its_time(database_url: str) -> None:
    async def scenario() -> str:
        await _make_account()
        for n in range(accounts.MAX_FAILED_LOGINS):
            with pytest.raises(Forbidden):
                await accounts.authenticate("target", f"wrong-{n}x", now=TEST_NOW)
        later = TEST_NOW + accounts.LOCKOUT + dt.timedelta(seconds=1)
        return (await accounts.authenticate("target", PASSWORD, now=later)).username

    assert run_in_db(database_url, scenario) == "target"


def test_a_right_password_after_four_wrong_ones_gets_in_and_resets_the_count(
    database_url: str,
) -> None:
    async def scenario() -> int:
        account_id = await _make_account()
        for n in range(accounts.MAX_FAILED_LOGINS - 1):
            with pytest.raises(Forbidden):
                await accounts.authenticate("target", f"wrong-{n}x", now=TEST_NOW)
        await accounts.authenticate("target", PASSWORD, now=TEST_NOW)
        failures: int = (await Account.get(id=account_id)).failed_logins
        return failures

    assert run_in_db(database_url, scenario) == 0


def test_argon2_runs_in_worker_threads_a_few_at_a_time(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = 0
    most = 0
    threads: set[int] = set()
    guard = threading.Lock()

    def slow_check(password_hash: str, password: str) -> bool:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        time.sleep(0.05)  # stands for argon2's third of a second
        with guard:
            running -= 1
        return False

    monkeypatch.setattr(passwords, "_verify_now", slow_check)
    passwords.set_concurrency(2)

    async def rush() -> tuple[int, int]:
        await _make_account()
        loop_thread = threading.get_ident()
        ticks = 0

        async def heartbeat(stop: asyncio.Event) -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        async def attempt(name: str) -> None:
            with pytest.raises(Forbidden):
                await accounts.authenticate(name, "some-wrong-pass-1", now=TEST_NOW)

        stop = asyncio.Event()
        beat = asyncio.create_task(heartbeat(stop))
        names = ["nobody"] * 6 + ["target"] * 2
        await asyncio.gather(*(attempt(n) for n in names))
        stop.set()
        await beat
        return loop_thread, ticks

    try:
        loop_thread, ticks = run_in_db(database_url, rush)
    finally:
        passwords.set_concurrency(passwords.DEFAULT_CONCURRENCY)
    assert loop_thread not in threads, "a password was hashed on the event loop"
    assert most == 2, f"{most} hashes at once; the limit is 2"
    # Eight checks of 50 ms, two at a time: 200 ms during which the loop kept answering.
    assert ticks >= 10


def test_refusals_are_logged_with_name_and_address_never_the_password(
    database_url: str, make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    run_in_db(database_url, _make_account)
    caplog.set_level(logging.WARNING, logger="resourcemap.accounts")
    with make_client(database_url) as client:
        for n in range(accounts.MAX_FAILED_LOGINS):
            body = {"username": "target", "password": f"secret-guess-{n}"}
            assert client.post("/api/v1/session", json=body).status_code == 403
        body = {"username": "ghost", "password": "secret-guess-x"}
        assert client.post("/api/v1/session", json=body).status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "resourcemap.accounts"]
    failed = [line for line in lines if "sign-in failed" in line]
    assert len(failed) == accounts.MAX_FAILED_LOGINS + 1
    assert all("address=testclient" in line for line in failed)
    assert any("user='ghost'" in line for line in failed)
    assert any("account locked" in line and "user='target'" in line for line in lines)
    assert not any("secret-guess" in line for line in caplog.text.splitlines())
