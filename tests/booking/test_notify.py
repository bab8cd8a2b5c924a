"""Notifications: real SMTP and HTTP receivers, signatures, retries, one send per message,
reminders, the worker loop, and no personal data in the logs."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from pydantic import ValidationError

from resourcemap import db
from resourcemap.booking import outbox
from resourcemap.booking.desk import Desk
from resourcemap.booking.dispatch import LEASE, Dispatcher, backoff, message_id
from resourcemap.booking.senders import (
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    SendError,
    build_senders,
)
from resourcemap.booking.worker import running_worker
from resourcemap.cli import main
from resourcemap.clock import FixedClock
from resourcemap.logs import configure
from resourcemap.models import Booking, Notification, Slot
from resourcemap.vault import Vault
from resourcemap.vocab import BookingStatus, NotificationKind, NotificationStatus
from tests.conftest import KEY_ENV, Backend, _free_port, make_settings
from tests.factories import invoke
from tests.notify_helpers import (
    BOOKED_EARLIER,
    CONTACT,
    CST,
    DAY_AFTER_9,
    EMAIL,
    NICKNAME,
    NOTE,
    NOW,
    PHONE,
    TOMORROW_9,
    TOMORROW_10,
    Recorder,
    book,
    bookable_room,
)

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

SECRET = "gateway-shared-secret-0123456789"


# ---------------------------------------------------------------------- receivers


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse = 0  # answer this many messages "try again later" (after reading them)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        if self.refuse:
            self.refuse -= 1
            return "451 try again later"
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class Gateway:
    """A local SMS gateway: records each request and answers with ``status``."""

    url: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before answering, as a slow gateway would
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            # Header names are case-insensitive (urllib sends X-Resourcemap-Signature).
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def verify(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """What a gateway does with ``X-ResourceMap-Signature`` (see senders' docstring)."""
    parts = dict(item.split("=", 1) for item in headers[SIGNATURE_HEADER.lower()].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


async def notifications() -> list[Notification]:
    return await Notification.all().order_by("id")


# ---------------------------------------------------------------------- senders


@pytest.mark.anyio
async def test_smtp_sender_delivers_the_email(
    database_url: str, smtp_inbox: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    settings = make_settings(
        database_url,
        notify_senders="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="noreply@resourcemap.example",
        smtp_starttls=False,
    )

    async with db.database(database_url):
        room = await bookable_room()
        issued = await book(settings, room, email=EMAIL, phone=PHONE)
        done = await Dispatcher(settings).dispatch(NOW)
        # The phone message has no sender configured: dropped, the e-mail sent.
        assert (done.sent, done.failed) == (1, 1)
        [(recipients, message)] = inbox.received
        assert recipients == [EMAIL]
        assert message["To"] == EMAIL
        assert message["From"] == "noreply@resourcemap.example"
        assert message["Subject"] == "预约成功"  # in the language booked in: Chinese
        text = message.get_content()
        code, token = issued.code, issued.token
        assert f"{code[:4]} {code[4:]}" in text
        assert f"http://127.0.0.1:8000/bookings/{code}?token={token}" in text
        rows = await notifications()
    by_kind = {n.address_kind: n for n in rows}
    assert by_kind["email"].status is NotificationStatus.SENT
    assert by_kind["phone"].status is NotificationStatus.FAILED
    assert by_kind["phone"].last_error == "no sender configured for phone addresses"


@pytest.mark.anyio
async def test_webhook_sender_posts_signed_json(database_url: str, gateway: Gateway) -> None:
    settings = make_settings(
        database_url,
        notify_senders="webhook",
        sms_webhook_url=gateway.url,
        sms_webhook_secret=SECRET,
    )

    async with db.database(database_url):
        room = await bookable_room()
        issued = await book(settings, room, phone=PHONE)
        assert (await Dispatcher(settings).dispatch(NOW)).sent == 1
        [(headers, body)] = gateway.requests
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert verify(headers, body, SECRET)
        assert not verify(headers, body, "another secret")
        assert not verify(headers, body.replace(b"reminder", b"x") + b" ", SECRET)
        payload = json.loads(body)
        [row] = await notifications()
    code = issued.code
    assert payload["to"] == PHONE
    assert payload["kind"] == "confirmation"
    assert payload["id"] == row.id
    assert f"{code[:4]} {code[4:]}" in payload["text"]
    assert row.status is NotificationStatus.SENT and row.attempts == 1


@pytest.mark.anyio
async def test_failing_gateway_is_retried_with_backoff_and_never_undoes_the_booking(
    database_url: str, gateway: Gateway
) -> None:
    gateway.status = 500
    settings = make_settings(
        database_url,
        notify_senders="webhook",
        sms_webhook_url=gateway.url,
        sms_webhook_secret=SECRET,
    )

    async with db.database(database_url):
        room = await bookable_room()
        issued = await book(settings, room, phone=PHONE)
        assert gateway.requests == []  # booking does not wait for the gateway
        dispatcher = Dispatcher(settings, max_attempts=3)

        first = await dispatcher.dispatch(NOW)
        assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
        [row] = await notifications()
        assert row.status is NotificationStatus.PENDING
        assert row.attempts == 1
        assert row.next_attempt_at == NOW + dt.timedelta(minutes=1)
        assert row.last_error == "SMS gateway answered HTTP 500"
        assert row.claimed_until is None

        # Not due yet: nothing is sent.
        assert (await dispatcher.dispatch(NOW + dt.timedelta(seconds=59))).retrying == 0
        assert len(gateway.requests) == 1

        second = NOW + dt.timedelta(minutes=1)
        assert (await dispatcher.dispatch(second)).retrying == 1
        [row] = await notifications()
        assert row.attempts == 2
        assert row.next_attempt_at == second + dt.timedelta(minutes=2)

        third = await dispatcher.dispatch(second + dt.timedelta(minutes=2))
        assert (third.retrying, third.failed) == (0, 1)
        [row] = await notifications()
        assert row.status is NotificationStatus.FAILED
        assert row.attempts == 3
        assert PHONE not in row.last_error
        assert len(gateway.requests) == 3

        booking = await Booking.get(code=issued.code)
        assert booking.status is BookingStatus.CONFIRMED
        assert (await Slot.get(id=booking.slot_id)).taken == 1


@pytest.mark.anyio
async def test_every_attempt_of_a_message_carries_the_same_id(
    database_url: str, gateway: Gateway
) -> None:
    gateway.status = 500  # the gateway took the message but its answer says otherwise
    settings = make_settings(
        database_url,
        notify_senders="webhook",
        sms_webhook_url=gateway.url,
        sms_webhook_secret=SECRET,
    )

    async with db.database(database_url):
        room = await bookable_room(seats=2)
        await book(settings, room, phone=PHONE)
        await book(settings, room, phone=PHONE)
        dispatcher = Dispatcher(settings)
        assert (await dispatcher.dispatch(NOW)).retrying == 2
        gateway.status = 200
        assert (await dispatcher.dispatch(NOW + dt.timedelta(minutes=1))).sent == 2
        rows = await notifications()
    ids: dict[int, set[tuple[str, str, str]]] = {}
    for headers, body in gateway.requests:
        assert verify(headers, body, SECRET)  # the id in the body is signed with it
        payload = json.loads(body)
        seen = (
            headers["idempotency-key"],
            headers[MESSAGE_ID_HEADER.lower()],
            payload["message_id"],
        )
        ids.setdefault(payload["id"], set()).add(seen)
    assert sorted(ids) == [row.id for row in rows]
    # Two attempts each, one id each (header, header and body alike), different per message.
    assert len(gateway.requests) == 4
    keys = {row.id: message_id(row.id, row.created_at) for row in rows}
    assert ids == {n: {(keys[n], keys[n], keys[n])} for n in keys}
    assert len(set(keys.values())) == 2


@pytest.mark.anyio
async def test_an_email_keeps_its_message_id_across_attempts(
    database_url: str, smtp_inbox: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    inbox.refuse = 1
    settings = make_settings(
        database_url,
        notify_senders="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="noreply@resourcemap.example",
        smtp_starttls=False,
    )

    async with db.database(database_url):
        room = await bookable_room()
        await book(settings, room, email=EMAIL)
        dispatcher = Dispatcher(settings)
        assert (await dispatcher.dispatch(NOW)).retrying == 1
        assert (await dispatcher.dispatch(NOW + dt.timedelta(minutes=1))).sent == 1
        [row] = await notifications()
    expected = f"<{message_id(row.id, row.created_at)}@resourcemap.example>"
    assert [m["Message-ID"] for _, m in inbox.received] == [expected, expected]


class SlowSender:
    """Takes 50 s of the test's clock to hand a message over (longer than a lease); half
    way it lets another dispatcher try to take the same message."""

    name = "slow"
    address_kinds = frozenset({"phone"})

    def __init__(self, clock: FixedClock, rival: Dispatcher) -> None:
        self.clock = clock
        self.rival = rival
        self.rival_sent = -1
        self.sent: list[int] = []

    async def send(self, message: Any) -> None:
        for _ in range(2):
            self.clock.advance(seconds=25)
            await asyncio.sleep(0.05)  # the lease is renewed meanwhile (every 0.01 s here)
        self.rival_sent = (await self.rival.dispatch(self.clock.now())).sent
        self.sent.append(message.id)


@pytest.mark.anyio
async def test_a_claim_is_a_short_lease_renewed_while_the_message_is_sent(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    clock = FixedClock(NOW)
    rival = Recorder()

    async with db.database(database_url):
        room = await bookable_room()
        await book(settings, room, phone=PHONE)
        slow = SlowSender(clock, Dispatcher(settings, [rival]))
        dispatcher = Dispatcher(settings, [slow], clock=clock, renew_seconds=0.01)
        assert (await dispatcher.dispatch(NOW)).sent == 1
        [row] = await notifications()
    # 50 s after the claim the first 30 s lease had run out, but it was renewed: the rival
    # found nothing to send, and the message went out once.
    assert dt.timedelta(seconds=50) > LEASE
    assert slow.rival_sent == 0 and rival.sent == []
    assert slow.sent == [row.id] and row.status is NotificationStatus.SENT


def test_backoff_doubles_from_a_minute_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(30) == dt.timedelta(hours=1)


class Broken:
    name = "broken"
    address_kinds = frozenset({"phone"})

    async def send(self, message: Any) -> None:
        raise ValueError(f"cannot text {message.address}")


@pytest.mark.anyio
async def test_an_unexpected_sender_error_is_stored_by_type_only(database_url: str) -> None:
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        await book(settings, room, phone=PHONE)
        assert (await Dispatcher(settings, [Broken()]).dispatch(NOW)).retrying == 1
        [row] = await notifications()
    assert row.last_error == "ValueError"
    assert row.status is NotificationStatus.PENDING


@pytest.mark.anyio
async def test_two_dispatchers_at_once_send_each_message_once(database_url: str) -> None:
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room(seats=3)
        for start in (TOMORROW_9, TOMORROW_10):
            for _ in range(3):
                await book(settings, room, start, phone=PHONE, email=EMAIL)
        one, two = Recorder(), Recorder()
        await asyncio.gather(
            Dispatcher(settings, [one], batch=5).dispatch(NOW),
            Dispatcher(settings, [two], batch=5).dispatch(NOW),
        )
        ids = [n.id for n in await notifications()]
        assert all(n.status is NotificationStatus.SENT for n in await notifications())
    assert len(ids) == 12
    assert sorted(m.id for m in one.sent + two.sent) == ids


@pytest.mark.anyio
async def test_two_worker_processes_send_each_message_once(
    database_url: str, gateway: Gateway, tmp_path: Path
) -> None:
    """``resourcemap worker --once`` twice at the same time against one slow gateway."""
    gateway.delay = 0.02
    settings = make_settings(database_url)
    vault = Vault.from_settings(settings)
    queued_at = NOW - dt.timedelta(minutes=1)  # due at the workers' RESOURCEMAP_FIXED_NOW

    async with db.database(database_url):
        for i in range(40):
            message = outbox.Message(
                NotificationKind.CONFIRMATION, f"{i:08d}", "东湖", TOMORROW_9, "http://x/"
            )
            await outbox.enqueue(
                vault, CST, message, booking_id=None, phone=PHONE, email=None, now=queued_at
            )
        ids = [n.id for n in await notifications()]
    env = {
        **os.environ,
        "RESOURCEMAP_DATABASE_URL": database_url,
        "RESOURCEMAP_NOTIFY_SENDERS": "webhook",
        "RESOURCEMAP_SMS_WEBHOOK_URL": gateway.url,
        "RESOURCEMAP_SMS_WEBHOOK_SECRET": SECRET,
        "RESOURCEMAP_FIXED_NOW": NOW.isoformat(),
        **KEY_ENV,
    }
    command = [sys.executable, "-m", "resourcemap", "worker", "--once"]
    workers = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    received = sorted(json.loads(body)["id"] for _, body in gateway.requests)
    assert received == ids
    sent = [int(out.split("sent: ")[1].split(",")[0]) for out in outputs]
    assert sum(sent) == len(ids)


def test_senders_refuse_incomplete_settings() -> None:
    # Refused with the settings, before anything starts.
    with pytest.raises(ValidationError, match="SMTP_HOST"):
        make_settings("sqlite://x", notify_senders="smtp")
    with pytest.raises(ValidationError, match="SMS_WEBHOOK_SECRET"):
        make_settings("sqlite://x", notify_senders="webhook", sms_webhook_url="http://gw/")
    assert [s.name for s in build_senders(make_settings("sqlite://x"))] == ["log"]


def test_unreachable_gateway_is_a_send_error() -> None:
    from resourcemap.booking.senders import Outgoing, WebhookSender

    sender = WebhookSender(f"http://127.0.0.1:{_free_port()}/", SECRET, timeout=2)
    message = Outgoing(1, "rm-1", NotificationKind.REMINDER, "phone", PHONE, "s", "text")
    with pytest.raises(SendError, match="cannot reach the SMS gateway") as caught:
        asyncio.run(sender.send(message))
    assert PHONE not in str(caught.value)


# ---------------------------------------------------------------------- logs


@pytest.mark.anyio
async def test_log_sender_logs_masked_addresses_and_no_text(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    configure("debug")  # what an operator chasing a problem would do
    caplog.set_level(logging.DEBUG)
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        issued = await book(settings, room, now=BOOKED_EARLIER, **CONTACT)
        dispatcher = Dispatcher(settings)
        await dispatcher.queue_reminders(NOW)
        assert (await dispatcher.dispatch(NOW)).sent == 4
    logged = caplog.text
    assert "138****5678" in logged and "w***@example.cn" in logged
    assert "(reminder)" in logged and "(confirmation)" in logged
    for secret in (PHONE, EMAIL, NICKNAME, NOTE, issued.token, issued.code, "预约码", "东湖社区"):
        assert secret not in logged


# ---------------------------------------------------------------------- reminders


@pytest.mark.anyio
async def test_reminders_are_queued_once_and_only_for_tomorrow(database_url: str) -> None:
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        early = {"now": BOOKED_EARLIER}
        tomorrow = await book(settings, room, TOMORROW_9, phone=PHONE, email=EMAIL, **early)
        later = await book(settings, room, DAY_AFTER_9, phone=PHONE)
        cancelled = await book(settings, room, TOMORROW_10, phone=PHONE, **early)
        # Booked today for tomorrow: its confirmation told the time a moment ago.
        await book(settings, room, TOMORROW_9.replace(hour=15), phone=PHONE)
        await Desk(settings).cancel(cancelled.code, cancelled.token, now=NOW)
        await book(settings, room, TOMORROW_9.replace(hour=14))  # anonymous: nothing to send
        await Notification.all().delete()

        dispatcher = Dispatcher(settings)
        assert await dispatcher.queue_reminders(NOW) == 2
        assert await dispatcher.queue_reminders(NOW) == 0
        assert await dispatcher.queue_reminders(NOW + dt.timedelta(hours=15)) == 0
        reminders = await notifications()
        assert {n.kind for n in reminders} == {NotificationKind.REMINDER}
        assert {n.address_kind for n in reminders} == {"phone", "email"}
        booking = await Booking.get(code=tomorrow.code)
        assert {n.booking_id for n in reminders} == {booking.id}
        text = dispatcher.vault.open(reminders[0].body_enc or "")
        assert "明天" in text
        assert f"http://127.0.0.1:8000/bookings/{tomorrow.code}?token={tomorrow.token}" in text
        flags = dict(await Booking.all().values_list("code", "reminder_queued"))
        assert flags[tomorrow.code] and not flags[later.code] and not flags[cancelled.code]

        # The next day, the later booking's turn.
        assert await dispatcher.queue_reminders(NOW + dt.timedelta(days=1)) == 1


@pytest.mark.anyio
async def test_a_reminder_for_a_booking_cancelled_meanwhile_is_not_sent(database_url: str) -> None:
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        issued = await book(settings, room, phone=PHONE, now=BOOKED_EARLIER)
        recorder = Recorder()
        dispatcher = Dispatcher(settings, [recorder])
        assert await dispatcher.queue_reminders(NOW) == 1
        await Desk(settings).cancel(issued.code, issued.token, now=NOW)
        await dispatcher.dispatch(NOW)
        sent = {m.kind for m in recorder.sent}
        assert sent == {NotificationKind.CONFIRMATION, NotificationKind.CANCELLED}
        reminder = await Notification.get(kind=NotificationKind.REMINDER)
        assert reminder.status is NotificationStatus.FAILED
        assert reminder.last_error == "not sent: the booking is cancelled"


# ---------------------------------------------------------------------- worker


@pytest.mark.anyio
async def test_worker_loop_sends_and_survives_a_failing_step(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="resourcemap")
    settings = make_settings(database_url)

    async def broken(self: Dispatcher, now: dt.datetime) -> int:
        raise ValueError(f"reminder for {PHONE}")

    monkeypatch.setattr(Dispatcher, "queue_reminders", broken)

    async with db.database(database_url):
        room = await bookable_room()
        await book(settings, room, phone=PHONE)
        recorder = Recorder()
        async with running_worker(
            settings, interval=0.02, senders=[recorder], clock=FixedClock(NOW)
        ):
            for _ in range(1000):  # until the message is out (no time limit of its own)
                if recorder.sent and "queue_reminders failed" in caplog.text:
                    break
                await asyncio.sleep(0.02)
    assert [m.kind for m in recorder.sent] == [NotificationKind.CONFIRMATION]
    assert "booking worker: queue_reminders failed with ValueError" in caplog.text
    assert PHONE not in caplog.text


@pytest.mark.anyio
async def test_worker_command_runs_one_round(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A booking of a month before the command's clock (RESOURCEMAP_FIXED_NOW): due now.
    past = NOW - dt.timedelta(days=29)
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        await book(settings, room, past + dt.timedelta(days=1, hours=1), now=past, **CONTACT)
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("RESOURCEMAP_FIXED_NOW", NOW.isoformat())
    for name, value in KEY_ENV.items():
        monkeypatch.setenv(name, value)
    result = await invoke("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "sent: 2, retrying: 0, failed: 0" in result.output
    assert PHONE not in result.output


def test_worker_command_runs_until_interrupted(sqlite_backend: Backend, tmp_path: Path) -> None:
    env = {**os.environ, "RESOURCEMAP_DATABASE_URL": sqlite_backend.fresh()}
    command = [sys.executable, "-m", "resourcemap", "worker", "--interval", "0.5"]
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    try:
        seen = []
        while line := proc.stdout.readline():
            seen.append(line)
            if "Ctrl-C stops it" in line:
                break
        assert "senders log" in "".join(seen), seen
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "booking worker stopped" in rest
    assert "Traceback" not in rest


def test_worker_command_explains_bad_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'new.sqlite3'}")
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 1
    assert "no booking tables yet; run `resourcemap migrate` first" in result.output
    monkeypatch.setenv("RESOURCEMAP_NOTIFY_SENDERS", "log,smtp")
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 1
    assert "the smtp sender needs RESOURCEMAP_SMTP_HOST" in result.output
    monkeypatch.setenv("RESOURCEMAP_NOTIFY_SENDERS", "pigeon")
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 1
    assert "unknown notification senders: pigeon" in result.output
    assert "Traceback" not in result.output


@pytest.mark.anyio
async def test_vault_in_tests_is_the_derived_development_key(database_url: str) -> None:
    # The settings the tests use decrypt what the desk stored.
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        await book(settings, room, phone=PHONE)
        [row] = await notifications()
    assert Vault.from_settings(settings).open(row.address_enc or "") == PHONE
