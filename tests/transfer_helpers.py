"""Shared by the ``test_transfer_*`` modules: a city with areas only, files, a client."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from geo.chinacoords import CoordSystem
from resourcemap.clock import FixedClock
from resourcemap.models import Area, Organisation
from resourcemap.transfer.areas import import_areas
from resourcemap.transfer.hsds_tables import zip_folder
from resourcemap.transfer.report import ImportReport
from tests.conftest import TEST_NOW, make_settings
from tests.factories import square
from web.app import create_app

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


@contextmanager
def transfer_client(database_url: str, **overrides: Any) -> Iterator[TestClient]:
    """The real app, following listing changes on every search."""
    app = create_app(
        make_settings(database_url, search_follow_seconds=0, **overrides),
        clock=FixedClock(TEST_NOW),
    )
    with TestClient(app) as client:
        yield client


# The real-data corpus (tests/data/realdata/README.md): files other people published.
CORPUS = Path(__file__).parent / "data/realdata"
HSDS_SERVICE = Path(__file__).parent / "data/hsds/examples/service_full.json"
SHENZHEN = "440300000000"
LUOHU, FUTIAN, NANSHAN, GUANGMING = (f"4403{n}000000" for n in ("03", "04", "05", "11"))
DATAV = CORPUS / "datav/440300_full_extract.json"


async def shenzhen(coords: CoordSystem | None = CoordSystem.GCJ02) -> ImportReport:
    """Shenzhen as DataV publishes it (four districts, GCJ-02), below a city without a
    boundary; ``coords`` as given to ``import --areas``."""
    await Area.create(code=SHENZHEN, level="city", name_zh="深圳市", population=0)
    report = await import_areas(DATAV, coords=coords)
    assert report.ok, report.lines()
    return report


def folder_zip(folder: Path, drop: dict[str, set[str]] | None = None) -> bytes:
    """A folder of CSV tables as the ZIP an upload would be; ``drop``: table → ids of rows
    left out (what a user fixes after reading a report)."""
    files = []
    for path in sorted(folder.glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        unwanted = (drop or {}).get(path.name, set())
        if unwanted:
            rows = list(csv.reader(io.StringIO(text)))
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(
                [rows[0], *[r for r in rows[1:] if r and r[0] not in unwanted]]
            )
            text = out.getvalue()
        files.append((path.name, text.encode()))
    return zip_folder(files)
