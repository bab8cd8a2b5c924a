"""Which rows of a file leave their stored listing as it is.

A directory publishes its whole file again every month: most of its listings are as they
were. Saying "13 updated" for a file that changes two hides the two; saving the other
eleven again fills the audit log with edits that change nothing and makes every process
index them again. A row is unchanged when the listing it would write equals the stored
one field for field (hours, exceptions and qualifications included); a row naming an
organisation the import creates is a change.
"""

from __future__ import annotations

from typing import Any

from resourcemap import areas
from resourcemap.listings import edits
from resourcemap.models import Resource
from resourcemap.transfer.checks import DatabaseChecks, Row, chunks


async def find(rows: list[Row], checks: DatabaseChecks) -> set[int]:
    """The ids of the stored listings that ``rows`` (all valid) would write as they are."""
    wanted = {
        checks.existing[r.external_id][0]: r
        for r in rows
        if r.external_id in checks.existing
        and (
            r.candidate.organisation is None
            or checks.organisations.get(r.candidate.organisation.key)
        )
    }
    same: set[int] = set()
    for chunk in chunks(list(wanted)):
        stored = await Resource.filter(id__in=chunk).prefetch_related(
            "hours", "exceptions", "qualifications"
        )
        for resource in stored:
            given = wanted[resource.id].written(checks.organisations, resource.organisation_id)
            kept = {f for f in edits.KEPT_UNLESS_GIVEN if f not in given.model_fields_set}
            if _comparable(given, kept) == _comparable(
                edits.stored_input(resource), kept
            ) and not await _placed_anew(resource):
                same.add(resource.id)
    return same


async def _placed_anew(resource: Resource) -> bool:
    """Whether a save would give a located listing the areas it lacks: one saved before
    its point placed it (a city of DataV districts) is placed by the next import of it."""
    if resource.lat is None or resource.lon is None or resource.city_code:
        return False
    return bool(await areas.areas_at(resource.lat, resource.lon))


def _comparable(data: edits.ResourceIn, kept: set[str]) -> dict[str, Any]:
    """The fields a save writes, less those it keeps (``kept``); the hours in the order
    they are stored."""
    dumped = data.model_dump(mode="json", exclude=kept)
    dumped["hours"] = sorted(dumped["hours"], key=lambda h: (h["weekday"], h["opens"]))
    return dumped
