"""Attacks a deployment will meet: fuzzed requests and script payloads in listing text."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, settings

from resourcemap.models import Resource
from tests import ROOT
from tests.conftest import Backend, running_demo
from tests.factories import run_in_db, small_city

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="session")
def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory, sqlite_backend: Backend
) -> Iterator[tuple[str, str]]:
    """A demo server of its own (fuzzing writes to it) and an admin's bearer token."""
    workdir = tmp_path_factory.mktemp("fuzz")
    # The run's demo city, already loaded: ``resourcemap demo`` serves it without spending
    # seconds generating and writing it again (tests/core/test_cli.py runs it on a new file).
    copy = sqlite_backend.fresh("demo")
    shutil.copyfile(copy.removeprefix("sqlite://"), workdir / "demo.sqlite3")
    sqlite_backend.release(copy)
    with running_demo(workdir) as (base, env):
        cli = [sys.executable, "-m", "resourcemap", "user"]
        subprocess.run(
            [*cli, "create", "fuzzer", "--role", "admin", "--password", "fuzz-pass-123"],
            env=env,
            check=True,
            capture_output=True,
        )
        token = subprocess.run(
            [*cli, "token", "fuzzer"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        yield base, token


@pytest.fixture(scope="session")
def api_schema(fuzz_target: tuple[str, str]) -> Any:
    base, _ = fuzz_target
    return schemathesis.openapi.from_url(base + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.load
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_makes_a_server_error(case: Any, fuzz_target: tuple[str, str]) -> None:
    base, token = fuzz_target
    # Anonymous reads, and everything as an admin (writes past the permission check).
    anonymous: list[dict[str, str]] = [{}] if case.method == "GET" else []
    for headers in [*anonymous, {"Authorization": f"Bearer {token}"}]:
        response = case.call(base_url=base, headers=headers, timeout=10)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)


def test_script_payloads_in_every_text_field_stay_text(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    async def hostile() -> int:
        await small_city()
        r = await Resource.create(
            kind="hotline",
            always_open=True,
            modes=["phone"],
            service_area_codes=["449900000000"],
            name_zh=PAYLOAD,
            name_en=PAYLOAD,
            description_zh=PAYLOAD,
            address_zh=PAYLOAD,
            fee_note=PAYLOAD,
            phone="<i>110</i>",
        )
        return r.id

    resource_id = run_in_db(database_url, hostile)
    with make_client(database_url, search_follow_seconds=0) as client:
        pages = {path: client.get(path).text for path in ("/",)}
        detail = client.get(f"/api/v1/resources/{resource_id}")
        found = client.get("/api/v1/search", params={"q": "script"}).json()
    for path, html in pages.items():
        assert PAYLOAD not in html, path
        soup = BeautifulSoup(html, "html.parser")
        scripts = [s.get("src") or s.string or "" for s in soup.find_all("script")]
        assert not any("alert" in s for s in scripts), path
        assert not soup.find_all("img", onerror=True), path
        assert not soup.find_all("i", string="110"), path
    # JSON carries the text as data; the map builds popups from it with textContent only.
    assert detail.headers["content-type"].startswith("application/json")
    assert detail.json()["name_zh"] == PAYLOAD
    for item in found["items"]:
        for marked in item["highlight"].values():
            assert "<script>" not in marked and "<img" not in marked


def test_map_script_never_writes_listing_text_as_html() -> None:

    static = ROOT / "web" / "static"
    for script in static.glob("*.js"):
        source = script.read_text()
        assert not re.search(r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML", source), script
    assert "textContent" in (static / "map.js").read_text()
