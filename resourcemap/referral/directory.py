"""Which services a referral can come from and go to, and the 24/7 lines an urgent one
shows: read from the listings, the needs vocabulary deciding who answers a need."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from geo.distance import geodesic_m
from resourcemap.accounts import Principal
from resourcemap.booking.staff import managed_resource
from resourcemap.errors import InvalidInput
from resourcemap.models import BookingPolicy, Resource
from resourcemap.referral.views import Candidate, Candidates, Line, ServiceRef, ref
from resourcemap.said import N_
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
# Listings read when staff look a service up by name ("竹溪"): enough for any one name.
MAX_NAMED_READ = 500


async def crisis_lines() -> list[Line]:
    # The first few with a number, not every line of a province read to keep three.
    rows = (
        await Resource.filter(kind=ResourceKind.HOTLINE, status=Status.ACTIVE)
        .exclude(phone="")
        .order_by("id")
        .limit(CRISIS_LINES)
    )
    return [Line(name_zh=r.name_zh, name_en=r.name_en, phone=r.phone) for r in rows]


def _open_to_referred(r: _Row, origin_areas: set[str]) -> bool:
    """Whether a resident referred from the origin can use ``r``: public and referral-only
    places, and places for local residents whose service area holds the referring service
    (it refers the residents it serves). A school's or a workplace's own room is not."""
    if r.eligibility in (Eligibility.PUBLIC, Eligibility.REFERRAL):
        return True
    if r.eligibility is Eligibility.AREA_RESIDENTS:
        return bool(origin_areas.intersection(r.service_area_codes))
    return False


# How far from the referring service candidates are looked for, step by step, until the
# list is settled: reading every listing of a province took ~14 s a call at 200,000, on
# the loop. Beyond the last step a service is not a referral's (the district's minors'
# centres for 厌学, not the province's).
WINDOWS_M = (1_000.0, 3_000.0, 10_000.0, 30_000.0)
# A window is a box of degrees around the point, wide enough for its circle: a degree of
# latitude is at least 110,574 m, one of longitude at least 111,320 m × cos(latitude).
LAT_DEGREE_M = 110_574.0
LON_DEGREE_M = 111_320.0
_FIT_FIELDS = ("id", "kind", "services", "audiences", "modes", "lat", "lon", "eligibility",
               "service_area_codes")  # fmt: skip


@dataclass(frozen=True)
class _Row:
    """A listing as the choice needs it (the chosen few are then read whole)."""

    id: int
    kind: str
    services: list[str]
    audiences: list[str]
    modes: list[str]
    lat: float | None
    lon: float | None
    eligibility: Eligibility
    service_area_codes: list[str]


@dataclass(frozen=True)
class _Choice:
    """Places in the rows read: dedicated first, the rest, members-only rows shown."""

    first: list[int]
    rest: list[int]
    members: list[int]
    left_out: int
    settled: bool  # no row beyond the window read could change it


async def candidates(
    actor: Principal,
    from_resource_id: int,
    need: str,
    *,
    members_only: bool = False,
    named: str = "",
) -> Candidates:
    """Services a referral for ``need`` can go to: those whose kind, services and audiences
    answer the need (as residents' search matches them), not the referring one, no hotline.

    The resident must be able to use them, so members-only places (a school's own
    counselling room) are left out, as residents' search leaves them out, and counted (those
    no farther than the list reaches); with ``members_only`` the nearest of them follow the
    others, marked. Among the others, the nearest few whose kind the need names (the minors'
    guidance centres for 厌学) come first, then every other nearest first, as residents'
    search ranks them: by straight-line metres from the referring service, phone services
    and area teams as if 2 km away. Listings are read around the referring service, wider
    step by step (:data:`WINDOWS_M`) until the list is settled: never a province's all.

    ``named``: the services answering the need whose name holds these words, however far,
    nearest first (staff who refer to a partner they know by name: the nearest twenty may
    not hold it). A service that does not answer the need is never offered: the referral
    would be refused."""
    actor.require(Role.STAFF, Role.ADMIN)
    origin = await managed_resource(actor, from_resource_id)
    wanted = NEEDS.needs.get(need) if need else None
    if need and wanted is None:
        raise InvalidInput(N_("not a need of the needs vocabulary"), field="need")
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
    point = None if origin.lat is None or origin.lon is None else (origin.lat, origin.lon)
    windows: tuple[float | None, ...] = WINDOWS_M if point is not None else (None,)
    special = NEEDS.specialist_kinds
    leads = wanted is not None and bool(wanted.kinds)
    placeless = [] if named else await _read(_listings(origin).filter(_placeless(origin)))
    if named:
        windows = (None,)  # read by name, however far: a partner may be across the city
    for window in windows:
        if named:
            rows = await _read(
                _listings(origin)
                .filter(Q(name_zh__icontains=named) | Q(name_en__icontains=named))
                .limit(MAX_NAMED_READ)
            )
        else:
            rows = placeless + await _located(origin, point, window)
        fit = [
            r
            for r in rows
            if wanted is None or wanted.serves(r.kind, r.services, r.audiences, special)
        ]
        reaches = [
            reach_of(r.kind, r.modes, located=r.lat is not None and r.lon is not None) for r in fit
        ]
        metres = _metres_from(point, fit, reaches)
        keys = [_rank(reaches[i], metres[i], r.id) for i, r in enumerate(fit)]
        dedicated = [wanted is not None and r.kind in wanted.kinds for r in fit]
        usable = [_open_to_referred(r, origin_areas) for r in fit]
        choice = _choose(
            keys, dedicated, usable, leads=leads, members_only=members_only, window_m=window
        )
        if choice.settled:
            break
    chosen = [*choice.first, *choice.rest, *choice.members]
    ids = [fit[i].id for i in chosen]
    whole = {r.id: r for r in await Resource.filter(id__in=ids)}
    seated = {
        int(rid)
        for (rid,) in await BookingPolicy.filter(
            resource_id__in=ids, enabled=True, referral_seats__gt=0
        ).values_list("resource_id")
    }
    items = [
        _candidate(
            whole[fit[i].id],
            metres[i],
            reaches[i],
            dedicated=dedicated[i],
            members_only=not usable[i],
            referral_seats=fit[i].id in seated,
        )
        for i in chosen
        if fit[i].id in whole  # removed since it was read: not offered
    ]
    return Candidates(items=items, members_only_left_out=choice.left_out)


def _listings(origin: Resource) -> QuerySet[Resource]:
    """Active listings but the origin and hotlines."""
    return (
        Resource.filter(status=Status.ACTIVE)
        .exclude(id=origin.id)
        .exclude(kind=ResourceKind.HOTLINE)
    )


def _placeless(origin: Resource) -> Q:
    """Listings without a point (teams, phone services) of the origin's city or of none:
    read once, whatever the window."""
    placeless = Q(lat__isnull=True)
    if origin.city_code:
        placeless &= Q(city_code=origin.city_code) | Q(city_code__isnull=True) | Q(city_code="")
    return placeless


async def _located(
    origin: Resource, point: tuple[float, float] | None, window_m: float | None
) -> list[_Row]:
    """Listings with a point within ``window_m`` of ``point`` (a box holding that circle;
    None: anywhere in the origin's city, or anywhere when it has none)."""
    qs = _listings(origin).filter(lat__isnull=False)
    if window_m is not None and point is not None:
        dlat = window_m / LAT_DEGREE_M
        dlon = window_m / (LON_DEGREE_M * max(math.cos(math.radians(abs(point[0]) + dlat)), 1e-6))
        lat, lon = point
        qs = qs.filter(
            lat__gte=lat - dlat, lat__lte=lat + dlat, lon__gte=lon - dlon, lon__lte=lon + dlon
        )
    elif origin.city_code:
        qs = qs.filter(city_code=origin.city_code)
    return await _read(qs)


async def _read(qs: QuerySet[Resource]) -> list[_Row]:
    values = await qs.values_list(*_FIT_FIELDS)
    return [
        _Row(int(i), str(kind), svc or [], aud or [], modes or [], lat, lon, Eligibility(elig),
             codes or [])
        for i, kind, svc, aud, modes, lat, lon, elig, codes in values
    ]  # fmt: skip


def _choose(
    keys: list[tuple[float, int]],
    dedicated: list[bool],
    usable: list[bool],
    *,
    leads: bool,
    members_only: bool,
    window_m: float | None,
) -> _Choice:
    """The list from the rows read: up to :data:`DEDICATED_FIRST` dedicated usable rows,
    then the other usable ones, then (asked for) members-only ones, each nearest first
    (``leads``: the need names kinds, which lead). It is settled when every part is full
    and reaches no farther than ``window_m`` (a row not read lies farther), or when
    nothing was left unread (``window_m`` None)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    first = [i for i in order if usable[i] and dedicated[i]][:DEDICATED_FIRST]
    leading = set(first)
    rest = [i for i in order if usable[i] and i not in leading][: MAX_CANDIDATES - len(first)]
    members = [i for i in order if not usable[i]]
    shown = members[:MAX_MEMBERS_ONLY] if members_only else []
    parts = [(rest, MAX_CANDIDATES - len(first))]
    if leads:  # a need naming no kind has nothing to lead with
        parts.append((first, DEDICATED_FIRST))
    if members_only:
        parts.append((shown, MAX_MEMBERS_ONLY))
    settled = window_m is None or all(
        len(part) == size and keys[part[-1]][0] <= window_m for part, size in parts
    )
    # Members-only places no farther than the list reaches: the ones passed over for it.
    farthest = max((keys[i][0] for i in (*first, *rest, *shown)), default=0.0)
    passed_over = sum(1 for i in members if keys[i][0] <= farthest) - len(shown)
    return _Choice(first, rest, shown, max(passed_over, 0), settled)


def _metres_from(
    point: tuple[float, float] | None, rows: list[_Row], reaches: list[Reach]
) -> list[float | None]:
    """Geodesic metres from ``point`` to each of ``rows`` that one walks to (``reaches``:
    how each is reached; a walk has a point), else None."""
    metres: list[float | None] = [None] * len(rows)
    walk = [
        (i, r.lat, r.lon)
        for i, (r, reach) in enumerate(zip(rows, reaches, strict=True))
        if reach == "walk" and r.lat is not None and r.lon is not None
    ]
    if point is None or not walk:
        return metres
    lats = [lat for _, lat, _ in walk]
    lons = [lon for _, _, lon in walk]
    far = geodesic_m(point[0], point[1], lats, lons)
    for (i, _, _), m in zip(walk, far.tolist(), strict=True):
        metres[i] = m
    return metres


def _candidate(
    r: Resource,
    metres: float | None,
    reach: Reach,
    *,
    dedicated: bool,
    members_only: bool,
    referral_seats: bool,
) -> Candidate:
    return Candidate(
        **ref(r).model_dump(),
        distance_m=metres,
        reach=reach,
        eligibility=r.eligibility,
        eligibility_note_zh=r.eligibility_note_zh,
        eligibility_note_en=r.eligibility_note_en,
        fee=r.fee,
        referral_seats=referral_seats,
        dedicated=dedicated,
        members_only=members_only,
    )


def _rank(reach: Reach, metres: float | None, resource_id: int) -> tuple[float, int]:
    """Residents' search's nearest order: what is not a walk ranks as if 2 km away, and a
    place without a known distance (the referring service has no point) last."""
    if reach != "walk":
        return (NOT_A_WALK_M, resource_id)
    return (math.inf if metres is None else metres, resource_id)


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
