"""Domain errors. The web layer maps each to one HTTP status (see ``web/errors.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.exceptions import IntegrityError
from tortoise.exceptions import ValidationError as TortoiseValidationError

from resourcemap.said import Said, said


class DomainError(Exception):
    """Base class; ``reason`` is safe to show to the caller, ``code`` (where set) names the
    case for programs and translated pages, which must not match on the English wording."""

    def __init__(
        self, reason: str | Said, *, field: str | None = None, code: str | None = None
    ) -> None:
        self.said = said(reason)  # the reason in any language (``resourcemap.said``)
        self.reason = str(self.said)
        super().__init__(self.reason)
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
    """A limit on how often or how much (429): ``retry_after`` seconds until a request may
    succeed again, sent as ``Retry-After``."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: int = 60,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(reason, field=field, code=code)
        self.retry_after = max(1, retry_after)


class TooLarge(DomainError):
    """More than a limit lets one request read or cost (413): a file with too many rows or
    cells, or one that takes too long to read."""


class UnsupportedMediaType(InvalidInput):
    """A body in a format the endpoint does not take (JSON endpoints take JSON only)."""


class Conflict(DomainError):
    pass


class Unique(Conflict):
    """A value that must be unique (an external id, a user name) is taken."""


@asynccontextmanager
async def storage_refusals(unique_field: str, what: str) -> AsyncIterator[None]:
    """What the database refuses, as domain errors: a unique ``unique_field`` taken by a
    concurrent writer (the domain checks first; the constraint settles a race), or a value a
    column cannot hold that no earlier check caught."""
    try:
        yield
    except IntegrityError:
        raise Unique(f"{what} is taken", field=unique_field) from None
    except TortoiseValidationError as exc:
        raise InvalidInput(str(exc)) from None


# The database's own refusal of a value: still the caller's input (web/errors.py: a 400).
STORAGE_INPUT_ERRORS: tuple[type[Exception], ...] = (TortoiseValidationError,)


class Unavailable(DomainError):
    """The database did not answer in time or cannot be reached: nothing is wrong with the
    request, so the caller should try again after ``retry_after`` seconds (503)."""

    def __init__(self, reason: str, *, retry_after: int = 5) -> None:
        super().__init__(reason, code="unavailable")
        self.retry_after = retry_after
