# Over 400 lines: every controlled vocabulary and its labels, one table each.
"""Controlled vocabularies: resource kinds, services, audiences, modes and the like.

Every code is a stable lower-case identifier used in the database, the API and import
files; labels are for people: each is one English message id, marked with ``pN_`` in its
vocabulary's context, whose Chinese is in the gettext catalogue like every other sentence
(``resourcemap.translations.vocab_label`` reads it in a language). The kinds follow the
resource types named in the national social-psychological service pilot documents (see
``shared/CONTEXT.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from resourcemap.said import N_, Said, pN_

# Ids are 32-bit integers in both databases; anything larger cannot name a row.
MAX_ID = 2**31 - 1


class Placement(StrEnum):
    """How a resource is located: at a point, over an area, or by phone/online only."""

    POINT = "point"
    AREA = "area"


@dataclass(frozen=True)
class KindInfo:
    label: Said
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
    K.COMMUNITY_ROOM: KindInfo(pN_("resource kind", "Community counselling room"), _P),
    K.STREET_STATION: KindInfo(pN_("resource kind", "Street/township service station"), _P),
    K.DISTRICT_CENTRE: KindInfo(pN_("resource kind", "District guidance centre"), _P),
    K.CITY_CENTRE: KindInfo(pN_("resource kind", "City technical guidance centre"), _P),
    K.PSYCHIATRIC_HOSPITAL_CLINIC: KindInfo(
        pN_("resource kind", "Psychiatric hospital psychological clinic"), _P
    ),
    K.GENERAL_HOSPITAL_DEPARTMENT: KindInfo(
        pN_("resource kind", "General hospital psychiatry/psychology department"), _P
    ),
    K.HEALTH_CENTRE_ROOM: KindInfo(pN_("resource kind", "Health centre counselling room"), _P),
    K.SCHOOL_ROOM: KindInfo(pN_("resource kind", "School counselling room"), _P),
    K.UNIVERSITY_CENTRE: KindInfo(pN_("resource kind", "University counselling centre"), _P),
    K.WORKPLACE_ROOM: KindInfo(pN_("resource kind", "Workplace room / EAP"), _P),
    K.MINORS_CENTRE: KindInfo(pN_("resource kind", "Minors' guidance centre"), _P),
    K.COMMUNITY_REHABILITATION: KindInfo(
        pN_("resource kind", "Community psychiatric rehabilitation"), _P
    ),
    K.SPECIAL_POPULATION_ROOM: KindInfo(
        pN_("resource kind", "Special-population service room"), _P
    ),
    K.LICENSED_AGENCY: KindInfo(pN_("resource kind", "Licensed psychological service agency"), _P),
    K.VOLUNTEER_TEAM: KindInfo(pN_("resource kind", "Volunteer team"), _A),
    K.COUNSELLOR: KindInfo(pN_("resource kind", "Psychological counsellor"), _P, practitioner=True),
    K.PSYCHOTHERAPIST: KindInfo(pN_("resource kind", "Psychotherapist"), _P, practitioner=True),
    K.PSYCHIATRIST: KindInfo(pN_("resource kind", "Psychiatrist"), _P, practitioner=True),
    K.HOTLINE: KindInfo(pN_("resource kind", "Psychological assistance hotline"), _A),
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


SERVICE_LABELS: dict[Service, Said] = {
    Service.COUNSELLING: pN_("service", "Counselling"),
    Service.PSYCHOTHERAPY: pN_("service", "Psychotherapy"),
    Service.PSYCHIATRIC_OUTPATIENT: pN_("service", "Psychiatric outpatient"),
    Service.ASSESSMENT: pN_("service", "Assessment"),
    Service.CRISIS_INTERVENTION: pN_("service", "Crisis intervention"),
    Service.REHABILITATION: pN_("service", "Rehabilitation"),
    Service.GROUP_ACTIVITY: pN_("service", "Group activity"),
    Service.EDUCATION: pN_("service", "Mental-health education"),
    Service.EAP: pN_("service", "Employee assistance (EAP)"),
    Service.FAMILY_SUPPORT: pN_("service", "Family support"),
    Service.PHONE_SUPPORT: pN_("service", "Phone support"),
    Service.REFERRAL: pN_("service", "Referral"),
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


AUDIENCE_LABELS: dict[Audience, Said] = {
    Audience.EVERYONE: pN_("audience", "Everyone"),
    Audience.CHILDREN: pN_("audience", "Children"),
    Audience.ADOLESCENTS: pN_("audience", "Adolescents"),
    Audience.STUDENTS: pN_("audience", "Students"),
    Audience.ELDERLY: pN_("audience", "Elderly"),
    Audience.WOMEN: pN_("audience", "Women"),
    Audience.WORKERS: pN_("audience", "Workers"),
    Audience.FAMILIES: pN_("audience", "Families"),
    Audience.SPECIAL_POPULATIONS: pN_("audience", "Special populations"),
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


ELIGIBILITY_LABELS: dict[Eligibility, Said] = {
    Eligibility.PUBLIC: pN_("eligibility", "Open to the public"),
    Eligibility.STUDENTS: pN_("eligibility", "Students only"),
    Eligibility.EMPLOYEES: pN_("eligibility", "Employees only"),
    Eligibility.AREA_RESIDENTS: pN_("eligibility", "Local residents only"),
    Eligibility.REFERRAL: pN_("eligibility", "By referral only"),
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


QUALIFICATION_LABELS: dict[QualificationType, Said] = {
    QualificationType.COUNSELLOR: pN_("qualification", "Psychological counsellor"),
    QualificationType.PSYCHOTHERAPIST: pN_("qualification", "Psychotherapist"),
    QualificationType.PSYCHIATRIST: pN_("qualification", "Licensed psychiatrist"),
    QualificationType.SOCIAL_WORKER: pN_("qualification", "Social worker"),
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


# The levels as words in a sentence, read in the reader's language.
AREA_LEVEL_SAID: dict[AreaLevel, Said] = {
    AreaLevel.CITY: N_("city"),
    AreaLevel.DISTRICT: N_("district"),
    AreaLevel.STREET: N_("street"),
    AreaLevel.COMMUNITY: N_("community"),
}


class Role(StrEnum):
    """Who an account is. Residents need no account."""

    ADMIN = "admin"
    STAFF = "staff"
    PLANNER = "planner"


# The roles' names where the domain names them in a sentence ("this needs the role admin").
ROLE_NAMES: dict[Role, Said] = {
    Role.ADMIN: pN_("account role", "admin"),
    Role.STAFF: pN_("account role", "staff"),
    Role.PLANNER: pN_("account role", "planner"),
}

MODE_LABELS: dict[Mode, Said] = {
    Mode.IN_PERSON: pN_("mode", "In person"),
    Mode.ONLINE: pN_("mode", "Online"),
    Mode.PHONE: pN_("mode", "By phone"),
}

ACCESSIBILITY_LABELS: dict[Accessibility, Said] = {
    Accessibility.WHEELCHAIR: pN_("accessibility", "Wheelchair accessible"),
    Accessibility.ACCESSIBLE_TOILET: pN_("accessibility", "Accessible toilet"),
    Accessibility.ELEVATOR: pN_("accessibility", "Elevator"),
    Accessibility.SIGN_LANGUAGE: pN_("accessibility", "Sign language"),
    Accessibility.BRAILLE: pN_("accessibility", "Braille"),
    Accessibility.HEARING_LOOP: pN_("accessibility", "Hearing loop"),
}

ORGANISATION_TYPE_LABELS: dict[OrganisationType, Said] = {
    OrganisationType.GOVERNMENT: pN_("organisation type", "Government body"),
    OrganisationType.HOSPITAL: pN_("organisation type", "Hospital"),
    OrganisationType.HEALTH_CENTRE: pN_("organisation type", "Health centre"),
    OrganisationType.SCHOOL: pN_("organisation type", "School"),
    OrganisationType.UNIVERSITY: pN_("organisation type", "University"),
    OrganisationType.EMPLOYER: pN_("organisation type", "Employer"),
    OrganisationType.NGO: pN_("organisation type", "Non-governmental organisation"),
    OrganisationType.AGENCY: pN_("organisation type", "Psychological service agency"),
}

FEE_LABELS: dict[Fee, Said] = {
    Fee.FREE: pN_("fee", "Free"),
    Fee.PAID: pN_("fee", "Paid"),
    Fee.UNKNOWN: pN_("fee", "Fee not stated"),
}

STATUS_LABELS: dict[Status, Said] = {
    Status.ACTIVE: pN_("listing status", "Active"),
    Status.SUSPENDED: pN_("listing status", "Suspended"),
    Status.CLOSED: pN_("listing status", "Closed"),
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

BOOKING_STATUS_LABELS: dict[BookingStatus, Said] = {
    BookingStatus.CONFIRMED: pN_("booking status", "Confirmed"),
    BookingStatus.OFFERED: pN_("booking status", "Offered to the waitlist"),
    BookingStatus.PENDING: pN_("booking status", "Waiting for the texted code"),
    BookingStatus.CANCELLED: pN_("booking status", "Cancelled"),
    BookingStatus.EXPIRED: pN_("booking status", "Expired"),
    BookingStatus.ATTENDED: pN_("booking status", "Attended"),
    BookingStatus.NO_SHOW: pN_("booking status", "No-show"),
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

CHANNEL_LABELS: dict[Channel, Said] = {
    Channel.WEB: pN_("channel", "Web"),
    Channel.WECHAT: pN_("channel", "WeChat"),
    Channel.APP: pN_("channel", "App"),
    Channel.PHONE: pN_("channel", "Phone"),
    Channel.WALK_IN: pN_("channel", "Walk-in"),
    Channel.REFERRAL: pN_("channel", "Referral"),
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

REFERRAL_STATUS_LABELS: dict[ReferralStatus, Said] = {
    ReferralStatus.SENT: pN_("referral status", "Sent"),
    ReferralStatus.ACCEPTED: pN_("referral status", "Accepted"),
    ReferralStatus.BOOKED: pN_("referral status", "Booked"),
    ReferralStatus.ATTENDED: pN_("referral status", "Attended"),
    ReferralStatus.DID_NOT_ATTEND: pN_("referral status", "Did not attend"),
    ReferralStatus.DECLINED: pN_("referral status", "Declined"),
    ReferralStatus.CLOSED: pN_("referral status", "Closed"),
}


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    # Urgent does not wait for a slot: staff are shown the phone and the 24/7 lines.
    URGENT = "urgent"


URGENCY_LABELS: dict[Urgency, Said] = {
    Urgency.ROUTINE: pN_("urgency", "Routine"),
    Urgency.SOON: pN_("urgency", "Soon"),
    Urgency.URGENT: pN_("urgency", "Urgent"),
}


class Consent(StrEnum):
    """How the resident agreed to be referred."""

    SPOKEN = "spoken"
    WRITTEN = "written"


CONSENT_LABELS: dict[Consent, Said] = {
    Consent.SPOKEN: pN_("consent", "Spoken"),
    Consent.WRITTEN: pN_("consent", "Written"),
}


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    WRONG_SERVICE = "wrong_service"
    RESIDENT_DECLINED = "resident_declined"
    OTHER = "other"


DECLINE_LABELS: dict[DeclineReason, Said] = {
    DeclineReason.NO_CAPACITY: pN_("decline reason", "No capacity"),
    DeclineReason.NOT_ELIGIBLE: pN_("decline reason", "Not eligible"),
    DeclineReason.WRONG_SERVICE: pN_("decline reason", "Service not offered"),
    DeclineReason.RESIDENT_DECLINED: pN_("decline reason", "Resident declined"),
    DeclineReason.OTHER: pN_("decline reason", "Other"),
}


KIND_LABELS: dict[ResourceKind, Said] = {kind: info.label for kind, info in KIND_INFO.items()}

# Every labelled vocabulary, by its enum: what ``translations.vocab_label`` and imports read.
LABELS: dict[type[StrEnum], Mapping[Any, Said]] = {
    ResourceKind: KIND_LABELS,
    Service: SERVICE_LABELS,
    Audience: AUDIENCE_LABELS,
    Mode: MODE_LABELS,
    Accessibility: ACCESSIBILITY_LABELS,
    Fee: FEE_LABELS,
    Eligibility: ELIGIBILITY_LABELS,
    Status: STATUS_LABELS,
    QualificationType: QUALIFICATION_LABELS,
    OrganisationType: ORGANISATION_TYPE_LABELS,
    BookingStatus: BOOKING_STATUS_LABELS,
    Channel: CHANNEL_LABELS,
    ReferralStatus: REFERRAL_STATUS_LABELS,
    Urgency: URGENCY_LABELS,
    Consent: CONSENT_LABELS,
    DeclineReason: DECLINE_LABELS,
}
