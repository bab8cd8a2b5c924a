"""The green channel in a real browser (#23), on a phone and a desktop, in Chinese and
English: a school counsellor refers a student to a minors' guidance centre, the centre
accepts and books a referral seat, the counsellor sees "booked" (and not when), the centre
records the visit the next day, and the student answers the feedback form.

The server is the real app (``resourcemap serve``) on its own SQLite database, with its
clock fixed (``RESOURCEMAP_FIXED_NOW``): Tuesday 08:00 for the referral, then a second
start at Wednesday 10:00, after the visit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from resourcemap.models import Notification, Referral
from resourcemap.vault import Vault
from resourcemap.vocab import NotificationKind
from tests.conftest import KEY_ENV, ROOT, Backend, _free_port, make_settings, serving
from tests.e2e.conftest import axe_violations, needs_chromium, playwright_api, screenshot
from tests.factories import run_in_db
from tests.referral_helpers import PASSWORD, green_city

pytestmark = needs_chromium
T = TypeVar("T")
expect = playwright_api.expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TUESDAY = "2026-12-01T08:00:00+08:00"
WEDNESDAY = "2026-12-02T10:00:00+08:00"
VISIT = "2026-12-02T09:00:00+08:00"


@contextmanager
def server(url: str, now: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        **KEY_ENV,
        "PYTHONPATH": str(ROOT),
        "RESOURCEMAP_DATABASE_URL": url,
        "RESOURCEMAP_PORT": str(port),
        "RESOURCEMAP_RUN_WORKER": "false",
        "RESOURCEMAP_FIXED_NOW": now,
    }
    with serving("serve", cwd=ROOT, env=env, port=port, timeout=60) as base:
        yield base


def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` in a thread of its own: Playwright's sync API keeps an event loop running
    in this one, and the database helpers start their own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def fresh_city(backend: Backend) -> str:
    url = off_loop(backend.fresh, "empty")
    off_loop(run_in_db, url, green_city)
    return url


def _page(browser: Any, viewport: dict[str, int]) -> Any:
    ctx = browser.new_context(viewport=viewport, locale="zh-CN")
    page = ctx.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    return page


def _check(page: Any, name: str, *, axe: bool) -> None:
    screenshot(page, name)
    if axe:
        assert axe_violations(page) == [], name


def sign_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".username")).to_have_text(username)


def _sealed(url: str, kind: NotificationKind) -> str:
    async def read() -> str:
        note = await Notification.filter(kind=kind).order_by("-id").first()
        assert note is not None and note.body_enc is not None
        return Vault.from_settings(make_settings(url)).open(note.body_enc)

    text: str = off_loop(run_in_db, url, read)
    return text


@pytest.mark.parametrize(
    ("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")], ids=["desktop", "phone"]
)
def test_counsellor_refers_centre_books_student_gives_feedback(
    sqlite_backend: Backend, browser: Any, viewport: dict[str, int], label: str, tmp_path: Path
) -> None:
    url = fresh_city(sqlite_backend)
    axe = label == "desktop"
    page = _page(browser, viewport)
    with server(url, TUESDAY) as base:
        sign_in(page, base, "counsellor")
        page.get_by_role("link", name=re.compile("^转介")).click()
        expect(page.locator("h1")).to_contain_text("转介")
        page.get_by_role("link", name=re.compile("新建转介")).click()
        page.get_by_label("转介原因").select_option("school_refusal")
        page.get_by_role("button", name=re.compile("查找可转介的服务")).click()
        page.get_by_label(re.compile("测试区未成年人心理健康成长辅导中心")).check()
        page.get_by_label(re.compile("尽快")).check()
        page.get_by_label(re.compile("书面同意")).check()
        page.get_by_label("称呼").fill("小明")
        page.get_by_label("手机").fill("13812345678")
        _check(page, f"referral-new-{label}", axe=axe)
        page.get_by_role("button", name=re.compile("发送转介")).click()
        expect(page.locator(".flash")).to_contain_text("转介已发送")
        expect(page.locator(".status-line .referral-status")).to_contain_text("已发送")
        expect(page.locator(".contact")).to_contain_text("138****5678")
        _check(page, f"referral-sent-{label}", axe=axe)

        sign_in(page, base, "centre")
        page.goto(base + "/staff/referrals?side=in")
        expect(page.locator("tr.referral")).to_have_count(1)
        _check(page, f"referrals-in-{label}", axe=axe)
        page.locator("tr.referral a").first.click()
        page.get_by_label("转介名额时段").select_option(VISIT)
        _check(page, f"referral-accept-{label}", axe=axe)
        page.get_by_role("button", name=re.compile("^接收并预约")).click()
        expect(page.locator(".flash")).to_contain_text("已接收并预约")
        expect(page.locator(".booked-time")).to_have_text("2026-12-02 09:00")

        sign_in(page, base, "counsellor")
        page.goto(base + "/staff/referrals?side=out")
        page.locator("tr.referral a").first.click()
        expect(page.locator(".status-line .referral-status")).to_contain_text("已预约")
        # The referring service sees the progress, and nothing of the visit: not even when.
        assert page.locator(".booked-time").count() == 0
        assert page.get_by_role("button", name=re.compile("显示联系方式")).count() == 0
        _check(page, f"referral-booked-referrer-{label}", axe=axe)

    with server(url, WEDNESDAY) as base:
        sign_in(page, base, "centre")
        page.goto(base + "/staff/referrals?side=in")
        page.locator("tr.referral a").first.click()
        page.get_by_role("button", name=re.compile("^已到场")).click()
        expect(page.locator(".status-line .referral-status")).to_contain_text("已到场")
        _check(page, f"referral-attended-{label}", axe=axe)

        token = re.findall(r"/feedback/(\S+)", _sealed(url, NotificationKind.FEEDBACK_INVITE))[0]
        student = _page(browser, viewport)
        student.goto(f"{base}/feedback/{token}?lang=en")
        expect(student.locator("h1")).to_have_text("How was your visit?")
        _check(student, f"feedback-en-{label}", axe=axe)
        student.goto(f"{base}/feedback/{token}?lang=zh-CN")
        expect(student.locator("h1")).to_have_text("这次服务怎么样？")
        for name in (
            "到这里方便吗？",
            "等候时间可以接受吗？",
            "您感到被尊重吗？",
            "这次服务对您有帮助吗？",
        ):
            student.get_by_role("group", name=name).get_by_label("4").check()
        student.get_by_label(re.compile("还想说的")).fill("老师很耐心")
        _check(student, f"feedback-zh-{label}", axe=axe)
        student.get_by_role("button", name="提交").click()
        expect(student.locator("h1")).to_have_text("谢谢您的评价")
        _check(student, f"feedback-done-{label}", axe=axe)
        student.goto(f"{base}/feedback/{token}")
        assert student.locator("h1").inner_text() != "这次服务怎么样？"  # used once only
        assert page.script_errors == [] and student.script_errors == []
        student.context.close()
    page.context.close()


def test_the_resident_link_in_both_languages(sqlite_backend: Backend, browser: Any) -> None:
    url = fresh_city(sqlite_backend)
    with server(url, TUESDAY) as base:
        page = _page(browser, DESKTOP)
        sign_in(page, base, "counsellor")
        page.goto(base + "/staff/referrals/new?need=school_refusal")
        page.get_by_label(re.compile("测试区未成年人心理健康成长辅导中心")).check()
        page.get_by_label(re.compile("口头同意")).check()
        page.get_by_label("手机").fill("13812345678")
        page.get_by_role("button", name=re.compile("发送转介")).click()
        sign_in(page, base, "centre")
        page.goto(base + "/staff/referrals?side=in")
        page.locator("tr.referral a").first.click()
        page.get_by_role("button", name=re.compile("请居民自选时间")).click()
        expect(page.locator(".flash")).to_contain_text("已请居民选择时间")
        link = re.findall(r"(/referrals/\S+)", _sealed(url, NotificationKind.REFERRAL_INVITE))[0]
        for viewport, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
            resident = _page(browser, viewport)
            resident.goto(base + link + "&lang=en")
            expect(resident.locator("h1")).to_have_text("Your referral")
            _check(resident, f"referral-link-en-{label}", axe=label == "desktop")
            resident.goto(base + link + "&lang=zh-CN")
            expect(resident.locator("h1")).to_have_text("您的转介")
            _check(resident, f"referral-link-zh-{label}", axe=label == "desktop")
            resident.context.close()
        resident = _page(browser, PHONE)
        resident.goto(base + link)
        # Another day's tab is a link that keeps the resident's token in the address.
        resident.locator("nav.days a.day-tab").first.click()
        expect(resident.locator("nav.days .day-tab.current")).not_to_contain_text("今天")
        assert "token=" in resident.url
        choice = resident.locator("input[name=starts_at]").nth(1)
        picked = resident.locator(f"label[for='{choice.get_attribute('id')}']").inner_text()
        choice.check()
        resident.get_by_role("button", name="预约此时段").click()
        expect(resident.locator("h1")).to_contain_text("预约成功")
        expect(resident.locator(".status")).to_have_text("已预约")
        expect(resident.locator(".booked-time")).to_contain_text(picked.split("–")[0])
        _check(resident, "referral-link-booked-phone", axe=False)

    async def status() -> str:
        return (await Referral.all().first()).status.value  # type: ignore[union-attr]

    assert off_loop(run_in_db, url, status) == "booked"
