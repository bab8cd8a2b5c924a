"""A table of the areas' populations (the census's, by community, street or district) to
spread as demand: read and checked row by row, with the line and column of whatever is
wrong."""

from __future__ import annotations

import numpy as np

from geo.codes import twelve_digits
from geo.demand import WEIGHT_COLUMNS, DemandError, csv_table

CODE_COLUMNS = ("code", "area_code", "area", "社区代码", "代码")
TOTAL_COLUMNS = (*WEIGHT_COLUMNS, "人口", "常住人口")


def read_totals(data: bytes, name: str) -> dict[str, float]:
    """Each area's population from a CSV table (the census's: ``code`` and ``population``,
    or 社区代码 and 常住人口), every row checked: a number that is no number,
    a negative one, or a code twice names its line and column."""
    header, rows = csv_table(data, name)
    code_col = next((h for h in CODE_COLUMNS if h in header), None)
    total_col = next((h for h in TOTAL_COLUMNS if h in header), None)
    if code_col is None or total_col is None:
        raise DemandError(
            f"{name}: needs a column of area codes ({', '.join(CODE_COLUMNS)}) and one of "
            f"populations ({', '.join(TOTAL_COLUMNS)}); found {', '.join(header) or 'none'}"
        )
    totals: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        code = twelve_digits(row.get(code_col, ""))
        value = row.get(total_col, "").replace(",", "")
        if not code and not value:
            continue  # a blank line
        try:
            total = float(value)
        except ValueError:
            raise DemandError(
                f"{name} line {line}, column {total_col}: {value!r} is not a number"
            ) from None
        if not np.isfinite(total) or total < 0:
            raise DemandError(f"{name} line {line}, column {total_col}: {value!r} is no population")
        if code in totals:
            raise DemandError(f"{name} line {line}, column {code_col}: {code} is listed twice")
        totals[code] = total
    if not totals:
        raise DemandError(f"{name} lists no area")
    return totals
