"""The import template staff download: every column the importer reads, two example rows
(a counselling room with weekly hours and a holiday closure, a paid agency open daily) and, in the
XLSX, a sheet explaining the compact cell syntax. A template imports as it is (dry run:
two rows, no problems), so staff start from something that works.
"""

from __future__ import annotations

import csv
import io

from resourcemap.transfer.columns import COLUMNS

EXAMPLES: tuple[dict[str, str], ...] = (
    {
        "external_id": "example-room-1",
        "kind": "community_room",
        "name_zh": "示例社区心理咨询室",
        "name_en": "Example Community Counselling Room",
        "description_zh": "社区居民的心理咨询与倾诉",
        "services": "counselling; group_activity",
        "audiences": "everyone",
        "languages": "zh; en",
        "modes": "in_person",
        "fee": "free",
        "fee_note": "免费,请提前预约",
        "fee_note_en": "Free; please book ahead",
        "phone": "0755-20000000",
        "capacity": "1",
        "always_open": "false",
        "status": "active",
        "lat": "22.7512",
        "lon": "113.9301",
        "coord_system": "wgs84",
        "address_zh": "示例路1号",
        "address_en": "1 Example Road",
        "hours": "Mon-Fri 09:00-12:00,14:00-17:30; Sat 09:00-12:00",
        "exceptions": "2026-10-01..2026-10-07 closed 国庆",
    },
    {
        "external_id": "example-agency-1",
        "kind": "licensed_agency",
        "name_zh": "示例心理咨询服务中心",
        "name_en": "Example Counselling Centre",
        "services": "counselling、family_support",
        "audiences": "everyone",
        "languages": "zh",
        "modes": "in_person; online",
        "fee": "paid",
        "fee_note": "300元/50分钟",
        "fee_note_en": "CNY 300 per 50 minutes",
        "phone": "0755-20000001",
        "always_open": "否",
        "status": "active",
        "lat": "22.7531",
        "lon": "113.9322",
        "address_zh": "示例大道88号",
        "hours": "每天 08:00-20:00",
    },
)

# Help rows: (column, what it holds, example) in Chinese and English.
HELP: tuple[tuple[str, str, str, str], ...] = (
    ("kind", "类型代码,如 community_room、hotline", "kind code, e.g. community_room, hotline", ""),
    (
        "services / audiences / modes",
        "多个值用 ; 或 、 分隔",
        "several values separated by ; or 、",
        "counselling; group_activity",
    ),
    (
        "hours",
        "星期与时段;周一…周日、工作日、每天;多个时段用逗号",
        "days and times; Mon…Sun, 工作日, 每天; several spans with commas",
        "Mon-Fri 09:00-12:00,14:00-17:30; Sat 09:00-12:00",
    ),
    (
        "exceptions",
        "日期或日期范围,closed/休息 或时段,再加说明",
        "a date or date range, closed or a time range, then a note",
        "2026-10-01..2026-10-07 closed 国庆",
    ),
    ("always_open", "true/false、是/否", "true/false, yes/no", "false"),
    ("lat / lon", "坐标,坐标系见 coord_system", "coordinates, system in coord_system", "22.75"),
)


def template_csv() -> bytes:
    """UTF-8 with BOM (Excel shows Chinese), CRLF lines, like an export."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in EXAMPLES:
        writer.writerow({k: v for k, v in row.items() if k in COLUMNS})
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
    from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "listings"
    sheet.append(list(COLUMNS))
    for row in EXAMPLES:
        sheet.append([row.get(name, "") for name in COLUMNS])
    for line in sheet.iter_rows():
        for cell in line:
            cell.data_type = "s"  # text, as the importer reads it
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明 help")
    notes.append(["column", "说明", "meaning", "example"])
    for help_row in HELP:
        notes.append(list(help_row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
