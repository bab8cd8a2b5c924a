"""English versions of a listing's fee and accessibility notes (#18): English pages show
them where given and mark the Chinese note as Chinese where not."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.operations import State
from tortoise.migrations.schema_editor.base import BaseSchemaEditor


class ResourceColumn(ops.AddField):
    """A new column of ``resource``. Undone on SQLite with ``ALTER TABLE … DROP COLUMN``
    (SQLite 3.35+): tortoise's table rebuild would break the triggers on ``resource``."""

    async def database_backward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor.client.execute_script(
                f'ALTER TABLE "resource" DROP COLUMN "{self.name}"'
            )
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0015_hardening')]

    initial = False

    operations = [
        ResourceColumn(
            model_name='Resource',
            name='accessibility_note_en',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        ResourceColumn(
            model_name='Resource',
            name='fee_note_en',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
    ]
