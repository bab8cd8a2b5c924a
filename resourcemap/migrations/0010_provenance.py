"""Provenance of imported listings (file, format, record, time, account, earlier steps),
what foreign records said that the model has no field for, fee `unknown`, and the listing
eligibility fields (#17, #19)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from resourcemap.vocab import Eligibility, Fee
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.operations import State


class CommentOnlyAlterField(ops.AlterField):
    """Only the column's description changes (``fee`` gains ``unknown``; same type and
    length). SQLite keeps no column comments, and its table rebuild for an altered field
    would break the triggers on ``resource``: there it changes the migration state only."""

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


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
    dependencies = [('models', '0009_keyed_digests')]

    initial = False

    operations = [
        CommentOnlyAlterField(
            model_name='Resource',
            name='fee',
            field=fields.CharEnumField(default=Fee.FREE, description='FREE: free\nPAID: paid\nUNKNOWN: unknown', enum_type=Fee, max_length=8),
        ),
        ResourceColumn(
            model_name='Resource',
            name='earlier_sources',
            field=fields.JSONField(default=list, db_default='[]', encoder=JSON_DUMPS, decoder=loads),
        ),
        ResourceColumn(
            model_name='Resource',
            name='eligibility',
            field=fields.CharEnumField(default=Eligibility.PUBLIC, description='PUBLIC: public\nSTUDENTS: students\nEMPLOYEES: employees\nAREA_RESIDENTS: area_residents\nREFERRAL: referral', db_default='public', enum_type=Eligibility, max_length=16),
        ),
        ResourceColumn(
            model_name='Resource',
            name='eligibility_note_en',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ResourceColumn(
            model_name='Resource',
            name='eligibility_note_zh',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ResourceColumn(
            model_name='Resource',
            name='foreign_fields',
            field=fields.JSONField(default=dict, db_default='{}', encoder=JSON_DUMPS, decoder=loads),
        ),
        ResourceColumn(
            model_name='Resource',
            name='imported_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ResourceColumn(
            model_name='Resource',
            name='imported_by',
            field=fields.CharField(default='', db_default='', max_length=150),
        ),
        ResourceColumn(
            model_name='Resource',
            name='source_file',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ResourceColumn(
            model_name='Resource',
            name='source_format',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ResourceColumn(
            model_name='Resource',
            name='source_record',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
    ]
