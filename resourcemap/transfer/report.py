"""What an import says back: how many rows, what was written, every rejected row, and notes
on what the import did besides (organisations it creates) or could not keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resourcemap.said import N_, Said, said


@dataclass(frozen=True, order=True)
class Problem:
    """Why one row (or the whole file, ``row`` 0) was rejected.

    ``row`` is what the user sees in the file: the spreadsheet row for CSV and XLSX (the
    header is row 1), the feature number for GeoJSON, the service number for HSDS JSON
    (both counting from 1), the row of ``services.csv`` for an HSDS table package.
    ``column`` names the column, property or field at fault.
    """

    row: int
    column: str
    reason: str
    """In English (the command line, the JSON API)."""
    said: Said = field(default=Said(""), compare=False)
    """The reason to read in the reader's language (``web.i18n.said``)."""

    def __post_init__(self) -> None:
        if not self.said.message:  # text not marked for translation reads as it is
            object.__setattr__(self, "said", Said(self.reason))

    @classmethod
    def of(cls, row: int, column: str, reason: str | Said) -> Problem:
        text = said(reason)
        return cls(row, column, str(text), text)

    def line(self, label: str = "row") -> str:
        where = "file" if self.row == 0 else f"{label} {self.row}"
        return (
            f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ranges(rows: list[int]) -> str:
    """Row numbers as ranges.

    >>> _ranges([7, 2, 3, 4])
    '2–4, 7'
    """
    parts: list[str] = []
    ordered = sorted(rows)
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


# Where a note applies, by what a report's rows count (``ImportReport.row_label``).
ROWS_AT = {
    "row": (N_("row %(rows)s"), N_("rows %(rows)s")),
    "feature": (N_("feature %(rows)s"), N_("features %(rows)s")),
    "service": (N_("service %(rows)s"), N_("services %(rows)s")),
    "services.csv row": (N_("services.csv row %(rows)s"), N_("services.csv rows %(rows)s")),
}


@dataclass
class ImportReport:
    """The outcome of one file: nothing is written unless ``problems`` is empty."""

    format: str
    rows: int = 0
    """Listings read (an HSDS service at several locations is several listings)."""
    created: int = 0
    existing: int = 0
    """Listings the file matches to stored ones (by ``external_id``): updated or unchanged."""
    unchanged: int = 0
    """Stored listings the file would write as they are (not saved again)."""
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    noun: str = "listings"
    row_label: str = "row"
    """What a problem's ``row`` counts: ``row``, ``feature``, ``service``,
    ``services.csv row``."""
    header_row: int | None = None
    """The header's row (CSV, XLSX): its problems are the file's, not a rejected row's."""
    asks_kind: bool = False
    """No row names its kind and none was given for the file: one choice settles it."""
    notes: dict[Said, list[int]] = field(default_factory=dict)
    """What the import does besides writing listings, and what it reads but cannot keep
    (text → the rows it concerns); never a reason to refuse the file."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def updated(self) -> int:
        return self.existing - self.unchanged

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def rejected_rows(self) -> int:
        """Rows with at least one problem (not the file, not the header row)."""
        return len({p.row for p in self.problems if p.row and p.row != self.header_row})

    @property
    def header_problems(self) -> int:
        return sum(1 for p in self.problems if self.header_row and p.row == self.header_row)

    def reject(self, row: int, column: str, reason: str | Said) -> None:
        self.problems.append(Problem.of(row, column, reason))

    def note(self, text: str | Said, row: int = 0) -> None:
        rows = self.notes.setdefault(said(text), [])
        if row and row not in rows:
            rows.append(row)

    def note_items(self) -> list[Said]:
        """Each note with the rows it concerns, to be read in the reader's language."""
        items = []
        for text, rows in self.notes.items():
            if not rows:
                items.append(text)
                continue
            one, many = ROWS_AT.get(self.row_label, ROWS_AT["row"])
            where = (one if len(rows) == 1 else many).message
            items.append(N_("%(note)s (%(where)s)", note=text, where=N_(where, rows=_ranges(rows))))
        return items

    def note_lines(self) -> list[str]:
        return [str(item) for item in self.note_items()]

    def summary(self) -> str:
        if not self.ok:
            label = self.row_label.rsplit(" ", 1)[-1]
            parts = []
            if self.rejected_rows:
                parts.append(f"{_count(self.rejected_rows, label)} rejected")
            if self.header_problems:
                parts.append(f"{_count(self.header_problems, 'problem')} in the header row")
            if not parts:
                parts.append("the file is refused")
            parts.append(f"{_count(len(self.problems), 'problem')} in all")
            return ", ".join(parts) + "; nothing was written (an import is all or nothing)"
        same = f", {self.unchanged} unchanged" if self.unchanged else ""
        if self.dry_run:
            return (
                f"dry run: all {self.rows} {self.noun} are valid ({self.created} would be "
                f"created, {self.updated} updated{same}); nothing was written"
            )
        return (
            f"imported {self.rows} {self.noun}: {self.created} created, {self.updated} updated"
            f"{same}"
        )

    def lines(self) -> list[str]:
        """The report as text lines: one per problem, then the notes, then the summary."""
        problems = [p.line(self.row_label) for p in sorted(self.problems)]
        return problems + [f"note: {n}" for n in self.note_lines()] + [self.summary()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "written": self.written,
            "row_label": self.row_label,
            "problems": [
                {"row": p.row, "column": p.column, "reason": p.reason}
                for p in sorted(self.problems)
            ],
            "notes": self.note_lines(),
            "summary": self.summary(),
        }
