"""Where each area is (its names and the areas above it), as planners' tables name rows
(#22): read once per change of the areas, not on every page, and never stale after one."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise.timezone import now

from resourcemap.models import Area
from resourcemap.planning import area_places as places_module
from resourcemap.planning.area_places import area_places
from tests.factories import run_in_db, small_city


def test_a_community_is_placed_in_its_street_district_and_city(database_url: str) -> None:
    async def go() -> Any:
        await small_city()
        return await area_places()

    places = run_in_db(database_url, go)
    east = places["449901001001"]
    assert east.name == "东湖社区"
    assert [(p.level, p.name) for p in east.parents] == [
        ("street", "东街道"),
        ("district", "测试区"),
        ("city", "测试市"),
    ]


def test_places_are_read_again_only_when_the_areas_change(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    read = places_module._read_places

    async def counted() -> Any:
        reads.append(1)
        return await read()

    monkeypatch.setattr(places_module, "_read_places", counted)

    async def go() -> dict[str, Any]:
        await small_city()
        first = await area_places()
        again = await area_places()
        seen: dict[str, Any] = {"reads before": len(reads), "same": first is again}
        # A boundary import renames a street (as transfer.areas writes it): the next
        # table says so at once.
        await Area.filter(code="449901001000").update(name_zh="东湖街道", updated_at=now())
        renamed = await area_places()
        seen["renamed"] = renamed["449901001001"].parents[0].name
        await Area.create(
            code="449901002002", level="community", name_zh="新村社区", parent_id="449901002000"
        )
        seen["added"] = (await area_places())["449901002002"].parents[0].name
        seen["reads after"] = len(reads)
        return seen

    seen = run_in_db(database_url, go)
    assert seen["reads before"] == 1 and seen["same"]
    assert seen["renamed"] == "东湖街道"
    assert seen["added"] == "西街道"
    assert seen["reads after"] == 3
