"""A listing's community from its point when the row names none: another directory's
records name none of ours, and a listing in no community counts in no area's figures and
is not seen by staff kept to an area."""

from __future__ import annotations

from resourcemap.models import Resource
from tests.factories import run_in_db
from tests.transfer.test_foreign import _import
from tests.transfer_helpers import DISTRICT, EAST, EAST_STREET, WEST, city_areas, csv_bytes

PLACED = "community_code not given: taken from the community the point lies in"


def _codes(url: str) -> dict[str, tuple[str, str, str]]:
    async def read() -> dict[str, tuple[str, str, str]]:
        rows = await Resource.all().values_list(
            "external_id", "community_code", "street_code", "district_code"
        )
        return {str(e): (c, s, d) for e, c, s, d in rows}

    found: dict[str, tuple[str, str, str]] = run_in_db(url, read)
    return found


def test_a_point_without_a_community_is_placed_in_the_one_around_it(database_url: str) -> None:
    run_in_db(database_url, city_areas)
    rows = [
        "in-east,community_room,东湖室,,,22.705,114.005,,,",  # inside 东湖社区
        f"says-west,community_room,西山室,,,22.705,114.005,{WEST},,",  # the row's own word
        "nowhere,community_room,城外室,,,22.75,114.005,,,",  # in no community
    ]
    report = _import(database_url, csv_bytes(*rows), "rooms.csv")
    assert report.ok, report.lines()
    assert f"{PLACED} (row 2)" in report.note_lines()
    codes = _codes(database_url)
    assert codes["in-east"] == (EAST, EAST_STREET, DISTRICT)
    assert codes["says-west"][0] == WEST
    assert codes["nowhere"] == ("", "", "")
    # The next file, still without communities, places it again: nothing is lost.
    again = _import(database_url, csv_bytes(rows[0]), "rooms.csv")
    assert again.unchanged == 1 and _codes(database_url)["in-east"][0] == EAST
