"""The links residents get to manage what they booked: one place that spells them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


@dataclass(frozen=True)
class Links:
    """Manage links under ``public_url`` (``RESOURCEMAP_PUBLIC_URL``), in the language the
    resident booked in when it is known (#18), so that the page opens in it.

    >>> Links("https://example.cn/").booking("12345678", "t0k")
    'https://example.cn/bookings/12345678?token=t0k'
    >>> Links("https://example.cn/").booking("12345678", "t0k", "en")
    'https://example.cn/bookings/12345678?token=t0k&lang=en'
    """

    public_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    def booking(self, code: str, token: str, lang: str = "") -> str:
        return f"{self.public_url}/bookings/{code}?{_query(token, lang)}"

    def waitlist(self, code: str, token: str, lang: str = "") -> str:
        return f"{self.public_url}/waitlist/{code}?{_query(token, lang)}"

    def referral(self, code: str, token: str, lang: str = "") -> str:
        """Where a referred resident picks a time or declines (#23); ``lang`` as the
        referring staff recorded it."""
        return f"{self.public_url}/referrals/{code}?{_query(token, lang)}"

    def feedback(self, token: str, lang: str = "") -> str:
        """The anonymous feedback form; ``lang`` as in the booking it follows."""
        query = urlencode({"lang": lang}) if lang else ""
        return f"{self.public_url}/feedback/{token}" + (f"?{query}" if query else "")

    @property
    def host(self) -> str:
        """The site's host name, e.g. for calendar UIDs."""
        return urlsplit(self.public_url).hostname or "resourcemap"


def _query(token: str, lang: str) -> str:
    return urlencode({"token": token, "lang": lang} if lang else {"token": token})
