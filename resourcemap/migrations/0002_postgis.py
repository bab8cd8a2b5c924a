"""On PostgreSQL, PostGIS geometry columns derived from the stored WGS-84 data.

The columns are generated from ``lat``/``lon`` and the GeoJSON boundary, so the ORM keeps
writing one representation on both dialects while PostgreSQL gains GiST-indexed geometry
for spatial SQL. SQLite has no PostGIS: there this migration does nothing.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from resourcemap.errors import Unavailable

POSTGIS_SQL = [
    "CREATE EXTENSION IF NOT EXISTS postgis",
    """ALTER TABLE resource ADD COLUMN geom geometry(Point, 4326)
       GENERATED ALWAYS AS (
         CASE WHEN lat IS NULL OR lon IS NULL THEN NULL
              ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED""",
    "CREATE INDEX idx_resource_geom ON resource USING GIST (geom)",
    """ALTER TABLE area ADD COLUMN geom geometry(Geometry, 4326)
       GENERATED ALWAYS AS (
         CASE WHEN boundary IS NULL THEN NULL
              ELSE ST_SetSRID(ST_GeomFromGeoJSON(boundary::text), 4326) END) STORED""",
    "CREATE INDEX idx_area_geom ON area USING GIST (geom)",
]
REVERSE_SQL = [
    "ALTER TABLE area DROP COLUMN IF EXISTS geom",
    "ALTER TABLE resource DROP COLUMN IF EXISTS geom",
]


async def _run(schema_editor, statements):
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    for sql in statements:
        try:
            await client.execute_script(sql)
        except Exception as exc:
            said = str(exc).lower()
            if "postgis" in sql and "permission denied" in said:
                # Installed, but this user may not create extensions (no superuser): the
                # install hint sent operators to install what they had.
                raise Unavailable(
                    "the database user may not create the PostGIS extension: as a superuser, "
                    "run CREATE EXTENSION postgis; in this database once, then migrate again",
                    retry_after=60,
                ) from exc
            if "postgis" in sql and "extension" in said:
                raise Unavailable(
                    "PostgreSQL needs the PostGIS extension "
                    f"(Debian: apt-get install postgresql-15-postgis-3): {exc}",
                    retry_after=60,
                ) from exc
            raise


async def forward(apps, schema_editor):
    await _run(schema_editor, POSTGIS_SQL)


async def backward(apps, schema_editor):
    await _run(schema_editor, REVERSE_SQL)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(forward, backward)]
