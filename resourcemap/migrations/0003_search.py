from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0002_postgis')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Closure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('start_date', fields.DateField()),
                ('end_date', fields.DateField()),
                ('area_code', fields.CharField(null=True, db_index=True, max_length=12)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', null=True, db_constraint=True, to_field='id', related_name='closures', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'closure', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A local closure staff add, e.g. a typhoon day, for an area or one resource.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SearchChange',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resource_id', fields.IntField(null=True)),
                ('op', fields.CharField(max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'search_change', 'app': 'models', 'pk_attr': 'seq', 'table_description': 'Change log of listings, in commit order: the outbox the search indexes follow.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SearchCursor',
            fields=[
                ('consumer', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('seq', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'search_cursor', 'app': 'models', 'pk_attr': 'consumer', 'table_description': 'The last change-log sequence a consumer (e.g. ``meilisearch``) has applied.'},
            bases=['Model'],
        ),
    ]
