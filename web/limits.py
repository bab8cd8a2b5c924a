"""How often residents may ask for a seat: per network address, and per phone number or
e-mail address named (each booking and waitlist place sends that address a message, so
without a limit the service could be made to text a stranger over and over).

Counted in the database (``resourcemap.ratelimits``), so with N app processes a limit is
still the limit (#22); the keys are keyed digests of the address and the contact details.
Behind a reverse proxy the address is the proxy's unless uvicorn is told to trust its
forwarding headers (`--forwarded-allow-ips`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request

from resourcemap.booking.idempotency import Issued
from resourcemap.booking.requests import Contact
from resourcemap.contact import identities
from resourcemap.errors import TooManyRequests
from resourcemap.ratelimits import SharedRateLimiter
from resourcemap.settings import Settings
from resourcemap.vault import Vault
from web import clock


class BookingLimits:
    def __init__(self, settings: Settings) -> None:
        self.by_address = SharedRateLimiter(
            "booking-address",
            settings.booking_limit_per_address,
            60.0,
            "too many booking requests from this address; wait a minute and try again",
        )
        self.by_contact = SharedRateLimiter(
            "booking-contact",
            settings.booking_limit_per_contact,
            3600.0,
            "too many booking requests for this phone number or e-mail address; "
            "please call the service",
        )
        # Addresses and contact details are kept only as keyed digests: no personal data.
        self._vault = Vault.from_settings(settings)

    async def check(self, request: Request, contact: Contact) -> None:
        """Count one request for a seat; ``TooManyRequests`` past either limit."""
        now = clock.now(request)
        address = client_address(request) or "unknown"
        await self.by_address.hit(self._vault.digest(f"address:{address}"), now=now)
        for identity in identities(contact.phone, contact.email):
            await self.by_contact.hit(self._vault.digest(identity), now=now)


def client_address(request: Request) -> str | None:
    """The network address a request came from (a proxy's, unless uvicorn trusts it)."""
    return request.client.host if request.client else None


def limits(request: Request) -> BookingLimits:
    found: BookingLimits = request.app.state.booking_limits
    return found


async def admitted(
    request: Request, contact: Contact, earlier: Callable[[], Awaitable[Issued | None]]
) -> Issued | None:
    """Count one request against the limits. A retry the limits refuse (a lost answer, sent
    again with its Idempotency-Key) gets what its first request made (``earlier``), not 429;
    ``None``: go on and make it."""
    try:
        await limits(request).check(request, contact)
    except TooManyRequests:
        made = await earlier()
        if made is None:
            raise
        return made
    return None
