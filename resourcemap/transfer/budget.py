"""What one import may cost: rows, cells and seconds (#15).

A file's size says little about the work it makes: a 12 KB XLSX whose sheet expands to a
million cells cost 40 s of CPU and 260 MB. Uploads through the web therefore read within a
:class:`Budget` (``RESOURCEMAP_IMPORT_MAX_ROWS``, ``…_CELLS``, ``…_SECONDS``); the readers
charge every row and its cells to the running :class:`Meter` as they go, so an import over
budget stops at the limit, not after reading everything, and is answered 413 with the
limit it reached. Commands (``resourcemap import``) run without a budget, like their
statements: the operator chose the file.

The meter travels in a context variable, so the readers need no extra argument.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from resourcemap.errors import TooLarge
from resourcemap.said import N_
from resourcemap.settings import Settings

# A zipped file (XLSX, table package) may expand to at most this many bytes per cell of
# the budget: an XLSX cell is some 30-60 bytes of XML, shared strings included.
BYTES_PER_CELL = 128


@dataclass(frozen=True)
class Budget:
    rows: int = 50_000
    cells: int = 2_000_000
    seconds: float = 60.0
    # How time is read (seconds, monotonic); tests pass their own.
    ticker: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> Budget:
        return cls(settings.import_max_rows, settings.import_max_cells, settings.import_max_seconds)

    @property
    def expanded_bytes(self) -> int:
        return self.cells * BYTES_PER_CELL


class Meter:
    """The cost of one import so far, against its budget."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.rows = 0
        self.cells = 0
        self._started = budget.ticker()

    def charge(self, rows: int, cells: int) -> None:
        self.rows += rows
        self.cells += cells
        b = self.budget
        if self.rows > b.rows:
            raise TooLarge(
                N_("the file has more than %(rows)s rows; import it in parts", rows=f"{b.rows:,}")
            )
        if self.cells > b.cells:
            raise TooLarge(
                N_(
                    "the file has more than %(cells)s cells; import it in parts",
                    cells=f"{b.cells:,}",
                )
            )
        if b.ticker() - self._started > b.seconds:
            raise TooLarge(
                N_(
                    "reading the file took longer than %(seconds)s s; import it in parts",
                    seconds=f"{b.seconds:g}",
                )
            )

    def archive(self, archive: zipfile.ZipFile) -> None:
        """Refuse a ZIP (an XLSX is one) that expands beyond the budget, before reading it."""
        expanded = sum(info.file_size for info in archive.infolist())
        if expanded > self.budget.expanded_bytes:
            raise TooLarge(
                N_(
                    "the file expands to %(mb)s MB when unpacked; at most %(most)s MB can be "
                    "imported",
                    mb=f"{expanded / 1_048_576:,.0f}",
                    most=f"{self.budget.expanded_bytes / 1_048_576:,.0f}",
                )
            )


_current: ContextVar[Meter | None] = ContextVar("import_meter", default=None)


@contextmanager
def metered(budget: Budget | None) -> Iterator[None]:
    """Charge what is read inside to ``budget`` (``None``: no limit)."""
    token = _current.set(None if budget is None else Meter(budget))
    try:
        yield
    finally:
        _current.reset(token)


def charge(rows: int = 1, cells: int = 0) -> None:
    """Charge rows and cells read to the running import's budget, if it has one."""
    meter = _current.get()
    if meter is not None:
        meter.charge(rows, cells)


def check_archive(archive: zipfile.ZipFile) -> None:
    meter = _current.get()
    if meter is not None:
        meter.archive(archive)
