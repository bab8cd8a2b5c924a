"""Who holds a booking, as keyed digests (#15): the phone number's and e-mail address's
identities and the network address, counted against the cap on one holder's active future
bookings of a service. Rows made before have none: they count for no one."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.operations import State
from tortoise.migrations.schema_editor.base import BaseSchemaEditor


class BookingColumn(ops.AddField):
    """A new column of ``booking``, undone on SQLite with ``ALTER TABLE … DROP COLUMN``
    (SQLite 3.35+) rather than tortoise's table rebuild."""

    async def database_backward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor.client.execute_script(
                f'ALTER TABLE "booking" DROP COLUMN "{self.name}"'
            )
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [("models", "0014_scale")]

    initial = False

    operations = [
        BookingColumn(
            model_name="Booking",
            name=name,
            field=fields.CharField(default="", db_default="", max_length=64),
        )
        for name in ("address_key", "email_key", "phone_key")
    ]
