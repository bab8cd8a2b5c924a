"""Eligibility on listings: open to the public, or members only with a short note (#17).

Undone on SQLite with ``ALTER TABLE … DROP COLUMN`` (SQLite 3.35+) rather than tortoise's
table rebuild: a rebuild of ``resource`` drops the old table, which cascades to every row
that references it (booking policies, hours) and trips the schedule triggers of 0007.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from resourcemap.vocab import Eligibility


class AddColumn(ops.AddField):
    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is None or state_editor.client.capabilities.dialect != "sqlite":
            await super().database_backward(app_label, old_state, new_state, state_editor)
            return
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        column = model._meta.fields_map[self.name].source_field or self.name
        await state_editor.client.execute_script(
            f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{column}"'
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0008_waitlist_idempotency")]

    initial = False

    operations = [
        AddColumn(
            model_name="Resource",
            name="eligibility",
            field=fields.CharEnumField(
                default=Eligibility.PUBLIC,
                description="PUBLIC: public\nSTUDENTS: students\nEMPLOYEES: employees\n"
                "AREA_RESIDENTS: area_residents\nREFERRAL: referral",
                db_default="public",
                enum_type=Eligibility,
                max_length=16,
            ),
        ),
        AddColumn(
            model_name="Resource",
            name="eligibility_note_en",
            field=fields.CharField(default="", db_default="", max_length=300),
        ),
        AddColumn(
            model_name="Resource",
            name="eligibility_note_zh",
            field=fields.CharField(default="", db_default="", max_length=300),
        ),
    ]
