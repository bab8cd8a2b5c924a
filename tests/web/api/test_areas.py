"""``/api/v1/areas``, ``/healthz``, ``/readyz`` and ``/openapi.json``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from resourcemap import areas
from resourcemap.models import Area
from tests.factories import run_in_db, small_city, square


def test_areas_by_level_with_geometry_and_population(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        fc = client.get("/api/v1/areas?level=community").json()
        streets = client.get("/api/v1/areas?level=street&geometry=false").json()
        children = client.get("/api/v1/areas?parent=449901000000").json()
    assert [f["properties"]["name_zh"] for f in fc["features"]] == ["东湖社区", "西山社区"]
    east = fc["features"][0]
    assert east["geometry"]["type"] == "Polygon"
    assert east["properties"]["population"] == 1000
    assert east["properties"]["parent"] == "449901001000"
    assert all(f["geometry"] is None for f in streets["features"])
    assert [f["id"] for f in children["features"]] == ["449901001000", "449901002000"]


def test_area_detail_lists_children(database_url: str, make_client: Callable[..., Any]) -> None:
    run_in_db(database_url, small_city)
    with make_client(database_url) as client:
        district = client.get("/api/v1/areas/449901000000").json()
        missing = client.get("/api/v1/areas/000")
        bad_level = client.get("/api/v1/areas?level=planet")
        bad_parent = client.get("/api/v1/areas?parent=123")
    assert district["properties"]["children"] == ["449901001000", "449901002000"]
    assert district["properties"]["population"] == 3000
    assert missing.status_code == 404 and "000" in missing.json()["reason"]
    assert bad_level.status_code == 400 and "level" in bad_level.json()["fields"]
    assert bad_parent.status_code == 400 and "parent" in bad_parent.json()["fields"]


def test_readyz_answers_from_the_database_and_healthz_without_it(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok" and ready.json()["search"] == "ready"
    assert ready.json()["database"] == (
        "sqlite" if database_url.startswith("sqlite") else "postgres"
    )
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_is_gone_and_healthz_still_200(
    tmp_path: Any, make_client: Callable[..., Any]
) -> None:
    url = "postgres://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    with make_client(url) as client:
        response = client.get("/readyz")
        alive = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert int(response.headers["Retry-After"]) > 0
    assert alive.status_code == 200


def test_openapi_documents_every_api_route(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(database_url) as client:
        doc = client.get("/openapi.json").json()
        routes = [r.path for r in client.app.routes if r.path.startswith("/api/")]
    assert doc["openapi"].startswith("3.1")
    assert "ResourceIn" in doc["components"]["schemas"]
    for path in routes:
        spec_path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        assert spec_path in doc["paths"], path
        for operation in doc["paths"][spec_path].values():
            assert operation["summary"]
            assert operation["responses"]
    params = {p["name"] for p in doc["paths"]["/api/v1/resources"]["get"]["parameters"]}
    assert {"kind", "bbox", "area", "limit", "cursor"} <= params


def test_the_openapi_document_is_valid_openapi_3_1(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """A contract tester reads it without error (#16): a comma in a docstring's description
    once split it into unknown fields, 24 errors."""
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    with make_client(database_url) as client:
        doc = client.get("/openapi.json").json()
    errors = [
        f"{'/'.join(str(p) for p in e.path)}: {e.message[:120]}"
        for e in OpenAPIV31SpecValidator(doc).iter_errors()
    ]
    assert errors == []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                assert set(response) <= {"description", "content", "headers"}, (path, method)
                assert status.isdigit(), (path, method, status)


def test_a_map_view_gets_the_outlines_in_it_at_a_level_it_can_carry(
    database_url: str, make_client: Callable[..., Any], monkeypatch: Any
) -> None:
    # Two communities 0.1° apart (东湖 at 114.00, 西山 at 113.90); their streets and the
    # district outlined too.
    run_in_db(database_url, small_city)

    async def outline() -> None:
        for area in await Area.filter(level__in=("street", "district")):
            children = await Area.filter(parent_id=area.code, boundary__isnull=False)
            if area.level == "district":
                area.boundary = square(113.85, 22.60, 0.3)
            else:
                outlined = children[0].boundary
                assert outlined is not None
                corner = outlined["coordinates"][0][0]
                area.boundary = square(corner[0], corner[1], 0.02)
            await area.save()

    run_in_db(database_url, outline)
    with make_client(database_url) as client:
        world = client.get("/api/v1/areas?bbox=-180,-90,180,90")
        east = client.get("/api/v1/areas?bbox=113.98,22.68,114.02,22.72").json()
        empty = client.get("/api/v1/areas?bbox=100,10,100.1,10.1").json()
        bad = client.get("/api/v1/areas?bbox=114,22,113,23")
        # A view holding more communities than a map should draw gets coarser outlines:
        # here, with room for one, neither the two communities nor the two streets fit.
        monkeypatch.setattr(areas, "MAX_IN_VIEW", 1)
        coarse = client.get("/api/v1/areas?bbox=-180,-90,180,90").json()
    names = [f["properties"]["name_zh"] for f in world.json()["features"]]
    assert names == ["东湖社区", "西山社区"]
    assert [f["properties"]["name_zh"] for f in east["features"]] == ["东湖社区"]
    assert empty["features"] == []
    assert bad.status_code == 400 and "bbox" in bad.json()["fields"]
    assert [f["properties"]["level"] for f in coarse["features"]] == ["district"]


def test_a_views_outlines_are_simplified_for_drawing_not_the_stored_boundary(
    database_url: str, make_client: Callable[..., Any], monkeypatch: Any
) -> None:
    run_in_db(database_url, small_city)
    # A district outlined as finely as a surveyed boundary: 4,000 vertices.
    turns = np.linspace(0, 2 * np.pi, 4001)
    ring = np.column_stack([113.95 + 0.15 * np.cos(turns), 22.70 + 0.15 * np.sin(turns)])
    ring = np.round(ring, 6)
    ring[-1] = ring[0]

    async def outline() -> None:
        await Area.filter(code="449901000000").update(
            boundary={"type": "Polygon", "coordinates": [ring.tolist()]}
        )

    run_in_db(database_url, outline)
    monkeypatch.setattr(areas, "MAX_IN_VIEW", 1)
    with make_client(database_url) as client:
        view = client.get("/api/v1/areas?bbox=113,22,115,23&level=district").json()
        stored = client.get("/api/v1/areas/449901000000").json()
    (drawn,) = view["features"]
    drawn_ring = drawn["geometry"]["coordinates"][0]
    assert len(stored["geometry"]["coordinates"][0]) == 4001
    assert 8 < len(drawn_ring) < 400, len(drawn_ring)
    # Still the same place: every vertex drawn lies on the stored circle (within a metre).
    radii = np.hypot(np.array(drawn_ring)[:, 0] - 113.95, np.array(drawn_ring)[:, 1] - 22.70)
    assert np.allclose(radii, 0.15, atol=1e-5)
