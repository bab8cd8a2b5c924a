"""What each kind of demo resource offers: services, audiences, fees, capacity and hours.

Pure data and small pure functions, used by ``resourcemap.demo.catalogue``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resourcemap.listings.hours import Interval
from resourcemap.vocab import Audience, Eligibility, Fee, Mode, ResourceKind, Service

K, S, A, M = ResourceKind, Service, Audience, Mode


@dataclass(frozen=True)
class Profile:
    services: tuple[Service, ...]
    audiences: tuple[Audience, ...]
    modes: tuple[Mode, ...] = (M.IN_PERSON,)
    fee: Fee = Fee.FREE
    # (zh, en). The fee itself is shown as such: a note says only what it adds.
    fee_note: tuple[str, str] = ("", "")
    capacity: tuple[int, int] = (1, 1)
    hours: str = "office"
    # Each of these is added with probability one half.
    maybe_services: tuple[Service, ...] = ()
    maybe_audiences: tuple[Audience, ...] = ()
    maybe_modes: tuple[Mode, ...] = ()
    lead_zh: str = ""
    lead_en: str = ""


PUBLIC_HOSPITAL_FEE = (
    "按公立医院收费标准收费，可使用医保",
    "Public hospital rates; medical insurance accepted",
)

PROFILES: dict[ResourceKind, Profile] = {
    K.COMMUNITY_ROOM: Profile(
        (S.COUNSELLING, S.EDUCATION, S.REFERRAL),
        (A.EVERYONE,),
        fee_note=("请提前预约", "Please book ahead"),
        hours="community",
        maybe_services=(S.GROUP_ACTIVITY, S.FAMILY_SUPPORT, S.ASSESSMENT),
        maybe_audiences=(A.ELDERLY, A.FAMILIES),
        maybe_modes=(M.PHONE,),
        lead_zh="设于社区党群服务中心，由专职社工和心理咨询师值守，面向辖区居民",
        lead_en="in the community service centre, staffed by social workers and counsellors",
    ),
    K.STREET_STATION: Profile(
        (S.COUNSELLING, S.GROUP_ACTIVITY, S.EDUCATION, S.CRISIS_INTERVENTION, S.REFERRAL),
        (A.EVERYONE,),
        (M.IN_PERSON, M.PHONE),
        fee_note=("请提前预约", "Please book ahead"),
        capacity=(6, 12),
        hours="community",
        maybe_services=(S.ASSESSMENT, S.FAMILY_SUPPORT),
        lead_zh="统筹街道内各社区心理服务，设有个体咨询室和团体辅导室",
        lead_en="coordinates the subdistrict's community rooms; individual and group rooms",
    ),
    K.DISTRICT_CENTRE: Profile(
        (
            S.COUNSELLING,
            S.ASSESSMENT,
            S.CRISIS_INTERVENTION,
            S.GROUP_ACTIVITY,
            S.EDUCATION,
            S.REFERRAL,
        ),
        (A.EVERYONE,),
        (M.IN_PERSON, M.ONLINE, M.PHONE),
        fee_note=("请提前预约", "Please book ahead"),
        capacity=(12, 12),
        lead_zh="负责全区社会心理服务的业务指导、人员培训和质量评估，同时接待居民来访",
        lead_en="guides, trains and evaluates the district's services and also receives residents",
    ),
    K.CITY_CENTRE: Profile(
        (S.ASSESSMENT, S.CRISIS_INTERVENTION, S.EDUCATION, S.REFERRAL),
        (A.EVERYONE,),
        (M.IN_PERSON, M.ONLINE),
        capacity=(8, 8),
        lead_zh="负责全市社会心理服务的技术指导和危机干预队伍建设",
        lead_en="technical guidance for the city's services and its crisis intervention teams",
    ),
    K.PSYCHIATRIC_HOSPITAL_CLINIC: Profile(
        (
            S.PSYCHIATRIC_OUTPATIENT,
            S.COUNSELLING,
            S.PSYCHOTHERAPY,
            S.ASSESSMENT,
            S.CRISIS_INTERVENTION,
        ),
        (A.EVERYONE,),
        maybe_modes=(M.ONLINE,),
        fee=Fee.PAID,
        fee_note=PUBLIC_HOSPITAL_FEE,
        capacity=(3, 6),
        hours="hospital",
        lead_zh="精神专科医院开设的心理门诊，提供诊断、药物治疗和心理治疗",
        lead_en="psychiatric hospital clinic for diagnosis, medication and psychotherapy",
    ),
    K.GENERAL_HOSPITAL_DEPARTMENT: Profile(
        (S.PSYCHIATRIC_OUTPATIENT, S.COUNSELLING, S.ASSESSMENT, S.REFERRAL),
        (A.EVERYONE,),
        fee=Fee.PAID,
        fee_note=PUBLIC_HOSPITAL_FEE,
        capacity=(2, 4),
        hours="hospital",
        maybe_services=(S.PSYCHOTHERAPY,),
        lead_zh="综合医院精神(心理)科，接诊焦虑、抑郁、睡眠等常见心理问题",
        lead_en="general hospital department for anxiety, depression and sleep problems",
    ),
    K.HEALTH_CENTRE_ROOM: Profile(
        (S.COUNSELLING, S.ASSESSMENT, S.EDUCATION, S.REFERRAL),
        (A.EVERYONE,),
        fee_note=(
            "心理咨询免费，药物治疗按医保规定收费",
            "Counselling is free; medication is charged under medical insurance rules",
        ),
        hours="community",
        maybe_audiences=(A.ELDERLY, A.WOMEN),
        lead_zh="社区健康服务中心内的心理咨询室，提供心理筛查和严重精神障碍患者随访",
        lead_en="health centre room for screening and follow-up of severe mental illness",
    ),
    K.SCHOOL_ROOM: Profile(
        (S.COUNSELLING, S.EDUCATION, S.ASSESSMENT),
        (A.STUDENTS,),
        fee_note=("本校学生免费", "Free for the school's own students"),
        hours="school",
        maybe_services=(S.GROUP_ACTIVITY, S.FAMILY_SUPPORT),
        lead_zh="学校心理辅导室，由专兼职心理教师为本校学生和家长提供辅导",
        lead_en="run by the school's psychology teachers for students and parents",
    ),
    K.UNIVERSITY_CENTRE: Profile(
        (S.COUNSELLING, S.ASSESSMENT, S.GROUP_ACTIVITY, S.EDUCATION, S.CRISIS_INTERVENTION),
        (A.STUDENTS,),
        (M.IN_PERSON, M.ONLINE),
        fee_note=("本校学生免费", "Free for the school's own students"),
        capacity=(4, 6),
        lead_zh="高校心理健康教育与咨询中心，为在校学生提供个体咨询和团体辅导",
        lead_en="university counselling centre with individual and group sessions for students",
    ),
    K.WORKPLACE_ROOM: Profile(
        (S.COUNSELLING, S.EAP, S.EDUCATION),
        (A.WORKERS,),
        fee_note=("本单位职工免费", "Free for the employer's own staff"),
        maybe_services=(S.GROUP_ACTIVITY,),
        maybe_modes=(M.ONLINE,),
        lead_zh="职工心灵驿站，为职工提供减压、心理咨询和员工援助服务",
        lead_en="staff wellbeing station: stress relief, counselling and employee assistance",
    ),
    K.MINORS_CENTRE: Profile(
        (S.COUNSELLING, S.ASSESSMENT, S.FAMILY_SUPPORT, S.GROUP_ACTIVITY, S.EDUCATION),
        (A.CHILDREN, A.ADOLESCENTS, A.FAMILIES),
        (M.IN_PERSON, M.PHONE),
        capacity=(6, 10),
        hours="community",
        lead_zh="面向未成年人及其家庭，提供成长辅导、亲子关系和学业压力咨询",
        lead_en="for children, adolescents and their families: growth, parenting and study stress",
    ),
    K.COMMUNITY_REHABILITATION: Profile(
        (S.REHABILITATION, S.GROUP_ACTIVITY, S.FAMILY_SUPPORT),
        (A.SPECIAL_POPULATIONS, A.FAMILIES),
        capacity=(6, 12),
        hours="rehab",
        lead_zh="为病情稳定的精神障碍患者提供日间照料、职业康复和社交技能训练",
        lead_en="day care, vocational rehabilitation and social skills for people in recovery",
    ),
    K.SPECIAL_POPULATION_ROOM: Profile(
        (S.COUNSELLING, S.ASSESSMENT, S.CRISIS_INTERVENTION),
        (A.SPECIAL_POPULATIONS,),
        fee_note=("免费，由所在单位安排", "Free, arranged through your employer"),
        lead_zh="为特殊人群提供心理评估、心理疏导和危机干预",
        lead_en="assessment, counselling and crisis intervention for special populations",
    ),
    K.LICENSED_AGENCY: Profile(
        (S.COUNSELLING, S.ASSESSMENT, S.FAMILY_SUPPORT),
        (A.EVERYONE,),
        (M.IN_PERSON, M.ONLINE),
        fee=Fee.PAID,
        hours="agency",
        maybe_services=(S.PSYCHOTHERAPY, S.GROUP_ACTIVITY, S.EAP),
        maybe_audiences=(A.ADOLESCENTS, A.FAMILIES, A.WORKERS),
        lead_zh="经登记备案的社会心理服务机构，提供个体、婚姻家庭和青少年心理咨询",
        lead_en="registered agency for individual, couple, family and adolescent counselling",
    ),
    K.VOLUNTEER_TEAM: Profile(
        (S.EDUCATION, S.GROUP_ACTIVITY, S.REFERRAL),
        (A.EVERYONE,),
        (M.IN_PERSON, M.PHONE),
        capacity=(10, 30),
        hours="volunteer",
        lead_zh="经培训的心理服务志愿者，深入社区开展心理健康宣传、探访和陪伴",
        lead_en="trained volunteers who run awareness events, home visits and companionship",
    ),
    K.COUNSELLOR: Profile(
        (S.COUNSELLING,),
        (A.EVERYONE,),
        (M.IN_PERSON, M.ONLINE),
        fee=Fee.PAID,
        fee_note=("按咨询时长收费", "Charged by the length of the session"),
        hours="practitioner",
        maybe_services=(S.FAMILY_SUPPORT, S.ASSESSMENT),
        lead_zh="心理咨询师，擅长情绪困扰、人际关系和职场压力咨询",
        lead_en="counsellor for emotional distress, relationships and work stress",
    ),
    K.PSYCHOTHERAPIST: Profile(
        (S.PSYCHOTHERAPY, S.COUNSELLING, S.ASSESSMENT),
        (A.EVERYONE,),
        fee=Fee.PAID,
        fee_note=PUBLIC_HOSPITAL_FEE,
        hours="clinic",
        maybe_modes=(M.ONLINE,),
        lead_zh="心理治疗师，提供认知行为治疗、家庭治疗等循证心理治疗",
        lead_en="psychotherapist offering CBT, family therapy and other evidence-based therapy",
    ),
    K.PSYCHIATRIST: Profile(
        (S.PSYCHIATRIC_OUTPATIENT, S.ASSESSMENT),
        (A.EVERYONE,),
        fee=Fee.PAID,
        fee_note=PUBLIC_HOSPITAL_FEE,
        hours="clinic",
        lead_zh="精神科执业医师，出诊诊治抑郁、焦虑、睡眠障碍等精神心理疾病",
        lead_en="licensed psychiatrist treating depression, anxiety, sleep disorders and more",
    ),
    K.HOTLINE: Profile(
        (S.PHONE_SUPPORT, S.CRISIS_INTERVENTION, S.COUNSELLING, S.REFERRAL),
        (A.EVERYONE,),
        (M.PHONE,),
        fee_note=("免费（仅收取本地通话费）", "Free (only local call charges apply)"),
        capacity=(4, 10),
        hours="always",
        lead_zh="7×24小时心理援助热线，由经过培训的接线员和心理咨询师接听",
        lead_en="24/7 psychological assistance line answered by trained staff and counsellors",
    ),
}


# Rooms for members only, and who they are for: (eligibility, note in Chinese, in English).
MEMBERS_ONLY: dict[ResourceKind, tuple[Eligibility, str, str]] = {
    K.SCHOOL_ROOM: (
        Eligibility.STUDENTS,
        "仅限本校学生及家长",
        "Pupils of this school and parents",
    ),
    K.UNIVERSITY_CENTRE: (Eligibility.STUDENTS, "仅限本校在校学生", "Students of this university"),
    K.WORKPLACE_ROOM: (Eligibility.EMPLOYEES, "仅限本单位职工", "Employees of this company"),
    K.SPECIAL_POPULATION_ROOM: (
        Eligibility.REFERRAL,
        "由所在单位转介安排",
        "By referral of the hosting agency",
    ),
}


def hm(hour: int, minute: int = 0) -> int:
    """Minutes after local midnight, as ``OpeningHours`` stores them."""
    return hour * 60 + minute


Span = tuple[int, int]
MORNING: Span = (hm(9), hm(12))
AFTERNOON: Span = (hm(14), hm(17, 30))
HOSPITAL = ((hm(8), hm(12)), (hm(14), hm(17, 30)))
SCHOOL = ((hm(8, 30), hm(12)), (hm(14), hm(17)))
OFFICE = ((hm(9), hm(12)), (hm(14), hm(18)))
REHAB = ((hm(8, 30), hm(12)), (hm(13, 30), hm(17)))
AGENCY = ((hm(10), hm(13)), (hm(14), hm(21)))
PRACTICE = ((hm(10), hm(12)), (hm(14), hm(20)))
VOLUNTEER = ((hm(9), hm(11, 30)),)


def _week(days: list[int] | range, spans: tuple[Span, ...]) -> list[Interval]:
    return [Interval(d, opens, closes) for d in days for opens, closes in spans]


def weekly_hours(pattern: str, rng: np.random.Generator) -> list[Interval]:
    """Weekly opening intervals for a pattern named in ``Profile.hours``."""
    weekdays = range(5)
    if pattern == "community":
        hours = _week(weekdays, (MORNING, AFTERNOON))
        # Some community rooms also open on Saturday mornings.
        return hours + _week([5], (MORNING,)) if rng.random() < 0.35 else hours
    if pattern == "hospital":
        return _week(range(7), HOSPITAL)
    if pattern == "school":
        return _week(weekdays, SCHOOL)
    if pattern == "office":
        return _week(weekdays, OFFICE)
    if pattern == "rehab":
        return _week(weekdays, REHAB)
    if pattern == "agency":
        return _week(range(1, 7), AGENCY)  # closed on Mondays
    if pattern == "practitioner":
        days = sorted(int(d) for d in rng.choice(7, size=3, replace=False))
        return _week(days, PRACTICE)
    if pattern == "clinic":
        days = sorted(int(d) for d in rng.choice(5, size=int(rng.integers(2, 5)), replace=False))
        return _week(days, HOSPITAL)
    if pattern == "volunteer":
        return _week([5, 6] if rng.random() < 0.5 else [5], VOLUNTEER)
    if pattern == "always":
        return []  # ``always_open`` says it
    raise ValueError(f"unknown hours pattern {pattern!r}")
