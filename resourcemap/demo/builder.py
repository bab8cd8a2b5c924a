"""Plain-data specs of the demo city and the builder that assembles them (no ORM).

The builder owns the random generator, area codes, names, phone numbers and placement;
``resourcemap.demo.catalogue`` decides which resources exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import shapely

from geo.synthetic import SyntheticGeography, sample_near_population
from resourcemap.demo import names as N
from resourcemap.demo.profiles import MEMBERS_ONLY, PROFILES, weekly_hours
from resourcemap.listings.hours import Interval
from resourcemap.translations import vocab_label
from resourcemap.vocab import (
    Accessibility,
    AreaLevel,
    Eligibility,
    Fee,
    OrganisationType,
    QualificationType,
    ResourceKind,
    Service,
    Status,
)

CITY_CODE = "449900000000"
DISTRICT_CODE = "449901000000"


def street_code(street: int) -> str:
    """12-digit code of the 0-based ``street``: 449901 + 3-digit street + 000."""
    return f"449901{street + 1:03d}000"


def community_code(street: int, community_in_street: int) -> str:
    return f"449901{street + 1:03d}{community_in_street + 1:03d}"


@dataclass(frozen=True)
class AreaSpec:
    code: str
    level: AreaLevel
    name_zh: str
    name_en: str
    parent_code: str | None
    population: int
    boundary: dict[str, Any]


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name_zh: str
    name_en: str
    type: OrganisationType
    phone: str = ""


@dataclass(frozen=True)
class ExceptionSpec:
    start_date: date
    end_date: date
    note: str
    closed: bool = True
    opens: int | None = None  # minutes after local midnight when open at other times
    closes: int | None = None


@dataclass(frozen=True)
class QualificationSpec:
    type: QualificationType
    certificate_number: str
    issuer: str
    issued_on: date
    verified_on: date


@dataclass
class ResourceSpec:
    kind: ResourceKind
    name_zh: str
    name_en: str
    org_key: str
    community: int | None  # index into the geography; None for area-served resources
    host: int | None = None  # practitioners sit at this resource's location
    description_zh: str = ""
    description_en: str = ""
    services: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)
    fee: Fee = Fee.FREE
    fee_note: str = ""
    fee_note_en: str = ""
    eligibility: Eligibility = Eligibility.PUBLIC
    eligibility_note_zh: str = ""
    eligibility_note_en: str = ""
    phone: str = ""
    capacity: int = 1
    always_open: bool = False
    status: Status = Status.ACTIVE
    verified_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    address_zh: str = ""
    address_en: str = ""
    codes: tuple[str, str, str, str] = ("", "", "", "")  # city, district, street, community
    service_area_codes: list[str] = field(default_factory=list)
    hours: list[Interval] = field(default_factory=list)
    exceptions: list[ExceptionSpec] = field(default_factory=list)
    qualifications: list[QualificationSpec] = field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    seed: int
    geography: SyntheticGeography
    areas: list[AreaSpec]
    organisations: list[OrgSpec]
    resources: list[ResourceSpec]
    community_codes: list[str]  # area code of each community in ``geography``


def geojson(geom: Any) -> dict[str, Any]:
    """GeoJSON mapping with coordinates rounded to 6 decimals (about 0.1 m)."""
    rounded = shapely.transform(geom, lambda c: np.round(c, 6))
    mapping: dict[str, Any] = shapely.geometry.mapping(rounded)
    return mapping


class CatalogueBuilder:
    """Accumulates areas, organisations and resources for one seed."""

    def __init__(self, geo: SyntheticGeography, rng: np.random.Generator) -> None:
        self.geo, self.rng = geo, rng
        self.areas: list[AreaSpec] = []
        self.orgs: dict[str, OrgSpec] = {}
        self.resources: list[ResourceSpec] = []
        self.phones: set[str] = set()
        self.pop = geo.community_population()
        n_streets = len(geo.streets)
        street_names = self.rng.choice(len(N.STREETS), n_streets, replace=False)
        self.street_names = [N.STREETS[i] for i in street_names]
        comm_names = self.rng.choice(len(N.COMMUNITIES), len(geo.communities), replace=False)
        self.community_names = [N.COMMUNITIES[i] for i in comm_names]
        self.street_of = [int(s) for s in geo.community_street]
        rank = [self.street_of[:i].count(s) for i, s in enumerate(self.street_of)]
        self.codes = [community_code(s, r) for s, r in zip(self.street_of, rank, strict=True)]
        # Filled by the catalogue: communities left without a room, agency resource indices.
        self.gaps: list[int] = []
        self.agencies: list[int] = []
        self.add_areas()

    def catalogue(self, seed: int) -> Catalogue:
        orgs = list(self.orgs.values())
        return Catalogue(seed, self.geo, self.areas, orgs, self.resources, self.codes)

    # -- areas -----------------------------------------------------------------------

    def add_areas(self) -> None:
        geo, total = self.geo, int(self.geo.grid.population.sum())
        # The demo city has one district, so both share the district's outline.
        outline = geojson(geo.district)
        self.areas.append(AreaSpec(CITY_CODE, AreaLevel.CITY, *N.CITY, None, total, outline))
        self.areas.append(
            AreaSpec(DISTRICT_CODE, AreaLevel.DISTRICT, *N.DISTRICT, CITY_CODE, total, outline)
        )
        street_pop = geo.street_population()
        for s, (zh, en) in enumerate(self.street_names):
            self.areas.append(
                AreaSpec(
                    street_code(s),
                    AreaLevel.STREET,
                    f"{zh}街道",
                    f"{en} Subdistrict",
                    DISTRICT_CODE,
                    int(street_pop[s]),
                    geojson(geo.streets[s]),
                )
            )
        for c, (zh, en) in enumerate(self.community_names):
            self.areas.append(
                AreaSpec(
                    self.codes[c],
                    AreaLevel.COMMUNITY,
                    f"{zh}社区",
                    f"{en} Community",
                    street_code(self.street_of[c]),
                    int(self.pop[c]),
                    geojson(geo.communities[c]),
                )
            )

    # -- helpers ---------------------------------------------------------------------

    def org(self, key: str, zh: str, en: str, kind: OrganisationType) -> str:
        if key not in self.orgs:
            self.orgs[key] = OrgSpec(key, zh, en, kind, self.phone())
        return key

    def phone(self) -> str:
        while True:
            number = f"0755-2{int(self.rng.integers(0, 10_000_000)):07d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def pick(self, n: int, *, replace: bool = True, among: list[int] | None = None) -> list[int]:
        """Communities drawn with probability proportional to their population."""
        pool = np.arange(len(self.pop)) if among is None else np.asarray(among)
        weights = self.pop[pool].astype(np.float64)
        chosen = self.rng.choice(pool, size=n, replace=replace, p=weights / weights.sum())
        return [int(c) for c in chosen]

    def cname(self, c: int) -> tuple[str, str]:
        return self.community_names[c]

    def sname(self, c: int) -> tuple[str, str]:
        return self.street_names[self.street_of[c]]

    def add(
        self,
        kind: ResourceKind,
        name: tuple[str, str],
        org_key: str,
        community: int | None,
        **extra: Any,
    ) -> ResourceSpec:
        """Append a resource with the kind's profile; ``extra`` overrides fields."""
        rng, profile = self.rng, PROFILES[kind]

        def maybe(items: tuple[Any, ...]) -> list[str]:
            return [str(i) for i in items if rng.random() < 0.5]

        month, day, hour = (int(v) for v in rng.integers((1, 1, 1), (7, 29, 10)))
        spec = ResourceSpec(
            kind=kind,
            name_zh=name[0],
            name_en=name[1],
            org_key=org_key,
            community=community,
            services=[str(s) for s in profile.services] + maybe(profile.maybe_services),
            audiences=[str(a) for a in profile.audiences] + maybe(profile.maybe_audiences),
            modes=[str(m) for m in profile.modes] + maybe(profile.maybe_modes),
            languages=["zh", "yue"] if rng.random() < 0.4 else ["zh"],
            fee=profile.fee,
            fee_note=profile.fee_note[0],
            fee_note_en=profile.fee_note[1],
            phone=self.phone(),
            capacity=int(rng.integers(profile.capacity[0], profile.capacity[1] + 1)),
            verified_at=datetime(2026, month, day, hour, tzinfo=UTC),
            hours=weekly_hours(profile.hours, rng),
            always_open=profile.hours == "always",
        )
        if kind in MEMBERS_ONLY:  # no random draw: the city stays the same for a seed
            spec.eligibility, spec.eligibility_note_zh, spec.eligibility_note_en = MEMBERS_ONLY[
                kind
            ]
        if community is not None:
            street = self.street_of[community]
            spec.codes = (CITY_CODE, DISTRICT_CODE, street_code(street), self.codes[community])
            spec.address_zh, spec.address_en = self.address(community)
            spec.accessibility = self.accessibility()
        for key, value in extra.items():
            if not hasattr(spec, key):
                raise AttributeError(key)
            setattr(spec, key, value)
        labels = [
            (vocab_label(Service(s), "zh"), vocab_label(Service(s), "en")) for s in spec.services
        ]
        spec.description_zh = (
            f"{spec.name_zh}：{profile.lead_zh}。服务项目：{'、'.join(z for z, _ in labels)}。"
        )
        spec.description_en = (
            f"{spec.name_en}: {profile.lead_en}. Services: "
            f"{', '.join(e.lower() for _, e in labels)}."
        )
        self.resources.append(spec)
        return spec

    def address(self, community: int) -> tuple[str, str]:
        road_zh, road_en = N.ROADS[int(self.rng.integers(len(N.ROADS)))]
        number = int(self.rng.integers(1, 400))
        (c_zh, c_en), (s_zh, s_en) = self.cname(community), self.sname(community)
        return (
            f"{N.CITY[0]}{N.DISTRICT[0]}{s_zh}街道{c_zh}社区{road_zh}路{number}号",
            f"{number} {road_en} Road, {c_en} Community, {s_en} Subdistrict, "
            f"{N.DISTRICT[1]}, {N.CITY[1]}",
        )

    def accessibility(self) -> list[str]:
        odds = {
            Accessibility.WHEELCHAIR: 0.7,
            Accessibility.ELEVATOR: 0.6,
            Accessibility.ACCESSIBLE_TOILET: 0.45,
            Accessibility.SIGN_LANGUAGE: 0.06,
            Accessibility.BRAILLE: 0.05,
            Accessibility.HEARING_LOOP: 0.03,
        }
        draws = self.rng.random(len(odds))
        return [str(a) for (a, p), u in zip(odds.items(), draws, strict=True) if u < p]

    # -- placement -------------------------------------------------------------------

    def place(self) -> None:
        """Place every point resource near population in its community (one vectorised
        draw), then seat practitioners at their host."""
        placed: list[ResourceSpec] = []
        communities: list[int] = []
        for r in self.resources:
            if r.community is not None and r.host is None:
                placed.append(r)
                communities.append(r.community)
        lon, lat = sample_near_population(self.geo, communities, self.rng)
        for r, x, y in zip(placed, lon, lat, strict=True):
            r.lon, r.lat = round(float(x), 6), round(float(y), 6)
        for r in self.resources:
            if r.host is not None:
                host = self.resources[r.host]
                r.lon, r.lat = host.lon, host.lat
