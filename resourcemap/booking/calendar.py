"""A booking as an iCalendar (.ics) event, for "add to calendar"."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from resourcemap.models import Booking, Resource
from resourcemap.said import N_
from resourcemap.translations import read
from resourcemap.vocab import BookingStatus

PRODID = "-//ResourceMap//Bookings//ZH"


def ics(
    booking: Booking,
    resource: Resource,
    *,
    domain: str,
    manage_url: str,
    now: dt.datetime,
    english: bool = False,
) -> bytes:
    """One event. Its UID depends only on the booking, so re-downloading after a reschedule
    updates the same calendar entry instead of adding a second one."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.code}@{domain}")
    event.add("dtstamp", now.astimezone(dt.UTC).replace(microsecond=0))
    event.add("dtstart", booking.starts_at.astimezone(dt.UTC))
    event.add("dtend", booking.ends_at.astimezone(dt.UTC))
    code = f"{booking.code[:4]} {booking.code[4:]}"
    if english:  # the English page's link: English where the listing has it (#18)
        name = resource.name_en or resource.name_zh
        address = resource.address_en or resource.address_zh
    else:
        name, address = resource.name_zh, resource.address_zh
    summary = N_("Booking %(code)s: %(place)s", code=code, place=name)
    event.add("summary", read(summary, "en" if english else "zh_CN"))
    if address:
        event.add("location", address)
    lines = [f"预约码 Booking code: {booking.code[:4]} {booking.code[4:]}"]
    if resource.phone:
        lines.append(f"电话 Phone: {resource.phone}")
    lines.append(manage_url)
    event.add("description", "\n".join(lines))
    event.add("url", manage_url)
    # SEQUENCE grows with every change so calendars take the newest version.
    event.add("sequence", int(booking.updated_at.timestamp()) % 2**31)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED):
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    cal.add_component(event)
    return bytes(cal.to_ical())
