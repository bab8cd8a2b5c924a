"""The links residents get open the pages in the language they booked in (#18)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from resourcemap import db
from resourcemap.booking.dispatch import Dispatcher
from resourcemap.models import Notification
from resourcemap.vocab import NotificationKind
from tests.booking_helpers import NOW, TOMORROW_9, bookable_city, desk, local, request, settings

pytestmark = pytest.mark.clock


async def link_langs(kind: NotificationKind, vault_of: Dispatcher) -> list[list[str]]:
    """The ``lang`` of the link in each queued message of ``kind``, oldest first."""
    found = []
    for note in await Notification.filter(kind=kind).order_by("id"):
        link = re.findall(r"https?://\S+", vault_of.vault.open(note.body_enc or ""))[0]
        found.append(parse_qs(urlsplit(link).query).get("lang", []))
    return found


@pytest.mark.anyio
async def test_reminders_and_waitlist_offers_link_to_the_residents_language(
    database_url: str,
) -> None:
    async with db.database(database_url):
        ids = await bookable_city(seats=1)
        d = desk(database_url)
        dispatcher = Dispatcher(settings(database_url))
        # Booked days before (a booking made today for tomorrow is told by its confirmation).
        early = NOW - dt.timedelta(days=2)
        await d.book(request(ids["room"], TOMORROW_9, phone="13800000001", lang="en"), now=early)
        await d.book(request(ids["room"], local(2, 10), phone="13800000002"), now=early)
        assert await dispatcher.queue_reminders(NOW) == 2
        assert await link_langs(NotificationKind.REMINDER, dispatcher) == [["en"], []]

        holder = await d.book(request(ids["room"], local(3, 9)), now=NOW)
        entry = await d.join_waitlist(
            request(ids["room"], local(3, 9), email="b@example.cn", lang="en"), now=NOW
        )
        await d.cancel(holder.code, holder.token, now=NOW)
        assert await link_langs(NotificationKind.WAITLIST_OFFER, dispatcher) == [["en"]]
        await Notification.filter(kind=NotificationKind.CONFIRMATION).delete()
        await d.accept_offer(entry.code, entry.token, now=NOW + dt.timedelta(minutes=5))
        assert await link_langs(NotificationKind.CONFIRMATION, dispatcher) == [["en"]]
