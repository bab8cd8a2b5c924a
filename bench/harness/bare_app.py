"""A bare Starlette app answering one page of search results: the benchmark's ceiling.

The page has the shape and about the size of a real ``/api/v1/search`` page of 20 items
and is serialised on every request, as the real endpoint's is; nothing else happens.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGE_SIZE = 20


def _item(i: int) -> dict[str, Any]:
    return {
        "id": 1000 + i,
        "name_zh": f"翠湖文昌路社区心理咨询室{i}",
        "name_en": f"Cuihu Wenchang Road Community Counselling Room {i}",
        "kind": "community_room",
        "kind_label": {"zh": "社区心理咨询室/社会工作室", "en": "Community counselling room"},
        "placement": "point",
        "services": ["counselling", "education", "referral"],
        "audiences": ["everyone", "elderly"],
        "languages": ["zh"],
        "modes": ["in_person", "phone"],
        "fee": "free",
        "phone": "0755-2345678",
        "always_open": False,
        "open_now": True,
        "location": {"lat": 22.751234, "lon": 113.931234},
        "address_zh": "示例市示例区明湖街道翠湖社区文昌路123号",
        "service_area_codes": [],
        "distance_m": 812.4,
        "walk_minutes": 10,
        "highlight": {"name_zh": "翠湖文昌路社区<mark>心理咨询</mark>室"},
        "score": 21.5,
    }


PAGE: dict[str, Any] = {
    "items": [_item(i) for i in range(PAGE_SIZE)],
    "total": 137,
    "facets": {
        "kind": {"community_room": 80, "licensed_agency": 40, "counsellor": 17},
        "service": {"counselling": 137, "education": 80, "referral": 80, "assessment": 22},
    },
    "next_cursor": "eyJvZmZzZXQiOjIwfQ",
    "degraded": False,
    "backend": "embedded",
    "at": "2026-05-04T10:00:00+08:00",
    "dataset": "示例数据 / synthetic demo data (seed 20181)",
}


async def search(request: Request) -> Response:
    return JSONResponse(PAGE)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/api/v1/search", search), Route("/healthz", healthz)])
