# Over 400 lines: every controlled vocabulary and its labels, one table each.
"""Controlled vocabularies: resource kinds, services, audiences, modes and the like.

Every code is a stable lower-case identifier used in the database, the API and import
files; labels are for people. The kinds follow the resource types named in the national
social-psychological service pilot documents (see ``shared/CONTEXT.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Ids are 32-bit integers in both databases; anything larger cannot name a row.
MAX_ID = 2**31 - 1


class Placement(StrEnum):
    """How a resource is located: at a point, over an area, or by phone/online only."""

    POINT = "point"
    AREA = "area"


@dataclass(frozen=True)
class KindInfo:
    label_zh: str
    label_en: str
    placement: Placement
    practitioner: bool = False


class ResourceKind(StrEnum):
    COMMUNITY_ROOM = "community_room"
    STREET_STATION = "street_station"
    DISTRICT_CENTRE = "district_centre"
    CITY_CENTRE = "city_centre"
    PSYCHIATRIC_HOSPITAL_CLINIC = "psychiatric_hospital_clinic"
    GENERAL_HOSPITAL_DEPARTMENT = "general_hospital_department"
    HEALTH_CENTRE_ROOM = "health_centre_room"
    SCHOOL_ROOM = "school_room"
    UNIVERSITY_CENTRE = "university_centre"
    WORKPLACE_ROOM = "workplace_room"
    MINORS_CENTRE = "minors_centre"
    COMMUNITY_REHABILITATION = "community_rehabilitation"
    SPECIAL_POPULATION_ROOM = "special_population_room"
    LICENSED_AGENCY = "licensed_agency"
    VOLUNTEER_TEAM = "volunteer_team"
    COUNSELLOR = "counsellor"
    PSYCHOTHERAPIST = "psychotherapist"
    PSYCHIATRIST = "psychiatrist"
    HOTLINE = "hotline"

    @property
    def info(self) -> KindInfo:
        return KIND_INFO[self]


_P, _A = Placement.POINT, Placement.AREA
K = ResourceKind
KIND_INFO: dict[ResourceKind, KindInfo] = {
    K.COMMUNITY_ROOM: KindInfo("社区心理咨询室/社会工作室", "Community counselling room", _P),
    K.STREET_STATION: KindInfo("街道(镇)社会心理服务站", "Street/township service station", _P),
    K.DISTRICT_CENTRE: KindInfo("区社会心理服务指导中心", "District guidance centre", _P),
    K.CITY_CENTRE: KindInfo("市社会心理服务技术指导中心", "City technical guidance centre", _P),
    K.PSYCHIATRIC_HOSPITAL_CLINIC: KindInfo(
        "精神专科医院心理门诊", "Psychiatric hospital psychological clinic", _P
    ),
    K.GENERAL_HOSPITAL_DEPARTMENT: KindInfo(
        "综合医院精神(心理)科", "General hospital psychiatry/psychology department", _P
    ),
    K.HEALTH_CENTRE_ROOM: KindInfo(
        "社区卫生服务中心/卫生院心理咨询室", "Health centre counselling room", _P
    ),
    K.SCHOOL_ROOM: KindInfo("中小学心理辅导室", "School counselling room", _P),
    K.UNIVERSITY_CENTRE: KindInfo("高校心理咨询中心", "University counselling centre", _P),
    K.WORKPLACE_ROOM: KindInfo("职工心灵驿站/单位心理辅导室", "Workplace room / EAP", _P),
    K.MINORS_CENTRE: KindInfo("未成年人心理健康成长辅导中心", "Minors' guidance centre", _P),
    K.COMMUNITY_REHABILITATION: KindInfo(
        "社区精神康复机构", "Community psychiatric rehabilitation", _P
    ),
    K.SPECIAL_POPULATION_ROOM: KindInfo(
        "特殊人群心理服务室", "Special-population service room", _P
    ),
    K.LICENSED_AGENCY: KindInfo("社会心理服务机构", "Licensed psychological service agency", _P),
    K.VOLUNTEER_TEAM: KindInfo("心理服务志愿者队伍", "Volunteer team", _A),
    K.COUNSELLOR: KindInfo("心理咨询师", "Psychological counsellor", _P, practitioner=True),
    K.PSYCHOTHERAPIST: KindInfo("心理治疗师", "Psychotherapist", _P, practitioner=True),
    K.PSYCHIATRIST: KindInfo("精神科医师", "Psychiatrist", _P, practitioner=True),
    K.HOTLINE: KindInfo("心理援助热线", "Psychological assistance hotline", _A),
}


class Service(StrEnum):
    COUNSELLING = "counselling"
    PSYCHOTHERAPY = "psychotherapy"
    PSYCHIATRIC_OUTPATIENT = "psychiatric_outpatient"
    ASSESSMENT = "assessment"
    CRISIS_INTERVENTION = "crisis_intervention"
    REHABILITATION = "rehabilitation"
    GROUP_ACTIVITY = "group_activity"
    EDUCATION = "education"
    EAP = "eap"
    FAMILY_SUPPORT = "family_support"
    PHONE_SUPPORT = "phone_support"
    REFERRAL = "referral"


SERVICE_LABELS: dict[Service, tuple[str, str]] = {
    Service.COUNSELLING: ("心理咨询", "Counselling"),
    Service.PSYCHOTHERAPY: ("心理治疗", "Psychotherapy"),
    Service.PSYCHIATRIC_OUTPATIENT: ("精神科门诊", "Psychiatric outpatient"),
    Service.ASSESSMENT: ("心理测评", "Assessment"),
    Service.CRISIS_INTERVENTION: ("危机干预", "Crisis intervention"),
    Service.REHABILITATION: ("康复服务", "Rehabilitation"),
    Service.GROUP_ACTIVITY: ("团体活动", "Group activity"),
    Service.EDUCATION: ("心理健康教育", "Mental-health education"),
    Service.EAP: ("员工援助(EAP)", "Employee assistance (EAP)"),
    Service.FAMILY_SUPPORT: ("家庭辅导", "Family support"),
    Service.PHONE_SUPPORT: ("电话心理援助", "Phone support"),
    Service.REFERRAL: ("转介服务", "Referral"),
}


class Audience(StrEnum):
    EVERYONE = "everyone"
    CHILDREN = "children"
    ADOLESCENTS = "adolescents"
    STUDENTS = "students"
    ELDERLY = "elderly"
    WOMEN = "women"
    WORKERS = "workers"
    FAMILIES = "families"
    SPECIAL_POPULATIONS = "special_populations"


AUDIENCE_LABELS: dict[Audience, tuple[str, str]] = {
    Audience.EVERYONE: ("所有人", "Everyone"),
    Audience.CHILDREN: ("儿童", "Children"),
    Audience.ADOLESCENTS: ("青少年", "Adolescents"),
    Audience.STUDENTS: ("学生", "Students"),
    Audience.ELDERLY: ("老年人", "Elderly"),
    Audience.WOMEN: ("妇女", "Women"),
    Audience.WORKERS: ("职工", "Workers"),
    Audience.FAMILIES: ("家庭", "Families"),
    Audience.SPECIAL_POPULATIONS: ("特殊人群", "Special populations"),
}


class Mode(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    PHONE = "phone"


class Fee(StrEnum):
    """``unknown``: the source did not say (never shown as free, never matched by a filter
    for free services)."""

    FREE = "free"
    PAID = "paid"
    UNKNOWN = "unknown"


class Eligibility(StrEnum):
    """Who may use a listing: anyone, or members only (with a short note saying who)."""

    PUBLIC = "public"
    STUDENTS = "students"  # of the school or university running it
    EMPLOYEES = "employees"  # of the organisation running it
    AREA_RESIDENTS = "area_residents"  # of the areas it serves
    REFERRAL = "referral"  # by referral only

    @property
    def members_only(self) -> bool:
        return self is not Eligibility.PUBLIC


ELIGIBILITY_LABELS: dict[Eligibility, tuple[str, str]] = {
    Eligibility.PUBLIC: ("对公众开放", "Open to the public"),
    Eligibility.STUDENTS: ("仅限本校学生", "Students only"),
    Eligibility.EMPLOYEES: ("仅限本单位职工", "Employees only"),
    Eligibility.AREA_RESIDENTS: ("仅限辖区居民", "Local residents only"),
    Eligibility.REFERRAL: ("需转介", "By referral only"),
}


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Accessibility(StrEnum):
    WHEELCHAIR = "wheelchair"
    ACCESSIBLE_TOILET = "accessible_toilet"
    ELEVATOR = "elevator"
    SIGN_LANGUAGE = "sign_language"
    BRAILLE = "braille"
    HEARING_LOOP = "hearing_loop"


class AreaLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"

    @property
    def depth(self) -> int:
        return list(AreaLevel).index(self)


class QualificationType(StrEnum):
    COUNSELLOR = "counsellor"
    PSYCHOTHERAPIST = "psychotherapist"
    PSYCHIATRIST = "psychiatrist"
    SOCIAL_WORKER = "social_worker"


QUALIFICATION_LABELS: dict[QualificationType, tuple[str, str]] = {
    QualificationType.COUNSELLOR: ("心理咨询师", "Psychological counsellor"),
    QualificationType.PSYCHOTHERAPIST: ("心理治疗师", "Psychotherapist"),
    QualificationType.PSYCHIATRIST: ("精神科执业医师", "Licensed psychiatrist"),
    QualificationType.SOCIAL_WORKER: ("社会工作者", "Social worker"),
}


class OrganisationType(StrEnum):
    GOVERNMENT = "government"
    HOSPITAL = "hospital"
    HEALTH_CENTRE = "health_centre"
    SCHOOL = "school"
    UNIVERSITY = "university"
    EMPLOYER = "employer"
    NGO = "ngo"
    AGENCY = "agency"


class Role(StrEnum):
    """Who an account is. Residents need no account."""

    ADMIN = "admin"
    STAFF = "staff"
    PLANNER = "planner"


MODE_LABELS: dict[Mode, tuple[str, str]] = {
    Mode.IN_PERSON: ("到场服务", "In person"),
    Mode.ONLINE: ("线上服务", "Online"),
    Mode.PHONE: ("电话服务", "By phone"),
}

ACCESSIBILITY_LABELS: dict[Accessibility, tuple[str, str]] = {
    Accessibility.WHEELCHAIR: ("轮椅可达", "Wheelchair accessible"),
    Accessibility.ACCESSIBLE_TOILET: ("无障碍卫生间", "Accessible toilet"),
    Accessibility.ELEVATOR: ("电梯", "Elevator"),
    Accessibility.SIGN_LANGUAGE: ("手语服务", "Sign language"),
    Accessibility.BRAILLE: ("盲文资料", "Braille"),
    Accessibility.HEARING_LOOP: ("助听环路", "Hearing loop"),
}

ORGANISATION_TYPE_LABELS: dict[OrganisationType, tuple[str, str]] = {
    OrganisationType.GOVERNMENT: ("政府部门", "Government body"),
    OrganisationType.HOSPITAL: ("医院", "Hospital"),
    OrganisationType.HEALTH_CENTRE: ("社区卫生服务中心/卫生院", "Health centre"),
    OrganisationType.SCHOOL: ("学校", "School"),
    OrganisationType.UNIVERSITY: ("高校", "University"),
    OrganisationType.EMPLOYER: ("用人单位", "Employer"),
    OrganisationType.NGO: ("社会组织", "Non-governmental organisation"),
    OrganisationType.AGENCY: ("社会心理服务机构", "Psychological service agency"),
}

FEE_LABELS: dict[Fee, tuple[str, str]] = {
    Fee.FREE: ("免费", "Free"),
    Fee.PAID: ("收费", "Paid"),
    Fee.UNKNOWN: ("费用未注明", "Fee not stated"),
}

STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.ACTIVE: ("正常", "Active"),
    Status.SUSPENDED: ("暂停", "Suspended"),
    Status.CLOSED: ("关闭", "Closed"),
}


class BookingStatus(StrEnum):
    """Where a booking stands. ``offered`` holds a freed seat for the first resident on the
    waitlist until the offer expires; ``pending`` holds a new booking's seat until the
    resident types the code texted to them (``RESOURCEMAP_BOOKING_VERIFY=sms``) or the hold
    runs out. Both hold until ``offer_expires_at``."""

    CONFIRMED = "confirmed"
    OFFERED = "offered"
    PENDING = "pending"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# Statuses that hold a seat in their slot.
SEAT_HOLDING = frozenset({BookingStatus.CONFIRMED, BookingStatus.OFFERED, BookingStatus.PENDING})
# Statuses that hold a seat only until ``Booking.offer_expires_at``.
HOLDS = (BookingStatus.OFFERED, BookingStatus.PENDING)

BOOKING_STATUS_LABELS: dict[BookingStatus, tuple[str, str]] = {
    BookingStatus.CONFIRMED: ("已确认", "Confirmed"),
    BookingStatus.OFFERED: ("候补待确认", "Offered to the waitlist"),
    BookingStatus.PENDING: ("待短信验证", "Waiting for the texted code"),
    BookingStatus.CANCELLED: ("已取消", "Cancelled"),
    BookingStatus.EXPIRED: ("已过期", "Expired"),
    BookingStatus.ATTENDED: ("已到场", "Attended"),
    BookingStatus.NO_SHOW: ("未到场", "No-show"),
}


class Channel(StrEnum):
    """How a booking reached us; ``phone`` and ``walk_in`` are entered by staff."""

    WEB = "web"
    WECHAT = "wechat"
    APP = "app"
    PHONE = "phone"
    WALK_IN = "walk_in"
    # A seat taken through the green channel: a referral between services (#23).
    REFERRAL = "referral"


RESIDENT_CHANNELS = frozenset({Channel.WEB, Channel.WECHAT, Channel.APP})
STAFF_CHANNELS = frozenset({Channel.PHONE, Channel.WALK_IN})

CHANNEL_LABELS: dict[Channel, tuple[str, str]] = {
    Channel.WEB: ("网页", "Web"),
    Channel.WECHAT: ("微信", "WeChat"),
    Channel.APP: ("应用", "App"),
    Channel.PHONE: ("电话", "Phone"),
    Channel.WALK_IN: ("到访", "Walk-in"),
    Channel.REFERRAL: ("转介", "Referral"),
}


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    EXPIRED = "expired"
    LEFT = "left"


class NotificationKind(StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    WAITLIST_OFFER = "waitlist_offer"
    VERIFY_CODE = "verify_code"
    CANCELLED_BY_STAFF = "cancelled_by_staff"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    REFERRAL_INVITE = "referral_invite"
    FEEDBACK_INVITE = "feedback_invite"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# ---------------------------------------------------------------------------- referral (#23)


class ReferralStatus(StrEnum):
    """Where a referral stands. Forward only: sent → accepted → booked → attended or
    did_not_attend → closed; sent or accepted → declined (by the receiving service, or by
    the resident) → closed."""

    SENT = "sent"
    ACCEPTED = "accepted"
    BOOKED = "booked"
    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"
    DECLINED = "declined"
    CLOSED = "closed"


# Which status each may move to; anything else is refused (no skipping, no going back).
REFERRAL_MOVES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.SENT: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.DECLINED}),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.BOOKED, ReferralStatus.DECLINED}),
    ReferralStatus.BOOKED: frozenset(
        {ReferralStatus.ATTENDED, ReferralStatus.DID_NOT_ATTEND, ReferralStatus.CLOSED}
    ),
    ReferralStatus.ATTENDED: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.DID_NOT_ATTEND: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.DECLINED: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.CLOSED: frozenset(),
}

REFERRAL_STATUS_LABELS: dict[ReferralStatus, tuple[str, str]] = {
    ReferralStatus.SENT: ("已发送", "Sent"),
    ReferralStatus.ACCEPTED: ("已接收", "Accepted"),
    ReferralStatus.BOOKED: ("已预约", "Booked"),
    ReferralStatus.ATTENDED: ("已到诊", "Attended"),
    ReferralStatus.DID_NOT_ATTEND: ("未到诊", "Did not attend"),
    ReferralStatus.DECLINED: ("已婉拒", "Declined"),
    ReferralStatus.CLOSED: ("已结案", "Closed"),
}


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    # Urgent does not wait for a slot: staff are shown the phone and the 24/7 lines.
    URGENT = "urgent"


URGENCY_LABELS: dict[Urgency, tuple[str, str]] = {
    Urgency.ROUTINE: ("常规", "Routine"),
    Urgency.SOON: ("尽快", "Soon"),
    Urgency.URGENT: ("紧急", "Urgent"),
}


class Consent(StrEnum):
    """How the resident agreed to be referred."""

    SPOKEN = "spoken"
    WRITTEN = "written"


CONSENT_LABELS: dict[Consent, tuple[str, str]] = {
    Consent.SPOKEN: ("口头同意", "Spoken"),
    Consent.WRITTEN: ("书面同意", "Written"),
}


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    WRONG_SERVICE = "wrong_service"
    RESIDENT_DECLINED = "resident_declined"
    OTHER = "other"


DECLINE_LABELS: dict[DeclineReason, tuple[str, str]] = {
    DeclineReason.NO_CAPACITY: ("暂无名额", "No capacity"),
    DeclineReason.NOT_ELIGIBLE: ("不符合服务对象", "Not eligible"),
    DeclineReason.WRONG_SERVICE: ("不提供所需服务", "Service not offered"),
    DeclineReason.RESIDENT_DECLINED: ("居民本人谢绝", "Resident declined"),
    DeclineReason.OTHER: ("其他", "Other"),
}
