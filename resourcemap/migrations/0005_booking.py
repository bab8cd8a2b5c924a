"""Bookings. Beyond the tables: the database itself refuses a slot with more seats taken
than it has (a CHECK constraint on PostgreSQL; SQLite cannot add one to an existing table,
so two triggers do the same)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from resourcemap.vocab import BookingStatus, Channel, NotificationKind, NotificationStatus, WaitlistStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

SEAT_CHECK = "NEW.taken < 0 OR NEW.taken > NEW.capacity"
SQLITE_SQL = [
    f"""CREATE TRIGGER booking_slot_seats_insert BEFORE INSERT ON booking_slot
        WHEN {SEAT_CHECK} BEGIN SELECT RAISE(ABORT, 'booking_slot_seats'); END""",
    f"""CREATE TRIGGER booking_slot_seats_update BEFORE UPDATE ON booking_slot
        WHEN {SEAT_CHECK} BEGIN SELECT RAISE(ABORT, 'booking_slot_seats'); END""",
]
POSTGRES_SQL = [
    """ALTER TABLE booking_slot ADD CONSTRAINT booking_slot_seats
       CHECK (taken >= 0 AND taken <= capacity)""",
]


async def seat_check(apps, schema_editor):
    client = schema_editor.client
    statements = POSTGRES_SQL if client.capabilities.dialect == "postgres" else SQLITE_SQL
    for sql in statements:
        await client.execute_script(sql)


async def no_seat_check(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "ALTER TABLE booking_slot DROP CONSTRAINT IF EXISTS booking_slot_seats"
        )
    else:
        await client.execute_script("DROP TRIGGER IF EXISTS booking_slot_seats_insert")
        await client.execute_script("DROP TRIGGER IF EXISTS booking_slot_seats_update")



class Migration(migrations.Migration):
    dependencies = [('models', '0004_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BookingPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resource', fields.OneToOneField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='booking_policy', on_delete=OnDelete.CASCADE)),
                ('enabled', fields.BooleanField(default=True)),
                ('slot_minutes', fields.SmallIntField(default=50)),
                ('buffer_minutes', fields.SmallIntField(default=10)),
                ('seats', fields.SmallIntField(default=1)),
                ('min_notice_minutes', fields.IntField(default=120)),
                ('horizon_days', fields.SmallIntField(default=30)),
                ('change_notice_minutes', fields.IntField(default=240)),
                ('lock', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'booking_policy', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How one resource takes bookings. A resource without an enabled policy takes none.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Slot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='slots', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('capacity', fields.SmallIntField()),
                ('taken', fields.SmallIntField(default=0)),
            ],
            options={'table': 'booking_slot', 'app': 'models', 'unique_together': (('resource', 'starts_at'),), 'pk_attr': 'id', 'table_description': 'A slot someone has booked, with its seat counter.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Booking',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=12)),
                ('token_enc', fields.TextField(unique=False)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.RESTRICT)),
                ('slot', fields.ForeignKeyField('models.Slot', source_field='slot_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.RESTRICT)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(db_index=True, description='CONFIRMED: confirmed\nOFFERED: offered\nCANCELLED: cancelled\nEXPIRED: expired\nATTENDED: attended\nNO_SHOW: no_show', enum_type=BookingStatus, max_length=16)),
                ('service', fields.CharField(default='', max_length=40)),
                ('channel', fields.CharEnumField(description='WEB: web\nWECHAT: wechat\nAPP: app\nPHONE: phone\nWALK_IN: walk_in', enum_type=Channel, max_length=16)),
                ('nickname_enc', fields.TextField(null=True, unique=False)),
                ('phone_enc', fields.TextField(null=True, unique=False)),
                ('email_enc', fields.TextField(null=True, unique=False)),
                ('note_enc', fields.TextField(null=True, unique=False)),
                ('idempotency_key', fields.CharField(null=True, unique=True, max_length=64)),
                ('request_hash', fields.CharField(default='', max_length=64)),
                ('created_by', fields.ForeignKeyField('models.Account', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='bookings_made', on_delete=OnDelete.SET_NULL)),
                ('cancelled_by', fields.CharField(default='', max_length=16)),
                ('cancel_reason', fields.CharField(default='', max_length=300)),
                ('offer_expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('reminder_queued', fields.BooleanField(default=False)),
                ('purged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'booking', 'app': 'models', 'pk_attr': 'id', 'table_description': "One resident's seat in one slot. Contact details are encrypted, the token too."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='CONFIRMATION: confirmation\nREMINDER: reminder\nWAITLIST_OFFER: waitlist_offer\nCANCELLED_BY_STAFF: cancelled_by_staff\nCANCELLED: cancelled\nRESCHEDULED: rescheduled', enum_type=NotificationKind, max_length=24)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('address_kind', fields.CharField(max_length=8)),
                ('address_enc', fields.TextField(null=True, unique=False)),
                ('subject', fields.CharField(default='', max_length=200)),
                ('body_enc', fields.TextField(null=True, unique=False)),
                ('status', fields.CharEnumField(db_index=True, description='PENDING: pending\nSENT: sent\nFAILED: failed', enum_type=NotificationStatus, max_length=12)),
                ('attempts', fields.SmallIntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A message to a resident waiting in the outbox, sent and retried by the dispatcher.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TimeBlock',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='time_blocks', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'booking_time_block', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Time staff have blocked for one resource: no slot overlapping it can be booked.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WaitlistEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=12)),
                ('token_enc', fields.TextField(unique=False)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='waitlist', on_delete=OnDelete.RESTRICT)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(db_index=True, description='WAITING: waiting\nOFFERED: offered\nBOOKED: booked\nEXPIRED: expired\nLEFT: left', enum_type=WaitlistStatus, max_length=16)),
                ('service', fields.CharField(default='', max_length=40)),
                ('channel', fields.CharEnumField(description='WEB: web\nWECHAT: wechat\nAPP: app\nPHONE: phone\nWALK_IN: walk_in', enum_type=Channel, max_length=16)),
                ('nickname_enc', fields.TextField(null=True, unique=False)),
                ('phone_enc', fields.TextField(null=True, unique=False)),
                ('email_enc', fields.TextField(null=True, unique=False)),
                ('note_enc', fields.TextField(null=True, unique=False)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='waitlist_entries', on_delete=OnDelete.SET_NULL)),
                ('purged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'waitlist_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A resident waiting for a seat in a full slot, first come first offered.'},
            bases=['Model'],
        ),
        ops.RunPython(seat_check, no_seat_check),
    ]
