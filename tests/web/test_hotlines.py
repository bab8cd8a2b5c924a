"""The 24/7 lines on residents' pages in a province (#22): a page about a service shows the
lines of that service's area, never another district's own line; a page that knows no area
shows only the numbers that reach everyone, each once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from resourcemap.models import Area, BookingPolicy, Resource
from resourcemap.vocab import AreaLevel, ResourceKind
from tests.factories import run_in_db
from tests.web.test_pages import page


@pytest.fixture
def province(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Two cities of one district each: each city lists 12320 and 12355, each district its
    own 24-hour line; and a bookable service in the second city."""
    found: dict[str, Any] = {}

    async def load() -> None:
        await load_demo_province(3, ProvinceSize(2, 1), tmp_path / "demand")
        districts = await Area.filter(level=AreaLevel.DISTRICT).order_by("code")
        lines = await Resource.filter(kind=ResourceKind.HOTLINE)
        found["district_lines"] = [
            next(r.phone for r in lines if r.service_area_codes == [d.code]) for d in districts
        ]
        found["shared"] = sorted({r.phone for r in lines} - set(found["district_lines"]))
        policy = await BookingPolicy.filter(
            enabled=True, resource__district_code=districts[1].code
        ).first()
        assert policy is not None
        found["service"] = policy.resource_id

    run_in_db(database_url, load)
    return found


def _numbers(client: Any, url: str) -> list[str]:
    soup = page(client, url)
    crisis = soup.find("aside", class_="crisis")
    assert crisis is not None, url
    return [str(a["href"]).removeprefix("tel:") for a in crisis.find_all("a", href=True)]


def test_a_service_page_shows_its_own_districts_line(
    database_url: str, province: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    first, second = (p.replace("-", "") for p in province["district_lines"])
    service = province["service"]
    with make_client(database_url) as client:
        for url in (f"/resources/{service}", f"/resources/{service}/book"):
            shown = _numbers(client, url)
            assert second in shown, url
            assert first not in shown, f"{url} shows another city's district line"
            assert len(shown) == len(set(shown)), f"{url} lists a number twice"


def test_a_page_without_an_area_shows_the_lines_that_reach_everyone_once(
    database_url: str, province: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        shown = _numbers(client, "/")
    assert sorted(shown) == province["shared"]  # 12320 and 12355, once each
