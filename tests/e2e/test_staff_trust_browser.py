"""Staff pages that guide (#18), in Chromium on a phone and a desktop: an import with errors
reported in Chinese, the template downloaded from the page, the listing form's error summary
taking the focus, a suspension asked for first, and the same pages wholly in English."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from resourcemap import accounts
from resourcemap.models import Organisation
from resourcemap.vocab import Role
from tests.conftest import ROOT, Backend, _free_port, serving
from tests.e2e.conftest import axe_violations, needs_chromium, playwright_api, screenshot
from tests.factories import run_in_db, small_city

pytestmark = needs_chromium
expect = playwright_api.expect

PASSWORD = "correct-horse-9"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
BAD_CSV = (
    "external_id,kind,name_zh,lat,lon,hours\r\n"
    "e2e-1,community_room,浏览器测试室,22.70,114.00,Mon-Fri 09:00-12:00\r\n"
    "e2e-2,castle,坏的一行,22.70,114.00,9点到12点\r\n"
).encode()


async def _world() -> None:
    await small_city()
    own = await Organisation.get(name_zh="测试区卫健局")
    await accounts.create_account(
        None, username="desk", password=PASSWORD, role=Role.STAFF, organisation_id=own.id
    )


@pytest.fixture(scope="module")
def server(sqlite_backend: Backend) -> Iterator[str]:
    url = sqlite_backend.fresh()
    run_in_db(url, _world)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": url,
        "RESOURCEMAP_PORT": str(port),
        "RESOURCEMAP_RUN_WORKER": "false",
        "RESOURCEMAP_FIXED_NOW": "2026-12-01T08:00:00+08:00",
    }
    with serving("serve", cwd=ROOT, env=env, port=port, timeout=60) as base:
        yield base


def _signed_in(browser: Any, base: str, size: str) -> Any:
    page = browser.new_context(
        viewport=SIZES[size], locale="zh-CN", accept_downloads=True
    ).new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    page.goto(base + "/login")
    page.fill("input[name=username]", "desk")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("size", list(SIZES))
def test_staff_import_errors_template_summary_and_english(
    server: str, browser: Any, size: str, tmp_path: Any
) -> None:
    axe = size == "desktop"
    page = _signed_in(browser, server, size)

    # Import with a bad row: the reasons in Chinese, nothing written, the template offered.
    page.goto(server + "/staff/import")
    bad = tmp_path / "rooms.csv"
    bad.write_bytes(BAD_CSV)
    page.set_input_files("#i-file", str(bad))
    page.click("form.import-form button[type=submit]")
    expect(page.locator(".import-report .summary")).to_contain_text("拒绝 1")
    expect(page.locator("table.problems")).to_contain_text("kind")
    # The reasons in the staff member's language (#18), not the validator's English.
    expect(page.locator("table.problems")).to_contain_text("'castle' 不是可用的代码")
    expect(page.locator("table.problems")).to_contain_text("请先写星期再写时间")
    screenshot(page, f"staff-import-errors-{size}")
    if axe:
        assert axe_violations(page) == []
    with page.expect_download() as download:
        page.click("a[href='/staff/import/template.xlsx']")
    assert download.value.suggested_filename == "resourcemap-import-template.xlsx"

    # The listing form: a bad e-mail and latitude; the summary has the focus, links work.
    page.goto(server + "/staff/resources/new")
    page.fill("#f-name_zh", "新的咨询室")
    page.fill("#f-email", "not-an-email")
    page.fill("#f-lat", "95")
    page.click("form.resource-form button[type=submit]")
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    # Each names its field: the summary lists them apart from the fields.
    expect(summary.locator("a[href='#f-email']")).to_have_text("电子邮箱：不是电子邮箱地址")
    expect(summary.locator("a[href='#f-lat']")).to_have_text("纬度：不能大于 90")
    assert page.title().startswith("错误")
    summary.locator("a[href='#f-email']").click()
    expect(page.locator("#f-email")).to_be_focused()
    screenshot(page, f"staff-form-errors-{size}")

    # Suspending asks first.
    page.goto(server + "/staff")
    page.locator("form[action$='/status'] button").first.click()
    expect(page.locator("h1")).to_contain_text("暂停")
    screenshot(page, f"staff-suspend-{size}")
    page.locator("a.button.secondary").last.click()

    # The same pages in English: one language, no Chinese chrome.
    page.goto(server + "/staff?lang=en")
    expect(page.locator(".staff-bar")).to_contain_text("My listings")
    screenshot(page, f"staff-list-en-{size}")
    page.goto(server + "/staff/import")
    expect(page.locator("h1")).to_contain_text("Import")
    screenshot(page, f"staff-import-en-{size}")
    if axe:
        assert axe_violations(page) == []
    assert page.script_errors == []
    page.context.close()
