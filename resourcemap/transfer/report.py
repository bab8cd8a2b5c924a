"""What an import says back: how many rows, what was written, and every rejected row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """Why one row (or the whole file, ``row`` 0) was rejected.

    ``row`` is what the user sees in the file: the spreadsheet row for CSV and XLSX (the
    header is row 1), the feature number for GeoJSON, the service number for HSDS (both
    counting from 1). ``column`` names the column, property or field at fault.
    """

    row: int
    column: str
    reason: str

    def line(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        return (
            f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


@dataclass
class ImportReport:
    """The outcome of one file: nothing is written unless ``problems`` is empty."""

    format: str
    rows: int = 0
    """Listings read (an HSDS service at several locations is several listings)."""
    created: int = 0
    updated: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    noun: str = "listings"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def reject(self, row: int, column: str, reason: str) -> None:
        self.problems.append(Problem(row, column, reason))

    def summary(self) -> str:
        if not self.ok:
            rejected = len({p.row for p in self.problems if p.row})
            return (
                f"{rejected} rows rejected, {len(self.problems)} problems; nothing was written "
                "(an import is all or nothing)"
            )
        if self.dry_run:
            return (
                f"dry run: all {self.rows} {self.noun} are valid "
                f"({self.created} would be created, {self.updated} updated); nothing was written"
            )
        return f"imported {self.rows} {self.noun}: {self.created} created, {self.updated} updated"

    def lines(self) -> list[str]:
        """The report as text lines: one per problem, then the summary."""
        return [p.line() for p in sorted(self.problems)] + [self.summary()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "dry_run": self.dry_run,
            "written": self.written,
            "problems": [
                {"row": p.row, "column": p.column, "reason": p.reason}
                for p in sorted(self.problems)
            ],
            "summary": self.summary(),
        }
