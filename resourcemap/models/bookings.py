"""Bookings: per-resource booking rules, slots with seat counters, bookings, waitlist, outbox.

Residents' contact details live only in the ``*_enc`` columns, encrypted with the data keys
(``resourcemap.vault``), and are cleared by ``resourcemap purge`` after the retention period.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from resourcemap.models.accounts import Account
from resourcemap.models.listings import Resource
from resourcemap.vocab import (
    BookingStatus,
    Channel,
    NotificationKind,
    NotificationStatus,
    WaitlistStatus,
)


class ResidentHeld(Model):
    """What a resident holds and gave, on a booking, a waitlist entry or a referral: the code
    and the token (encrypted) that reach it, and contact details, each of which may be left
    out (anonymous booking)."""

    code = fields.CharField(max_length=12, unique=True)
    token_enc = fields.TextField()
    # Annotated: tortoise types a TextField as str even with null=True (purged rows hold None).
    nickname_enc: str | None = fields.TextField(null=True)
    phone_enc: str | None = fields.TextField(null=True)
    email_enc: str | None = fields.TextField(null=True)

    class Meta:
        abstract = True


class BookingPolicy(Model):
    """How one resource takes bookings. A resource without an enabled policy takes none.

    Slots start at each opening interval's start and follow each other every
    ``slot_minutes + buffer_minutes`` while a whole slot fits before closing. Every booking
    transaction first bumps ``lock`` on this row, which serialises the bookings of one
    resource on both databases (a row lock on PostgreSQL, the write lock on SQLite).
    """

    id = fields.IntField(primary_key=True)
    resource: fields.OneToOneRelation[Resource] = fields.OneToOneField(
        "models.Resource", related_name="booking_policy", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    enabled = fields.BooleanField(default=True)
    slot_minutes = fields.SmallIntField(default=50)
    buffer_minutes = fields.SmallIntField(default=10)
    seats = fields.SmallIntField(default=1)
    min_notice_minutes = fields.IntField(default=120)
    horizon_days = fields.SmallIntField(default=30)
    # Residents may cancel or reschedule until this long before the start.
    change_notice_minutes = fields.IntField(default=240)
    lock = fields.BigIntField(default=0)
    # Seats per slot on top of ``seats`` that only a referral can take: the green channel
    # (#23). Public bookings never see them; they are taken under the same lock.
    referral_seats = fields.SmallIntField(default=0, db_default=0)
    # Bumped by triggers (migration 0007) whenever anything the slots are cut from changes:
    # these rules, the weekly hours, exceptions, closures, blocked time, the listing. A
    # booking checked against a cached schedule is refused under the lock if it moved on.
    schedule_version = fields.BigIntField(default=0, db_default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "booking_policy"


class Slot(Model):
    """A slot someone has booked, with its seat counter.

    Rows are created on first booking. ``taken`` counts the bookings holding a seat, and the
    database refuses ``taken > capacity`` (a CHECK constraint on PostgreSQL, triggers on
    SQLite, both added by migration 0005): with the conditional increment in
    ``resourcemap.booking.desk`` no interleaving of requests or processes can overbook.
    """

    id = fields.BigIntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="slots", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    capacity = fields.SmallIntField()
    taken = fields.SmallIntField(default=0)
    # The green channel's seats of this slot, counted apart from ``capacity``/``taken`` so a
    # public booking can never take one (#23); the database refuses
    # ``referral_taken > referral_capacity`` like ``taken > capacity`` (migration 0012).
    referral_capacity = fields.SmallIntField(default=0, db_default=0)
    referral_taken = fields.SmallIntField(default=0, db_default=0)

    class Meta:
        table = "booking_slot"
        unique_together = (("resource", "starts_at"),)


class TimeBlock(Model):
    """Time staff have blocked for one resource: no slot overlapping it can be booked."""

    id = fields.IntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="time_blocks", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    reason = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "booking_time_block"
        indexes = (("resource_id", "starts_at"),)


class Booking(ResidentHeld):
    """One resident's seat in one slot. Contact details are encrypted, the token too."""

    id = fields.BigIntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="bookings", on_delete=fields.RESTRICT
    )
    resource_id: int  # the key, as tortoise sets it
    slot: fields.ForeignKeyRelation[Slot] = fields.ForeignKeyField(
        "models.Slot", related_name="bookings", on_delete=fields.RESTRICT
    )
    slot_id: int  # the key, as tortoise sets it
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    status = fields.CharEnumField(BookingStatus, max_length=16, db_index=True)
    service = fields.CharField(max_length=40, default="")
    channel = fields.CharEnumField(Channel, max_length=16)
    note_enc: str | None = fields.TextField(null=True)
    # SHA-256 of the client's Idempotency-Key and of the request it came with.
    idempotency_key = fields.CharField(max_length=64, unique=True, null=True)
    request_hash = fields.CharField(max_length=64, default="")
    # Keyed digests (``Vault.digest``) of who asked for the seat: the phone number's and the
    # e-mail address's identities and the network address. They count a holder's active
    # future bookings of a service against its cap (#15); purge clears them.
    phone_key = fields.CharField(max_length=64, default="", db_default="")
    email_key = fields.CharField(max_length=64, default="", db_default="")
    address_key = fields.CharField(max_length=64, default="", db_default="")
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="bookings_made", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None  # the key, as tortoise sets it
    cancelled_by = fields.CharField(max_length=16, default="")
    cancel_reason = fields.CharField(max_length=300, default="")
    offer_expires_at = fields.DatetimeField(null=True, db_index=True)
    # A pending booking's texted code, as a keyed digest (``Vault.digest``) bound to the
    # booking's code, and how many wrong codes were typed (#15); cleared once confirmed.
    verify_digest = fields.CharField(max_length=64, default="", db_default="")
    verify_attempts = fields.SmallIntField(default=0, db_default=0)
    # The language the resident booked in (``zh-CN``, ``en``; '' before #18): the links in
    # their messages open the pages in it.
    lang = fields.CharField(max_length=8, default="", db_default="")
    reminder_queued = fields.BooleanField(default=False)
    purged_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "booking"


class WaitlistEntry(ResidentHeld):
    """A resident waiting for a seat in a full slot, first come first offered."""

    id = fields.BigIntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="waitlist", on_delete=fields.RESTRICT
    )
    resource_id: int  # the key, as tortoise sets it
    starts_at = fields.DatetimeField(db_index=True)
    status = fields.CharEnumField(WaitlistStatus, max_length=16, db_index=True)
    service = fields.CharField(max_length=40, default="")
    channel = fields.CharEnumField(Channel, max_length=16)
    note_enc: str | None = fields.TextField(null=True)
    booking: fields.ForeignKeyNullableRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="waitlist_entries", null=True, on_delete=fields.SET_NULL
    )
    booking_id: int | None  # the key, as tortoise sets it
    # As on Booking: SHA-256 of the client's Idempotency-Key and of its request, so that a
    # resent form or a retried request is the same place in line.
    idempotency_key = fields.CharField(max_length=64, unique=True, null=True)
    request_hash = fields.CharField(max_length=64, default="", db_default="")
    # As on Booking: the language the resident joined in, for the links in their messages.
    lang = fields.CharField(max_length=8, default="", db_default="")
    purged_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "waitlist_entry"


class Notification(Model):
    """A message to a resident waiting in the outbox, sent and retried by the dispatcher.

    The address and the text are encrypted: the text may carry the manage link.
    """

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(NotificationKind, max_length=24)
    booking: fields.ForeignKeyNullableRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    booking_id: int | None  # the key, as tortoise sets it
    # "phone" or "email": which senders can deliver it.
    address_kind = fields.CharField(max_length=8)
    address_enc: str | None = fields.TextField(null=True)
    subject = fields.CharField(max_length=200, default="")
    body_enc: str | None = fields.TextField(null=True)
    status = fields.CharEnumField(NotificationStatus, max_length=12, db_index=True)
    attempts = fields.SmallIntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=300, default="")
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification"
