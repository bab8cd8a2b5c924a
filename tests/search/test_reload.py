"""What a search process reads again after a bulk change (#22): everything a reload needs,
and nothing that did not change."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from geo.locate import AreaLocator
from resourcemap import db
from resourcemap.models import Area
from resourcemap.search import changes, service
from resourcemap.search.base import SearchQuery
from tests.factories import small_city, square


@pytest.mark.anyio
async def test_a_reload_reads_the_areas_again_only_when_they_changed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listings import logs a full reload; a province's boundaries took the event loop
    ~1.7 s to read and shape, so they are read again only when the areas changed, and a
    new community is then known at once."""
    made: list[int] = []

    class Counted(AreaLocator):
        def __init__(self, *args: Any) -> None:
            made.append(1)
            super().__init__(*args)

    monkeypatch.setattr(service, "AreaLocator", Counted)
    point = SearchQuery.model_validate({"lat": 22.805, "lon": 114.005})
    async with db.database(database_url):
        await small_city()
        search = service.SearchService(ZoneInfo("Asia/Shanghai"))
        await search.refresh()
        started = len(made)
        await changes.record_rebuild()  # an import of listings
        await search.follow(force=True)
        reloaded = len(made)
        before = search.point_area_codes(point)
        street = await Area.get(code="449901001000")
        await Area.create(
            code="449901001009",
            level="community",
            name_zh="北岸社区",
            parent=street,
            boundary=square(114.00, 22.80, 0.01),
        )
        await changes.record_rebuild()  # as an import of areas logs
        await search.follow(force=True)
        with_new_areas = len(made)
        after = search.point_area_codes(point)
    assert reloaded == started  # the same areas: not read again
    assert with_new_areas == started + 1
    assert before == frozenset()
    assert after == {"449901001009", "449901001000", "449901000000", "449900000000"}
