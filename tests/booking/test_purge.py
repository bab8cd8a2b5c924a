"""Privacy at rest: nothing readable in the raw rows, purge after the retention period,
key rotation, and the commands that do them."""

from __future__ import annotations

import datetime as dt
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from resourcemap import db
from resourcemap.booking.desk import Desk
from resourcemap.booking.purge import purge
from resourcemap.booking.requests import BookingIn
from resourcemap.cli import main
from resourcemap.contact import identities
from resourcemap.models import Booking, Notification, WaitlistEntry
from resourcemap.vault import Vault, generate_key
from resourcemap.vocab import BookingStatus
from tests.conftest import make_settings
from tests.factories import invoke, run_in_db
from tests.notify_helpers import (
    CONTACT,
    DAY_AFTER_9,
    EMAIL,
    NICKNAME,
    NOTE,
    NOW,
    PHONE,
    TOMORROW_9,
    book,
    bookable_room,
    raw_rows,
    wait_for_seat,
)

# The outcome depends on the date or time of day: CI reruns these under faked clocks.
pytestmark = pytest.mark.clock

RETENTION = 180
# The 09:00 slot ends at 09:50.
ENDED = TOMORROW_9 + dt.timedelta(minutes=50)
PLAINTEXT = (PHONE, EMAIL, NICKNAME, NOTE)


@pytest.mark.anyio
async def test_request_fingerprints_are_keyed_and_purged_with_the_contacts(
    database_url: str,
) -> None:
    """The fingerprint behind an Idempotency-Key names the phone number: stored as a plain
    SHA-256 it was reversed by trying every number. It is an HMAC under a key derived from
    the data keys (never in the database), and purge clears it."""
    settings = make_settings(database_url)
    candidates = [f"138{n:08d}" for n in range(12345670, 12345690)]
    assert PHONE in candidates

    def request(room: int, phone: str = PHONE) -> BookingIn:
        return BookingIn(resource_id=room, starts_at=TOMORROW_9, **{**CONTACT, "phone": phone})

    async with db.database(database_url):
        room = await bookable_room(seats=1)
        await Desk(settings).book(request(room), now=NOW, idempotency_key="k-1")
        rows = await raw_rows()
        stored = (await Booking.get(resource_id=room)).request_hash
        await purge(ENDED + dt.timedelta(days=RETENTION + 1), RETENTION)
        after = (await Booking.get(resource_id=room)).request_hash
    # An attacker holding the rows tries the plain digest of every candidate request: none
    # is there.
    plain = [
        sha256(request(room, phone).fingerprint().encode()).hexdigest() for phone in candidates
    ]
    assert stored and not any(digest in rows for digest in plain)
    # The vault, which holds the key, recognises the request: a retry is a replay.
    assert Vault.from_settings(settings).digest_matches(request(room).fingerprint(), stored)
    assert not Vault([generate_key()]).digest_matches(request(room).fingerprint(), stored)
    assert after == ""


@pytest.mark.anyio
async def test_purge_clears_contact_details_after_the_retention_period_only(
    database_url: str,
) -> None:
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room(seats=1)
        old = await book(settings, room, TOMORROW_9, **CONTACT)
        waiting = await wait_for_seat(settings, room, TOMORROW_9, phone=PHONE, nickname=NICKNAME)
        newer = await book(settings, room, DAY_AFTER_9, **CONTACT)

        # The raw rows never hold the contact details in plain text.
        rows = await raw_rows()
        for text in (*PLAINTEXT, old.token, waiting.token):
            assert text not in rows

        # Staff's free-text reason may name the resident: it goes too.
        await Booking.filter(code=old.code).update(cancel_reason=f"{NICKNAME}本人来电改期")

        # Kept until the retention period has passed since the slot ended.
        kept = await purge(ENDED + dt.timedelta(days=RETENTION - 1), RETENTION)
        assert (kept.bookings, kept.waitlist_entries, kept.notifications) == (0, 0, 0)
        assert (await Booking.get(code=old.code)).phone_enc is not None

        after = ENDED + dt.timedelta(days=RETENTION, minutes=1)
        counted = await purge(after, RETENTION, dry_run=True)
        assert (counted.bookings, counted.waitlist_entries, counted.notifications) == (1, 1, 2)
        assert (await Booking.get(code=old.code)).phone_enc is not None  # dry run

        done = await purge(after, RETENTION)
        assert (done.bookings, done.waitlist_entries, done.notifications) == (1, 1, 2)
        gone = await Booking.get(code=old.code)
        assert (gone.nickname_enc, gone.phone_enc, gone.email_enc, gone.note_enc) == (None,) * 4
        assert gone.purged_at == after and gone.cancel_reason == ""
        assert gone.status is BookingStatus.CONFIRMED  # counts stay for planners
        entry = await WaitlistEntry.get(code=waiting.code)
        assert (entry.nickname_enc, entry.phone_enc, entry.purged_at) == (None, None, after)
        cleared = await Notification.filter(booking_id=gone.id)
        assert len(cleared) == 2
        assert all(n.address_enc is None and n.body_enc is None for n in cleared)

        # The later booking is still within its period.
        later = await Booking.get(code=newer.code)
        assert later.phone_enc is not None and later.purged_at is None
        assert await Notification.filter(booking_id=later.id, address_enc__isnull=False).count()
        assert await Booking.all().count() == 2

        again = await purge(after, RETENTION)
        assert (again.bookings, again.waitlist_entries, again.notifications) == (0, 0, 0)


@pytest.mark.anyio
async def test_purge_command(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A booking of a month before the command's clock (RESOURCEMAP_FIXED_NOW).
    past = NOW - dt.timedelta(days=29)
    settings = make_settings(database_url)

    async with db.database(database_url):
        room = await bookable_room()
        issued = await book(
            settings, room, past + dt.timedelta(days=1, hours=1), now=past, **CONTACT
        )
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("RESOURCEMAP_BOOKING_RETENTION_DAYS", "1")
    monkeypatch.setenv("RESOURCEMAP_FIXED_NOW", NOW.isoformat())
    dry = await invoke("purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would purge contact details of 1 bookings, 0 waitlist entries and 2 notif" in dry.output
    done = await invoke("purge")
    assert done.exit_code == 0, done.output
    assert "purged contact details of 1 bookings" in done.output

    async with db.database(database_url):
        assert (await Booking.get(code=issued.code)).phone_enc is None


@pytest.mark.anyio
async def test_rotate_keys_re_encrypts_everything_with_the_new_key(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key, new_key = generate_key(), generate_key()
    settings = make_settings(database_url, data_keys=old_key)

    async with db.database(database_url):
        room = await bookable_room(seats=1)
        issued = await book(settings, room, TOMORROW_9, **CONTACT)
        await wait_for_seat(settings, room, TOMORROW_9, email=EMAIL, note=NOTE)
        # A seat offered from the waitlist is written without contact digests, on purpose
        # (outside the cap): rotating must not give it some.
        offered = await book(settings, room, DAY_AFTER_9, **CONTACT)
        await Booking.filter(code=offered.code).update(phone_key="", email_key="")
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("RESOURCEMAP_DATA_KEYS", f"{new_key},{old_key}")
    result = await invoke("rotate-keys")
    assert result.exit_code == 0, result.output
    # Bookings: 2 × (token and four details); waitlist: token, e-mail, note; 4 × (address,
    # body) of the notifications sent.
    assert "re-encrypted 21 values with the first key; 0 already used it" in result.output
    assert "made 1 bookings' contact digests anew" in result.output

    async with db.database(database_url):
        booking = await Booking.get(code=issued.code)
        entry = await WaitlistEntry.get()
        sent = await Notification.all()
    old_only, new_only = Vault([old_key]), Vault([new_key])
    values = [
        booking.token_enc,
        booking.phone_enc,
        booking.email_enc,
        booking.nickname_enc,
        booking.note_enc,
        entry.token_enc,
        entry.email_enc,
        entry.note_enc,
        *(n.address_enc for n in sent),
        *(n.body_enc for n in sent),
    ]
    for value in values:
        assert value is not None
        with pytest.raises(RuntimeError):
            old_only.open(value)
        new_only.open(value)
    assert new_only.open(booking.phone_enc or "") == PHONE
    assert new_only.open(entry.note_enc or "") == NOTE
    # What the per-contact cap counts is under the new key too: with OLD gone, the number's
    # bookings made before still count (they stopped counting, and the cap let more in).
    holder = dict(i.split(":", 1) for i in identities(PHONE, EMAIL))
    assert booking.phone_key == new_only.digest("phone:" + holder["phone"])
    assert booking.email_key == new_only.digest("email:" + holder["email"])
    async with db.database(database_url):
        offer = await Booking.get(code=offered.code)
    assert (offer.phone_key, offer.email_key) == ("", "")

    again = await invoke("rotate-keys")
    assert again.exit_code == 0, again.output
    assert "re-encrypted 0 values with the first key; 21 already used it" in again.output
    assert "digests anew" not in again.output

    # A key dropped too early: the values it encrypted are reported, not touched.
    monkeypatch.setenv("RESOURCEMAP_DATA_KEYS", generate_key())
    lost = await invoke("rotate-keys")
    assert lost.exit_code == 1
    assert "21 values cannot be decrypted with any configured key" in lost.output
    assert "Traceback" not in lost.output


def test_keygen_prints_a_fernet_key() -> None:
    result = CliRunner().invoke(main, ["keygen"])
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())


def test_key_commands_explain_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESOURCEMAP_DATABASE_URL", f"sqlite://{tmp_path / 'new.sqlite3'}")
    monkeypatch.delenv("RESOURCEMAP_DATA_KEYS", raising=False)
    monkeypatch.delenv("RESOURCEMAP_SECRET_KEY", raising=False)
    # Development without keys: the generated ones (then: no booking tables to rotate yet).
    result = CliRunner().invoke(main, ["rotate-keys"])
    assert result.exit_code == 1
    assert "using the development data key" in result.output
    assert "run `resourcemap migrate` first" in result.output
    monkeypatch.setenv("RESOURCEMAP_DATA_KEYS", "not-a-key")
    result = CliRunner().invoke(main, ["rotate-keys"])
    assert result.exit_code == 1
    assert "RESOURCEMAP_DATA_KEYS: " in result.output and "keygen" in result.output
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    monkeypatch.delenv("RESOURCEMAP_DATA_KEYS")
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 1
    assert "run `resourcemap migrate` first" in result.output


def test_a_data_key_that_opens_nothing_is_said_at_start_and_on_each_failure(
    database_url: str, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Served with another install's data key, a booking's page failed with a 500 whose log
    line said only "unhandled RuntimeError": now the start and each failure say which
    setting to look at, and never the value."""
    settings = make_settings(database_url, data_keys=generate_key())

    async def booked() -> Any:
        return await book(settings, await bookable_room(seats=1), TOMORROW_9, **CONTACT)

    issued = run_in_db(database_url, booked)
    with make_client(database_url, data_keys=generate_key()) as client:
        started = caplog.text
        page = client.get(f"/api/v1/bookings/{issued.code}", params={"token": issued.token})
    assert "the newest booking cannot be decrypted with RESOURCEMAP_DATA_KEYS" in started
    assert page.status_code == 500
    assert "is the key that sealed it missing from RESOURCEMAP_DATA_KEYS?" in caplog.text
    assert PHONE not in caplog.text and issued.token not in caplog.text
