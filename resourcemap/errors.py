"""Domain errors. The web layer maps each to one HTTP status (see ``web/errors.py``)."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; ``reason`` is safe to show to the caller, ``code`` (where set) names the
    case for programs and translated pages, which must not match on the English wording."""

    def __init__(self, reason: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.code = code


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class Unauthenticated(DomainError):
    """No valid session or token: sign in first."""


class Forbidden(DomainError):
    pass


class Locked(Forbidden):
    """An account locked after repeated failed sign-ins."""


class TooManyRequests(DomainError):
    pass


class Conflict(DomainError):
    pass


class Unavailable(DomainError):
    """The database did not answer in time or cannot be reached: nothing is wrong with the
    request, so the caller should try again after ``retry_after`` seconds (503)."""

    def __init__(self, reason: str, *, retry_after: int = 5) -> None:
        super().__init__(reason, code="unavailable")
        self.retry_after = retry_after
