"""What a resident sees of their booking or waitlist place: typed views the web layer
serialises as they are, with their own contact details in full (the holder's token proved
who asks). Staff see masked views (``booking.staff``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from resourcemap.booking import verify, waitlist
from resourcemap.booking.idempotency import Issued
from resourcemap.booking.ledger import Ledger, resource_or_404
from resourcemap.booking.requests import display_code
from resourcemap.listings.edits import located
from resourcemap.models import Booking, BookingPolicy, Resource, WaitlistEntry
from resourcemap.vocab import BookingStatus, Channel, WaitlistStatus


class PlaceView(BaseModel):
    """The service booked: enough to find it, to call it, and to know what to expect."""

    id: int
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    phone: str
    fee: str = "unknown"
    fee_note: str = ""
    fee_note_en: str = ""
    modes: list[str] = []
    languages: list[str] = []  # BCP 47 codes: whether the resident will be understood
    lat: float | None = None
    lon: float | None = None
    # Residents may change or cancel online until this long before the start (the booking
    # policy's change notice); None where the service takes no bookings online.
    change_notice_minutes: int | None = None
    # Where it is (city, district, street, community): the crisis lines of its area first.
    area_codes: list[str] = []


class BookingView(BaseModel):
    code: str
    code_display: str
    status: BookingStatus
    resource: PlaceView
    starts_at: dt.datetime
    ends_at: dt.datetime
    service: str | None
    channel: Channel
    nickname: str | None
    phone: str | None
    email: str | None
    note: str | None
    cancel_reason: str | None
    # Who cancelled: "resident", or "staff" (the service, with a reason); None otherwise.
    cancelled_by: str | None = None
    # Until when a held seat (status ``offered`` or ``pending``) stays held.
    offer_expires_at: dt.datetime | None
    # The last moment the resident may change or cancel online (None: no policy, call).
    changes_until: dt.datetime | None = None
    # A ``pending`` booking: how many wrong codes may still be typed before the seat is
    # released (``verify``).
    verify_tries_left: int | None = None


class Receipt(BaseModel):
    """A booking just made (or replayed), with the manage link that is its holder's key."""

    code: str
    code_display: str
    token: str
    manage_url: str
    booking: BookingView


class OfferView(BaseModel):
    booking_code: str
    expires_at: dt.datetime | None


class WaitlistView(BaseModel):
    code: str
    code_display: str
    status: WaitlistStatus
    resource_id: int
    resource: PlaceView
    starts_at: dt.datetime
    position: int | None
    offer: OfferView | None


class PlaceInLine(BaseModel):
    """A waitlist place just taken (or replayed), with its manage link."""

    code: str
    code_display: str
    token: str
    manage_url: str
    entry: WaitlistView


def _local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(tz)


def place_view(resource: Resource, change_notice_minutes: int | None = None) -> PlaceView:
    return PlaceView(
        id=resource.id,
        name_zh=resource.name_zh,
        name_en=resource.name_en,
        address_zh=resource.address_zh,
        address_en=resource.address_en,
        phone=resource.phone,
        fee=str(resource.fee),
        fee_note=resource.fee_note,
        fee_note_en=resource.fee_note_en,
        modes=list(resource.modes or []),
        languages=list(resource.languages or []),
        lat=resource.lat,
        lon=resource.lon,
        change_notice_minutes=change_notice_minutes,
        area_codes=list(located(resource)),
    )


async def change_notice(resource_id: int) -> int | None:
    """The policy's change notice in minutes (as ``changes.cancel`` enforces it, whether or
    not the policy still takes new bookings), or None where the resource has no policy."""
    policy = await BookingPolicy.get_or_none(resource_id=resource_id)
    return None if policy is None else policy.change_notice_minutes


async def place(resource_id: int) -> PlaceView:
    """The service a resident is about to book or wait for; ``NotFound`` if there is none."""
    resource = await resource_or_404(resource_id)
    return place_view(resource, await change_notice(resource_id))


def booking_view(
    ledger: Ledger, booking: Booking, resource: Resource, change_notice_minutes: int | None = None
) -> BookingView:
    vault = ledger.vault
    starts_at = booking.starts_at.astimezone(ledger.tz)
    return BookingView(
        code=booking.code,
        code_display=display_code(booking.code),
        status=booking.status,
        resource=place_view(resource, change_notice_minutes),
        starts_at=starts_at,
        ends_at=booking.ends_at.astimezone(ledger.tz),
        service=booking.service or None,
        channel=booking.channel,
        nickname=vault.open_optional(booking.nickname_enc),
        phone=vault.open_optional(booking.phone_enc),
        email=vault.open_optional(booking.email_enc),
        note=vault.open_optional(booking.note_enc),
        cancel_reason=booking.cancel_reason or None,
        cancelled_by=booking.cancelled_by or None,
        offer_expires_at=_local(booking.offer_expires_at, ledger.tz),
        changes_until=None
        if change_notice_minutes is None
        else starts_at - dt.timedelta(minutes=change_notice_minutes),
        verify_tries_left=max(0, verify.MAX_ATTEMPTS - booking.verify_attempts)
        if booking.status is BookingStatus.PENDING
        else None,
    )


async def of_booking(ledger: Ledger, booking: Booking) -> BookingView:
    resource = await Resource.get(id=booking.resource_id)
    return booking_view(ledger, booking, resource, await change_notice(booking.resource_id))


async def receipt(ledger: Ledger, issued: Issued) -> Receipt:
    if issued.written is None:
        booking = await ledger.booking(issued.code, issued.token)
        view = await of_booking(ledger, booking)
    else:  # just written by this request: only the service is read
        booking = issued.written
        resource = await Resource.get(id=booking.resource_id)
        view = booking_view(ledger, booking, resource, issued.change_notice_minutes)
    return Receipt(
        code=issued.code,
        code_display=display_code(issued.code),
        token=issued.token,
        manage_url=ledger.links.booking(issued.code, issued.token, booking.lang),
        booking=view,
    )


async def waitlist_view(ledger: Ledger, entry: WaitlistEntry) -> WaitlistView:
    offer = await waitlist.offered(entry)
    return WaitlistView(
        code=entry.code,
        code_display=display_code(entry.code),
        status=entry.status,
        resource_id=entry.resource_id,
        resource=place_view(await Resource.get(id=entry.resource_id)),
        starts_at=entry.starts_at.astimezone(ledger.tz),
        position=await waitlist.position(entry),
        offer=None
        if offer is None
        else OfferView(
            booking_code=offer.code, expires_at=_local(offer.offer_expires_at, ledger.tz)
        ),
    )


async def place_in_line(ledger: Ledger, issued: Issued) -> PlaceInLine:
    entry = await ledger.entry(issued.code, issued.token)
    return PlaceInLine(
        code=issued.code,
        code_display=display_code(issued.code),
        token=issued.token,
        manage_url=ledger.links.waitlist(issued.code, issued.token, entry.lang),
        entry=await waitlist_view(ledger, entry),
    )
