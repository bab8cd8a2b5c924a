"""Which services a referral can come from and go to, and the 24/7 lines an urgent one
shows: read from the listings, the needs vocabulary deciding who answers a need."""

from __future__ import annotations

from resourcemap.accounts import Principal
from resourcemap.booking.staff import managed_resource
from resourcemap.errors import InvalidInput
from resourcemap.models import Resource
from resourcemap.referral.views import Line, ServiceRef, ref
from resourcemap.scope import located_in
from resourcemap.search.needs import NEEDS
from resourcemap.vocab import ResourceKind, Role, Status

CRISIS_LINES = 3
MAX_CANDIDATES = 20


async def crisis_lines() -> list[Line]:
    rows = await Resource.filter(kind=ResourceKind.HOTLINE, status=Status.ACTIVE).order_by("id")
    return [
        Line(name_zh=r.name_zh, name_en=r.name_en, phone=r.phone)
        for r in rows[:CRISIS_LINES]
        if r.phone
    ]


async def candidates(actor: Principal, from_resource_id: int, need: str) -> list[ServiceRef]:
    """Services a referral for ``need`` can go to, nearest to the referring one first:
    those whose services (and audiences) answer the need, as residents' search finds them."""
    actor.require(Role.STAFF, Role.ADMIN)
    origin = await managed_resource(actor, from_resource_id)
    wanted = NEEDS.needs.get(need) if need else None
    if need and wanted is None:
        raise InvalidInput("not a need of the needs vocabulary", field="need")
    rows = await Resource.filter(status=Status.ACTIVE).exclude(id=origin.id)
    special = NEEDS.specialist_kinds
    fit = [
        r
        for r in rows
        if r.kind is not ResourceKind.HOTLINE
        and (wanted is None or wanted.serves(r.kind, r.services, r.audiences, special))
    ]

    def distance(r: Resource) -> float:
        if None in (r.lat, r.lon, origin.lat, origin.lon):
            return float("inf")
        return (float(r.lat) - float(origin.lat)) ** 2 + (float(r.lon) - float(origin.lon)) ** 2  # type: ignore[arg-type]

    return [ref(r) for r in sorted(fit, key=lambda r: (distance(r), r.id))[:MAX_CANDIDATES]]


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
