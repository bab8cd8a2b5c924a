"""The synthetic demo city as a user of the database sees it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geo.crs import metric_crs_for, to_metric
from resourcemap.dataset import synthetic_label
from resourcemap.demo import city as demo
from resourcemap.demo.city import DEFAULT_SEED, DEMO_LABEL, ensure_demo_city, load_demo_city
from resourcemap.errors import Conflict
from resourcemap.listings.hours import Interval, validate
from resourcemap.models import (
    Area,
    DatasetInfo,
    DemandPoint,
    HoursException,
    OpeningHours,
    Organisation,
    Qualification,
    Resource,
)
from resourcemap.vocab import AreaLevel, ResourceKind, Status
from tests.conftest import DEMO_SEED, Backend
from tests.factories import run_in_db

K = ResourceKind


def areas(url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_in_db(url, lambda: Area.all().order_by("code").values())
    return rows


def resources(url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_in_db(
        url, lambda: Resource.all().order_by("external_id").values()
    )
    return rows


def metric(geom: Any) -> Any:
    crs = metric_crs_for(113.93)
    return shapely.transform(geom, lambda c: np.column_stack(to_metric(c[:, 0], c[:, 1], crs)))


def test_conftest_loads_the_default_seed() -> None:
    assert DEMO_SEED == DEFAULT_SEED


def test_communities_and_streets_tile_the_district(demo_url: str) -> None:
    rows = areas(demo_url)
    shapes = {a["code"]: metric(shape(a["boundary"])) for a in rows}
    by_level = defaultdict(list)
    for a in rows:
        by_level[a["level"]].append(shapes[a["code"]])
    (district,) = by_level[AreaLevel.DISTRICT]
    for level in (AreaLevel.STREET, AreaLevel.COMMUNITY):
        parts = np.array(by_level[level])
        assert abs(shapely.union_all(parts).area - district.area) < 0.001 * district.area
        overlap = shapely.area(parts).sum() - shapely.union_all(parts).area
        assert abs(overlap) < 1e-5 * district.area
    assert 100e6 < district.area < 160e6  # about 14 km × 11 km


def test_population_adds_up_at_every_level(demo_url: str) -> None:
    rows = areas(demo_url)
    children: defaultdict[str, int] = defaultdict(int)
    for a in rows:
        if a["parent_id"]:
            children[a["parent_id"]] += a["population"]
    for a in rows:
        if a["level"] != AreaLevel.COMMUNITY:
            assert children[a["code"]] == a["population"], a["name_zh"]
    by_level: Counter[str] = Counter()
    for a in rows:
        by_level[a["level"]] += a["population"]
    assert set(by_level.values()) == {1_100_000}
    assert all("synthetic 100 m grid, seed 20181" in a["population_source"] for a in rows)


def test_area_codes_follow_the_4499_scheme(demo_url: str) -> None:
    rows = {a["code"]: a for a in areas(demo_url)}
    levels = Counter(a["level"] for a in rows.values())
    assert levels == {"city": 1, "district": 1, "street": 6, "community": 30}
    assert rows["449900000000"]["level"] == "city"
    assert rows["449901000000"]["parent_id"] == "449900000000"
    for code, a in rows.items():
        assert code.startswith("4499") and len(code) == 12
        if a["level"] == "street":
            assert code[-3:] == "000" and a["name_zh"].endswith("街道")
            assert a["parent_id"] == "449901000000"
        if a["level"] == "community":
            assert a["parent_id"] == code[:9] + "000" and a["name_zh"].endswith("社区")


def test_demand_grid_weights_are_the_population(demo_url: str) -> None:
    async def query() -> tuple[int, float, set[str]]:
        points = DemandPoint.filter(source="demo-grid-100m")
        weights = await points.values_list("weight", "area_id")
        return len(weights), sum(w for w, _ in weights), {str(a) for _, a in weights}

    count, total, area_ids = run_in_db(demo_url, query)
    assert 10_000 < count < 16_000
    assert total == 1_100_000
    communities = {a["code"] for a in areas(demo_url) if a["level"] == "community"}
    assert area_ids == communities


def test_every_kind_is_present_in_plausible_numbers(demo_url: str) -> None:
    rows = resources(demo_url)
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == set(ResourceKind)
    assert 250 <= len(rows) <= 350
    assert 6 <= kinds[K.VOLUNTEER_TEAM] <= 10
    assert kinds[K.HOTLINE] == 3
    practitioners = kinds[K.COUNSELLOR] + kinds[K.PSYCHOTHERAPIST] + kinds[K.PSYCHIATRIST]
    assert 25 <= practitioners <= 37
    assert all(r["source"] == "synthetic-demo" for r in rows)
    assert len({r["name_zh"] for r in rows}) == len(rows)
    statuses = Counter(r["status"] for r in rows)
    assert statuses[Status.SUSPENDED] >= 1 and statuses[Status.ACTIVE] > 0.95 * len(rows)


def test_some_communities_have_no_counselling_room(demo_url: str) -> None:
    communities = {a["code"] for a in areas(demo_url) if a["level"] == "community"}
    rows = resources(demo_url)
    with_room = {r["community_code"] for r in rows if r["kind"] == K.COMMUNITY_ROOM}
    assert 5 <= len(communities - with_room) <= 7


def test_point_resources_lie_inside_their_community(demo_url: str) -> None:
    rows = {a["code"]: a for a in areas(demo_url)}
    points = [r for r in resources(demo_url) if r["lat"] is not None]
    polygons = np.array([shape(rows[r["community_code"]]["boundary"]) for r in points])
    lon = np.array([r["lon"] for r in points])
    lat = np.array([r["lat"] for r in points])
    assert shapely.contains_xy(polygons, lon, lat).all()
    for r in points:
        community = rows[r["community_code"]]
        assert community["parent_id"] == r["street_code"]
        assert (r["city_code"], r["district_code"]) == ("449900000000", "449901000000")
        assert r["address_zh"].startswith("示例市示例区") and r["phone"].startswith("0755-2")


def test_volunteer_teams_and_hotlines_serve_areas_not_points(demo_url: str) -> None:
    codes = {a["code"] for a in areas(demo_url)}
    rows = [r for r in resources(demo_url) if r["kind"] in (K.VOLUNTEER_TEAM, K.HOTLINE)]
    for r in rows:
        assert r["lat"] is None and r["lon"] is None
        assert r["service_area_codes"] and set(r["service_area_codes"]) <= codes
    hotlines = {r["phone"]: r for r in rows if r["kind"] == K.HOTLINE}
    assert {"12320", "12355"} < set(hotlines)
    for line in hotlines.values():
        assert line["always_open"] and line["modes"] == ["phone"]
        assert {"crisis_intervention", "phone_support"} <= set(line["services"])
        assert line["service_area_codes"][0] in ("449900000000", "449901000000")


def test_opening_hours_follow_the_kind(demo_url: str) -> None:
    async def query() -> dict[str, list[Interval]]:
        hours = await OpeningHours.all().values("resource__kind", "weekday", "opens", "closes")
        by_kind: dict[str, list[Interval]] = defaultdict(list)
        for h in hours:
            by_kind[h["resource__kind"]].append(Interval(h["weekday"], h["opens"], h["closes"]))
        return by_kind

    by_kind = run_in_db(demo_url, query)
    assert {iv.weekday for iv in by_kind[K.SCHOOL_ROOM]} == set(range(5))
    assert {iv.weekday for iv in by_kind[K.GENERAL_HOSPITAL_DEPARTMENT]} == set(range(7))
    assert Interval(0, 9 * 60, 12 * 60) in by_kind[K.COMMUNITY_ROOM]
    assert Interval(5, 9 * 60, 12 * 60) in by_kind[K.COMMUNITY_ROOM]  # some Saturday mornings
    assert not by_kind[K.HOTLINE]  # always open instead

    async def per_resource() -> list[list[Interval]]:
        result = []
        for r in await Resource.all().prefetch_related("hours"):
            result.append([Interval(h.weekday, h.opens, h.closes) for h in r.hours])
        return result

    for intervals in run_in_db(demo_url, per_resource):
        validate(intervals)  # raises on overlap or an impossible interval


def test_practitioners_are_qualified_and_sit_at_their_host(demo_url: str) -> None:
    async def query() -> list[tuple[Resource, list[Qualification], list[Resource]]]:
        kinds = [K.COUNSELLOR, K.PSYCHOTHERAPIST, K.PSYCHIATRIST]
        found = []
        for p in await Resource.filter(kind__in=kinds).prefetch_related("qualifications"):
            org = p.organisation_id
            hosts = await Resource.filter(organisation_id=org, lat=p.lat, lon=p.lon).exclude(
                kind__in=kinds
            )
            found.append((p, list(p.qualifications), hosts))
        return found

    for person, qualifications, hosts in run_in_db(demo_url, query):
        assert hosts, person.name_zh
        assert qualifications[0].type.value == person.kind.value
        assert qualifications[0].certificate_number[:3] in ("XL-", "ZL-", "YS-")
        assert qualifications[0].issuer.startswith("示例市")
        assert qualifications[0].verified_on is not None and person.verified_at is not None


def test_closures_and_dataset_label_are_stored(demo_url: str) -> None:
    async def query() -> tuple[list[Any], str | None, int]:
        exceptions = await HoursException.all().values("start_date", "closed", "note")
        return exceptions, await synthetic_label(), await Organisation.all().count()

    exceptions, label, organisations = run_in_db(demo_url, query)
    assert any(str(e["start_date"]) == "2026-12-11" and e["closed"] for e in exceptions)
    assert label == f"{DEMO_LABEL} (seed {DEFAULT_SEED})"
    assert organisations > 20


def test_what_a_listing_says_it_says_in_english_too(demo_url: str) -> None:
    """An English reader of the demo city reads its listings in English: no fee or
    eligibility note, description or address shown "(in Chinese)"."""
    rows = resources(demo_url)
    pairs = [
        ("name_zh", "name_en"),
        ("description_zh", "description_en"),
        ("address_zh", "address_en"),
        ("fee_note", "fee_note_en"),
        ("eligibility_note_zh", "eligibility_note_en"),
    ]
    for zh, en in pairs:
        said = [r for r in rows if r[zh]]
        assert said, zh
        missing = [r[zh] for r in said if not r[en]]
        assert not missing, (en, missing[:3])


def test_same_seed_gives_the_same_city_and_another_seed_another(backend: Backend) -> None:
    def city(seed: int) -> list[tuple[str, float | None, float | None]]:
        url = backend.fresh()
        run_in_db(url, lambda: load_demo_city(seed))
        return [(r["name_zh"], r["lat"], r["lon"]) for r in resources(url)]

    first, again, other = city(DEFAULT_SEED), city(DEFAULT_SEED), city(7)
    assert first == again
    assert first != other
    first_points = {(lat, lon) for _, lat, lon in first if lat is not None}
    assert not first_points & {(lat, lon) for _, lat, lon in other}


def test_refuses_to_load_twice_unless_replacing(database_url: str) -> None:
    messages: list[str] = []

    async def scenario() -> tuple[int, str | None]:
        first = await load_demo_city(3, progress=messages.append)
        with pytest.raises(Conflict, match="already holds"):
            await load_demo_city(3)
        again = await load_demo_city(4, replace=True)
        assert again.total_resources == await Resource.all().count()
        assert first.population == again.population == 1_100_000
        seed = await DatasetInfo.get(key="demo_seed")
        return await Area.all().count(), seed.value

    count, seed = run_in_db(database_url, scenario)
    assert count == 38 and seed == "4"
    assert messages[0].startswith("generating") and messages[-1] == "done"


def test_never_replaces_real_listings(database_url: str) -> None:
    async def scenario() -> int:
        await load_demo_city(3)
        await Resource.create(kind=K.COMMUNITY_ROOM, name_zh="真实的咨询室", source="import")
        with pytest.raises(Conflict, match="not demo data"):
            await load_demo_city(3, replace=True)
        return await Resource.filter(source="import").count()

    assert run_in_db(database_url, scenario) == 1


def test_ensure_demo_city_keeps_a_loaded_demo(database_url: str) -> None:
    async def scenario() -> list[str]:
        said = [await ensure_demo_city(5), await ensure_demo_city(5)]
        with pytest.raises(Conflict, match="seed 5, not 6"):
            await ensure_demo_city(6)
        said.append(await ensure_demo_city(6, replace=True))
        return said

    loaded, kept, replaced = run_in_db(database_url, scenario)
    assert loaded.startswith(DEMO_LABEL) and "1,100,000 residents" in loaded
    assert "already loaded" in kept
    assert "(seed 6)" in replaced


def test_a_failed_load_leaves_the_database_untouched(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "_write_listings", broken)

    async def scenario() -> tuple[int, int]:
        with pytest.raises(RuntimeError, match="disk full"):
            await load_demo_city()
        return await Area.all().count(), await DemandPoint.all().count()

    assert run_in_db(database_url, scenario) == (0, 0)


def test_centres_and_clinics_keep_a_referral_seat(demo_url: str) -> None:
    """The green channel works out of the box: a referral to the demo's minors' centre can
    be booked by its staff (with no referral seat, "accept and book" found none, #23); a
    one-counsellor room keeps none (referral seats come on top of the public one)."""
    from resourcemap.models import BookingPolicy
    from resourcemap.referral.flow import referral_slots
    from tests.referral_helpers import at, ledger

    async def query() -> tuple[dict[str, set[int]], int]:
        kept: dict[str, set[int]] = defaultdict(set)
        for kind, seats in await BookingPolicy.all().values_list(
            "resource__kind", "referral_seats"
        ):
            kept[kind].add(seats)
        room = await Resource.filter(kind=K.MINORS_CENTRE).order_by("id").first()
        assert room is not None
        found = await referral_slots(ledger(demo_url), room.id, at(7, 9).date(), 14, now=at(7, 9))
        return kept, len(found)

    kept, free = run_in_db(demo_url, query)
    assert kept[K.MINORS_CENTRE] == kept[K.GENERAL_HOSPITAL_DEPARTMENT] == {1}
    assert kept[K.COMMUNITY_ROOM] == {0}
    assert free > 0
