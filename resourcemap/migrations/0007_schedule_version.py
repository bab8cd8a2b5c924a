"""``booking_policy.schedule_version``: a counter that triggers bump whenever anything a
resource's slots are cut from changes, so the booking desk can check a booking against a
cached schedule and still refuse it, under the resource's lock, if the schedule moved on.

What the slots are cut from (``schedules.load_schedules``): the policy's rules, the weekly
hours, dated exceptions, closures (of the resource or of an area it lies in), blocked time,
and the listing's status, hours mode, organisation, name, services and area codes.
Booked seats are not part of it: the seat statement decides those under the lock.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

RULES = (
    "enabled",
    "slot_minutes",
    "buffer_minutes",
    "seats",
    "min_notice_minutes",
    "horizon_days",
    "change_notice_minutes",
)
LISTING = (
    "status",
    "always_open",
    "organisation_id",
    "name_zh",
    "services",
    "city_code",
    "district_code",
    "street_code",
    "community_code",
)
PER_RESOURCE = ("opening_hours", "hours_exception", "booking_time_block")
BUMP = "UPDATE booking_policy SET schedule_version = schedule_version + 1 WHERE"
# The resources a closure row applies to: its own, or every one in its area.
CLOSED = (
    "resource_id = {row}.resource_id OR resource_id IN (SELECT id FROM resource WHERE "
    "{row}.area_code IN (city_code, district_code, street_code, community_code))"
)


def _changed(columns: tuple[str, ...], *, null_safe: str) -> str:
    return " OR ".join(f"OLD.{c} {null_safe} NEW.{c}" for c in columns)


POSTGRES_SQL = [
    f"""CREATE FUNCTION resourcemap_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.schedule_version := OLD.schedule_version + 1;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER booking_policy_schedule BEFORE UPDATE ON booking_policy FOR EACH ROW
        WHEN ({_changed(RULES, null_safe="IS DISTINCT FROM")}
              OR OLD.schedule_version IS DISTINCT FROM NEW.schedule_version)
        EXECUTE FUNCTION resourcemap_policy_changed()""",
    f"""CREATE FUNCTION resourcemap_resource_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {BUMP} resource_id = NEW.id;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER resource_schedule AFTER UPDATE ON resource FOR EACH ROW
        WHEN ({_changed(LISTING, null_safe="IS DISTINCT FROM")})
        EXECUTE FUNCTION resourcemap_resource_changed()""",
    f"""CREATE FUNCTION resourcemap_hours_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {BUMP} resource_id = OLD.resource_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {BUMP} resource_id = NEW.resource_id;
        END IF;
        RETURN NULL;
    END $$""",
    *(
        f"""CREATE TRIGGER {table}_schedule AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION resourcemap_hours_changed()"""
        for table in PER_RESOURCE
    ),
    f"""CREATE FUNCTION resourcemap_closure_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {BUMP} {CLOSED.format(row="OLD")};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {BUMP} {CLOSED.format(row="NEW")};
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER closure_schedule AFTER INSERT OR UPDATE OR DELETE ON closure
        FOR EACH ROW EXECUTE FUNCTION resourcemap_closure_changed()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS booking_policy_schedule ON booking_policy",
    "DROP TRIGGER IF EXISTS resource_schedule ON resource",
    *(f"DROP TRIGGER IF EXISTS {table}_schedule ON {table}" for table in PER_RESOURCE),
    "DROP TRIGGER IF EXISTS closure_schedule ON closure",
    "DROP FUNCTION IF EXISTS resourcemap_policy_changed()",
    "DROP FUNCTION IF EXISTS resourcemap_resource_changed()",
    "DROP FUNCTION IF EXISTS resourcemap_hours_changed()",
    "DROP FUNCTION IF EXISTS resourcemap_closure_changed()",
]

# SQLite: a trigger per event. "UPDATE OF" lists the columns whose writing fires it; the
# bump itself writes only schedule_version, so it fires nothing again.
SQLITE_SQL = [
    f"""CREATE TRIGGER booking_policy_schedule AFTER UPDATE OF {", ".join(RULES)}
        ON booking_policy WHEN {_changed(RULES, null_safe="IS NOT")}
        BEGIN UPDATE booking_policy SET schedule_version = OLD.schedule_version + 1
              WHERE id = NEW.id; END""",
    # A whole-row ORM save() writes back the version it read: never let it go back (on
    # PostgreSQL the BEFORE trigger above sees to it).
    """CREATE TRIGGER booking_policy_version_forward AFTER UPDATE OF schedule_version
        ON booking_policy WHEN NEW.schedule_version <= OLD.schedule_version
        BEGIN UPDATE booking_policy SET schedule_version = OLD.schedule_version + 1
              WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER resource_schedule AFTER UPDATE OF {", ".join(LISTING)} ON resource
        WHEN {_changed(LISTING, null_safe="IS NOT")}
        BEGIN {BUMP} resource_id = NEW.id; END""",
    *(
        sql
        for table in PER_RESOURCE
        for sql in (
            f"""CREATE TRIGGER {table}_schedule_insert AFTER INSERT ON {table}
                BEGIN {BUMP} resource_id = NEW.resource_id; END""",
            f"""CREATE TRIGGER {table}_schedule_update AFTER UPDATE ON {table}
                BEGIN {BUMP} resource_id IN (OLD.resource_id, NEW.resource_id); END""",
            f"""CREATE TRIGGER {table}_schedule_delete AFTER DELETE ON {table}
                BEGIN {BUMP} resource_id = OLD.resource_id; END""",
        )
    ),
    f"""CREATE TRIGGER closure_schedule_insert AFTER INSERT ON closure
        BEGIN {BUMP} {CLOSED.format(row="NEW")}; END""",
    f"""CREATE TRIGGER closure_schedule_update AFTER UPDATE ON closure
        BEGIN {BUMP} {CLOSED.format(row="OLD")} OR {CLOSED.format(row="NEW")}; END""",
    f"""CREATE TRIGGER closure_schedule_delete AFTER DELETE ON closure
        BEGIN {BUMP} {CLOSED.format(row="OLD")}; END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS booking_policy_schedule",
    "DROP TRIGGER IF EXISTS booking_policy_version_forward",
    "DROP TRIGGER IF EXISTS resource_schedule",
    *(
        f"DROP TRIGGER IF EXISTS {table}_schedule_{event}"
        for table in (*PER_RESOURCE, "closure")
        for event in ("insert", "update", "delete")
    ),
]


async def _run(schema_editor, postgres, sqlite):
    client = schema_editor.client
    for sql in postgres if client.capabilities.dialect == "postgres" else sqlite:
        await client.execute_script(sql)


async def forward(apps, schema_editor):
    await _run(schema_editor, POSTGRES_SQL, SQLITE_SQL)


async def backward(apps, schema_editor):
    await _run(schema_editor, POSTGRES_REVERSE, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("models", "0006_slot_indexes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="BookingPolicy",
            name="schedule_version",
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.RunPython(forward, backward),
    ]
