"""Referrals between services (the green channel) and feedback after a visit (#23).

Beyond the tables: referral seats per slot, counted apart from the public seats, and the
database refuses ``referral_taken > referral_capacity`` as it refuses ``taken > capacity``
(a CHECK constraint on PostgreSQL, triggers on SQLite). The channel and notification kinds
gain values (same columns, new descriptions only)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.operations import State
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from resourcemap.vocab import Channel, Consent, NotificationKind, ReferralStatus, Urgency
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

SEAT_CHECK = "NEW.referral_taken < 0 OR NEW.referral_taken > NEW.referral_capacity"
SQLITE_SQL = [
    f"""CREATE TRIGGER booking_slot_referral_insert BEFORE INSERT ON booking_slot
        WHEN {SEAT_CHECK} BEGIN SELECT RAISE(ABORT, 'booking_slot_referral_seats'); END""",
    f"""CREATE TRIGGER booking_slot_referral_update BEFORE UPDATE ON booking_slot
        WHEN {SEAT_CHECK} BEGIN SELECT RAISE(ABORT, 'booking_slot_referral_seats'); END""",
]
POSTGRES_SQL = [
    """ALTER TABLE booking_slot ADD CONSTRAINT booking_slot_referral_seats
       CHECK (referral_taken >= 0 AND referral_taken <= referral_capacity)""",
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
            "ALTER TABLE booking_slot DROP CONSTRAINT IF EXISTS booking_slot_referral_seats"
        )
    else:
        await client.execute_script("DROP TRIGGER IF EXISTS booking_slot_referral_insert")
        await client.execute_script("DROP TRIGGER IF EXISTS booking_slot_referral_update")


TABLES = {"BookingPolicy": "booking_policy", "Slot": "booking_slot"}


def _sqlite(state_editor: BaseSchemaEditor | None) -> bool:
    return state_editor is not None and state_editor.client.capabilities.dialect == "sqlite"


class CommentOnlyAlterField(ops.AlterField):
    """Only the column's description changes (an enum gains a value; same type and
    length): on SQLite, which keeps no column comments and whose table rebuild would break
    the booking tables' triggers, it changes the migration state only."""

    async def database_forward(
        self, app_label: str, old_state: State, new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if not _sqlite(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(
        self, app_label: str, old_state: State, new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if not _sqlite(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)


class Column(ops.AddField):
    """A new column of a table with triggers: undone on SQLite with ``DROP COLUMN``
    (SQLite 3.35+) rather than tortoise's table rebuild, which would break them."""

    async def database_backward(
        self, app_label: str, old_state: State, new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and _sqlite(state_editor):
            table = TABLES[self.model_name]
            await state_editor.client.execute_script(
                f'ALTER TABLE "{table}" DROP COLUMN "{self.name}"'
            )
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0011_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeedbackAnswer',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('week', fields.DateField(db_index=True)),
                ('reach', fields.SmallIntField()),
                ('wait', fields.SmallIntField()),
                ('respected', fields.SmallIntField()),
                ('helped', fields.SmallIntField()),
                ('comment_enc', fields.TextField(null=True, unique=False)),
                ('released', fields.BooleanField(default=False)),
            ],
            options={'table': 'feedback_answer', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One anonymous answer: scores 1-5, an optional comment, the service and the week it'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedbackInvite',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='feedback_invites', on_delete=OnDelete.SET_NULL)),
                ('booked_visit', fields.BigIntField(unique=True)),
            ],
            options={'table': 'feedback_invite', 'app': 'models', 'pk_attr': 'id', 'table_description': "That a visit's resident was invited to give feedback: one invitation per visit. The"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedbackToken',
            fields=[
                ('digest', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='feedback_tokens', on_delete=OnDelete.CASCADE)),
                ('expires_on', fields.DateField()),
            ],
            options={'table': 'feedback_token', 'app': 'models', 'pk_attr': 'digest', 'table_description': 'A feedback link not yet used: its keyed digest, the service and the week. Deleted'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Referral',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=12)),
                ('token_enc', fields.TextField(unique=False)),
                ('from_resource', fields.ForeignKeyField('models.Resource', source_field='from_resource_id', db_constraint=True, to_field='id', related_name='referrals_out', on_delete=OnDelete.RESTRICT)),
                ('to_resource', fields.ForeignKeyField('models.Resource', source_field='to_resource_id', db_constraint=True, to_field='id', related_name='referrals_in', on_delete=OnDelete.RESTRICT)),
                ('need', fields.CharField(default='', max_length=40)),
                ('urgency', fields.CharEnumField(description='ROUTINE: routine\nSOON: soon\nURGENT: urgent', enum_type=Urgency, max_length=8)),
                ('status', fields.CharEnumField(db_index=True, description='SENT: sent\nACCEPTED: accepted\nBOOKED: booked\nATTENDED: attended\nDID_NOT_ATTEND: did_not_attend\nDECLINED: declined\nCLOSED: closed', enum_type=ReferralStatus, max_length=16)),
                ('consent', fields.CharEnumField(description='SPOKEN: spoken\nWRITTEN: written', enum_type=Consent, max_length=8)),
                ('consent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason_enc', fields.TextField(null=True, unique=False)),
                ('nickname_enc', fields.TextField(null=True, unique=False)),
                ('phone_enc', fields.TextField(null=True, unique=False)),
                ('email_enc', fields.TextField(null=True, unique=False)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.SET_NULL)),
                ('decline_reason', fields.CharField(default='', max_length=24)),
                ('decline_note', fields.CharField(default='', max_length=300)),
                ('suggested_resource', fields.ForeignKeyField('models.Resource', source_field='suggested_resource_id', null=True, db_constraint=True, to_field='id', related_name='referrals_suggested', on_delete=OnDelete.SET_NULL)),
                ('created_by', fields.ForeignKeyField('models.Account', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='referrals_made', on_delete=OnDelete.SET_NULL)),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('booked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attended', fields.BooleanField(null=True)),
                ('declined_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('invited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('purged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'referral', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A resident handed on from one service to another, with their consent.'},
            bases=['Model'],
        ),
        CommentOnlyAlterField(
            model_name='Booking',
            name='channel',
            field=fields.CharEnumField(description='WEB: web\nWECHAT: wechat\nAPP: app\nPHONE: phone\nWALK_IN: walk_in\nREFERRAL: referral', enum_type=Channel, max_length=16),
        ),
        Column(
            model_name='BookingPolicy',
            name='referral_seats',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        CommentOnlyAlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='CONFIRMATION: confirmation\nREMINDER: reminder\nWAITLIST_OFFER: waitlist_offer\nCANCELLED_BY_STAFF: cancelled_by_staff\nCANCELLED: cancelled\nRESCHEDULED: rescheduled\nREFERRAL_INVITE: referral_invite\nFEEDBACK_INVITE: feedback_invite', enum_type=NotificationKind, max_length=24),
        ),
        Column(
            model_name='Slot',
            name='referral_capacity',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        Column(
            model_name='Slot',
            name='referral_taken',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        CommentOnlyAlterField(
            model_name='WaitlistEntry',
            name='channel',
            field=fields.CharEnumField(description='WEB: web\nWECHAT: wechat\nAPP: app\nPHONE: phone\nWALK_IN: walk_in\nREFERRAL: referral', enum_type=Channel, max_length=16),
        ),
        ops.RunPython(seat_check, no_seat_check),
    ]
