"""Referrals (#23): the resident's language, and referrals that follow their booking.

``referral.lang`` is the resident's language as the referring staff recorded it, so that
their messages and links come in it rather than in Chinese and English both.

A referral now follows its booking when the booking ends (cancelled: closed; attended or
not: the outcome), stamped then; before, it followed only when read. Referrals still booked
whose booking has ended are moved on here, stamped with the booking's last change, the only
time known for them.
"""

import importlib

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# The new-column operation of 0017 (undone on SQLite by dropping the column).
_columns = importlib.import_module("resourcemap.migrations.0017_booking_verify")

# Booking status → (referral status, the column stamped, attended).
FOLLOWS = (
    ("cancelled", "closed", "closed_at", None),
    ("attended", "attended", "outcome_at", True),
    ("no_show", "did_not_attend", "outcome_at", False),
)


class ReferralColumn(_columns.NewColumn):  # type: ignore[misc,name-defined]
    table = "referral"


async def forward(apps, schema_editor):
    for booking_status, status, stamp, attended in FOLLOWS:
        also = "" if attended is None else f", attended = {'TRUE' if attended else 'FALSE'}"
        await schema_editor.client.execute_script(
            f"UPDATE referral SET status = '{status}', {stamp} = "
            "(SELECT b.updated_at FROM booking b WHERE b.id = referral.booking_id)"
            f"{also} WHERE status = 'booked' AND booking_id IN "
            f"(SELECT id FROM booking WHERE status = '{booking_status}')"
        )


async def backward(apps, schema_editor):
    """Nothing to undo: the referrals moved on are what reading them showed before."""


class Migration(migrations.Migration):
    dependencies = [("models", "0020_jobs")]

    initial = False

    operations = [
        ReferralColumn(
            model_name="Referral",
            name="lang",
            field=fields.CharField(default="", db_default="", max_length=8),
        ),
        ops.RunPython(forward, backward),
    ]
