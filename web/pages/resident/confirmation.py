"""What a resident reads around a booking: the change/cancel policy in words, where the
confirmation message went, directions through the map apps people in China use.

Pure formatting in the current language, no HTTP, no database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from babel.lists import format_list

from resourcemap.booking.views import BookingView, PlaceView
from resourcemap.vault import mask_email, mask_phone
from resourcemap.vocab import MODE_LABELS, BookingStatus, Channel
from web import i18n
from web.pages.resident.view import language_name


def policy(place: PlaceView) -> str:
    """The change/cancel rule, said before booking and on the confirmation."""
    notice = place.change_notice_minutes
    if notice is None:
        return i18n.gettext("To change or cancel, please call the service.")
    if notice == 0:
        return i18n.gettext("You can change or cancel online until the start.")
    return i18n.gettext(
        "You can change or cancel online until %(duration)s before the start. "
        "After that, please call the service.",
        duration=i18n.duration(notice),
    )


@dataclass(frozen=True)
class Changes:
    """Whether the holder may still change or cancel online, and until when."""

    possible: bool
    until: dt.datetime | None
    # False for a referral's booking: its seat is a green-channel seat that only the
    # receiving service moves (it can still be cancelled online).
    movable: bool = True


def changes(booking: BookingView, now: dt.datetime) -> Changes:
    if booking.status is BookingStatus.OFFERED:
        return Changes(True, None)  # an offer can always be declined
    movable = booking.channel is not Channel.REFERRAL
    if booking.status is not BookingStatus.CONFIRMED or booking.changes_until is None:
        return Changes(False, booking.changes_until, movable)
    return Changes(now <= booking.changes_until, booking.changes_until, movable)


def sent_to(booking: BookingView, *, moved: bool = False) -> list[str]:
    """Where the confirmation was queued: "we texted 138****8011", "we e-mailed w***@…";
    after a move, where the new time went (a move queues a message of its own)."""
    said = []
    if booking.phone:
        phone = mask_phone(booking.phone)
        said.append(
            i18n.gettext("We texted %(phone)s the new time.", phone=phone)
            if moved
            else i18n.gettext("We texted %(phone)s a link to this page.", phone=phone)
        )
    if booking.email:
        email = mask_email(booking.email)
        said.append(
            i18n.gettext("We e-mailed %(email)s the new time.", email=email)
            if moved
            else i18n.gettext("We e-mailed %(email)s a link to this page.", email=email)
        )
    return said


@dataclass(frozen=True)
class MapLink:
    name: str
    href: str


def directions(place: PlaceView) -> list[MapLink]:
    """Open the place in AMap, Baidu Maps or Tencent Maps (their web URIs open the app when
    it is installed), or any map app through ``geo:``. Stored points are WGS-84, and each
    link says so, so the apps shift them onto their own (GCJ-02/BD-09) maps."""
    if place.lat is None or place.lon is None:
        return []
    lat, lon = place.lat, place.lon
    name = i18n.label((place.name_zh, place.name_en))
    amap = urlencode(
        {"position": f"{lon},{lat}", "name": name, "coordinate": "wgs84", "src": "resourcemap"}
    )
    baidu = urlencode(
        {
            "location": f"{lat},{lon}",
            "title": name,
            "content": place.address_zh or name,
            "coord_type": "wgs84",
            "output": "html",
            "src": "resourcemap",
        }
    )
    tencent = urlencode(
        {"marker": f"coord:{lat},{lon};title:{name}", "coord_type": "1", "referer": "resourcemap"}
    )
    return [
        MapLink(i18n.gettext("AMap"), f"https://uri.amap.com/marker?{amap}"),
        MapLink(i18n.gettext("Baidu Maps"), f"https://api.map.baidu.com/marker?{baidu}"),
        MapLink(i18n.gettext("Tencent Maps"), f"https://apis.map.qq.com/uri/v1/marker?{tencent}"),
        MapLink(i18n.gettext("Other map app"), f"geo:{lat},{lon}?q={lat},{lon}({quote(name)})"),
    ]


def modes(place: PlaceView) -> str:
    """``到场服务`` / ``In person``: how the session is held. A booking does not say which of
    a service's ways it is for, so several are "or", never "and": ``到场服务或线上服务``."""
    names = [i18n.vocab(code, MODE_LABELS) for code in place.modes]
    if i18n.current() is i18n.EN:  # "In person or online", not "In person or Online"
        names = names[:1] + [n[:1].lower() + n[1:] for n in names[1:]]
    return str(format_list(names, style="or", locale=i18n.current().babel)) if names else ""


@dataclass(frozen=True)
class Session:
    """What the resident is about to book, said before they confirm: how long, which ways
    it can be held (``choice``: more than one, the resident may ask for one in the note)."""

    minutes: int | None
    modes: str
    choice: bool
    # The languages it is held in: a resident who reads the page in English learns here,
    # not at the door, that a service speaks Chinese only.
    languages: str


def session(place: PlaceView, minutes: int | None) -> Session:
    names = [language_name(code) for code in place.languages]
    return Session(minutes, modes(place), len(place.modes) > 1, i18n.listing(names))
