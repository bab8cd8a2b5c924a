"""A listing's change history on its staff form: who changed what, and what it was before.

Staff keep listings true; when a number or the hours turn out wrong, they look up who
changed them and what they were (from the audit log, as the form names fields)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup

from resourcemap.models import Account
from tests.factories import run_in_db
from tests.html_helpers import one
from tests.web.staff.test_booking_pages import World, _bookable_people, free_slots, submit
from tests.web.staff.test_pages import browser_values, html, only_form


@pytest.fixture
def world(database_url: str, make_client: Callable[..., Any]) -> World:
    return World(database_url, run_in_db(database_url, _bookable_people), make_client)


def entries(page: BeautifulSoup) -> list[tuple[str, list[str]]]:
    """Each entry as (its heading line, its changes), newest first."""
    history = one(page, "details.history")
    return [
        (
            " ".join(one(li, ".history-head").get_text(" ", strip=True).split()),
            [c.get_text(" ", strip=True) for c in li.select(".history-changes li")],
        )
        for li in history.select(".history-list > li")
    ]


def test_staff_see_who_changed_a_listing_and_what_it_was(world: World) -> None:
    room = world.ids["room"]
    action = f"/staff/resources/{room}/edit"
    # Named as the bar greets them: their display name, not their login.
    run_in_db(world.url, lambda: Account.filter(username="staff").update(display_name="王小明"))
    with world.client("staff") as client:
        form = browser_values(only_form(html(client.get(action)), action))
        old_phone = form["phone"][0]
        # An edit: the phone, the hours of Saturday, a service more.
        form.update(
            phone=["0755-20000002"],
            hours_5=["10:00-12:00"],
            services=[*form.get("services", []), "crisis_intervention"],
        )
        assert client.post(action, data=form, follow_redirects=False).status_code == 303
        # Saved again as it is: a check that the listing is still true.
        again = browser_values(only_form(html(client.get(action)), action))
        assert client.post(action, data=again, follow_redirects=False).status_code == 303
        # Time closed to bookings, on the booking rules page.
        rules = f"/staff/resources/{room}/booking"
        slot = free_slots(client, room)[1]
        day, start, end = slot["starts_at"][:10], slot["starts_at"][11:16], slot["ends_at"][11:16]
        closed = submit(
            client,
            html(client.get(rules)),
            f"/staff/resources/{room}/blocks",
            block_date=day,
            block_from=start,
            block_to=end,
            block_reason="督导",
        )
        assert closed.status_code == 303
        seats = submit(client, html(client.get(rules)), rules, seats="3")
        assert seats.status_code == 303

        zh = entries(html(client.get(action)))
        en = entries(html(client.get(action + "?lang=en")))

    heads = [head for head, _ in en]
    # Newest first, each with who did it.
    assert [h.rsplit(" · ", 1)[1] for h in heads] == [
        "Booking rules changed",
        "Time closed to bookings",
        "Saved unchanged: confirmed as true",
        "Edited",
    ], en
    assert all(" · 王小明 · " in h for h in heads), heads
    assert en[0][1] == ["Seats per slot: was 2, now 3"]
    assert en[1][1][0].startswith("Closed time: ") and en[1][1][0].endswith(
        f"{start}–{end} (督导)"
    ), en[1][1]
    assert en[2][1] == []
    edited = en[3][1]
    assert f"Phone: was {old_phone}, now 0755-20000002" in edited, edited
    # Codes are said as the form says them; hours as the listing page summarises them.
    services = next(c for c in edited if c.startswith("Services:"))
    assert "Crisis intervention" in services.split("now", 1)[1], services
    assert "crisis_intervention" not in services
    hours = next(c for c in edited if c.startswith("Opening hours:"))
    assert "Sat 10:00-12:00" in hours.split("now", 1)[1] and "Sat" not in hours.split("now")[0]
    # In Chinese, named by the form's Chinese labels.
    assert zh[0][1] == ["每个时段名额：原为 2，现为 3"], zh[0]
    assert any(c.startswith("电话：原为") for c in zh[3][1]), zh[3]


def test_the_history_is_the_listing_s_own_and_shown_to_who_may_edit_it(world: World) -> None:
    room, theirs = world.ids["room"], world.ids["theirs"]
    with world.client("admin") as client:
        action = f"/staff/resources/{theirs}/edit"
        form = browser_values(only_form(html(client.get(action)), action))
        form.update(phone=["0755-29999999"])
        assert client.post(action, data=form, follow_redirects=False).status_code == 303
        own = html(client.get(f"/staff/resources/{room}/edit"))
        (theirs_head,) = [head for head, _ in entries(html(client.get(action)))]
    # Nothing changed this one yet: no history to show.
    assert own.select("details.history") == []
    assert " · admin · " in theirs_head
    with world.client("staff") as client:  # another organisation's listing: not theirs
        assert client.get(f"/staff/resources/{theirs}/edit").status_code in (403, 404)
