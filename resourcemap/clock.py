"""The one clock: every "now" in the product comes from a ``Clock``.

The app, the worker and the CLI hold one and pass its readings down as ``now=`` arguments,
so the domain never reads the wall clock itself and a test sets the time it runs at
(``FixedClock``) instead of depending on the hour CI happens to run.

Records of when something physically happened (``created_at`` columns, log lines) keep the
database's and logger's own stamps: nothing decides on them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from resourcemap.settings import Settings


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, time-zone aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands still until told otherwise (tests, reproducible reports).

    >>> clock = FixedClock(dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC))
    >>> clock.advance(minutes=30).isoformat()
    '2026-10-01T02:30:00+00:00'
    """

    def __init__(self, instant: dt.datetime) -> None:
        self._now = _aware_utc(instant)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, instant: dt.datetime) -> dt.datetime:
        self._now = _aware_utc(instant)
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``datetime.timedelta(**delta)``; returns the new instant."""
        self._now += dt.timedelta(**delta)
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


def _aware_utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock's instant needs a time zone")
    return instant.astimezone(dt.UTC)


def from_settings(settings: Settings) -> Clock:
    """The wall clock, or the instant ``RESOURCEMAP_FIXED_NOW`` names (development, tests)."""
    if settings.fixed_now is not None:
        return FixedClock(settings.fixed_now)
    return SystemClock()
