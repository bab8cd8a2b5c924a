"""Planner jobs (#22): long computations queued, run in the background by any app process,
with progress and results stored."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_booking_verify')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PlannerJob',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=32)),
                ('params', fields.TextField(description='the request, as canonical JSON', unique=False)),
                ('params_key', fields.CharField(db_index=True, description='digest of kind+params', max_length=64)),
                ('state', fields.CharField(default='queued', db_index=True, max_length=16)),
                ('done_steps', fields.IntField(default=0)),
                ('total_steps', fields.IntField(default=0)),
                ('attempts', fields.IntField(default=0)),
                ('runner', fields.CharField(default='', max_length=64)),
                ('data_version', fields.CharField(default='', max_length=128)),
                ('result', fields.TextField(default='', description='the result as JSON, when done', unique=False)),
                ('error', fields.TextField(default='', unique=False)),
                ('created_by', fields.CharField(default='', max_length=150)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('heartbeat_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'planner_job', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A long planner computation run in the background (#22), its progress and its result.'},
            bases=['Model'],
        ),
    ]
