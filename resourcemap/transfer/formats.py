"""Which reader a listings file needs: the table readers (CSV, XLSX, GeoJSON) or the HSDS
ones (JSON documents and pages, table packages), by its content and name."""

from __future__ import annotations

from resourcemap.transfer.budget import Budget, metered
from resourcemap.transfer.hsds_in import read_hsds
from resourcemap.transfer.hsds_schedules import Zone
from resourcemap.transfer.hsds_tables import read_package
from resourcemap.transfer.readers import (
    Parsed,
    detect_format,
    load_json,
    read_csv,
    read_geojson,
    read_xlsx,
)


def read_listings(data: bytes, filename: str, zone: Zone, budget: Budget | None = None) -> Parsed:
    """Any accepted listings file → candidates. Raises :class:`UnreadableFile`, and
    ``TooLarge`` past ``budget``.

    ``zone`` (our time zone, the import's time) places HSDS opening times given with a UTC
    offset."""
    with metered(budget):
        return _read(data, filename, zone)


def _read(data: bytes, filename: str, zone: Zone) -> Parsed:
    fmt = detect_format(data, filename)
    if fmt == "csv":
        return read_csv(data, filename)
    if fmt == "xlsx":
        return read_xlsx(data, filename)
    if fmt == "hsds-tables":
        return read_package(data, zone)
    document = load_json(data)
    if fmt == "geojson":
        return read_geojson(document)
    return read_hsds(document, zone)
