"""Rate limits shared by every app process (#22): request counts per key and window."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_referrals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(max_length=96)),
                ('window_start', fields.BigIntField(description='window start, seconds since 1970 (UTC)')),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'rate_count', 'app': 'models', 'unique_together': (('key', 'window_start'),), 'pk_attr': 'id', 'table_description': 'Requests counted per rate-limit key and time window, shared by all app processes.'},
            bases=['Model'],
        ),
    ]
