"""Policy indicators per area against configurable targets (shared/CONTEXT.md).

Pure computation over plain facts (areas, listings, organisations, a coverage result); the
domain service in :mod:`resourcemap.planning.coverage` gathers those facts from the database. Every
figure carries its numerator, denominator and a ``source`` sentence saying which data it
came from and what it cannot see (e.g. a hospital with no listing at all is not counted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.areatree import AreaTree
from geo.coverage import AreaCoverage
from resourcemap.vocab import KIND_INFO, OrganisationType, ResourceKind, Status


class Targets(BaseSettings):
    """Targets the indicators are held to; defaults are the national pilot's figures.

    Each can be set from the environment, e.g. ``RESOURCEMAP_TARGET_SCHOOL_ROOM_SHARE=1.0``
    for a city plan asking every school to have a counselling room.
    """

    model_config = SettingsConfigDict(
        env_prefix="RESOURCEMAP_TARGET_", env_file=".env", frozen=True, extra="ignore"
    )

    community_room_share: float = Field(
        0.8, ge=0, le=1, description="Share of communities with a counselling or social-work room."
    )
    general_hospital_clinic_share: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Share of level-2+ general hospitals with a psychiatry/psychology clinic.",
    )
    psychiatric_hospital_clinic_share: float = Field(
        1.0, ge=0, le=1, description="Share of psychiatric hospitals with a psychological clinic."
    )
    school_room_share: float = Field(
        0.7, ge=0, le=1, description="Share of primary and secondary schools with a room."
    )
    professionals_per_100k: float = Field(
        15.0, ge=0, description="Psychological professionals per 100,000 residents."
    )
    county_hotline_share: float = Field(
        1.0, ge=0, le=1, description="Share of counties/districts with a 24/7 hotline."
    )
    community_rehabilitation_share: float = Field(
        0.5, ge=0, le=1, description="Share of communities with community rehabilitation."
    )
    circle_share: float = Field(
        1.0, ge=0, le=1, description="Share of residents within the service circle (500 m)."
    )


@dataclass(frozen=True)
class ResourceFact:
    kind: ResourceKind
    status: Status
    organisation_id: int | None
    codes: Mapping[str, str]  # level → area code where the resource is located
    service_area_codes: tuple[str, ...] = ()
    always_open: bool = False

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


@dataclass(frozen=True)
class Facts:
    tree: AreaTree
    resources: Sequence[ResourceFact]
    organisation_types: Mapping[int, OrganisationType]
    population_source: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    value: float | None  # ``None`` when the denominator is zero or unknown
    numerator: float
    denominator: float
    target: float
    unit: str  # "share" or "per 100k"
    source: str

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.target - 1e-12

    @property
    def status(self) -> str:
        """``met``, ``close`` (at least ``CLOSE`` of the target), ``not_met``, or ``unknown``
        where there is nothing to count (no hospital, no school, nobody living there)."""
        if self.value is None:
            return "unknown"
        if self.met:
            return "met"
        return "close" if self.value >= CLOSE * self.target else "not_met"


@dataclass(frozen=True)
class AreaIndicators:
    code: str
    name: str
    level: str
    indicators: tuple[Indicator, ...]


LABELS = {
    "community_room_share": "社区心理咨询室/社会工作室覆盖率 · Communities with a room",
    "general_hospital_clinic_share": "二级以上综合医院精神(心理)科 · General hospitals, clinic",
    "psychiatric_hospital_clinic_share": "精神专科医院心理门诊 · Psychiatric hospitals, clinic",
    "school_room_share": "中小学心理辅导室 · Schools with a counselling room",
    "professionals_per_100k": "每10万人心理专业人员 · Professionals per 100,000 residents",
    "county_hotline_share": "24小时心理援助热线 · Counties with a 24/7 hotline",
    "community_rehabilitation_share": "社区康复机构覆盖率 · Communities with rehabilitation",
    "circle_share": "服务圈覆盖人口 · Residents within the service circle",
}
# Within 10 % of the target (e.g. 72 % against 80 %) reads "close", not "not met".
CLOSE = 0.9
# What each indicator counts, said once per indicator (each cell keeps its own ``source``
# with the area's numbers).
DEFINITIONS = {
    "community_room_share": "Communities with an active community counselling or social-work "
    "room listed inside them, of all communities in the area.",
    "general_hospital_clinic_share": "Organisations of type hospital with a listing in the area "
    "and no psychiatric-hospital clinic, and of those the ones with an active general-hospital "
    "psychiatry/psychology department. Hospitals with no listing are not seen; hospital grade "
    "is not recorded.",
    "psychiatric_hospital_clinic_share": "Hospitals that list a psychiatric-hospital clinic (any "
    "status) in the area, and of those the ones whose clinic is active. A psychiatric hospital "
    "that never listed a clinic is not seen.",
    "school_room_share": "Organisations of type school with a listing in the area, and of those "
    "the ones with an active school counselling room. Schools with no listing are not seen.",
    "professionals_per_100k": "Active practitioner listings (counsellors, psychotherapists, "
    "psychiatrists) located in the area per 100,000 of its recorded population.",
    "county_hotline_share": "Districts/counties of the area served by an active, always-open "
    "hotline whose service area names the district or the city.",
    "community_rehabilitation_share": "Communities with an active community rehabilitation "
    "listing inside them, of all communities in the area.",
    "circle_share": "Residents (demand points) within the service circle of a counted service, "
    "decided by distance, of all residents in the area.",
}
PRACTITIONER_KINDS = frozenset(k for k, info in KIND_INFO.items() if info.practitioner)


def compute(
    facts: Facts,
    targets: Targets,
    level: str,
    circle: Sequence[AreaCoverage] | None = None,
    circle_source: str = "",
) -> list[AreaIndicators]:
    """Indicators for every area of ``level``; ``circle`` is a coverage table of that level."""
    tree = facts.tree
    circle_rows = {r.code: r for r in circle or ()}
    result = []
    for code in tree.codes_at(level):
        inside = tree.descendants(code)
        here = [r for r in facts.resources if r.codes.get(level) == code]
        node = tree.node(code)
        items = [
            _community_share(
                tree, inside, here, ResourceKind.COMMUNITY_ROOM, "community_room_share", targets
            ),
            _community_share(
                tree,
                inside,
                here,
                ResourceKind.COMMUNITY_REHABILITATION,
                "community_rehabilitation_share",
                targets,
            ),
            *_hospitals(here, facts.organisation_types, targets),
            _schools(here, facts.organisation_types, targets),
            _professionals(here, node.population, facts.population_source.get(code, ""), targets),
            _hotlines(tree, code, level, facts.resources, targets),
            _circle(circle_rows.get(code), targets, circle_source),
        ]
        result.append(AreaIndicators(code, node.name, level, tuple(items)))
    return result


def _share(
    key: str, num: float, den: float, target: float, source: str, unit: str = "share"
) -> Indicator:
    value = None if den <= 0 else num / den
    return Indicator(key, LABELS[key], value, num, den, target, unit, source)


def _community_share(
    tree: AreaTree,
    inside: set[str],
    here: Sequence[ResourceFact],
    kind: ResourceKind,
    key: str,
    targets: Targets,
) -> Indicator:
    communities = [c for c in inside if tree.node(c).level == "community"]
    with_one = {r.codes.get("community") for r in here if r.kind is kind and r.active}
    num = sum(1 for c in communities if c in with_one)
    source = (
        f"areas: {len(communities)} communities with this area as ancestor; listings: active "
        f"'{kind.value}' located in each community"
    )
    return _share(key, num, len(communities), getattr(targets, key), source)


def _orgs_with(here: Iterable[ResourceFact], kinds: set[ResourceKind], *, active: bool) -> set[int]:
    return {
        r.organisation_id
        for r in here
        if r.organisation_id is not None and r.kind in kinds and (r.active or not active)
    }


def _hospitals(
    here: Sequence[ResourceFact], types: Mapping[int, OrganisationType], targets: Targets
) -> list[Indicator]:
    hospitals = {
        r.organisation_id
        for r in here
        if r.organisation_id is not None
        and types.get(r.organisation_id) is OrganisationType.HOSPITAL
    }
    psychiatric = hospitals & _orgs_with(
        here, {ResourceKind.PSYCHIATRIC_HOSPITAL_CLINIC}, active=False
    )
    general = hospitals - psychiatric
    psy_num = len(
        psychiatric & _orgs_with(here, {ResourceKind.PSYCHIATRIC_HOSPITAL_CLINIC}, active=True)
    )
    gen_num = len(
        general & _orgs_with(here, {ResourceKind.GENERAL_HOSPITAL_DEPARTMENT}, active=True)
    )
    gen_source = (
        "organisations of type 'hospital' with a listing in this area and no psychiatric-hospital "
        "clinic; numerator: those with an active 'general_hospital_department'. Hospitals with no "
        "listing at all are not in the directory and not counted; hospital grade is not recorded"
    )
    psy_source = (
        "organisations of type 'hospital' listing a 'psychiatric_hospital_clinic' (any status) in "
        "this area; numerator: those whose clinic is active. A psychiatric hospital that never "
        "listed a clinic is not seen"
    )
    gen_target = targets.general_hospital_clinic_share
    psy_target = targets.psychiatric_hospital_clinic_share
    return [
        _share("general_hospital_clinic_share", gen_num, len(general), gen_target, gen_source),
        _share(
            "psychiatric_hospital_clinic_share", psy_num, len(psychiatric), psy_target, psy_source
        ),
    ]


def _schools(
    here: Sequence[ResourceFact], types: Mapping[int, OrganisationType], targets: Targets
) -> Indicator:
    schools = {
        r.organisation_id
        for r in here
        if r.organisation_id is not None and types.get(r.organisation_id) is OrganisationType.SCHOOL
    }
    num = len(schools & _orgs_with(here, {ResourceKind.SCHOOL_ROOM}, active=True))
    source = (
        "organisations of type 'school' with a listing in this area; numerator: those with an "
        "active 'school_room'. Schools with no listing are not counted"
    )
    return _share("school_room_share", num, len(schools), targets.school_room_share, source)


def _professionals(
    here: Sequence[ResourceFact], population: float, pop_source: str, targets: Targets
) -> Indicator:
    count = sum(1 for r in here if r.kind in PRACTITIONER_KINDS and r.active)
    source = (
        f"active practitioner listings (counsellor, psychotherapist, psychiatrist) located here, "
        f"per 100,000 of the area's population ({pop_source or 'population source not recorded'})"
    )
    ind = _share(
        "professionals_per_100k",
        count * 100_000,
        population,
        targets.professionals_per_100k,
        source,
    )
    return Indicator(
        ind.key, ind.label, ind.value, count, population, ind.target, "per 100k", ind.source
    )


def _hotlines(
    tree: AreaTree, code: str, level: str, resources: Sequence[ResourceFact], targets: Targets
) -> Indicator:
    if level in ("city", "district"):
        counties = [c for c in tree.descendants(code) if tree.node(c).level == "district"]
    else:
        counties = [d for d in [tree.ancestor_of(code, "district")] if d]
    lines = [r for r in resources if r.kind is ResourceKind.HOTLINE and r.active and r.always_open]
    served: set[str] = set()
    for r in lines:
        for c in r.service_area_codes:
            served.add(c)
    num = sum(
        1
        for county in counties
        if county in served or any(a in served for a in _ancestors(tree, county))
    )
    whose = (
        "districts/counties of this area"
        if level in ("city", "district")
        else "the district/county this area lies in (a county-level indicator, the same for "
        "every area of the district)"
    )
    source = (
        f"{whose}; numerator: those served by an active, always-open 'hotline' listing (its "
        "service area names the district or the city)"
    )
    return _share("county_hotline_share", num, len(counties), targets.county_hotline_share, source)


def _ancestors(tree: AreaTree, code: str) -> list[str]:
    found = []
    parent = tree.node(code).parent if code in tree else None
    while parent is not None and parent in tree:
        found.append(parent)
        parent = tree.node(parent).parent
    return found


def _circle(row: AreaCoverage | None, targets: Targets, source: str) -> Indicator:
    if row is None:
        return _share("circle_share", 0, 0, targets.circle_share, "no coverage result")
    return _share("circle_share", row.covered, row.population, targets.circle_share, source)
