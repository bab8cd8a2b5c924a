"""Which services a referral can come from and go to, and the 24/7 lines an urgent one
shows: read from the listings, the needs vocabulary deciding who answers a need."""

from __future__ import annotations

import math

from geo.distance import geodesic_m
from resourcemap.accounts import Principal
from resourcemap.booking.staff import managed_resource
from resourcemap.errors import InvalidInput
from resourcemap.models import Resource
from resourcemap.referral.views import Candidate, Candidates, Line, ServiceRef, ref
from resourcemap.scope import located_in
from resourcemap.search.base import Reach, reach_of
from resourcemap.search.needs import NEEDS
from resourcemap.search.ranking import NOT_A_WALK_M
from resourcemap.vocab import Eligibility, ResourceKind, Role, Status

CRISIS_LINES = 3
MAX_CANDIDATES = 20
# Services whose kind the need names that lead the list, nearest first: the district's
# minors' guidance centres for 厌学, not every one of the province.
DEDICATED_FIRST = 3
MAX_MEMBERS_ONLY = 10


async def crisis_lines() -> list[Line]:
    rows = await Resource.filter(kind=ResourceKind.HOTLINE, status=Status.ACTIVE).order_by("id")
    return [
        Line(name_zh=r.name_zh, name_en=r.name_en, phone=r.phone)
        for r in rows[:CRISIS_LINES]
        if r.phone
    ]


def _reach(r: Resource) -> Reach:
    """How the resident gets there, as residents' search says it."""
    return reach_of(r.kind, r.modes, located=r.lat is not None and r.lon is not None)


def _open_to_referred(r: Resource, origin_areas: set[str]) -> bool:
    """Whether a resident referred from the origin can use ``r``: public and referral-only
    places, and places for local residents whose service area holds the referring service
    (it refers the residents it serves). A school's or a workplace's own room is not."""
    if r.eligibility in (Eligibility.PUBLIC, Eligibility.REFERRAL):
        return True
    if r.eligibility is Eligibility.AREA_RESIDENTS:
        return bool(origin_areas.intersection(r.service_area_codes))
    return False


async def candidates(
    actor: Principal, from_resource_id: int, need: str, *, members_only: bool = False
) -> Candidates:
    """Services a referral for ``need`` can go to: those whose kind, services and audiences
    answer the need (as residents' search matches them), not the referring one, no hotline.

    The resident must be able to use them, so members-only places (a school's own
    counselling room) are left out, as residents' search leaves them out, and counted;
    with ``members_only`` the nearest of them follow the others, marked. Among the others,
    the nearest few whose kind the need names (the minors' guidance centres for 厌学) come
    first, then every other nearest first, as residents' search ranks them: by straight-line
    metres from the referring service, phone services and area teams as if 2 km away."""
    actor.require(Role.STAFF, Role.ADMIN)
    origin = await managed_resource(actor, from_resource_id)
    wanted = NEEDS.needs.get(need) if need else None
    if need and wanted is None:
        raise InvalidInput("not a need of the needs vocabulary", field="need")
    rows = (
        await Resource.filter(status=Status.ACTIVE)
        .exclude(id=origin.id)
        .exclude(kind=ResourceKind.HOTLINE)
    )
    special = NEEDS.specialist_kinds
    fit = [
        r for r in rows if wanted is None or wanted.serves(r.kind, r.services, r.audiences, special)
    ]
    reaches = [_reach(r) for r in fit]
    metres = _metres_from(origin, fit, reaches)
    origin_areas = {
        code
        for code in (
            origin.community_code,
            origin.street_code,
            origin.district_code,
            origin.city_code,
        )
        if code
    }
    found = [
        _candidate(
            r,
            metres[i],
            reaches[i],
            dedicated=wanted is not None and r.kind in wanted.kinds,
            members_only=not _open_to_referred(r, origin_areas),
        )
        for i, r in enumerate(fit)
    ]
    found.sort(key=_rank)
    usable = [c for c in found if not c.members_only]
    first = [c for c in usable if c.dedicated][:DEDICATED_FIRST]
    leading = {c.id for c in first}
    rest = [c for c in usable if c.id not in leading][: MAX_CANDIDATES - len(first)]
    members = [c for c in found if c.members_only]
    shown = members[:MAX_MEMBERS_ONLY] if members_only else []
    left_out = len(members) - len(shown)
    return Candidates(items=[*first, *rest, *shown], members_only_left_out=left_out)


def _metres_from(
    origin: Resource, rows: list[Resource], reaches: list[Reach]
) -> list[float | None]:
    """Geodesic metres from ``origin`` to each of ``rows`` that one walks to (``reaches``:
    how each is reached; a walk has a point), else None."""
    metres: list[float | None] = [None] * len(rows)
    walk = [
        (i, r.lat, r.lon)
        for i, (r, reach) in enumerate(zip(rows, reaches, strict=True))
        if reach == "walk" and r.lat is not None and r.lon is not None
    ]
    if origin.lat is None or origin.lon is None or not walk:
        return metres
    lats = [lat for _, lat, _ in walk]
    lons = [lon for _, _, lon in walk]
    far = geodesic_m(origin.lat, origin.lon, lats, lons)
    for (i, _, _), m in zip(walk, far.tolist(), strict=True):
        metres[i] = m
    return metres


def _candidate(
    r: Resource, metres: float | None, reach: Reach, *, dedicated: bool, members_only: bool
) -> Candidate:
    return Candidate(
        **ref(r).model_dump(),
        distance_m=metres,
        reach=reach,
        eligibility=r.eligibility,
        eligibility_note_zh=r.eligibility_note_zh,
        eligibility_note_en=r.eligibility_note_en,
        dedicated=dedicated,
        members_only=members_only,
    )


def _rank(c: Candidate) -> tuple[float, int]:
    """Residents' search's nearest order: what is not a walk ranks as if 2 km away, and a
    place without a known distance (the referring service has no point) last."""
    if c.reach != "walk":
        return (NOT_A_WALK_M, c.id)
    return (math.inf if c.distance_m is None else c.distance_m, c.id)


async def own_services(actor: Principal) -> list[ServiceRef]:
    """The services a referral can come from: the actor's organisation's, active."""
    actor.require(Role.STAFF, Role.ADMIN)
    qs = Resource.filter(status=Status.ACTIVE)
    if actor.role is not Role.ADMIN:
        if actor.organisation_id is None:
            return []
        qs = qs.filter(organisation_id=actor.organisation_id)
        if actor.area_code is not None:
            qs = qs.filter(located_in(actor.area_code))
    return [ref(r, phone=True) for r in await qs.order_by("id").limit(200)]
