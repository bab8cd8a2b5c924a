"""The import template staff download (#18): CSV and XLSX with every column, example rows
and, in the XLSX, the cell syntax explained; it imports as it is, and the import page links
it and explains the columns on the page itself."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

from resourcemap.transfer.columns import COLUMNS
from tests.web.staff.test_import_page import (
    html,
    import_client,
    problems,
    sign_in,
    summary,
    upload,
    url,  # noqa: F401  (the fixture)
)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_downloads_and_imports_as_it_is(url: str, fmt: str) -> None:  # noqa: F811
    with import_client(url) as client:
        sign_in(client, "staff")
        page = html(client.get("/staff/import"))
        link = page.select_one(f"a[href='/staff/import/template.{fmt}']")
        assert link is not None and link.has_attr("download")
        answer = client.get(f"/staff/import/template.{fmt}")
        assert answer.status_code == 200
        assert "attachment" in answer.headers["content-disposition"]
        body = answer.content
        if fmt == "csv":
            header = body.decode("utf-8-sig").splitlines()[0].split(",")
        else:
            book = load_workbook(io.BytesIO(body))
            header = [str(c.value) for c in book["listings"][1]]
            assert "hours" in [c.value for c in book.worksheets[1]["A"]]
        assert header == list(COLUMNS)
        checked = upload(client, body, dry_run=True, filename=f"template.{fmt}")
        assert checked.status_code == 200, checked.text[:2000]
        soup = html(checked)
        assert problems(soup) == []
        assert "将新增 2" in summary(soup)  # a dry run: what the real run would do


def test_signed_out_no_template(url: str) -> None:  # noqa: F811
    with import_client(url) as client:
        answer = client.get("/staff/import/template.csv", follow_redirects=False)
    assert answer.status_code in (302, 303)
