"""When an imported listing was last confirmed true (``verified_at``: residents' "Listing
checked", staff's "Last confirmed").

A save by staff confirms a listing. An import of our CSV, GeoJSON or XLSX is staff's own
sheet and confirms its listings the same way. An HSDS record carries its own date,
``assured_date``; one that gives none is not confirmed by being imported: a new listing
shows no date until staff confirm it, an updated one keeps its own.
"""

from __future__ import annotations

import datetime as dt

from resourcemap.models import Resource
from resourcemap.said import N_
from resourcemap.transfer.checks import DatabaseChecks, Row, chunks
from resourcemap.transfer.columns import Candidate
from resourcemap.transfer.hsds_schedules import Zone


def read_assured(candidate: Candidate, given: str, zone: Zone) -> None:
    """Record on ``candidate`` an HSDS ``assured_date`` (a local date), or its absence, or
    its problem."""
    if not given:
        candidate.unconfirmed = True
        candidate.notes.append(
            N_(
                "assured_date not given: a new listing shows no date it was last "
                "confirmed until staff confirm it"
            )
        )
        return
    try:
        day = dt.date.fromisoformat(given)
    except ValueError:
        try:  # a date and time, as some directories write it: its own date
            day = dt.datetime.fromisoformat(given).date()
        except ValueError:
            candidate.reject(
                "assured_date", N_("%(value)r is not a date such as 2026-11-30", value=given)
            )
            return
    if day > zone.now.astimezone(zone.tz).date():
        candidate.reject("assured_date", N_("%(value)s is later than today", value=given))
        return
    candidate.confirmed = dt.datetime.combine(day, dt.time(), tzinfo=zone.tz)


async def stored(rows: list[Row], checks: DatabaseChecks) -> dict[int, dt.datetime]:
    """When each listing the file updates, and has a say on, was last confirmed: by id."""
    ids = [
        checks.existing[r.external_id][0]
        for r in rows
        if r.external_id in checks.existing and says(r.candidate)
    ]
    found: dict[int, dt.datetime] = {}
    for chunk in chunks(ids):
        pairs = await Resource.filter(id__in=chunk).values_list("id", "verified_at")
        found |= {int(i): v for i, v in pairs if v is not None}
    return found


def says(c: Candidate) -> bool:
    """The record has a say on when it was confirmed (else its import confirms it)."""
    return c.confirmed is not None or c.unconfirmed


def when(c: Candidate, before: dt.datetime | None) -> dt.datetime | None:
    """``verified_at`` of a listing written from ``c`` (which ``says``), that had ``before``."""
    if c.confirmed is None:
        return before  # a new listing: none; an updated one keeps its own
    if before is not None and before.astimezone(c.confirmed.tzinfo).date() == c.confirmed.date():
        return before  # the file's date is this one, to the day: keep its hour
    return c.confirmed
