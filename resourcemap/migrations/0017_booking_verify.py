"""A phone check for bookings (#15) and the resident's language on bookings (#18).

``booking.verify_digest`` and ``verify_attempts`` keep a pending booking's texted code (as a
keyed digest) and the wrong codes typed; ``lang`` on bookings and waitlist places is the
language the resident used, so that the links in their messages open the pages in it. The
new ``pending`` status needs no change: statuses are stored as text."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.operations import State
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from resourcemap.vocab import BookingStatus, NotificationKind


class NewColumn(ops.AddField):
    """A new column, undone on SQLite with ``ALTER TABLE … DROP COLUMN`` (SQLite 3.35+)
    rather than tortoise's table rebuild."""

    table = ""

    async def database_backward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor.client.execute_script(
                f'ALTER TABLE "{self.table}" DROP COLUMN "{self.name}"'
            )
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


def _sqlite(state_editor: BaseSchemaEditor | None) -> bool:
    return state_editor is not None and state_editor.client.capabilities.dialect == "sqlite"


class CommentOnlyAlterField(ops.AlterField):
    """Only the column's description changes (an enum gains a value; same type and
    length): on SQLite, which keeps no column comments and whose table rebuild would break
    the booking tables' triggers, it changes the migration state only."""

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if not _sqlite(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if not _sqlite(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)


def _described(enum: type[BookingStatus] | type[NotificationKind]) -> str:
    return "\n".join(f"{member.name}: {member.value}" for member in enum)


class BookingColumn(NewColumn):
    table = "booking"


class WaitlistColumn(NewColumn):
    table = "waitlist_entry"


class Migration(migrations.Migration):
    dependencies = [("models", "0016_texts")]

    initial = False

    operations = [
        CommentOnlyAlterField(
            model_name="Booking",
            name="status",
            field=fields.CharEnumField(
                BookingStatus,
                description=(
                    "CONFIRMED: confirmed\nOFFERED: offered\nPENDING: pending\nCANCELLED: cancelled\nEXPIRED: expired\nATTENDED: attended\nNO_SHOW: no_show"
                ),
                db_index=True,
                max_length=16,
            ),
        ),
        CommentOnlyAlterField(
            model_name="Notification",
            name="kind",
            field=fields.CharEnumField(
                NotificationKind,
                description=(
                    "CONFIRMATION: confirmation\nREMINDER: reminder\nWAITLIST_OFFER: waitlist_offer\nVERIFY_CODE: verify_code\nCANCELLED_BY_STAFF: cancelled_by_staff\nCANCELLED: cancelled\nRESCHEDULED: rescheduled\nREFERRAL_INVITE: referral_invite\nFEEDBACK_INVITE: feedback_invite"
                ),
                max_length=24,
            ),
        ),
        BookingColumn(
            model_name="Booking",
            name="verify_digest",
            field=fields.CharField(default="", db_default="", max_length=64),
        ),
        BookingColumn(
            model_name="Booking",
            name="verify_attempts",
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        BookingColumn(
            model_name="Booking",
            name="lang",
            field=fields.CharField(default="", db_default="", max_length=8),
        ),
        WaitlistColumn(
            model_name="WaitlistEntry",
            name="lang",
            field=fields.CharField(default="", db_default="", max_length=8),
        ),
    ]
