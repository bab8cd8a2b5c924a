"""The indicator matrix as files: CSV (one row per area and indicator) and XLSX (the matrix,
the same long table, and what each indicator counts), worded in the reader's language
(:class:`Wording`): labels, definitions and area names. Keys, statuses and sources stay
as they are for every reader: they are what a spreadsheet filters on."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# No openpyxl stubs in the dev dependencies yet (as in resourcemap.transfer.exporter).
from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped,unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped,unused-ignore]

from resourcemap.cells import guarded_row
from resourcemap.planning.indicators import DEFINITIONS, LABELS, AreaIndicators, Indicator

COLUMNS = ("area_code", "area_name", "level", "indicator", "label", "value", "target", "status",
           "numerator", "denominator", "unit", "source")  # fmt: skip
# The page's status colours, as fills a spreadsheet shows (with the status word beside).
FILLS = {"met": "D9EFD9", "close": "FFF1C2", "not_met": "F8D5D2", "unknown": "EEEEEE"}


# What the matrix sheet says around the figures, for a reader of its own (the detail sheet
# and the CSV keep keys and statuses: what a spreadsheet filters on).
WORDS = {
    "matrix": "matrix",
    "detail": "detail",
    "sources": "sources",
    "area_code": "area_code",
    "area_name": "area_name",
    "target": "target",
    "label": "label",
    "what it counts": "what it counts",
    "met": "met",
    "close": "close",
    "not_met": "not met",
    "unknown": "no data",
}


@dataclass(frozen=True)
class Wording:
    """What a file says to its reader: each indicator's label and what it counts, and the
    areas' names where the reader's language names them otherwise (by code). The default:
    both languages' labels, as a file with no reader in mind."""

    labels: Mapping[str, str] = field(default_factory=lambda: dict(LABELS))
    definitions: Mapping[str, str] = field(default_factory=lambda: dict(DEFINITIONS))
    area_names: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=lambda: dict(WORDS))

    def area(self, a: AreaIndicators) -> str:
        return self.area_names.get(a.code) or a.name


def _value(i: Indicator) -> float | None:
    return None if i.value is None else round(i.value, 6)


def long_rows(areas: Sequence[AreaIndicators], wording: Wording) -> list[list[object]]:
    rows: list[list[object]] = []
    for a in areas:
        name = wording.area(a)
        for i in a.indicators:
            counts = [round(i.numerator, 4), round(i.denominator, 4)]
            rows.append(
                [a.code, name, a.level, i.key, wording.labels.get(i.key, i.label), _value(i),
                 i.target, i.status, *counts, i.unit, i.source]
            )  # fmt: skip
    return rows


def indicators_csv(areas: Sequence[AreaIndicators], wording: Wording | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in long_rows(areas, wording or Wording()):
        writer.writerow(guarded_row("" if v is None else v for v in row))
    return out.getvalue()


def indicators_xlsx(
    areas: Sequence[AreaIndicators], *, title: str = "", wording: Wording | None = None
) -> bytes:
    said = wording or Wording()
    book = Workbook()
    matrix = book.active
    assert matrix is not None
    words = {**WORDS, **said.words}
    matrix.title = words["matrix"]
    keys = [i.key for i in areas[0].indicators] if areas else list(LABELS)
    bold = Font(bold=True)
    if title:
        matrix.append([title])
    matrix.append(
        [words["area_code"], words["area_name"], *(said.labels.get(k, LABELS[k]) for k in keys)]
    )
    matrix.append(["", words["target"], *(_target(areas, k) for k in keys)])
    for cell in matrix[matrix.max_row - 1]:
        cell.font = bold
    for a in areas:
        by_key = {i.key: i for i in a.indicators}
        cells = [_cell_text(by_key[k], words) if k in by_key else "" for k in keys]
        matrix.append([a.code, said.area(a), *cells])
        for col, k in enumerate(keys, start=3):
            if k in by_key:
                colour = FILLS[by_key[k].status]
                matrix.cell(matrix.max_row, col).fill = PatternFill("solid", fgColor=colour)
    for col in range(1, len(keys) + 3):
        matrix.column_dimensions[get_column_letter(col)].width = 16 if col > 2 else 14
    detail = book.create_sheet(words["detail"])
    detail.append(list(COLUMNS))
    for row in long_rows(areas, said):
        detail.append(row)
    sources = book.create_sheet(words["sources"])
    sources.append(["indicator", words["label"], words["what it counts"]])
    for k in keys:
        sources.append([k, said.labels.get(k, LABELS[k]), said.definitions.get(k, DEFINITIONS[k])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _target(areas: Sequence[AreaIndicators], key: str) -> object:
    for a in areas:
        for i in a.indicators:
            if i.key == key:
                return i.target
    return ""


def _cell_text(i: Indicator, words: Mapping[str, str]) -> str:
    status = words[i.status]
    if i.value is None:
        return status
    shown = f"{i.value:.1f}" if i.unit != "share" else f"{i.value:.0%}"
    return f"{shown} ({status})"
