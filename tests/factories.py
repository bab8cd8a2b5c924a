"""Small hand-made datasets for tests that need exact, known answers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

import anyio
from click.testing import CliRunner, Result

from resourcemap import db
from resourcemap.models import (
    Area,
    HoursException,
    OpeningHours,
    Organisation,
    Qualification,
    Resource,
)


class AreaCodes(TypedDict):
    """The area codes a listing is filed under, to spread into ``Resource.create``.

    A TypedDict rather than ``dict[str, str]``: mypy then knows none of the keys is one of
    ``create``'s own parameters (``using_db``).
    """

    city_code: str
    district_code: str
    street_code: str
    community_code: str


def run_in_db(database_url: str, fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``fn`` with the ORM connected to ``database_url`` (outside any app)."""

    async def go() -> Any:
        async with db.database(database_url):
            return await fn()

    return asyncio.run(go())


async def invoke(*args: str) -> Result:
    """``resourcemap ARGS`` from an async test. A command runs its own event loop
    (``asyncio.run``), so it runs in a thread of its own, as it would from a shell."""
    from resourcemap.cli import main

    return await anyio.to_thread.run_sync(CliRunner().invoke, main, list(args))


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


async def small_city() -> dict[str, int]:
    """A city with one district, two streets, one community each, and five resources."""
    city = await Area.create(code="449900000000", level="city", name_zh="测试市", population=3000)
    district = await Area.create(
        code="449901000000", level="district", name_zh="测试区", parent=city, population=3000
    )
    east = await Area.create(
        code="449901001000", level="street", name_zh="东街道", parent=district, population=1000
    )
    west = await Area.create(
        code="449901002000", level="street", name_zh="西街道", parent=district, population=2000
    )
    await Area.create(
        code="449901001001",
        level="community",
        name_zh="东湖社区",
        parent=east,
        population=1000,
        boundary=square(114.00, 22.70, 0.01),
    )
    await Area.create(
        code="449901002001",
        level="community",
        name_zh="西山社区",
        parent=west,
        population=2000,
        boundary=square(113.90, 22.70, 0.01),
    )
    org = await Organisation.create(name_zh="测试区卫健局", type="government")

    def located(street: str, community: str) -> AreaCodes:
        return {
            "city_code": "449900000000",
            "district_code": "449901000000",
            "street_code": street,
            "community_code": community,
        }

    room = await Resource.create(
        kind="community_room",
        name_zh="东湖社区心理咨询室",
        name_en="Donghu Community Counselling Room",
        organisation=org,
        services=["counselling", "group_activity"],
        audiences=["everyone"],
        modes=["in_person"],
        phone="0755-20000001",
        lat=22.705,
        lon=114.005,
        address_zh="东湖路1号",
        **located("449901001000", "449901001001"),
    )
    for weekday in range(5):
        await OpeningHours.create(resource=room, weekday=weekday, opens=9 * 60, closes=12 * 60)
        await OpeningHours.create(
            resource=room, weekday=weekday, opens=14 * 60, closes=17 * 60 + 30
        )
    await HoursException.create(
        resource=room,
        start_date=dt.date(2026, 12, 4),
        end_date=dt.date(2026, 12, 4),
        closed=True,
        note="员工培训",
    )
    clinic = await Resource.create(
        kind="psychiatric_hospital_clinic",
        name_zh="西山医院心理门诊",
        services=["psychiatric_outpatient", "assessment"],
        fee="paid",
        fee_note="挂号费 20 元",
        lat=22.705,
        lon=113.905,
        **located("449901002000", "449901002001"),
    )
    doctor = await Resource.create(
        kind="psychiatrist",
        name_zh="王医生",
        services=["psychiatric_outpatient"],
        lat=22.705,
        lon=113.905,
        **located("449901002000", "449901002001"),
    )
    await Qualification.create(
        resource=doctor,
        type="psychiatrist",
        certificate_number="YS-2015-000123",
        issuer="测试市卫生健康委员会",
        verified_on=dt.date(2026, 3, 1),
    )
    team = await Resource.create(
        kind="volunteer_team",
        name_zh="东街道心理志愿者服务队",
        services=["group_activity", "education"],
        service_area_codes=["449901001000"],
    )
    hotline = await Resource.create(
        kind="hotline",
        name_zh="测试市心理援助热线",
        services=["crisis_intervention", "phone_support"],
        modes=["phone"],
        phone="12320",
        always_open=True,
        service_area_codes=["449900000000"],
    )
    closed = await Resource.create(
        kind="community_room",
        name_zh="旧址心理咨询室",
        status="closed",
        lat=22.706,
        lon=114.006,
        **located("449901001000", "449901001001"),
    )
    return {
        "room": room.id,
        "clinic": clinic.id,
        "doctor": doctor.id,
        "team": team.id,
        "hotline": hotline.id,
        "closed": closed.id,
    }
