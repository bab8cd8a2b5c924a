"""Which resources the demo city has: every kind in ``vocab.ResourceKind``, placed near
people, with hours, closures and qualifications (plain data, no ORM).

``build_catalogue(seed)`` is deterministic: the same seed gives the same names,
coordinates and counts. ``resourcemap.demo.city`` writes the result to the database.

>>> cat = build_catalogue(20181)
>>> sorted({r.kind for r in cat.resources}) == sorted(ResourceKind)
True
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from geo.synthetic import generate_geography
from resourcemap.demo import names as N
from resourcemap.demo.builder import (
    CITY_CODE,
    DISTRICT_CODE,
    Catalogue,
    CatalogueBuilder,
    ExceptionSpec,
    QualificationSpec,
    street_code,
)
from resourcemap.demo.profiles import hm
from resourcemap.translations import vocab_label
from resourcemap.vocab import OrganisationType, QualificationType, ResourceKind, Service, Status

K, Org = ResourceKind, OrganisationType
CITY_ZH, CITY_EN = N.CITY
DIST_ZH, DIST_EN = N.DISTRICT


def build_catalogue(seed: int) -> Catalogue:
    rng = np.random.default_rng(seed)
    b = CatalogueBuilder(generate_geography(rng), rng)
    _platform(b)
    _health(b)
    _schools(b)
    _workplaces(b)
    _social(b)
    _agencies(b)
    _volunteers(b)
    _practitioners(b)
    _hotlines(b)
    _exceptions(b)
    _suspensions(b)
    b.place()
    return b.catalogue(seed)


def _members(b: CatalogueBuilder, street: int) -> list[int]:
    return [c for c, s in enumerate(b.street_of) if s == street]


def _platform(b: CatalogueBuilder) -> None:
    """The four-level platform: city and district centres, street stations, rooms."""
    rng, n = b.rng, len(b.codes)
    city = b.org(
        "city-health", f"{CITY_ZH}卫生健康委员会", f"{CITY_EN} Health Commission", Org.GOVERNMENT
    )
    name = ("社会心理服务技术指导中心", "Social-Psychological Service Technical Guidance Centre")
    b.add(K.CITY_CENTRE, (CITY_ZH + name[0], f"{CITY_EN} {name[1]}"), city, b.pick(1)[0])
    name = ("社会心理服务指导中心", "Social-Psychological Service Guidance Centre")
    name = (DIST_ZH + name[0], f"{DIST_EN} {name[1]}")
    centre = b.org("district-centre", *name, Org.GOVERNMENT)
    b.add(K.DISTRICT_CENTRE, name, centre, b.pick(1)[0])
    for street, (zh, en) in enumerate(b.street_names):
        office = b.org(
            f"street-{street}", f"{zh}街道办事处", f"{en} Subdistrict Office", Org.GOVERNMENT
        )
        name = (f"{zh}街道社会心理服务站", f"{en} Subdistrict Social-Psychological Service Station")
        b.add(K.STREET_STATION, name, office, b.pick(1, among=_members(b, street))[0])
    # About six communities have no room yet: the coverage gaps planners must see.
    b.gaps = sorted(int(c) for c in rng.choice(n, int(rng.integers(5, 8)), replace=False))
    for c in range(n):
        if c in b.gaps:
            continue
        zh, en = b.cname(c)
        if rng.random() < 0.3:
            name = (f"{zh}社区社会工作室", f"{en} Community Social Work Room")
        else:
            name = (f"{zh}社区心理咨询室", f"{en} Community Counselling Room")
        b.add(K.COMMUNITY_ROOM, name, f"street-{b.street_of[c]}", c)


def _health(b: CatalogueBuilder) -> None:
    for zh, en in N.PSYCHIATRIC_HOSPITALS:
        org = b.org(f"hospital-{en}", zh, en, Org.HOSPITAL)
        name = (f"{zh}心理门诊", f"{en} Psychological Clinic")
        b.add(K.PSYCHIATRIC_HOSPITAL_CLINIC, name, org, b.pick(1)[0])
    for zh, en, dept_zh, dept_en in N.GENERAL_HOSPITALS:
        org = b.org(f"hospital-{en}", zh, en, Org.HOSPITAL)
        name = (zh + dept_zh, f"{en}, Department of {dept_en}")
        b.add(K.GENERAL_HOSPITAL_DEPARTMENT, name, org, b.pick(1)[0])
    zh, en = f"{DIST_ZH}社区健康服务中心", f"{DIST_EN} Community Health Centres"
    org = b.org("health-centres", zh, en, Org.HEALTH_CENTRE)
    for c in sorted(b.pick(int(b.rng.integers(13, 17)), replace=False)):
        c_zh, c_en = b.cname(c)
        name = (
            f"{c_zh}社区健康服务中心心理咨询室",
            f"{c_en} Community Health Centre Counselling Room",
        )
        b.add(K.HEALTH_CENTRE_ROOM, name, org, c)


def _schools(b: CatalogueBuilder) -> None:
    """Primary, middle and experimental schools, more of them where more people live."""
    rng = b.rng
    seen: dict[str, int] = {}
    middle = 0
    for c in b.pick(int(rng.integers(100, 116))):
        c_zh, c_en = b.cname(c)
        level = int(rng.choice(3, p=[0.6, 0.3, 0.1]))
        if level == 1:
            middle += 1
            zh = f"{DIST_ZH}第{N.chinese_ordinal(middle)}中学"
            en = f"{DIST_EN} No. {middle} Middle School"
        else:
            kind_zh, kind_en = (
                ("小学", "Primary School") if level == 0 else ("实验学校", "Experimental School")
            )
            k = seen[c_zh + kind_zh] = seen.get(c_zh + kind_zh, 0) + 1
            zh = DIST_ZH + c_zh + (f"第{N.chinese_ordinal(k)}" if k > 1 else "") + kind_zh
            en = f"{DIST_EN} {c_en} " + (f"No. {k} " if k > 1 else "") + kind_en
        org = b.org(f"school-{zh}", zh, en, Org.SCHOOL)
        audiences = ["students", "children" if level == 0 else "adolescents", "families"]
        name = (f"{zh}心理辅导室", f"{en} Counselling Room")
        b.add(K.SCHOOL_ROOM, name, org, c, audiences=audiences)
    for zh, en in N.UNIVERSITIES:
        org = b.org(f"university-{en}", zh, en, Org.UNIVERSITY)
        name = (f"{zh}心理健康教育与咨询中心", f"{en} Counselling Centre")
        b.add(K.UNIVERSITY_CENTRE, name, org, b.pick(1)[0], languages=["zh", "en"])


def _workplaces(b: CatalogueBuilder) -> None:
    pairs = [(p, i) for p in N.COMPANY_PREFIXES for i in N.INDUSTRIES]
    for j in sorted(b.rng.choice(len(pairs), int(b.rng.integers(30, 41)), replace=False)):
        (p_zh, p_en), (i_zh, i_en) = pairs[j]
        zh, en = f"{p_zh}{i_zh}有限公司", f"{p_en} {i_en} Co., Ltd."
        org = b.org(f"employer-{en}", zh, en, Org.EMPLOYER)
        name = (f"{zh}职工心灵驿站", f"{en} Staff Wellbeing Station")
        b.add(K.WORKPLACE_ROOM, name, org, b.pick(1)[0])


def _social(b: CatalogueBuilder) -> None:
    """Minors' centres, community rehabilitation and special-population rooms."""
    rng = b.rng
    zh, en = f"{DIST_ZH}精神文明建设办公室", f"{DIST_EN} Civilisation Office"
    org = b.org("civilisation", zh, en, Org.GOVERNMENT)
    name = (
        f"{DIST_ZH}未成年人心理健康成长辅导中心",
        f"{DIST_EN} Minors' Mental Health Guidance Centre",
    )
    b.add(K.MINORS_CENTRE, name, org, b.pick(1)[0])
    street = int(rng.integers(len(b.street_names)))
    s_zh, s_en = b.street_names[street]
    name = (f"{s_zh}街道青少年成长辅导站", f"{s_en} Subdistrict Youth Guidance Station")
    b.add(K.MINORS_CENTRE, name, org, b.pick(1, among=_members(b, street))[0])

    zh, en = f"{DIST_ZH}残疾人联合会", f"{DIST_EN} Disabled Persons' Federation"
    org = b.org("disabled", zh, en, Org.NGO)
    for c in sorted(b.pick(int(rng.integers(6, 10)), replace=False)):
        c_zh, c_en = b.cname(c)
        b.add(K.COMMUNITY_REHABILITATION, (f"{c_zh}阳光心园", f"{c_en} Sunshine Centre"), org, c)

    org = b.org("justice", f"{DIST_ZH}司法局", f"{DIST_EN} Justice Bureau", Org.GOVERNMENT)
    for street, (s_zh, s_en) in enumerate(b.street_names):
        name = (f"{s_zh}司法所心理矫治室", f"{s_en} Justice Office Psychological Correction Room")
        b.add(K.SPECIAL_POPULATION_ROOM, name, org, b.pick(1, among=_members(b, street))[0])
    settings = rng.choice(len(N.SPECIAL_SETTINGS), int(rng.integers(3, 6)), replace=False)
    for j in sorted(settings):
        o_zh, o_en, r_zh, r_en = N.SPECIAL_SETTINGS[j]
        org = b.org(f"special-{o_en}", o_zh, o_en, Org.GOVERNMENT)
        b.add(K.SPECIAL_POPULATION_ROOM, (o_zh + r_zh, f"{o_en} {r_en}"), org, b.pick(1)[0])


def _agencies(b: CatalogueBuilder) -> None:
    rng = b.rng
    for j in sorted(rng.choice(len(N.AGENCY_BRANDS), int(rng.integers(15, 19)), replace=False)):
        brand_zh, brand_en = N.AGENCY_BRANDS[j]
        if rng.random() < 0.25:
            zh = f"{DIST_ZH}{brand_zh}社会工作服务中心"
            en = f"{DIST_EN} {brand_en} Social Work Service Centre"
        else:
            zh, en = f"{CITY_ZH}{brand_zh}心理咨询中心", f"{CITY_EN} {brand_en} Counselling Centre"
        org = b.org(f"agency-{en}", zh, en, Org.AGENCY)
        low = int(rng.integers(20, 51)) * 10
        note = f"个体咨询{low}–{low + 200}元/50分钟，低收入居民可申请减免"
        note_en = (
            f"¥{low}–{low + 200} per 50-minute session; "
            "residents on low incomes may ask for a reduction"
        )
        spec = b.add(
            K.LICENSED_AGENCY, (zh, en), org, b.pick(1)[0], fee_note=note, fee_note_en=note_en
        )
        if j % 3 == 0 and "Counselling" in en:
            # A city's foreign residents find a few counselling centres that work in English
            # (no draw: the rest of the city stays the same for a seed).
            spec.languages = [*spec.languages, "en"]
        b.agencies.append(len(b.resources) - 1)


def _volunteers(b: CatalogueBuilder) -> None:
    """Volunteer teams serve areas, not a point: some communities, or a whole street."""
    rng, n = b.rng, len(b.codes)
    zh, en = f"{DIST_ZH}义工联合会", f"{DIST_EN} Volunteers' Federation"
    org = b.org("volunteers", zh, en, Org.NGO)
    audiences = (
        ["adolescents", "students"],
        ["women", "families"],
        ["children", "adolescents", "families"],
        ["elderly"],
    )
    for name, aud in zip(N.VOLUNTEER_GROUPS, audiences, strict=True):
        served = sorted(int(c) for c in rng.choice(n, int(rng.integers(3, 9)), replace=False))
        areas = [b.codes[c] for c in served]
        b.add(K.VOLUNTEER_TEAM, name, org, None, audiences=aud, service_area_codes=areas)
    streets = rng.choice(len(b.street_names), int(rng.integers(2, 7)), replace=False)
    for s in sorted(int(s) for s in streets):
        s_zh, s_en = b.street_names[s]
        name = (f"{s_zh}街道心理服务志愿者队", f"{s_en} Subdistrict Psychological Volunteers")
        b.add(K.VOLUNTEER_TEAM, name, org, None, service_area_codes=[street_code(s)])


def _practitioners(b: CatalogueBuilder) -> None:
    """Counsellors at agencies, psychotherapists and psychiatrists at hospitals (and
    therapists also at agencies); each sits at the location of its host."""
    rng = b.rng
    hospital_kinds = (K.PSYCHIATRIC_HOSPITAL_CLINIC, K.GENERAL_HOSPITAL_DEPARTMENT)
    hospitals = [i for i, r in enumerate(b.resources) if r.kind in hospital_kinds]
    plan = (
        [(K.COUNSELLOR, QualificationType.COUNSELLOR, b.agencies)] * int(rng.integers(14, 19))
        + [(K.PSYCHOTHERAPIST, QualificationType.PSYCHOTHERAPIST, hospitals + b.agencies)]
        * int(rng.integers(5, 9))
        + [(K.PSYCHIATRIST, QualificationType.PSYCHIATRIST, hospitals)] * int(rng.integers(7, 11))
    )
    people = rng.choice(len(N.SURNAMES) * len(N.GIVEN_NAMES), len(plan), replace=False)
    for (kind, qualification, hosts), person in zip(plan, people, strict=True):
        s_zh, s_en = N.SURNAMES[person // len(N.GIVEN_NAMES)]
        g_zh, g_en = N.GIVEN_NAMES[person % len(N.GIVEN_NAMES)]
        host_index = int(rng.choice(hosts))
        host = b.resources[host_index]
        # Practitioners are reached through their host's public number, never a personal one.
        extra: dict[str, Any] = {"host": host_index, "phone": host.phone}
        if host.kind is K.LICENSED_AGENCY:
            price = int(rng.integers(30, 81)) * 10
            extra["fee_note"], extra["fee_note_en"] = (
                f"{price}元/50分钟",
                f"¥{price} per 50 minutes",
            )
        zh, en = vocab_label(kind, "zh"), vocab_label(kind, "en")
        name = (f"{s_zh}{g_zh}（{zh}）", f"{s_en} {g_en} ({en})")
        spec = b.add(kind, name, host.org_key, host.community, **extra)
        spec.address_zh, spec.address_en = host.address_zh, host.address_en
        spec.accessibility = list(host.accessibility)
        spec.qualifications = _qualifications(b.rng, qualification)
        if "en" in host.languages and kind is not K.PSYCHIATRIST:
            spec.languages = [*spec.languages, "en"]  # counsel as their centre does


ISSUERS: dict[QualificationType, tuple[str, str]] = {
    QualificationType.COUNSELLOR: ("XL", f"{CITY_ZH}人力资源和社会保障局"),
    QualificationType.PSYCHOTHERAPIST: ("ZL", f"{CITY_ZH}卫生健康委员会"),
    QualificationType.PSYCHIATRIST: ("YS", f"{CITY_ZH}卫生健康委员会"),
    QualificationType.SOCIAL_WORKER: ("SG", f"{CITY_ZH}民政局"),
}


def _qualifications(rng: np.random.Generator, main: QualificationType) -> list[QualificationSpec]:
    """The practitioner's licence, and for some a social-worker certificate as well."""
    kinds = [main] + ([QualificationType.SOCIAL_WORKER] if rng.random() < 0.2 else [])
    result = []
    for kind in kinds:
        prefix, issuer = ISSUERS[kind]
        year = int(rng.integers(2008, 2025))
        issued = date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        verified = date(2026, int(rng.integers(1, 6)), int(rng.integers(1, 29)))
        number = f"{prefix}-{year}-{int(rng.integers(1, 1_000_000)):06d}"
        result.append(QualificationSpec(kind, number, issuer, issued, verified))
    return result


def _hotlines(b: CatalogueBuilder) -> None:
    """12320, 12355 and the district's own 24/7 line: phone only, serving an area."""
    crisis = [Service.PHONE_SUPPORT, Service.CRISIS_INTERVENTION, Service.COUNSELLING]
    services = [str(s) for s in (*crisis, Service.REFERRAL)]
    zh, en = f"共青团{CITY_ZH}委员会", f"{CITY_EN} Communist Youth League Committee"
    youth = b.org("youth-league", zh, en, Org.GOVERNMENT)
    lines: list[tuple[str, tuple[str, str], str, str, list[str]]] = [
        ("12320", ("12320卫生热线心理援助", "12320 Health Hotline Psychological Assistance"),
         "city-health", CITY_CODE, ["everyone"]),
        ("12355", ("12355青少年服务台", "12355 Youth Service Line"),
         youth, CITY_CODE, ["adolescents", "students", "families"]),
        (b.phone(), (f"{DIST_ZH}24小时心理援助热线", f"{DIST_EN} 24-hour Assistance Line"),
         "district-centre", DISTRICT_CODE, ["everyone"]),
    ]  # fmt: skip
    for number, name, org, area, audiences in lines:
        languages = ["zh", "yue", "en"] if number == "12320" else ["zh", "yue"]
        b.add(
            K.HOTLINE,
            name,
            org,
            None,
            phone=number,
            services=services,
            audiences=audiences,
            service_area_codes=[area],
            languages=languages,
        )


def _exceptions(b: CatalogueBuilder) -> None:
    """A district-wide training day, National Day half days, one renovation."""
    training = ExceptionSpec(
        date(2026, 12, 11), date(2026, 12, 11), "全区社会心理服务人员业务培训，暂停服务一天"
    )
    national_day = ExceptionSpec(
        date(2026, 10, 1), date(2026, 10, 7), "国庆假期仅上午开诊", False, hm(8), hm(12)
    )
    renovation = ExceptionSpec(date(2026, 11, 16), date(2026, 11, 22), "场地装修，暂停接待")
    for r in b.resources:
        if r.kind in (K.STREET_STATION, K.DISTRICT_CENTRE):
            r.exceptions.append(training)
        elif r.kind is K.GENERAL_HOSPITAL_DEPARTMENT:
            r.exceptions.append(national_day)
    rooms = [i for i, r in enumerate(b.resources) if r.kind is K.COMMUNITY_ROOM]
    for i in b.rng.choice(rooms, 5, replace=False):
        b.resources[int(i)].exceptions.append(training)
    b.resources[int(b.rng.choice(b.agencies))].exceptions.append(renovation)


def _suspensions(b: CatalogueBuilder) -> None:
    """A few school and workplace rooms are suspended, as in any real directory."""
    kinds = (K.SCHOOL_ROOM, K.WORKPLACE_ROOM)
    pool = [i for i, r in enumerate(b.resources) if r.kind in kinds]
    for i in b.rng.choice(pool, int(b.rng.integers(3, 7)), replace=False):
        b.resources[int(i)].status = Status.SUSPENDED
