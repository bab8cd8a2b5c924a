"""Where each area is (its names and the areas above it), as planners' tables name rows
(#22): read once per change of the areas, not on every page, and never stale after one."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise.timezone import now

from resourcemap import db
from resourcemap.models import Area
from resourcemap.planning import area_places as places_module
from resourcemap.planning.area_places import area_places
from tests.factories import small_city


@pytest.mark.anyio
async def test_a_community_is_placed_in_its_street_district_and_city(database_url: str) -> None:
    async with db.database(database_url):
        await small_city()
        places = await area_places()
    east = places["449901001001"]
    assert east.name == "东湖社区"
    assert [(p.level, p.name) for p in east.parents] == [
        ("street", "东街道"),
        ("district", "测试区"),
        ("city", "测试市"),
    ]


@pytest.mark.anyio
async def test_places_are_read_again_only_when_the_areas_change(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    read = places_module._read_places

    async def counted() -> Any:
        reads.append(1)
        return await read()

    monkeypatch.setattr(places_module, "_read_places", counted)
    async with db.database(database_url):
        await small_city()
        first = await area_places()
        again = await area_places()
        assert len(reads) == 1 and first is again
        # A boundary import renames a street (as transfer.areas writes it): the next
        # table says so at once.
        await Area.filter(code="449901001000").update(name_zh="东湖街道", updated_at=now())
        renamed = await area_places()
        await Area.create(
            code="449901002002", level="community", name_zh="新村社区", parent_id="449901002000"
        )
        added = await area_places()
    assert renamed["449901001001"].parents[0].name == "东湖街道"
    assert added["449901002002"].parents[0].name == "西街道"
    assert len(reads) == 3
