"""Shared by the ``test_transfer_*`` modules: a city with areas only, files, a client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.routing import Route
from starlette.testclient import TestClient

from resourcemap.models import Area, Organisation
from tests.conftest import make_settings
from tests.factories import square
from web.app import create_app
from web.endpoints import imports

CITY, DISTRICT = "449900000000", "449901000000"
EAST_STREET, WEST_STREET = "449901001000", "449901002000"
EAST, WEST = "449901001001", "449901002001"  # communities
ORG = "测试区卫健局"
# The import time every test passes (imports record it as provenance).
NOW = dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)

HEADER = "external_id,kind,name_zh,organisation_name_zh,services,lat,lon,community_code,hours,phone"
GOOD_ROWS = [
    "room-1,community_room,东湖社区心理咨询室,测试区卫健局,心理咨询;团体活动,22.705,114.005,"
    f"{EAST},周一至周五 09:00-12:00,0755-20000001",
    "room-2,community_room,西山社区心理咨询室,,counselling,22.705,113.905,"
    f"{WEST},Mon-Fri 09:00-12:00; Sat 09:00-12:00,",
]


async def city_areas() -> int:
    """The areas of ``factories.small_city`` and its organisation, without any listing."""
    city = await Area.create(code=CITY, level="city", name_zh="测试市", population=3000)
    district = await Area.create(
        code=DISTRICT, level="district", name_zh="测试区", parent=city, population=3000
    )
    east = await Area.create(
        code=EAST_STREET, level="street", name_zh="东街道", parent=district, population=1000
    )
    west = await Area.create(
        code=WEST_STREET, level="street", name_zh="西街道", parent=district, population=2000
    )
    await Area.create(
        code=EAST,
        level="community",
        name_zh="东湖社区",
        parent=east,
        population=1000,
        boundary=square(114.00, 22.70, 0.01),
    )
    await Area.create(
        code=WEST,
        level="community",
        name_zh="西山社区",
        parent=west,
        population=2000,
        boundary=square(113.90, 22.70, 0.01),
    )
    org = await Organisation.create(name_zh=ORG, type="government")
    return org.id


def csv_bytes(*rows: str, header: str = HEADER, bom: bool = True) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return text.encode("utf-8-sig" if bom else "utf-8")


TRANSFER_ROUTES = [
    Route("/api/v1/imports", imports.import_upload, methods=["POST"]),
    Route("/api/v1/exports", imports.export_download, methods=["GET"]),
]


@contextmanager
def transfer_client(database_url: str, **overrides: Any) -> Iterator[TestClient]:
    """The real app, with the import/export routes added if ``web.routes`` lacks them."""
    app = create_app(make_settings(database_url, search_follow_seconds=0, **overrides))
    paths = {getattr(r, "path", None) for r in app.router.routes}
    for route in TRANSFER_ROUTES:
        if route.path not in paths:
            app.router.routes.insert(0, route)
    with TestClient(app) as client:
        yield client
