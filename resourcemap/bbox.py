"""A map view's bounding box as a request gives it: ``bbox=west,south,east,north`` in
degrees (WGS-84), checked once for every endpoint that takes one."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator


def _split(value: object) -> object:
    if isinstance(value, str):
        parts = value.split(",")
        if len(parts) != 4:
            raise ValueError("bbox is west,south,east,north")
        return tuple(parts)
    return value


def _ordered(value: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    west, south, east, north = value
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError("bbox needs -180 ≤ west ≤ east ≤ 180 and -90 ≤ south ≤ north ≤ 90")
    return value


BBox = Annotated[
    tuple[float, float, float, float], BeforeValidator(_split), AfterValidator(_ordered)
]
