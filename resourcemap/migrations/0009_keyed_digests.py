"""Request fingerprints become keyed digests (#15).

``request_hash`` on bookings and waitlist places held a plain SHA-256 of the request, phone
number and e-mail included: brute force over the phone numbers recovered them, also after a
purge. From now on it is an HMAC under a key derived from the data keys, which never enters
the database. The old values cannot be re-keyed (the raw request is gone), so they are
cleared: a retry of a request made before the upgrade is answered with its booking, as if
its fingerprint matched.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

TABLES = ("booking", "waitlist_entry")


async def forward(apps, schema_editor):
    for table in TABLES:
        await schema_editor.client.execute_script(
            f"UPDATE {table} SET request_hash = '' WHERE request_hash <> ''"
        )


async def backward(apps, schema_editor):
    """Nothing to restore: the unkeyed digests are gone for good, as intended."""


class Migration(migrations.Migration):
    dependencies = [("models", "0008_waitlist_idempotency")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
