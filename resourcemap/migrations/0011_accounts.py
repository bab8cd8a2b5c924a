"""Accounts under control (#15, #20): API tokens expire and keep when they were revoked,
and planner and staff accounts can be kept to one area."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_provenance')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='area_code',
            field=fields.CharField(null=True, max_length=12),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
