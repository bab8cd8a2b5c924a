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


class RateCount(Model):
    """Requests counted per rate-limit key and time window, shared by all app processes.

    With N processes a limit is still the limit. Keys are keyed digests, never an address
    or a phone number."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=96)
    window_start = fields.BigIntField(description="window start, seconds since 1970 (UTC)")
    count = fields.IntField(default=0)

    class Meta:
        table = "rate_count"
        unique_together = (("key", "window_start"),)
