"""Clearing referrals' contact details after the retention period (``resourcemap purge``).

Referrals sent more than ``booking_retention_days`` ago lose nickname, phone, e-mail, the
free-text reason and the decline note (staff's free text may name the resident); the link
token is replaced, so an old link no longer opens anything. Status, kinds and times stay, so
planners' counts do not change. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt

from resourcemap.models import Referral


async def purge(now: dt.datetime, retention_days: int, *, dry_run: bool = False) -> int:
    cutoff = (now - dt.timedelta(days=retention_days)).astimezone(dt.UTC)
    old = Referral.filter(sent_at__lt=cutoff, purged_at__isnull=True)
    if dry_run:
        return await old.count()
    return await old.update(
        nickname_enc=None,
        phone_enc=None,
        email_enc=None,
        reason_enc=None,
        decline_note="",
        token_enc="",
        purged_at=now,
    )
