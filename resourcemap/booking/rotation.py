"""Re-encrypting every stored contact detail with the first data key (``resourcemap
rotate-keys``).

Rotating the data keys, with no downtime:

1. ``resourcemap keygen`` prints a new key, NEW.
2. Set ``RESOURCEMAP_DATA_KEYS=NEW,OLD`` for every app process and worker and restart them:
   new values are encrypted with NEW, old ones still decrypt with OLD.
3. ``resourcemap rotate-keys`` re-encrypts, in batches, every value not yet under NEW. It is
   safe while the app serves and safe to repeat: a second run finds nothing to do.
4. Set ``RESOURCEMAP_DATA_KEYS=NEW`` and restart; then destroy OLD. Database backups taken
   before step 3 can only be read with OLD: keep it as long as you keep them.

A booking's keyed digests of its phone number and e-mail address (what the per-contact
cap counts) are made anew under NEW in step 3 too: left under OLD, a resident's bookings
made before the rotation stopped counting at step 4, and one number held more upcoming
bookings than the cap. The digest of a network address cannot be made anew (the address is
kept nowhere else): the per-address cap counts the bookings made since the rotation.

A row changed while it is being rotated is left as the change wrote it (the update is
conditional on the old ciphertext), and a value no key can decrypt is counted, not touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from tortoise.exceptions import BaseORMException
from tortoise.models import Model
from tortoise.transactions import in_transaction

from resourcemap.booking.reserve import contact_keys
from resourcemap.errors import Unavailable
from resourcemap.models import Booking, FeedbackAnswer, Notification, Referral, WaitlistEntry
from resourcemap.vault import Undecryptable, Vault

BATCH = 500
PERSONAL = ("token_enc", "nickname_enc", "phone_enc", "email_enc", "note_enc")
ENCRYPTED: dict[type[Model], tuple[str, ...]] = {
    Booking: PERSONAL,
    WaitlistEntry: PERSONAL,
    Notification: ("address_enc", "body_enc"),
    # Referrals and feedback comments (#23); a purged referral's token is "" (nothing to do).
    Referral: ("token_enc", "reason_enc", "nickname_enc", "phone_enc", "email_enc"),
    FeedbackAnswer: ("comment_enc",),
}
# Digests of a holder's contact details, kept beside them (``reserve.holder_keys``).
HOLDER_DIGESTS: dict[type[Model], tuple[str, ...]] = {Booking: ("phone_key", "email_key")}


@dataclass
class Rotated:
    rotated: int = 0  # values re-encrypted with the first key
    current: int = 0  # values already under the first key
    changed: int = 0  # rows changed by someone else meanwhile (left to the next run)
    unreadable: int = 0  # values no configured key decrypts
    rekeyed: int = 0  # bookings whose contact digests were made anew under the first key


async def rotate_keys(vault: Vault, *, batch: int = BATCH) -> Rotated:
    done = Rotated()
    for model, encrypted in ENCRYPTED.items():
        columns = (*encrypted, *HOLDER_DIGESTS.get(model, ()))
        # Keys are integers, or random UUIDs (feedback answers): paged from the start.
        last: Any = None
        while (
            rows := await (model.all() if last is None else model.filter(id__gt=last))
            .order_by("id")
            .limit(batch)
            .values_list("id", *columns)
        ):
            last = rows[-1][0]
            async with in_transaction(model._meta.default_connection):
                for row_id, *values in rows:
                    old = dict(zip(columns, values, strict=True))
                    await _rotate_row(vault, model, row_id, old, encrypted, done)
    return done


async def _rotate_row(
    vault: Vault,
    model: type[Model],
    row_id: Any,
    old: dict[str, str | None],
    encrypted: tuple[str, ...],
    done: Rotated,
) -> None:
    new: dict[str, str] = {}
    for column in encrypted:
        value = old[column]
        if not value:
            continue
        if vault.is_current(value):
            done.current += 1
            continue
        try:
            new[column] = vault.rotate(value)
        except InvalidToken:
            done.unreadable += 1
    digests = _holder_digests(vault, old) if model in HOLDER_DIGESTS else {}
    # Only digests the booking has: a waitlist offer's or a referral's are left empty on
    # purpose (outside the cap), and filling them in made them count.
    stale = {column: v for column, v in digests.items() if old[column] and old[column] != v}
    if not new and not stale:
        return
    unchanged = {column: old[column] for column in (*new, *stale)}
    if await model.filter(id=row_id, **unchanged).update(**new, **stale):
        done.rotated += len(new)
        done.rekeyed += bool(stale)
    else:
        done.changed += 1


def _holder_digests(vault: Vault, old: dict[str, str | None]) -> dict[str, str]:
    """The booking's contact digests under the first key, made from its contact details as
    a booking makes them; none when a detail cannot be read (counted as unreadable)."""
    try:
        phone, email = (vault.open_optional(old[c]) for c in ("phone_enc", "email_enc"))
    except Undecryptable:
        return {}
    return contact_keys(vault, phone, email)


async def newest_readable(vault: Vault) -> bool | None:
    """Whether the newest booking's sealed token opens with the configured keys (None: no
    booking yet, or no database to ask: a database down or not migrated at start is the
    concern of what starts later). Checked at start: with the wrong keys every page showing
    a booking failed, and nothing said why."""
    try:
        sealed = await Booking.all().order_by("-id").first().values_list("token_enc", flat=True)
    except (Unavailable, BaseORMException):
        return None
    if not sealed:
        return None
    try:
        vault.open(str(sealed))
    except Undecryptable:
        return False
    return True
