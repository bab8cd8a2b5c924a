"""The phone check of a booking (#15, ``RESOURCEMAP_BOOKING_VERIFY=sms``): "Enter the code we
texted to 138****8011". The manage page of a ``pending`` booking is this page; its form
posts the code to ``booking.verify``, and a right code leads back to the manage page, now
confirmed.

One field (``inputmode=numeric``, ``autocomplete=one-time-code``, so phones offer the code
from the text), an error summary on a wrong code, and how long the seat stays held. The
code is never logged or echoed back into the page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from resourcemap.vault import mask_phone
from web.i18n import _
from web.pages.shell import render

FIELD = "verification_code"


async def page_of(
    request: Request,
    context: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    """The page of a pending booking (``context`` as the manage page has it)."""
    booking = context["booking"]
    return await render(
        request,
        "resident/verify.html",
        context
        | {
            "masked_phone": mask_phone(booking.phone),
            "held_until": booking.offer_expires_at,
            "errors": errors or {},
            "problem": problem,
        },
        status,
        area_codes=frozenset(context["resource"].area_codes),
    )


def wrong_code(shape: bool, tries_left: int) -> str:
    """What the field's error says: the code's shape, or a wrong code and the tries left."""
    if shape:
        return _("Enter the 6 digits of the code we texted you.")
    return _("That is not the code we texted. Tries left: %(left)s.", left=tries_left)


def released() -> str:
    return _(
        "The code was wrong 5 times, so the time is no longer held for you. Please book again."
    )


def ran_out() -> str:
    return _(
        "The time was held for you for a few minutes only and is free again. Please book again."
    )
