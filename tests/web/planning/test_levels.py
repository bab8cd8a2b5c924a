"""The planner's pages on a city whose areas stop at districts (DataV files do): only the
levels there are are offered, a level there is not is refused naming the one to choose,
and no map of an absent level fails (a planner's walk-through with Shenzhen's districts
found every "community" map a 500, and "per street" one row holding everyone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup

from resourcemap import accounts
from resourcemap.models import Area
from resourcemap.vocab import Role
from tests.factories import run_in_db
from tests.html_helpers import one
from tests.transfer.test_china import _districts_with_demand
from tests.web.api.test_planning import PASSWORD, sign_in


async def _districts_only() -> None:
    await _districts_with_demand()
    # Another city of the province file, where no resident is counted: the siting grid is
    # laid where people live, not over the province (no spacing was wide enough).
    square = [[[104.0, 18.0], [110.0, 18.0], [110.0, 24.0], [104.0, 24.0], [104.0, 18.0]]]
    await Area.create(
        code="450000000000",
        level="city",
        name_zh="远方市",
        boundary={"type": "Polygon", "coordinates": square},
    )
    await accounts.create_account(None, username="planner", password=PASSWORD, role=Role.PLANNER)


def test_a_city_of_districts_offers_and_answers_its_own_levels(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, _districts_only)
    with make_client(database_url) as client:
        sign_in(client, "planner")
        page = BeautifulSoup(client.get("/planning?lang=en").text, "html.parser")
        offered = [o["value"] for o in one(page, "select#f-level").select("option")]
        assert offered == ["city", "district"]
        chosen = one(page, "select#f-level option[selected]")["value"]
        assert chosen == "district"  # opened at the deepest level there is
        assert client.get("/planning/map?level=district").status_code == 200

        for path in ("/planning?level=community", "/planning/map?level=street"):
            refused = client.get(path + "&lang=en")
            assert refused.status_code == 400, path
            assert "no community level" in refused.text or "no street level" in refused.text
            assert "choose the district level or one above it" in refused.text, path
        zh = client.get("/planning?level=street&lang=zh-CN")
        assert zh.status_code == 400 and "请选择区县或以上层级" in zh.text
        api = client.get("/api/v1/coverage", params={"level": "community"})
        assert api.status_code == 400 and "level" in api.json()["fields"]
        # Without a level, every figure is by the deepest level there is: access gave one
        # row "outside every area" holding everyone, indicators a refusal.
        access = client.get("/api/v1/access")
        assert access.status_code == 200, access.text[:300]
        assert "outside every area" not in access.text
        assert client.get("/api/v1/indicators").status_code == 200

        siting = BeautifulSoup(client.get("/planning/siting").text, "html.parser")
        assert one(siting, "#f-cand option[selected]")["value"] == "grid"
        # Its defaults answer (the level of its areas left to the one there is), and its
        # map draws; so does the map asked for without a level.
        token = str(one(siting, 'input[name="csrf_token"]')["value"])
        headers = {"X-CSRF-Token": token}
        form = {"csrf_token": token, "sites": "2", "candidates": "grid", "spacing_m": "2000"}
        sited = client.post("/planning/siting", data=form, headers=headers)
        assert sited.status_code == 200, sited.text[-800:]
        frame = one(BeautifulSoup(sited.text, "html.parser"), "iframe.coverage-map")
        assert client.get(str(frame["src"])).status_code == 200
        plain = client.get("/planning/map")
        assert plain.status_code == 200, plain.text[-600:]
