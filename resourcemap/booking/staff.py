# Over 400 lines: what staff do with a service's bookings: rules, blocked time, lists, cancel.
"""What staff do with bookings: lists with masked contacts, revealing one (audited),
booking rules, blocked time. Planners see counts only.

Staff reach only the bookings of their own organisation's resources; admins reach all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TypeVar

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from resourcemap import audit
from resourcemap.accounts import Principal
from resourcemap.booking import referred
from resourcemap.booking.ledger import Ledger
from resourcemap.booking.staff_views import (
    BlockView,
    BookableResource,
    BookingCounts,
    MaskedBooking,
    MaskedWaiting,
    NoPolicy,
    PolicyView,
    ResourceCounts,
    Revealed,
    masked_view,
    policy_view,
    rules_view,
)
from resourcemap.errors import Conflict, InvalidInput, NotFound
from resourcemap.listings.edits import Input, located
from resourcemap.models import Booking, BookingPolicy, Resource, TimeBlock, WaitlistEntry
from resourcemap.said import N_
from resourcemap.scope import located_in
from resourcemap.vault import mask_email, mask_name, mask_phone
from resourcemap.vocab import (
    BOOKING_STATUS_LABELS,
    SEAT_HOLDING,
    BookingStatus,
    Channel,
    Role,
    Status,
    WaitlistStatus,
)

MAX_LIST_DAYS = 31
M = TypeVar("M", bound=Model)


class PolicyIn(Input):
    """A resource's booking rules."""

    enabled: bool = True
    slot_minutes: int = Field(50, ge=5, le=720)
    buffer_minutes: int = Field(10, ge=0, le=240)
    seats: int = Field(1, ge=1, le=500, description="Seats per slot (group sessions > 1)")
    min_notice_minutes: int = Field(120, ge=0, le=60 * 24 * 30)
    horizon_days: int = Field(30, ge=1, le=365)
    change_notice_minutes: int = Field(
        240, ge=0, le=60 * 24 * 30, description="Residents may cancel or move until then"
    )
    # What GET answers can be PUT back: the referral seats are set through their own route
    # (#23), so here they may only be repeated as they are.
    referral_seats: int | None = Field(
        None, ge=0, le=50, description="Read here; set with PUT /resources/{id}/referral-seats"
    )


class BlockIn(Input):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field("", max_length=300)

    @field_validator("ends_at")
    @classmethod
    def _ordered(cls, ends_at: dt.datetime, info: ValidationInfo) -> dt.datetime:
        # On ends_at, so that the answer names a field (a model's check names none).
        starts_at = info.data.get("starts_at")
        if starts_at is None:
            return ends_at
        if ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        if ends_at - starts_at > dt.timedelta(days=366):
            raise ValueError("a block may last at most a year after starts_at")
        return ends_at


async def managed_resource(actor: Principal, resource_id: int) -> Resource:
    actor.require(Role.STAFF, Role.ADMIN)
    resource = await Resource.get_or_none(id=resource_id)
    if (
        resource is None
        or not actor.may_edit_listings_of(resource.organisation_id)
        or not actor.in_area(located(resource))
    ):
        raise NotFound(N_("no resource %(id)s among your services", id=resource_id))
    return resource


async def bookable_resources(actor: Principal) -> list[BookableResource]:
    """The resources with booking rules that the actor manages, by name; ``open`` when they
    take bookings now (rules enabled, listing active)."""
    actor.require(Role.STAFF, Role.ADMIN)
    qs = BookingPolicy.all()
    if actor.role is not Role.ADMIN:
        qs = qs.filter(resource__organisation_id=actor.organisation_id)
    rows = await qs.values_list(
        "resource_id", "resource__name_zh", "resource__name_en", "enabled", "resource__status"
    )
    return sorted(
        (
            BookableResource(
                id=rid,
                name_zh=name,
                name_en=name_en or "",
                open=bool(enabled) and status == Status.ACTIVE,
            )
            for rid, name, name_en, enabled, status in rows
        ),
        key=lambda r: (r.name_zh, r.id),
    )


async def resource_names(resource_ids: list[int]) -> dict[int, str]:
    """Public names of resources (for counts that list resources by id)."""
    rows = await Resource.filter(id__in=resource_ids).values_list("id", "name_zh")
    return {rid: name for rid, name in rows}


async def get_policy(actor: Principal, resource_id: int) -> PolicyView | NoPolicy:
    await managed_resource(actor, resource_id)
    return policy_view(await BookingPolicy.get_or_none(resource_id=resource_id))


async def set_policy(actor: Principal, resource_id: int, data: PolicyIn) -> PolicyView:
    resource = await managed_resource(actor, resource_id)
    policy = await BookingPolicy.get_or_none(resource_id=resource_id)
    before = policy_view(policy)
    held = 0 if policy is None else policy.referral_seats
    if data.referral_seats is not None and data.referral_seats != held:
        raise InvalidInput(
            "referral seats are set with PUT /api/v1/resources/{id}/referral-seats",
            field="referral_seats",
        )
    rules = data.model_dump(exclude={"referral_seats"})
    if policy is None:
        policy = await BookingPolicy.create(resource_id=resource_id, **rules)
    else:
        await BookingPolicy.filter(id=policy.id).update(**rules)
        policy = await BookingPolicy.get(id=policy.id)
    after = rules_view(policy)
    changed_before, changed_after = audit.changed(before.model_dump(), after.model_dump())
    if changed_after:
        await audit.record(
            actor, "booking_policy", resource, before=changed_before, after=changed_after
        )
    return after


async def add_block(actor: Principal, resource_id: int, data: BlockIn) -> BlockView:
    resource = await managed_resource(actor, resource_id)
    block = await TimeBlock.create(
        resource_id=resource_id,
        starts_at=data.starts_at.astimezone(dt.UTC),
        ends_at=data.ends_at.astimezone(dt.UTC),
        reason=data.reason,
    )
    await audit.record(
        actor,
        "block_time",
        resource,
        after={
            "block": block.id,
            "starts_at": data.starts_at.isoformat(),
            "ends_at": data.ends_at.isoformat(),
            "reason": data.reason,
        },
    )
    return BlockView(
        id=block.id, starts_at=data.starts_at, ends_at=data.ends_at, reason=data.reason
    )


async def within_blocks(bookings: list[MaskedBooking]) -> set[int]:
    """Which of ``bookings`` (confirmed or not) lie in time their service has blocked:
    blocking does not cancel them, and staff must see which residents still expect to come."""
    if not bookings:
        return set()
    first = min(b.starts_at for b in bookings).astimezone(dt.UTC)
    last = max(b.ends_at for b in bookings).astimezone(dt.UTC)
    blocks = await TimeBlock.filter(
        resource_id__in={b.resource_id for b in bookings}, starts_at__lt=last, ends_at__gt=first
    ).values_list("resource_id", "starts_at", "ends_at")
    return {
        b.id
        for b in bookings
        for rid, s, e in blocks
        if b.resource_id == rid and b.starts_at < e and s < b.ends_at
    }


async def confirmed_within(resource_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> int:
    """Bookings holding a seat of the resource in ``starts_at``–``ends_at`` (a block just
    added): the ones :func:`within_blocks` marks, and cancelling tells."""
    return await Booking.filter(
        resource_id=resource_id,
        status__in=[s.value for s in SEAT_HOLDING],
        starts_at__lt=ends_at.astimezone(dt.UTC),
        ends_at__gt=starts_at.astimezone(dt.UTC),
    ).count()


async def list_blocks(
    ledger: Ledger, actor: Principal, resource_id: int, *, now: dt.datetime
) -> list[BlockView]:
    """Blocked time of a resource that has not ended yet, in time order."""
    await managed_resource(actor, resource_id)
    # On SQLite tortoise compares datetimes as stored text (UTC): filter values must be UTC.
    rows = await TimeBlock.filter(
        resource_id=resource_id, ends_at__gt=now.astimezone(dt.UTC)
    ).order_by("starts_at", "id")
    return [
        BlockView(
            id=b.id,
            starts_at=b.starts_at.astimezone(ledger.tz),
            ends_at=b.ends_at.astimezone(ledger.tz),
            reason=b.reason,
        )
        for b in rows
    ]


async def remove_block(actor: Principal, block_id: int) -> None:
    block = await TimeBlock.get_or_none(id=block_id)
    if block is None:
        raise NotFound(N_("no blocked time %(id)s", id=block_id))
    resource = await managed_resource(actor, block.resource_id)
    await block.delete()
    await audit.record(actor, "unblock_time", resource, before={"block": block_id})


async def _in_days(
    ledger: Ledger,
    actor: Principal,
    qs: QuerySet[M],
    *,
    first_day: dt.date,
    days: int,
    resource_id: int | None,
) -> QuerySet[M]:
    """``qs`` (bookings or waitlist places) cut to slots starting on the given local days,
    of the resources the actor manages."""
    actor.require(Role.STAFF, Role.ADMIN)
    if not 1 <= days <= MAX_LIST_DAYS:
        raise InvalidInput(N_("days must be between 1 and %(n)s", n=MAX_LIST_DAYS), field="days")
    start = dt.datetime.combine(first_day, dt.time(), ledger.tz)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), ledger.tz)
    qs = qs.filter(starts_at__gte=start.astimezone(dt.UTC), starts_at__lt=end.astimezone(dt.UTC))
    if resource_id is not None:
        await managed_resource(actor, resource_id)
        return qs.filter(resource_id=resource_id)
    if actor.role is not Role.ADMIN:
        return qs.filter(resource__organisation_id=actor.organisation_id)
    return qs


async def list_bookings(
    ledger: Ledger,
    actor: Principal,
    *,
    first_day: dt.date,
    days: int,
    resource_id: int | None = None,
) -> list[MaskedBooking]:
    """Bookings starting on the given local days, of the resources the actor manages."""
    qs = await _in_days(
        ledger, actor, Booking.all(), first_day=first_day, days=days, resource_id=resource_id
    )
    rows = await qs.order_by("starts_at", "id").prefetch_related("resource")
    return [masked_view(ledger, b, b.resource) for b in rows]


async def list_waitlist(
    ledger: Ledger,
    actor: Principal,
    *,
    first_day: dt.date,
    days: int,
    resource_id: int | None = None,
) -> list[MaskedWaiting]:
    """Residents waiting (or holding an offered seat) for slots starting on the given local
    days, of the resources the actor manages; in line order per slot, contacts masked."""
    waiting = WaitlistEntry.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED])
    qs = await _in_days(
        ledger, actor, waiting, first_day=first_day, days=days, resource_id=resource_id
    )
    vault = ledger.vault
    return [
        MaskedWaiting(
            id=e.id,
            resource_id=e.resource.id,
            resource_name=e.resource.name_zh,
            resource_name_en=e.resource.name_en or "",
            starts_at=e.starts_at.astimezone(ledger.tz),
            status=e.status,
            channel=e.channel,
            nickname=mask_name(vault.open_optional(e.nickname_enc)),
            phone=mask_phone(vault.open_optional(e.phone_enc)),
            email=mask_email(vault.open_optional(e.email_enc)),
        )
        for e in await qs.order_by("starts_at", "resource_id", "id").prefetch_related("resource")
    ]


async def reveal(ledger: Ledger, actor: Principal, booking_id: int) -> Revealed:
    """One booking's contact details in full, for calling the resident back. Audited: who
    looked at whose booking and when (never the details themselves)."""
    booking = await ledger.for_staff(actor, booking_id)
    vault = ledger.vault
    shown = {
        "nickname": vault.open_optional(booking.nickname_enc),
        "phone": vault.open_optional(booking.phone_enc),
        "email": vault.open_optional(booking.email_enc),
        "note": vault.open_optional(booking.note_enc),
    }
    await audit.record(
        actor, "reveal_contact", booking, after={"fields": sorted(k for k, v in shown.items() if v)}
    )
    return Revealed(id=booking.id, **shown)


async def stats(
    ledger: Ledger, actor: Principal, *, first_day: dt.date, days: int
) -> BookingCounts:
    """Counts of bookings by status and channel per resource: what planners may see."""
    actor.require(Role.PLANNER, Role.ADMIN, Role.STAFF)
    if not 1 <= days <= 366:
        raise InvalidInput(N_("days must be between 1 and %(n)s", n=366), field="days")
    start = dt.datetime.combine(first_day, dt.time(), ledger.tz).astimezone(dt.UTC)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), ledger.tz).astimezone(
        dt.UTC
    )
    qs = Booking.filter(starts_at__gte=start, starts_at__lt=end)
    if actor.role is Role.STAFF:
        qs = qs.filter(resource__organisation_id=actor.organisation_id)
    if actor.area_code is not None:  # kept to an area: its listings' counts only (#20)
        qs = qs.filter(located_in(actor.area_code, "resource__"))
    rows = await qs.values_list("resource_id", "status", "channel")
    by_resource: dict[int, Counter[str]] = {}
    for rid, status, channel in rows:
        counter = by_resource.setdefault(rid, Counter())
        counter[f"status:{status}"] += 1
        counter[f"channel:{channel}"] += 1
    return BookingCounts(
        first_day=first_day,
        days=days,
        total=len(rows),
        resources=[
            ResourceCounts(
                resource_id=rid,
                by_status={k[7:]: v for k, v in c.items() if k.startswith("status:")},
                by_channel={k[8:]: v for k, v in c.items() if k.startswith("channel:")},
            )
            for rid, c in sorted(by_resource.items())
        ],
    )


async def cancel(
    ledger: Ledger,
    actor: Principal,
    booking_id: int,
    reason: str,
    *,
    now: dt.datetime,
    close: bool = False,
) -> MaskedBooking:
    """Staff cancel a booking, telling the resident ``reason``; with ``close``, its time is
    blocked first, so that the seat it frees is offered to nobody (a counsellor away)."""
    booking = await ledger.for_staff(actor, booking_id)
    if booking.status not in SEAT_HOLDING:
        raise Conflict(
            N_(
                "this booking cannot be cancelled (its status: %(status)s)",
                status=BOOKING_STATUS_LABELS[booking.status],
            )
        )
    if not reason.strip():
        raise InvalidInput(N_("tell the resident why"), field="reason")
    block = None
    if close:
        span = BlockIn(starts_at=booking.starts_at, ends_at=booking.ends_at, reason=reason.strip())
        block = await add_block(actor, booking.resource_id, span)
    ended = await ledger.end(
        booking, BookingStatus.CANCELLED, by="staff", reason=reason.strip(), now=now
    )
    if not ended:  # cancelled meanwhile (a second click): its time stays as it was
        if block is not None:
            await TimeBlock.filter(id=block.id).delete()
        raise Conflict(N_("the booking was cancelled meanwhile"))
    return masked_view(ledger, await Booking.get(id=booking.id), booking.resource)


async def mark(
    ledger: Ledger, actor: Principal, booking_id: int, status: BookingStatus, *, now: dt.datetime
) -> MaskedBooking:
    """Attended or no-show, once the slot has started."""
    if status not in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise InvalidInput(N_("mark a booking attended or no_show"), field="status")
    booking = await ledger.for_staff(actor, booking_id)
    if booking.status not in (
        BookingStatus.CONFIRMED,
        BookingStatus.ATTENDED,
        BookingStatus.NO_SHOW,
    ):
        raise Conflict(
            N_(
                "this booking cannot be marked (its status: %(status)s)",
                status=BOOKING_STATUS_LABELS[booking.status],
            )
        )
    if booking.starts_at > now:
        raise Conflict(N_("the slot has not started yet"))
    async with in_transaction(Booking._meta.default_connection):
        await Booking.filter(id=booking.id).update(status=status)
        if booking.channel is Channel.REFERRAL:
            await referred.follow(booking.id, status, now=now)
    return masked_view(ledger, await Booking.get(id=booking.id), booking.resource)
