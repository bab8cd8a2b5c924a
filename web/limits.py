"""How often a network address may try to sign in, and how often residents may ask for a
seat: per network address, and per phone number or e-mail address named (each booking and
waitlist place sends that address a message, so without a limit the service could be made
to text a stranger over and over).

Counted in the database, or in Redis when ``RESOURCEMAP_REDIS_URL`` is set
(``resourcemap.ratelimits``), so with N app processes a limit is still the limit (#22); the
keys are keyed digests of the address and the contact details. Behind a reverse proxy the
address is the proxy's unless uvicorn is told to trust its forwarding headers
(`--forwarded-allow-ips`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request

from resourcemap.booking.idempotency import Issued
from resourcemap.booking.requests import Contact
from resourcemap.contact import identities
from resourcemap.errors import TooManyRequests
from resourcemap.ratelimits import SharedRateLimiter, WindowCounts, counts_for
from resourcemap.settings import Settings
from resourcemap.vault import Vault
from web import clock

# Sign-in attempts per address and minute; it complements the per-account lockout (which
# holds across processes too) against one address trying many usernames.
SIGN_IN_PER_MINUTE = 10


class RequestLimits:
    """Every limit on requests, counted in one store shared by all app processes."""

    def __init__(self, settings: Settings) -> None:
        url = settings.redis_url.get_secret_value() if settings.redis_url else None
        self.counts: WindowCounts = counts_for(url)
        self.sign_in = SharedRateLimiter(
            "sign-in-address",
            SIGN_IN_PER_MINUTE,
            60,
            "too many sign-in attempts from this address; wait a minute",
            self.counts,
        )
        self.by_address = SharedRateLimiter(
            "booking-address",
            settings.booking_limit_per_address,
            60,
            "too many booking requests from this address; wait a minute and try again",
            self.counts,
        )
        self.by_contact = SharedRateLimiter(
            "booking-contact",
            settings.booking_limit_per_contact,
            3600,
            "too many booking requests for this phone number or e-mail address; "
            "please call the service",
            self.counts,
        )
        # Addresses and contact details are kept only as keyed digests: no personal data.
        self._vault = Vault.from_settings(settings)

    def _address(self, request: Request) -> str:
        return self._vault.digest(f"address:{client_address(request) or 'unknown'}")

    async def check_sign_in(self, request: Request) -> None:
        """Count one sign-in attempt; ``TooManyRequests`` past the limit."""
        await self.sign_in.hit(self._address(request), now=clock.now(request))

    async def check(self, request: Request, contact: Contact) -> None:
        """Count one request for a seat; ``TooManyRequests`` past either limit."""
        now = clock.now(request)
        await self.by_address.hit(self._address(request), now=now)
        for identity in identities(contact.phone, contact.email):
            await self.by_contact.hit(self._vault.digest(identity), now=now)


def client_address(request: Request) -> str | None:
    """The network address a request came from (a proxy's, unless uvicorn trusts it)."""
    return request.client.host if request.client else None


def limits(request: Request) -> RequestLimits:
    found: RequestLimits = request.app.state.limits
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
