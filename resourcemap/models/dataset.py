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


class PlannerJob(Model):
    """A long planner computation run in the background (#22), its progress and its result.

    Any app process (or ``resourcemap worker``) may run a queued job: it is claimed by one
    conditional update, its heartbeat shows it is still running, and a job whose runner
    stopped beating is queued again."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    params = fields.TextField(description="the request, as canonical JSON")
    params_key = fields.CharField(max_length=64, db_index=True, description="digest of kind+params")
    state = fields.CharField(max_length=16, default="queued", db_index=True)
    done_steps = fields.IntField(default=0)
    total_steps = fields.IntField(default=0)
    attempts = fields.IntField(default=0)
    runner = fields.CharField(max_length=64, default="")
    data_version = fields.CharField(max_length=128, default="")
    result = fields.TextField(default="", description="the result as JSON, when done")
    error = fields.TextField(default="")
    created_by = fields.CharField(max_length=150, default="")
    created_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "planner_job"
