"""Waitlist places get an idempotency key like bookings: a resent form or retried request is
the same place in line (#6)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_schedule_version')]

    initial = False

    operations = [
        ops.AddField(
            model_name='WaitlistEntry',
            name='idempotency_key',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='WaitlistEntry',
            name='request_hash',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
