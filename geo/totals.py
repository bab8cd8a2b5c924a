"""A table of the areas' populations (the census's, by community) to spread as demand:
read and checked row by row, with the line and column of whatever is wrong."""

from __future__ import annotations

import csv
import io

import numpy as np

from geo.demand import WEIGHT_COLUMNS, DemandError

CODE_COLUMNS = ("code", "area_code", "area", "社区代码", "代码")
TOTAL_COLUMNS = (*WEIGHT_COLUMNS, "人口", "常住人口")


def read_totals(data: bytes, name: str) -> dict[str, float]:
    """Each area's population from a CSV table (the census's by community: ``code`` and
    ``population``, or 社区代码 and 常住人口), every row checked: a number that is no number,
    a negative one, or a code twice names its line and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DemandError(f"{name} is not UTF-8 text: save the table as CSV (UTF-8)") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    code_col = next((h for h in CODE_COLUMNS if h in header), None)
    total_col = next((h for h in TOTAL_COLUMNS if h in header), None)
    if code_col is None or total_col is None:
        raise DemandError(
            f"{name}: needs a column of area codes ({', '.join(CODE_COLUMNS)}) and one of "
            f"populations ({', '.join(TOTAL_COLUMNS)}); found {', '.join(header) or 'none'}"
        )
    totals: dict[str, float] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        code, value = row.get(code_col, ""), row.get(total_col, "").replace(",", "")
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
