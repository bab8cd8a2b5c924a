"""What the stored data is: real listings or the synthetic demo city."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class DatasetInfo(Model):
    """Facts about the loaded dataset as key and value, e.g. whether it is synthetic."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.TextField()

    class Meta:
        table = "dataset_info"
