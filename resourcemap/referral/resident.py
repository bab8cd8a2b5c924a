"""What a referred resident does through their link (``/referrals/{code}?token=…``):
see where they are referred, pick a time among the referral seats, or decline."""

from __future__ import annotations

import datetime as dt
import hmac

from resourcemap.booking.ledger import Ledger
from resourcemap.booking.requests import normalise_code
from resourcemap.errors import Conflict, NotFound
from resourcemap.models import Booking, Referral
from resourcemap.referral import flow
from resourcemap.referral.views import ResidentReferralView, cancelled_by, ref
from resourcemap.said import N_
from resourcemap.vocab import REFERRAL_STATUS_LABELS, DeclineReason, ReferralStatus

S = ReferralStatus


async def _by_link(ledger: Ledger, code: str, token: str) -> Referral:
    referral = await Referral.get_or_none(code=normalise_code(code)).prefetch_related(
        "from_resource", "to_resource"
    )
    if (
        referral is None
        or referral.purged_at is not None
        or not token
        or not hmac.compare_digest(ledger.vault.open(referral.token_enc).encode(), token.encode())
    ):
        raise NotFound(N_("no referral with this code and token"))
    return referral


async def view(ledger: Ledger, code: str, token: str) -> ResidentReferralView:
    referral = await _by_link(ledger, code, token)
    booking = await Booking.get_or_none(id=referral.booking_id) if referral.booking_id else None
    to = referral.to_resource
    return ResidentReferralView(
        code=referral.code,
        status=referral.status,
        from_name_zh=referral.from_resource.name_zh,
        from_name_en=referral.from_resource.name_en,
        to_service=ref(to, phone=True),
        address_zh=to.address_zh,
        address_en=to.address_en,
        fee=to.fee,
        fee_note=to.fee_note,
        fee_note_en=to.fee_note_en,
        starts_at=None if booking is None else booking.starts_at.astimezone(ledger.tz),
        can_pick=referral.status is S.ACCEPTED,
        can_decline=referral.status in (S.SENT, S.ACCEPTED),
        booking_code=None if booking is None else booking.code,
        booking_token=None if booking is None else ledger.vault.open(booking.token_enc),
        visit_cancelled_by=cancelled_by(booking),
        visit_cancel_reason="" if booking is None else booking.cancel_reason,
    )


async def pick(
    ledger: Ledger,
    code: str,
    token: str,
    starts_at: dt.datetime,
    *,
    now: dt.datetime,
    lang: str = "",
) -> ResidentReferralView:
    """Book ``starts_at``; ``lang``, the page's language, is the booking's messages' one."""
    referral = await _by_link(ledger, code, token)
    if referral.status is not S.ACCEPTED:
        raise Conflict(
            N_(
                "no time to pick for this referral (its status: %(now)s)",
                now=REFERRAL_STATUS_LABELS[referral.status],
            )
        )
    await flow.book_seat(
        ledger, referral, starts_at, now=now, accepting=False, actor=None, lang=lang, notice=True
    )
    return await view(ledger, code, token)


async def decline(
    ledger: Ledger, code: str, token: str, *, now: dt.datetime
) -> ResidentReferralView:
    referral = await _by_link(ledger, code, token)
    await flow.move(
        referral.id,
        S.DECLINED,
        declined_at=now,
        decline_reason=DeclineReason.RESIDENT_DECLINED.value,
    )
    return await view(ledger, code, token)
