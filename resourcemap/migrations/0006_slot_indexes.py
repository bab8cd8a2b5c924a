"""Indexes for reading one resource's slots: its weekly hours, dated exceptions and blocked
time (schedules.load_schedules reads them on every listing and every booking)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_booking')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='HoursException',
            index=Index(fields=['resource_id']),
        ),
        ops.AddIndex(
            model_name='OpeningHours',
            index=Index(fields=['resource_id']),
        ),
        ops.AddIndex(
            model_name='TimeBlock',
            index=Index(fields=['resource_id', 'starts_at']),
        ),
    ]
