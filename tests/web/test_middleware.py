"""The one middleware (web/middleware.py): every answer carries the same security headers,
bodies over their limit are refused before anything reads them, and the language is chosen
for every page alike."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import make_settings

PAGES = ["/", "/login", "/resources/999999", "/api/v1/resources", "/api/v1/nope", "/healthz"]


def _check_headers(answer: Any) -> None:
    csp = answer.headers["content-security-policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert script_src == "script-src 'self'"  # no inline script, no eval, anywhere
    assert "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_same_headers(
    database_url: str, make_client: Callable[..., Any], path: str
) -> None:
    with make_client(database_url) as client:
        answer = client.get(path, follow_redirects=False)
    _check_headers(answer)
    assert answer.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in answer.headers  # development: plain HTTP


def test_a_server_error_carries_them_too(database_url: str) -> None:
    from resourcemap.clock import FixedClock
    from tests.conftest import TEST_NOW
    from web.app import create_app

    async def broken(request: Any) -> Any:
        raise RuntimeError("boom")

    app = create_app(make_settings(database_url), clock=FixedClock(TEST_NOW))
    app.router.routes.append(Route("/api/v1/broken", broken))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/broken")
    assert answer.status_code == 500
    assert answer.json()["error"] == "ServerError" and "boom" not in answer.text
    _check_headers(answer)


def test_every_429_says_when_to_try_again(database_url: str) -> None:
    """A 429 that gave no Retry-After (a page that renders its own) gets the middleware's."""
    from starlette.responses import PlainTextResponse

    from resourcemap.clock import FixedClock
    from tests.conftest import TEST_NOW
    from web.app import create_app

    async def busy(request: Any) -> Any:
        return PlainTextResponse("slow down", status_code=429)

    async def own(request: Any) -> Any:
        return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "7"})

    app = create_app(make_settings(database_url), clock=FixedClock(TEST_NOW))
    app.router.routes[:0] = [Route("/busy", busy), Route("/own", own)]
    with TestClient(app) as client:
        assert client.get("/busy").headers["retry-after"] == "60"
        assert client.get("/own").headers["retry-after"] == "7"
        assert "retry-after" not in client.get("/healthz").headers


def test_static_files_may_be_cached(database_url: str, make_client: Callable[..., Any]) -> None:
    with make_client(database_url) as client:
        answer = client.get("/static/app.css")
    assert answer.status_code == 200
    assert answer.headers.get("cache-control") != "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_production_adds_hsts(database_url: str, make_client: Callable[..., Any]) -> None:
    with make_client(database_url, environment="production") as client:
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_tiles_are_the_only_outside_images(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    tiles = "https://tiles.example.cn/{z}/{x}/{y}.png"
    with make_client(database_url, tile_url=tiles) as client:
        csp = client.get("/").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://tiles.example.cn;" in csp
    assert "connect-src 'self';" in csp


@pytest.fixture
def small_limits(database_url: str, make_client: Callable[..., Any]) -> Iterator[TestClient]:
    with make_client(database_url, body_limit_bytes=10_000, import_limit_bytes=50_000) as client:
        yield client


def test_a_body_over_the_limit_is_refused_before_sign_in(small_limits: TestClient) -> None:
    body = json.dumps({"username": "x" * 20_000, "password": "y"})
    answer = small_limits.post(
        "/api/v1/session", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["reason"] == ("the request body is larger than the limit of 10,000 bytes")
    _check_headers(answer)


def test_a_body_without_a_length_is_counted_as_it_streams(small_limits: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 1000

    answer = small_limits.post(
        "/api/v1/bookings", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


def test_imports_have_their_own_larger_limit(small_limits: TestClient) -> None:
    files = {"file": ("rooms.csv", b"a," * 20_000, "text/csv")}
    within = small_limits.post("/api/v1/imports", files=files)
    assert within.status_code == 401  # read, then refused for want of a sign-in
    files = {"file": ("rooms.csv", b"a," * 30_000, "text/csv")}
    assert small_limits.post("/api/v1/imports", files=files).status_code == 413


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/session", "/api/v1/waitlist"])
def test_json_nested_a_thousand_deep_is_a_400(
    database_url: str, make_client: Callable[..., Any], path: str
) -> None:
    # Deep enough to exhaust Python's recursion however deep the stack already is (the
    # parser's own limit depends on it): a 200 KB body, well within the size limit.
    body = "[" * 100_000 + "]" * 100_000
    with make_client(database_url) as client:
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
        # A thousand deep may parse: then it is still no JSON object, and still a 400.
        shallow = client.post(
            path, content="[" * 1000 + "]" * 1000, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 400
    assert answer.json()["fields"] == {"body": "the body is nested too deeply"}
    assert shallow.status_code == 400 and set(shallow.json()["fields"]) == {"body"}


def test_thousands_of_unknown_fields_get_a_short_answer(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    body = {f"k{i}": i for i in range(20_000)}
    with make_client(database_url) as client:
        answer = client.post("/api/v1/bookings", json=body)
    assert answer.status_code == 400
    assert len(answer.json()["fields"]) <= 20 and len(answer.content) < 5_000


@pytest.mark.parametrize("path", ["/", "/login"])
def test_the_language_asked_for_is_remembered_on_every_page(
    database_url: str, make_client: Callable[..., Any], path: str
) -> None:
    with make_client(database_url) as client:
        answer = client.get(path, params={"lang": "en"})
        assert 'lang="en"' in answer.text
        assert "rm_lang=en" in answer.headers["set-cookie"]
        again = client.get("/")
    assert 'lang="en"' in again.text


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/session", "/api/v1/waitlist"])
@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_the_json_api_takes_json_only(
    database_url: str, make_client: Callable[..., Any], path: str, kind: str
) -> None:
    """Another site's page can send ``text/plain`` or a form through a visitor's browser
    without asking; ``application/json`` it cannot. So JSON endpoints take nothing else."""
    body = json.dumps({"username": "a", "password": "b", "resource_id": 1})
    with make_client(database_url) as client:
        answer = client.post(path, content=body, headers={"content-type": kind})
    assert answer.status_code == 415
    assert answer.json()["fields"] == {
        "Content-Type": "send the body as JSON with Content-Type: application/json"
    }
