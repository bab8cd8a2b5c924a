"""Load the synthetic demo city into the database.

The demo is a fictional district of about 1.1 million people near 22.75°N 113.93°E with
streets, communities, a 100 m population grid and a few hundred service resources of
every kind. It lets the product be shown and tested offline without real data, and it
is labelled as synthetic everywhere (``source``, ``DatasetInfo``) so it is never
mistaken for a real directory.

Example (tortoise initialised and the schema migrated, see ``resourcemap.schema``)::

    async with database(url):
        summary = await load_demo_city(progress=print)
        summary.population  # 1100000
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from resourcemap import db
from resourcemap.dataset import DEMO_LABEL as DEMO_LABEL  # where it was
from resourcemap.dataset import SYNTHETIC_KEY
from resourcemap.demo.builder import AreaSpec, Catalogue, OrgSpec, ResourceSpec
from resourcemap.demo.catalogue import build_catalogue
from resourcemap.errors import Conflict
from resourcemap.models import (
    Area,
    Booking,
    BookingPolicy,
    DatasetInfo,
    DemandPoint,
    HoursException,
    Notification,
    OpeningHours,
    Organisation,
    Qualification,
    Resource,
    SearchChange,
    Slot,
    TimeBlock,
    WaitlistEntry,
)
from resourcemap.search import changes
from resourcemap.vocab import AreaLevel, ResourceKind

DEFAULT_SEED = 20181  # 2018, the year the national pilot started, and pilot no. 1
SOURCE = "synthetic-demo"
DEMAND_SOURCE = "demo-grid-100m"
SEED_KEY = "demo_seed"  # DatasetInfo key; SYNTHETIC_KEY holds the label pages show
BATCH_SIZE = 1000

M = TypeVar("M", bound=Model)

_ROOM = {"slot_minutes": 50, "buffer_minutes": 10, "seats": 1, "min_notice_minutes": 60}
# Centres with several counsellors, and clinics, keep a seat a slot for referrals, as the
# pilot's green channel asks (#23): with none, a referral in the demo could never be booked
# by the receiving staff. Referral seats come on top of the public ones, so a one-counsellor
# room keeps none (it would see two residents at once).
_CENTRE = {**_ROOM, "referral_seats": 1}
_CLINIC = {"slot_minutes": 20, "buffer_minutes": 0, "seats": 3, "min_notice_minutes": 120,
           "referral_seats": 1}  # fmt: skip
_PRACTICE = {"slot_minutes": 50, "buffer_minutes": 10, "seats": 1, "min_notice_minutes": 720}
_GROUP = {"slot_minutes": 90, "buffer_minutes": 30, "seats": 8, "min_notice_minutes": 60}
# Which demo resources take bookings online, and how: what such services typically do.
DEMO_BOOKING_RULES: dict[ResourceKind, dict[str, int]] = {
    ResourceKind.COMMUNITY_ROOM: _ROOM,
    ResourceKind.STREET_STATION: _ROOM,
    ResourceKind.DISTRICT_CENTRE: _CENTRE,
    ResourceKind.CITY_CENTRE: _CENTRE,
    ResourceKind.HEALTH_CENTRE_ROOM: _ROOM,
    ResourceKind.MINORS_CENTRE: _CENTRE,
    ResourceKind.LICENSED_AGENCY: _PRACTICE,
    ResourceKind.COUNSELLOR: _PRACTICE,
    ResourceKind.PSYCHOTHERAPIST: _PRACTICE,
    ResourceKind.PSYCHIATRIC_HOSPITAL_CLINIC: _CLINIC,
    ResourceKind.GENERAL_HOSPITAL_DEPARTMENT: _CLINIC,
    ResourceKind.COMMUNITY_REHABILITATION: _GROUP,
}


class Listings(Protocol):
    """What the writers below need: a demo city's catalogue or a province."""

    @property
    def seed(self) -> int: ...
    @property
    def areas(self) -> list[AreaSpec]: ...
    @property
    def organisations(self) -> list[OrgSpec]: ...
    @property
    def resources(self) -> list[ResourceSpec]: ...


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo_city`` wrote."""

    seed: int
    areas: dict[AreaLevel, int]
    resources: dict[ResourceKind, int]
    organisations: int
    population: int
    demand_points: int
    communities_without_room: int

    @property
    def total_resources(self) -> int:
        return sum(self.resources.values())

    def describe(self) -> str:
        return (
            f"{DEMO_LABEL} (seed {self.seed}): {sum(self.areas.values())} areas, "
            f"{self.total_resources} resources, {self.organisations} organisations, "
            f"{self.population:,} residents on {self.demand_points:,} grid cells"
        )


async def load_demo_city(
    seed: int = DEFAULT_SEED,
    *,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write the demo city for ``seed`` in one transaction.

    Refuses with ``Conflict`` when the database already holds areas or resources, unless
    ``replace`` is set and everything it holds is an earlier demo, which is then deleted
    first. Real listings are never deleted or mixed with demo data.
    """
    say = progress or (lambda _message: None)
    say(f"generating the synthetic city (seed {seed})")
    # Geometry and sampling are CPU work: keep them off the event loop.
    catalogue = await asyncio.to_thread(build_catalogue, seed)
    async with in_transaction(Resource._meta.default_connection) as conn:
        await _make_room(conn, replace, say)
        await _write_areas(conn, catalogue, say)
        demand = await _write_demand(conn, catalogue, say)
        await _write_listings(conn, catalogue, say)
        await DatasetInfo.filter(key__in=[SYNTHETIC_KEY, SEED_KEY]).using_db(conn).delete()
        await DatasetInfo.bulk_create(
            [
                DatasetInfo(key=SYNTHETIC_KEY, value=f"{DEMO_LABEL} (seed {seed})"),
                DatasetInfo(key=SEED_KEY, value=str(seed)),
            ],
            using_db=conn,
        )
        # Running app processes reload their search indexes from this.
        await SearchChange.create(resource_id=None, op=changes.REBUILD, using_db=conn)
    await db.analyse(Resource, Area)
    say("done")
    return _summary(catalogue, demand)


async def ensure_demo_city(
    seed: int = DEFAULT_SEED,
    *,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Load the demo city unless the same seed is already loaded; say what happened.

    Running ``resourcemap demo`` again therefore just serves the existing demo. A demo of
    another seed is only swapped with ``replace``; real listings are never touched.
    """
    loaded = await DatasetInfo.get_or_none(key=SEED_KEY)
    if loaded is not None and not replace:
        if loaded.value == str(seed):
            count = await Resource.filter(source=SOURCE).count()
            return f"{DEMO_LABEL} (seed {seed}) is already loaded: {count} resources"
        raise Conflict(
            f"the database holds the demo city of seed {loaded.value}, not {seed}; "
            "replace it to load another seed"
        )
    summary = await load_demo_city(seed, replace=replace, progress=progress)
    return summary.describe()


async def _make_room(conn: BaseDBAsyncClient, replace: bool, say: Callable[[str], None]) -> None:
    resources = await Resource.all().using_db(conn).count()
    areas = await Area.all().using_db(conn).count()
    demo_orgs = await Organisation.filter(source=SOURCE).using_db(conn).count()
    if not (resources or areas or demo_orgs):
        return
    if not replace:
        raise Conflict(
            f"the database already holds {resources} resources and {areas} areas; "
            "load the demo into an empty database, or replace an earlier demo"
        )
    real_resources = await Resource.exclude(source=SOURCE).using_db(conn).count()
    real_areas = await Area.exclude(source=SOURCE).using_db(conn).count()
    if real_resources or real_areas:
        raise Conflict(
            f"the database holds {real_resources} resources and {real_areas} areas that are "
            "not demo data; refusing to mix the synthetic demo with real listings"
        )
    say("deleting the earlier demo")
    ids = await Resource.filter(source=SOURCE).using_db(conn).values_list("id", flat=True)
    # Bookings made on the demo go with it: they are demo data too.
    booked = await Booking.filter(resource_id__in=ids).using_db(conn).values_list("id", flat=True)
    await Notification.filter(booking_id__in=booked).using_db(conn).delete()
    for child in (
        WaitlistEntry,
        Booking,
        Slot,
        TimeBlock,
        BookingPolicy,
        OpeningHours,
        HoursException,
        Qualification,
    ):
        await child.filter(resource_id__in=ids).using_db(conn).delete()
    await Resource.filter(source=SOURCE).using_db(conn).delete()
    await Organisation.filter(source=SOURCE).using_db(conn).delete()
    await DemandPoint.filter(source=DEMAND_SOURCE).using_db(conn).delete()
    # Children before parents: the parent link is ON DELETE RESTRICT.
    for level in reversed(AreaLevel):
        await Area.filter(source=SOURCE, level=level).using_db(conn).delete()


async def _write_areas(
    conn: BaseDBAsyncClient, catalogue: Listings, say: Callable[[str], None]
) -> None:
    say(f"writing {len(catalogue.areas)} areas")
    note = f"synthetic 100 m grid, seed {catalogue.seed}"
    for level in AreaLevel:  # parents first, so every parent link resolves
        rows = [
            Area(
                code=a.code,
                level=a.level,
                name_zh=a.name_zh,
                name_en=a.name_en,
                parent_id=a.parent_code,
                population=a.population,
                population_source=note,
                boundary=a.boundary,
                source=SOURCE,
            )
            for a in catalogue.areas
            if a.level is level
        ]
        await _bulk_create(Area, rows, conn)


async def _write_demand(
    conn: BaseDBAsyncClient, catalogue: Catalogue, say: Callable[[str], None]
) -> int:
    grid = catalogue.geography.grid
    community_codes = catalogue.community_codes
    keep = grid.population > 0
    say(f"writing {int(keep.sum())} demand points")
    rows = [
        DemandPoint(lat=lat, lon=lon, weight=w, area_id=community_codes[c], source=DEMAND_SOURCE)
        for lat, lon, w, c in zip(
            grid.lat[keep].round(6).tolist(),
            grid.lon[keep].round(6).tolist(),
            grid.population[keep].astype(float).tolist(),
            grid.community[keep].tolist(),
            strict=True,
        )
    ]
    await _bulk_create(DemandPoint, rows, conn)
    return len(rows)


async def _write_listings(
    conn: BaseDBAsyncClient, catalogue: Listings, say: Callable[[str], None]
) -> None:
    say(f"writing {len(catalogue.organisations)} organisations")
    org_ext = {o.key: f"demo:org:{i:04d}" for i, o in enumerate(catalogue.organisations)}
    orgs = [
        Organisation(
            external_id=org_ext[o.key],
            name_zh=o.name_zh,
            name_en=o.name_en,
            type=o.type,
            phone=o.phone,
            description=DEMO_LABEL,
            source=SOURCE,
        )
        for o in catalogue.organisations
    ]
    await _bulk_create(Organisation, orgs, conn)
    org_id = await _ids(Organisation, conn)

    say(f"writing {len(catalogue.resources)} resources")
    res_ext = [f"demo:res:{i:04d}" for i in range(len(catalogue.resources))]
    rows = [
        Resource(
            external_id=ext,
            organisation_id=org_id[org_ext[r.org_key]],
            **_resource_fields(r),
            source=SOURCE,
        )
        for ext, r in zip(res_ext, catalogue.resources, strict=True)
    ]
    await _bulk_create(Resource, rows, conn)
    res_id = await _ids(Resource, conn)

    hours, exceptions, qualifications = [], [], []
    for ext, r in zip(res_ext, catalogue.resources, strict=True):
        rid = res_id[ext]
        hours += [
            OpeningHours(resource_id=rid, weekday=h.weekday, opens=h.opens, closes=h.closes)
            for h in r.hours
        ]
        exceptions += [HoursException(resource_id=rid, **asdict(e)) for e in r.exceptions]
        qualifications += [Qualification(resource_id=rid, **asdict(q)) for q in r.qualifications]
    counts = f"{len(hours)} opening hours, {len(exceptions)} exceptions"
    say(f"writing {counts} and {len(qualifications)} qualifications")
    await _bulk_create(OpeningHours, hours, conn)
    await _bulk_create(HoursException, exceptions, conn)
    await _bulk_create(Qualification, qualifications, conn)
    policies = [
        BookingPolicy(resource_id=res_id[ext], **DEMO_BOOKING_RULES[r.kind])
        for ext, r in zip(res_ext, catalogue.resources, strict=True)
        if r.kind in DEMO_BOOKING_RULES
    ]
    say(f"writing {len(policies)} booking policies")
    await _bulk_create(BookingPolicy, policies, conn)


# ResourceSpec fields that are not Resource columns of the same name.
_NOT_COLUMNS = {"org_key", "community", "host", "codes", "hours", "exceptions", "qualifications"}


def _resource_fields(r: ResourceSpec) -> dict[str, Any]:
    columns = {f.name: getattr(r, f.name) for f in fields(r) if f.name not in _NOT_COLUMNS}
    city, district, street, community = r.codes
    return columns | {
        "city_code": city,
        "district_code": district,
        "street_code": street,
        "community_code": community,
    }


async def _ids(model: type[Model], conn: BaseDBAsyncClient) -> dict[str, int]:
    """external_id → primary key of the demo rows (bulk_create does not return keys)."""
    rows = await model.filter(source=SOURCE).using_db(conn).values_list("external_id", "id")
    return {str(ext): int(pk) for ext, pk in rows}


async def _bulk_create(model: type[M], rows: Iterable[M], conn: BaseDBAsyncClient) -> None:
    batch = list(rows)
    if batch:
        await model.bulk_create(batch, batch_size=BATCH_SIZE, using_db=conn)


def _summary(catalogue: Catalogue, demand_points: int) -> DemoSummary:
    kinds = Counter(r.kind for r in catalogue.resources)
    rooms = {r.community for r in catalogue.resources if r.kind is ResourceKind.COMMUNITY_ROOM}
    n_communities = len(catalogue.geography.communities)
    return DemoSummary(
        seed=catalogue.seed,
        areas=dict(Counter(a.level for a in catalogue.areas)),
        resources={kind: kinds[kind] for kind in ResourceKind},
        organisations=len(catalogue.organisations),
        population=int(catalogue.geography.grid.population.sum()),
        demand_points=demand_points,
        communities_without_room=n_communities - len(rooms),
    )
