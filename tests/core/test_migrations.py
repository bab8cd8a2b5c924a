"""Migrations: in step with the models, and the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from resourcemap import db, schema
from tests.conftest import Backend

# Migration bookkeeping and PostGIS catalogue views are not our schema.
BOOKKEEPING = {"tortoise_migrations", "spatial_ref_sys", "geography_columns", "geometry_columns"}


def test_models_have_no_unmigrated_changes(tmp_path: object) -> None:
    config = db.tortoise_config(f"sqlite://{tmp_path}/check.sqlite3")

    async def changes() -> list[str]:
        async with tortoise_cli_context(config) as ctx:
            assert ctx.apps is not None, "tortoise set up no apps from our config"
            writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
        return [w.name for w in writers]

    assert asyncio.run(changes()) == [], "models changed without a migration: run `make migrations`"


async def _sqlite_columns(url: str) -> dict[str, set[str]]:
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite://"))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')}
            for t in tables
            if not t.startswith("sqlite_") and t not in BOOKKEEPING
        }
    finally:
        conn.close()


async def _pg_columns(url: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    out: dict[str, set[str]] = {}
    for r in rows:
        if r["table_name"] not in BOOKKEEPING and r["column_name"] != "geom":
            out.setdefault(r["table_name"], set()).add(r["column_name"])
    return out


@pytest.mark.postgres
def test_same_schema_on_sqlite_and_postgres(
    sqlite_backend: Backend, postgres_backend: Backend
) -> None:
    on_sqlite = asyncio.run(_sqlite_columns(sqlite_backend.fresh()))
    on_postgres = asyncio.run(_pg_columns(postgres_backend.fresh()))
    assert {"resource", "area", "organisation", "opening_hours"} <= set(on_sqlite)
    assert on_sqlite == on_postgres


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.anyio
async def test_postgis_geometry_follows_the_stored_coordinates(database_url: str) -> None:
    from resourcemap.models import Area, Resource
    from tests.factories import square

    url = database_url

    async with db.database(url):
        await Area.create(
            code="449901001001",
            level="community",
            name_zh="甲",
            boundary=square(114, 22.7, 0.01),
        )
        r = await Resource.create(kind="community_room", name_zh="室", lat=22.705, lon=114.005)
        r.lon = 114.006
        await r.save()
    conn = await asyncpg.connect(url)
    try:
        point = await conn.fetchval("SELECT ST_AsText(geom) FROM resource")
        inside = await conn.fetchval("SELECT ST_Covers(a.geom, r.geom) FROM area a, resource r")
    finally:
        await conn.close()
    assert (point, inside) == ("POINT(114.006 22.705)", True)


@pytest.mark.anyio
async def test_schedule_versions_migrate_down_and_up_with_bookable_resources(
    database_url: str,
) -> None:
    """0007 undone and done again on a database with bookable resources: every policy
    starts at schedule_version 0, and the triggers count edits from then on."""
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from resourcemap.models import BookingPolicy, OpeningHours
    from tests.booking_helpers import bookable_city

    url = database_url

    async with db.database(url):
        room = (await bookable_city())["room"]
        await OpeningHours.filter(resource_id=room, weekday=0).delete()
        edited = (await BookingPolicy.get(resource_id=room)).schedule_version
    await tortoise_migrate(config=db.tortoise_config(url), target="models.0006_slot_indexes")
    await db.close_db()
    await schema.migrate(url)
    async with db.database(url):
        before = (await BookingPolicy.get(resource_id=room)).schedule_version
        await OpeningHours.filter(resource_id=room).delete()
        after = (await BookingPolicy.get(resource_id=room)).schedule_version
    assert edited > 0
    assert before == 0
    assert after > before


PLAIN_DIGEST = "a" * 64


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def upgraded_from_0008(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """A database with a bookable room, undone to 0008 and upgraded again (0009 done twice),
    and what it held before and after: the two tests below read one such round trip, because
    undoing and redoing the migrations takes the ORM's migration machinery seconds each way.

    Before the round trip, the room's booking has a plain SHA-256 fingerprint (which named the
    phone number), as written before 0009, and the room is only for students."""
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from resourcemap.models import Booking, BookingPolicy, OpeningHours, Resource
    from tests.booking_helpers import NOW, TOMORROW_9, bookable_city, desk
    from tests.booking_helpers import request as booking_request

    backend: Backend = request.getfixturevalue(f"{request.param}_backend")
    url = backend.fresh()
    try:
        async with db.database(url):
            room = (await bookable_city())["room"]
            await desk(url).book(booking_request(room, TOMORROW_9, phone="13812345678"), now=NOW)
            await Booking.filter(resource_id=room).update(request_hash=PLAIN_DIGEST)
            await Resource.filter(id=room).update(eligibility="students")
            hours = await OpeningHours.filter(resource_id=room).count()
        await tortoise_migrate(
            config=db.tortoise_config(url), target="models.0008_waitlist_idempotency"
        )
        await db.close_db()
        await schema.migrate(url)
        async with db.database(url):
            booking = await Booking.get(resource_id=room)
            found = {
                "request_hash": booking.request_hash,
                "code": booking.code,
                "hours_before": hours,
                "hours_after": await OpeningHours.filter(resource_id=room).count(),
                "policies": await BookingPolicy.filter(resource_id=room).count(),
                "eligibility": (await Resource.get(id=room)).eligibility,
            }
        yield found
    finally:
        backend.release(url)


@pytest.mark.anyio
async def test_unkeyed_request_digests_are_cleared_by_the_upgrade(
    upgraded_from_0008: dict[str, Any],
) -> None:
    """0009: plain SHA-256 fingerprints (which named the phone number) written before the
    upgrade are gone after it; the booking itself is untouched."""
    stored, code = upgraded_from_0008["request_hash"], upgraded_from_0008["code"]
    assert stored == "" and len(code) == 8


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.anyio
async def test_migrate_reinstalls_the_booking_function(database_url: str) -> None:
    """The booking function is code: every migrate puts back the version this code calls."""
    from resourcemap.booking import seats

    url = database_url

    async def source() -> str | None:
        conn = await asyncpg.connect(url)
        try:
            found: str | None = await conn.fetchval(
                "SELECT prosrc FROM pg_proc WHERE proname = 'resourcemap_book'"
            )
            return found
        finally:
            await conn.close()

    installed = await source()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE OR REPLACE FUNCTION resourcemap_book(int) RETURNS int "
            "LANGUAGE sql AS 'SELECT 1'"
        )
        await conn.execute(
            "DROP FUNCTION resourcemap_book(int, timestamptz, timestamptz, bigint, jsonb, "
            "jsonb, timestamptz, int, int)"
        )
    finally:
        await conn.close()
    gone = await source()
    await schema.migrate(url)
    async with db.database(url):
        expected = seats.book_function()
    assert installed is not None and installed.strip() in expected
    assert gone == "SELECT 1"  # only the stray one-argument function was left
    assert await source() == installed


@pytest.mark.anyio
async def test_eligibility_migrates_down_and_up_keeping_every_row(
    upgraded_from_0008: dict[str, Any],
) -> None:
    """0009 undone and done again: listings and what refers to them stay; rows that were
    there before the column get the default, public."""
    found = upgraded_from_0008
    hours, again = found["hours_before"], found["hours_after"]
    assert hours > 0 and again == hours and found["policies"] == 1
    assert found["eligibility"] == "public"


@pytest.mark.parametrize("which", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_booked_referrals_whose_visit_ended_follow_it_in_the_upgrade(
    which: str, request: pytest.FixtureRequest
) -> None:
    """0021: a referral left "booked" by a visit cancelled or marked before referrals
    followed their bookings is closed or given its outcome; the others stay as they are,
    and the new language column reads '' (not known)."""
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from resourcemap.models import Booking, Referral
    from resourcemap.referral import flow
    from resourcemap.referral.requests import AcceptIn
    from tests.booking_helpers import NOW
    from tests.referral_helpers import at, green_city, ledger, referral_in

    backend: Backend = request.getfixturevalue(f"{which}_backend")
    url = backend.fresh()

    async def round_trip() -> tuple[list[Referral], Any]:
        async with db.database(url):
            ids = await green_city(referral_seats=3)
            led, centre = ledger(url), ids["centre_staff"]
            made = []
            for _ in range(3):
                sent = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
                await flow.accept(led, centre, sent.id, AcceptIn(starts_at=at(2, 9)), now=NOW)
                made.append(sent.id)
            # As the code before 0021 left them: the booking moved on, the referral not.
            bookings = [(await Referral.get(id=r)).booking_id for r in made]
            await Booking.filter(id=bookings[0]).update(status="cancelled")
            await Booking.filter(id=bookings[1]).update(status="no_show")
            stamped = (await Booking.get(id=bookings[0])).updated_at
        await tortoise_migrate(config=db.tortoise_config(url), target="models.0020_jobs")
        await db.close_db()
        await schema.migrate(url)
        async with db.database(url):
            return [await Referral.get(id=r) for r in made], stamped

    try:
        after, stamped = asyncio.run(round_trip())
    finally:
        backend.release(url)
    assert [r.status.value for r in after] == ["closed", "did_not_attend", "booked"]
    assert after[0].closed_at == stamped and after[1].attended is False
    assert {r.lang for r in after} == {""}
