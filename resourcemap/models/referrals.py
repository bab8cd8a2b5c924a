"""Referrals between services (the green channel) and residents' feedback after a visit (#23).

Residents' contact details and the free-text reason live only in ``*_enc`` columns,
encrypted with the data keys, and are cleared by ``resourcemap purge`` after the retention
period. Feedback answers hold no booking, contact, code or token and no time finer than a
week: nothing in the database links an answer back to a visit.
"""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from resourcemap.models.accounts import Account
from resourcemap.models.bookings import Booking, ResidentHeld
from resourcemap.models.listings import Resource
from resourcemap.vocab import Consent, ReferralStatus, Urgency


class Referral(ResidentHeld):
    """A resident handed on from one service to another, with their consent."""

    # The token (ResidentHeld) is the resident's link to pick a time or decline.
    id = fields.IntField(primary_key=True)
    from_resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="referrals_out", on_delete=fields.RESTRICT
    )
    from_resource_id: int  # the key, as tortoise sets it
    to_resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="referrals_in", on_delete=fields.RESTRICT
    )
    to_resource_id: int  # the key, as tortoise sets it
    need = fields.CharField(max_length=40, default="")
    urgency = fields.CharEnumField(Urgency, max_length=8)
    status = fields.CharEnumField(ReferralStatus, max_length=16, db_index=True)
    consent = fields.CharEnumField(Consent, max_length=8)
    consent_at = fields.DatetimeField()
    reason_enc: str | None = fields.TextField(null=True)
    booking: fields.ForeignKeyNullableRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="referrals", null=True, on_delete=fields.SET_NULL
    )
    booking_id: int | None  # the key, as tortoise sets it
    decline_reason = fields.CharField(max_length=24, default="")
    decline_note = fields.CharField(max_length=300, default="")
    suggested_resource: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="referrals_suggested", null=True, on_delete=fields.SET_NULL
    )
    suggested_resource_id: int | None  # the key, as tortoise sets it
    created_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="referrals_made", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None  # the key, as tortoise sets it
    sent_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    booked_at = fields.DatetimeField(null=True)
    outcome_at = fields.DatetimeField(null=True)
    # Whether the resident came (set with the outcome; kept when the referral is closed).
    attended = fields.BooleanField(null=True)
    declined_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    invited_at = fields.DatetimeField(null=True)
    purged_at = fields.DatetimeField(null=True)
    # The resident's language as the referring staff recorded it (``zh-CN``, ``en``; '':
    # not known, and their messages come in both).
    lang = fields.CharField(max_length=8, default="", db_default="")

    class Meta:
        table = "referral"


class FeedbackInvite(Model):
    """That a visit's resident was invited to give feedback: one invitation per visit. The
    token they got is in ``FeedbackToken``, which names no booking."""

    id = fields.BigIntField(primary_key=True)
    booking: fields.ForeignKeyNullableRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="feedback_invites", null=True, on_delete=fields.SET_NULL
    )
    booking_id: int | None  # the key, as tortoise sets it
    # The booking a deleted row was about stays unique while it exists.
    booked_visit = fields.BigIntField(unique=True)

    class Meta:
        table = "feedback_invite"


class FeedbackToken(Model):
    """A feedback link not yet used: its keyed digest, the service and the week. Deleted
    when the answer is written, so no row ever says which visit an answer came from."""

    digest = fields.CharField(max_length=64, primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="feedback_tokens", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    expires_on = fields.DateField()

    class Meta:
        table = "feedback_token"


class FeedbackAnswer(Model):
    """One anonymous answer: scores 1-5, an optional comment, the service and the week it
    was given in (a random key, no time of day: the order of answers tells nothing)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="feedback", on_delete=fields.CASCADE
    )
    resource_id: int  # the key, as tortoise sets it
    week = fields.DateField(db_index=True)
    reach = fields.SmallIntField()
    wait = fields.SmallIntField()
    respected = fields.SmallIntField()
    helped = fields.SmallIntField()
    comment_enc: str | None = fields.TextField(null=True)
    # Comments are shown once their week's batch of the service has at least five,
    # else dropped (comment_enc cleared) when the week is released.
    released = fields.BooleanField(default=False)

    class Meta:
        table = "feedback_answer"
