"""Chinese and English labels of every vocabulary, and lookup of a code by its label.

Import files written by people say "心理咨询" as often as ``counselling``; both are read.
``vocab.py`` labels kinds, services, audiences and qualifications; the labels of modes,
accessibility, fees, statuses and organisation types live here until ``vocab.py`` has
them (HSDS taxonomy terms need a name and a description for every code).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from resourcemap.vocab import (
    AUDIENCE_LABELS,
    KIND_INFO,
    QUALIFICATION_LABELS,
    SERVICE_LABELS,
    Accessibility,
    Audience,
    Fee,
    Mode,
    OrganisationType,
    QualificationType,
    ResourceKind,
    Service,
    Status,
)

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

FEE_LABELS: dict[Fee, tuple[str, str]] = {Fee.FREE: ("免费", "Free"), Fee.PAID: ("收费", "Paid")}

STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.ACTIVE: ("正常", "Active"),
    Status.SUSPENDED: ("暂停", "Suspended"),
    Status.CLOSED: ("关闭", "Closed"),
}

KIND_LABELS: dict[ResourceKind, tuple[str, str]] = {
    kind: (info.label_zh, info.label_en) for kind, info in KIND_INFO.items()
}

LABELS: dict[type[StrEnum], Mapping[Any, tuple[str, str]]] = {
    ResourceKind: KIND_LABELS,
    Service: SERVICE_LABELS,
    Audience: AUDIENCE_LABELS,
    Mode: MODE_LABELS,
    Accessibility: ACCESSIBILITY_LABELS,
    Fee: FEE_LABELS,
    Status: STATUS_LABELS,
    QualificationType: QUALIFICATION_LABELS,
    OrganisationType: ORGANISATION_TYPE_LABELS,
}


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


_LOOKUP: dict[type[StrEnum], dict[str, str]] = {
    enum: {
        _key(alias): member.value
        for member, (zh, en) in labels.items()
        for alias in (member.value, zh, en)
    }
    for enum, labels in LABELS.items()
}


def code_of(enum: type[StrEnum], text: str) -> str:
    """The code that ``text`` names: the code itself or its Chinese or English label.

    Unknown text comes back unchanged, so that validation names it in its message.

    >>> code_of(Service, "心理咨询"), code_of(Service, "Crisis intervention")
    ('counselling', 'crisis_intervention')
    """
    return _LOOKUP[enum].get(_key(text), text.strip())


def label(member: StrEnum, lang: str = "zh") -> str:
    zh, en = LABELS[type(member)][member]
    return zh if lang == "zh" else en
