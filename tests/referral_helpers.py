"""A city with a green channel: a school counselling room that refers and a minors'
guidance centre that takes referrals into seats of its own (#23)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from resourcemap import passwords
from resourcemap.accounts import Principal
from resourcemap.booking.ledger import Ledger
from resourcemap.models import Account, BookingPolicy, OpeningHours, Organisation, Resource
from resourcemap.referral.requests import ReferralIn
from resourcemap.vocab import Consent, Role, Urgency
from tests.booking_helpers import settings
from tests.factories import AreaCodes, small_city

PHONE = "13812345678"
PASSWORD = "correct-horse-9"
# One argon2 hash for every test account (hashing is slow on purpose), at the cost the tests
# hash at (tests/conftest.py): a sign-in then finds no hash to upgrade.
_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        _HASH.append(passwords._HASHER.hash(PASSWORD))
    return _HASH[0]


async def staff(
    username: str,
    organisation_id: int | None,
    role: Role = Role.STAFF,
    area_code: str | None = None,
) -> Principal:
    account = await Account.create(
        username=username,
        password_hash=_password_hash(),
        role=role,
        organisation_id=organisation_id,
        area_code=area_code,
    )
    return Principal.of(account)


async def green_city(seats: int = 1, referral_seats: int = 1, **policy: Any) -> dict[str, Any]:
    """``small_city`` plus a school room (school staff), a minors' centre taking bookings
    with referral seats (centre staff), a third organisation's staff and a planner."""
    ids: dict[str, Any] = dict(await small_city())
    school_org = await Organisation.create(name_zh="东湖中学", type="school")
    centre_org = await Organisation.create(name_zh="测试区未成年人中心", type="government")
    other_org = await Organisation.create(name_zh="另一家机构", type="ngo")
    located: AreaCodes = {
        "city_code": "449900000000",
        "district_code": "449901000000",
        "street_code": "449901001000",
        "community_code": "449901001001",
    }
    school = await Resource.create(
        kind="school_room",
        name_zh="东湖中学心理辅导室",
        name_en="Donghu Middle School Counselling Room",
        organisation=school_org,
        services=["counselling"],
        audiences=["students"],
        lat=22.704,
        lon=114.004,
        **located,
    )
    centre = await Resource.create(
        kind="minors_centre",
        name_zh="测试区未成年人心理健康成长辅导中心",
        name_en="District Minors' Guidance Centre",
        organisation=centre_org,
        services=["counselling", "assessment", "family_support"],
        audiences=["children", "adolescents", "students"],
        phone="0755-20000009",
        lat=22.706,
        lon=114.006,
        address_zh="成长路9号",
        **located,
    )
    for weekday in range(5):
        await OpeningHours.create(resource=centre, weekday=weekday, opens=9 * 60, closes=12 * 60)
    await BookingPolicy.create(
        resource=centre,
        slot_minutes=50,
        buffer_minutes=10,
        seats=seats,
        referral_seats=referral_seats,
        min_notice_minutes=120,
        horizon_days=30,
        change_notice_minutes=240,
        **policy,
    )
    ids.update(
        school=school.id,
        centre=centre.id,
        school_staff=await staff("counsellor", school_org.id),
        centre_staff=await staff("centre", centre_org.id),
        other_staff=await staff("other", other_org.id),
        planner=await staff("planner", None, Role.PLANNER),
    )
    return ids


# Where the crowded city's community room refers from: the west street, 5.8 km west of the
# minors' guidance centre of ``green_city``.
KANGLE = (22.700, 113.950)
SCHOOL_NOTE = "仅限本校学生及家长"


async def crowded_city() -> dict[str, Any]:
    """``green_city`` plus a community room of the third organisation (``other`` staff)
    referring from the west street, crowded as the demo city is around it: twelve school
    counselling rooms for their own students within 1.2 km, twenty public counselling
    places from 1.2 to 3.2 km, a second public minors' centre 6.7 km away beyond them, and
    two places for local residents 550 m away, one serving the room's street, one another.
    The school room of ``green_city`` takes its own students only too."""
    ids = await green_city()
    other = await Organisation.get(name_zh="另一家机构")
    west: AreaCodes = {
        "city_code": "449900000000",
        "district_code": "449901000000",
        "street_code": "449901002000",
        "community_code": "449901002001",
    }
    lat, lon = KANGLE

    async def place(name_zh: str, name_en: str, at: tuple[float, float], **fields: Any) -> int:
        made = await Resource.create(
            name_zh=name_zh, name_en=name_en, lat=at[0], lon=at[1], **{**west, **fields}
        )
        return int(made.id)

    kangle = await place(
        "康乐社区心理咨询室",
        "Kangle Community Counselling Room",
        KANGLE,
        kind="community_room",
        organisation=other,
        services=["counselling", "education", "referral"],
        audiences=["everyone", "elderly", "families"],
        modes=["in_person"],
    )
    await Resource.filter(id=ids["school"]).update(
        eligibility="students", eligibility_note_zh=SCHOOL_NOTE
    )
    student_only = {
        "kind": "school_room",
        "services": ["counselling"],
        "audiences": ["students", "families"],
        "eligibility": "students",
        "eligibility_note_zh": SCHOOL_NOTE,
        "eligibility_note_en": "Pupils of this school and their parents only",
    }
    schools = [
        await place(
            f"康乐第{n}小学心理辅导室",
            f"Kangle No. {n} Primary",
            (lat, lon + n / 1000),
            **student_only,
        )
        for n in range(1, 13)
    ]
    public = [
        await place(
            f"澄明第{n}心理咨询中心",
            f"Chengming Counselling Centre {n}",
            (lat + (10 + n) / 1000, lon),
            kind="licensed_agency",
            services=["counselling"],
            audiences=["everyone"],
        )
        for n in range(1, 21)
    ]
    local = {"kind": "street_station", "services": ["counselling"], "audiences": ["everyone"]}
    local_here = await place(
        "西街道社会心理服务站",
        "West Street Station",
        (lat - 0.005, lon),
        eligibility="area_residents",
        service_area_codes=["449901002000"],
        **local,
    )
    local_there = await place(
        "东街道社会心理服务站",
        "East Street Station",
        (lat - 0.005, lon + 0.0001),
        eligibility="area_residents",
        service_area_codes=["449901001000"],
        **local,
    )
    second_centre = await place(
        "青榕街道青少年成长辅导站",
        "Qingrong Youth Guidance Station",
        (lat + 0.06, lon),
        kind="minors_centre",
        services=["counselling", "family_support"],
        audiences=["children", "adolescents", "families"],
    )
    ids.update(
        kangle=kangle,
        schools=schools,
        public=public,
        local_here=local_here,
        local_there=local_there,
        second_centre=second_centre,
    )
    return ids


def referral_in(ids: dict[str, Any], **fields: Any) -> ReferralIn:
    data: dict[str, Any] = {
        "from_resource_id": ids["school"],
        "to_resource_id": ids["centre"],
        "need": "school_refusal",
        "reason": "不愿上学两周，家长同意转介",
        "urgency": Urgency.SOON,
        "consent": Consent.WRITTEN,
        "nickname": "小明",
        "phone": PHONE,
        **fields,
    }
    return ReferralIn(**data)


def ledger(database_url: str, **overrides: Any) -> Ledger:
    return Ledger(settings(database_url, **overrides))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Shanghai wall time in December 2026, aware."""
    from tests.booking_helpers import SHANGHAI

    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)
