"""The referral and feedback pages as a browser submits them (#23), on both databases: who
may open a referral's page, a form that names the missing field, the referral seats form,
the resident's link and the feedback form in both languages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup, Tag

from resourcemap.booking.requests import new_token
from resourcemap.clock import FixedClock
from resourcemap.models import BookingPolicy, FeedbackToken, Notification, Referral
from resourcemap.referral import flow
from resourcemap.referral.requests import AcceptIn
from resourcemap.vocab import NotificationKind, Urgency
from tests.booking_helpers import NOW
from tests.factories import run_in_db
from tests.html_helpers import attr, one, text_of
from tests.referral_helpers import PHONE, green_city, ledger, referral_in
from tests.web.staff.test_language import english_chrome
from tests.web.staff.test_pages import browser_values, html, only_form, sign_in
from tests.web.test_english_pages import stray_chinese


def _world(database_url: str) -> dict[str, Any]:
    async def make() -> dict[str, Any]:
        ids = await green_city()
        led = ledger(database_url)
        made = await flow.create(led, ids["school_staff"], referral_in(ids), now=NOW)
        await flow.accept(led, ids["centre_staff"], made.id, AcceptIn(), now=NOW)
        row = await Referral.get(id=made.id)
        token = new_token()
        await FeedbackToken.create(
            digest=led.vault.digest(token), resource_id=ids["centre"], expires_on=NOW.date()
        )
        return {
            **ids,
            "referral": made.id,
            "code": row.code,
            "link": led.vault.open(row.token_enc),
            "feedback": token,
        }

    found: dict[str, Any] = run_in_db(database_url, make)
    return found


def test_only_the_two_services_open_a_referral_page(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    w = _world(database_url)
    page = f"/staff/referrals/{w['referral']}"
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "other")
        assert client.get(page).status_code == 404
        assert "小*" not in client.get("/staff/referrals").text
        sign_in(client, "planner")
        assert client.get(page).status_code == 403
        sign_in(client, "counsellor")
        soup = html(client.get(page))
        assert "已接收" in text_of(soup, ".status-line")
        assert PHONE not in str(soup) and "138****5678" in str(soup)
        assert soup.find("form", action=f"{page}/reveal") is None  # not the receiving side
        sign_in(client, "centre")
        soup = html(client.get(page))
        by, to = (dd.get_text(" ", strip=True) for dd in soup.select(".booking-facts dd")[:2])
        # The kind beside a name only where the name does not already say it.
        assert by == "东湖中学心理辅导室 (中小学心理辅导室)"
        assert to.startswith("测试区未成年人心理健康成长辅导中心") and "(" not in to
        shown = client.post(
            f"{page}/reveal", data=browser_values(only_form(soup, f"{page}/reveal"))
        )
        assert PHONE in shown.text and shown.headers["cache-control"] == "no-store"


def test_a_referral_form_names_what_is_missing(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    w = _world(database_url)
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "counsellor")
        soup = html(client.get("/staff/referrals/new?need=school_refusal"))
        form = soup.find("form", action="/staff/referrals/new", method="post")
        assert isinstance(form, Tag)
        values = browser_values(form)
        # An empty form names everything missing at once, the way to reach them too.
        empty = html(client.post("/staff/referrals/new", data=values))
        said = [e.get_text(strip=True) for e in empty.select(".has-error .field-error")]
        assert len(said) == 3 and "请填写手机号码或电子邮箱" in said[-1], said
        # A wrong e-mail and too long a note are named with the missing consent, not after.
        values["to_resource_id"], values["email"] = [str(w["centre"])], ["not-an-address"]
        values["reason"] = ["很长" * 300]
        several = html(client.post("/staff/referrals/new", data=values))
        wrong = {attr(e, "id") for e in several.select(".has-error .field-error")}
        assert {"err-consent", "err-email", "err-reason"} <= wrong, wrong
        values["email"], values["reason"] = [""], [""]
        values["phone"] = [PHONE]
        refused = client.post("/staff/referrals/new", data=values)
        assert refused.status_code == 400, refused.text[-1500:]
        assert "请记录居民如何同意转介" in text_of(html(refused), ".has-error .field-error")
        assert values["lang"] == [""], "the resident's language: not known unless asked"
        values["consent"], values["lang"] = ["spoken"], ["en"]
        sent = client.post("/staff/referrals/new", data=values, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"].startswith("/staff/referrals/")
    made = int(sent.headers["location"].rsplit("/", 1)[1])

    async def lang() -> str:
        return str((await Referral.get(id=made)).lang)

    assert run_in_db(database_url, lang) == "en"


def test_staff_find_a_partner_they_know_by_name_however_far(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """The list offers the nearest twenty that serve the need; a partner known by name may
    not be among them, and could not be chosen."""
    w = _world(database_url)
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "counsellor")
        asked = "/staff/referrals/new?need=school_refusal&named=成长辅导"
        soup = html(client.get(asked))
        names = [t.get_text(strip=True) for t in soup.select(".candidate strong")]
        assert names and all("成长辅导" in n for n in names), names
        assert attr(one(soup, "#f-named"), "value") == "成长辅导"
        assert one(soup, "form.referral-form input[name=named]")  # kept when it is sent
        ids = {attr(t, "data-id") for t in soup.select(".candidate")}
        assert str(w["centre"]) in ids
        # And the referral to it is sent (a service chosen by name answers the need too).
        posting = soup.find("form", action="/staff/referrals/new", method="post")
        assert isinstance(posting, Tag)
        values = browser_values(posting)
        values |= {"to_resource_id": [str(w["centre"])], "consent": ["spoken"]}
        values |= {"phone": [PHONE]}
        sent = client.post("/staff/referrals/new", data=values, follow_redirects=False)
        assert sent.status_code == 303, sent.status_code
        none = html(client.get("/staff/referrals/new?need=school_refusal&named=没有这家"))
        assert "没有名称中含“没有这家”且提供这类帮助的服务" in text_of(none, "#f-to_resource_id")


def test_referral_seats_are_set_on_the_booking_rules_page(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    w = _world(database_url)
    rules = f"/staff/resources/{w['centre']}/booking"
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "centre")
        soup = html(client.get(rules))
        feedback = client.get(f"/staff/resources/{w['centre']}/feedback")
        assert soup.find("a", href=f"/staff/resources/{w['centre']}/feedback") is not None
        assert "共 0 份评价" in text_of(html(feedback), ".count")
        form = only_form(soup, f"/staff/resources/{w['centre']}/referral-seats")
        values = browser_values(form) | {"referral_seats": ["2"]}
        saved = client.post(f"/staff/resources/{w['centre']}/referral-seats", data=values)
        assert "转介名额已设为 2" in saved.text
        sign_in(client, "counsellor")  # not the centre's staff
        refused = client.post(f"/staff/resources/{w['centre']}/referral-seats", data=values)
        assert refused.status_code in (403, 404)

    async def seats() -> int:
        return int((await BookingPolicy.get(resource_id=w["centre"])).referral_seats)

    assert run_in_db(database_url, seats) == 2


def test_the_resident_link_and_the_feedback_form_in_both_languages(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    w = _world(database_url)
    link = f"/referrals/{w['code']}?token={w['link']}"
    with make_client(database_url, run_worker=False) as client:
        en = html(client.get(link + "&lang=en"))
        assert text_of(en, "h1") == "Your referral" and "District Minors" in str(en)
        zh = html(client.get(link + "&lang=zh-CN"))
        assert text_of(zh, "h1") == "您的转介"
        assert zh.select("input[name=starts_at]"), "the resident can pick a time"
        assert client.get(f"/referrals/{w['code']}?token=wrong").status_code == 404
        form = html(client.get(f"/feedback/{w['feedback']}?lang=en"))
        assert text_of(form, "h1") == "How was your visit?"
        values = browser_values(only_form(form, f"/feedback/{w['feedback']}"))
        missing = client.post(f"/feedback/{w['feedback']}", data=values)
        assert missing.status_code == 400 and "score" in missing.text
        values |= {"reach": ["4"], "wait": ["4"], "respected": ["5"], "helped": ["5"]}
        done = client.post(f"/feedback/{w['feedback']}", data=values)
        assert done.status_code == 200 and "Thank you" in text_of(html(done), "h1")
        reopened = client.get(f"/feedback/{w['feedback']}")
        assert reopened.status_code == 404
        # Said for what it is, not "page not found": used (or expired), and thanks.
        assert text_of(html(reopened), "h1") == "This feedback link cannot be used"
        assert "If you have answered, thank you" in reopened.text
        again = client.post(f"/feedback/{w['feedback']}", data=values)
        assert again.status_code == 404 and "cannot be used" in again.text


def test_referral_and_feedback_pages_are_in_one_language(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """Staff referral pages, the revealed contact and a service's feedback: English chrome
    only in English (service names without English stay Chinese, marked), Chinese only in
    Chinese."""
    w = _world(database_url)
    detail = f"/staff/referrals/{w['referral']}"
    paths = (
        "/staff/referrals",
        "/staff/referrals/new",
        "/staff/referrals/new?need=school_refusal",
        detail,
        f"/staff/resources/{w['centre']}/feedback",
    )
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "centre")
        pages: dict[str, dict[str, str]] = {}
        for lang in ("en", "zh-CN"):
            client.get("/staff", params={"lang": lang})
            pages[lang] = {path: client.get(path).text for path in paths}
            reveal = only_form(html(client.get(detail)), f"{detail}/reveal")
            pages[lang]["contact"] = client.post(
                f"{detail}/reveal", data=browser_values(reveal)
            ).text
    for path, text in pages["en"].items():
        page = BeautifulSoup(text, "html.parser")
        assert page.select('small[lang="en"]') == [], path
        for said_by_resident in page.select(".contact, .nickname, .note, .comment"):
            said_by_resident.decompose()  # a resident's own words are data
        assert stray_chinese(str(page)) == [], path
    for path, text in pages["zh-CN"].items():
        page = BeautifulSoup(text, "html.parser")
        assert page.select('small[lang="en"]') == [], path
        assert english_chrome(page) == [], path
    zh_detail = BeautifulSoup(pages["zh-CN"][detail], "html.parser")
    assert "紧急程度" in text_of(zh_detail, ".booking-facts")
    en_list = BeautifulSoup(pages["en"]["/staff/referrals"], "html.parser")
    assert "Referrals (green channel)" in text_of(en_list, "h1")


def test_declining_asks_for_a_reason_and_the_button_reads(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """No reason is chosen for staff (one click declined with "no places", the first in the
    list); the form sent as the browser would is refused until one is, and nothing changes."""
    w = _world(database_url)
    page = f"/staff/referrals/{w['referral']}"
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "centre")
        soup = html(client.get(page))
        form = only_form(soup, f"{page}/decline")
        assert form.select("select[name=reason] option")[0].get("value") == ""
        refused = client.post(f"{page}/decline", data=browser_values(form))
        assert refused.status_code == 400 and "请选择" in refused.text
        # Said at the top, where the answer opens, and what was typed kept.
        values = browser_values(form) | {"note": ["已电话告知居民"]}
        again = html(client.post(f"{page}/decline", data=values))
        assert attr(one(again, ".error-summary-list a"), "href") == "#f-decline"
        assert attr(one(again, "#f-note"), "value") == "已电话告知居民"
        assert "已接收" in text_of(html(client.get(page)), ".status-line")
        css = client.get("/static/staff.css").text
        assert "button.danger, .button.danger { background: #fff; color: #8a1c12" in css


def test_the_resident_picks_a_day_at_a_time_and_only_the_service_moves_the_visit(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """The resident's link shows the cost and one day's times with the days as tabs (two
    weeks of times on one page put the button 3,000 px down on a phone); a tab shows that
    day without booking; no time chosen is said; once booked, the visit's page is linked,
    and it offers cancelling, not a move that only the service can make."""
    w = _world(database_url)
    link = f"/referrals/{w['code']}?token={w['link']}"
    action = f"/referrals/{w['code']}/pick"
    with make_client(database_url, run_worker=False) as client:
        en = html(client.get(link + "&lang=en"))
        assert text_of(en, ".cost") == "Free"
        zh = html(client.get(link + "&lang=zh-CN"))
        assert text_of(zh, ".cost") == "免费"
        tabs = zh.select("nav.days .day-tab")
        first_day = zh.select("input[name=starts_at]")
        # Today's times from the service's notice on (2 hours: 10:00 and 11:00 at 08:00).
        assert [i["value"][11:16] for i in first_day] == ["10:00", "11:00"]
        assert len(tabs) >= 5, "one day's times, the other days as tabs"
        other = tabs[1]
        assert "token=" in str(other["href"]), "a tab keeps the resident's key"
        shown = client.get(str(other["href"]))
        page = html(shown)
        assert shown.status_code == 200 and "已接收" in text_of(page, ".status")
        assert text_of(page, ".day-tab.current") == other.get_text(strip=True)
        times = [i["value"] for i in page.select("input[name=starts_at]")]
        assert times and not set(times) & {i["value"] for i in first_day}
        unchosen = client.post(action, data=browser_values(only_form(page, action)))
        kept = html(unchosen)
        assert unchosen.status_code == 400 and "请选择一个时间" in text_of(kept, ".field-error")
        assert text_of(kept, ".day-tab.current") == other.get_text(strip=True)
        values = browser_values(only_form(kept, action)) | {"starts_at": [times[0]]}
        booked = html(client.post(action, data=values))
        assert "预约成功" in text_of(booked, "h1")
        assert "已预约" in text_of(booked, ".status") and text_of(booked, ".reference")
        assert not booked.select("input[name=starts_at]")
        visit = booked.select_one("a[href^='/bookings/']")
        assert visit is not None
        manage = html(client.get(str(visit["href"])))
        assert "通过转介安排" in text_of(manage, ".referral-time")
        assert "0755-20000009" in text_of(manage, ".referral-time")
        code = str(visit["href"]).split("?")[0].rsplit("/", 1)[1]
        assert manage.find("form", action=f"/bookings/{code}/reschedule") is None
        cancel = manage.find("form", action=f"/bookings/{code}/cancel")
        assert isinstance(cancel, Tag)
        # A move sent anyway (an old page) is refused with what to do, not a picker.
        moved = client.post(f"/bookings/{code}/reschedule", data=browser_values(cancel))
        assert moved.status_code == 409
        assert "只能由服务机构更改" in text_of(html(moved), ".error-summary")
        # It can be cancelled, and says so without "change": the resident cancels.
        policy = text_of(manage, ".policy")
        assert "之前可在线取消" in policy and "更改" not in policy
        sure = html(client.post(f"/bookings/{code}/cancel", data=browser_values(cancel)))
        confirm = sure.find("form", action=f"/bookings/{code}/cancel")
        assert isinstance(confirm, Tag)
        client.post(f"/bookings/{code}/cancel", data=browser_values(confirm))
        after = html(client.get(link))
        assert "您已取消这次预约" in text_of(after, ".visit-cancelled")
        assert "0755-20000009" in text_of(after, ".visit-cancelled")
        assert after.select(".booked-time s") and not after.select("a[href^='/bookings/']")
        sign_in(client, "centre")
        staff = html(client.get(f"/staff/referrals/{w['referral']}"))
        assert "居民已取消" in text_of(staff, ".booked-time")


def test_a_referral_waiting_for_an_answer_is_said_on_every_staff_page(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """The receiving staff see arrived referrals where they start (their listings) and
    beside "Referrals" on every page, urgent ones marked, until they answer; the referring
    staff see none waiting. With no referral seats, the referral says where they are set."""
    w = _world(database_url)

    async def send_two() -> list[int]:
        led = ledger(database_url)
        made = [
            await flow.create(led, w["school_staff"], referral_in(w, urgency=u), now=NOW)
            for u in (Urgency.URGENT, Urgency.ROUTINE)
        ]
        await BookingPolicy.filter(resource_id=w["centre"]).update(referral_seats=0)
        return [m.id for m in made]

    urgent, routine = run_in_db(database_url, send_two)
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "centre")
        home = html(client.get("/staff"))
        said = " ".join(text_of(home, ".referral-notice").split())
        assert said == "待您答复的转介：2 个，其中紧急 1 个 去处理"
        badge = home.select_one("nav.staff-bar a.waiting")
        assert badge is not None and badge["href"] == "/staff/referrals?side=in"
        count = one(badge, ".count-badge")
        assert count.get_text() == "2" and "urgent" in (count.get("class") or [])
        bookings = html(client.get("/staff/bookings"))
        assert "2 个待您答复" in text_of(bookings, "nav.staff-bar a.waiting")
        # Urgent, on the receiving side: call the resident (not the service's own number).
        urgent_page = html(client.get(f"/staff/referrals/{urgent}"))
        call = one(urgent_page, ".call-now")
        assert "请立即致电居民" in call.get_text() and "0755-20000009" not in call.get_text()
        # One way to the contact details: the banner's (the page had a second one below).
        reveal = f"form[action='/staff/referrals/{urgent}/reveal']"
        assert urgent_page.select(reveal) == call.select(reveal) != []
        routine_reveal = f"form[action='/staff/referrals/{routine}/reveal']"
        assert len(html(client.get(f"/staff/referrals/{routine}")).select(routine_reveal)) == 1
        # No referral seats: said with the way to set them.
        detail = html(client.get(f"/staff/referrals/{routine}"))
        assert "近两周没有空余的转介名额" in text_of(detail, ".no-seats")
        rules = detail.select_one(".no-seats a")
        assert rules is not None
        assert rules["href"] == f"/staff/resources/{w['centre']}/booking#referral-seats"
        target = html(client.get(str(rules["href"]).split("#")[0]))
        assert target.find(id="referral-seats") is not None
        for rid in (urgent, routine):
            page = f"/staff/referrals/{rid}"
            accept = only_form(html(client.get(page)), f"{page}/accept")
            assert client.post(f"{page}/accept", data=browser_values(accept)).status_code == 200
        home = html(client.get("/staff"))
        assert home.select(".referral-notice, nav.staff-bar a.waiting") == []
        sign_in(client, "counsellor")  # the referring side: nothing waits for them
        assert html(client.get("/staff")).select(".referral-notice") == []


def test_the_receiving_service_sends_the_resident_their_link_again(
    database_url: str, make_client: Callable[..., Any], clock: FixedClock
) -> None:
    """A resident who lost the text gets the link again on the receiving staff's word, not
    twice within ten minutes (a text costs and annoys); the referring side cannot."""
    w = _world(database_url)
    page = f"/staff/referrals/{w['referral']}"
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "counsellor")
        assert html(client.get(page)).find("form", action=f"{page}/resend") is None
        sign_in(client, "centre")
        form = only_form(html(client.get(page)), f"{page}/resend")
        too_soon = client.post(f"{page}/resend", data=browser_values(form))
        assert too_soon.status_code == 409 and "不到 10 分钟" in too_soon.text
        clock.advance(minutes=11)
        form = only_form(html(client.get(page)), f"{page}/resend")
        sent = client.post(f"{page}/resend", data=browser_values(form))
        assert sent.status_code == 200 and "已重新发送链接至 138****5678" in sent.text

    async def invites() -> int:
        return await Notification.filter(kind=NotificationKind.REFERRAL_INVITE).count()

    assert run_in_db(database_url, invites) == 2, "the first one and the one sent again"


def test_the_referring_service_is_told_of_a_decline_where_it_starts(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    """A declined referral leaves the resident without help until the referring service
    finds another: it had to open the list to learn of it. Only the referring side closes
    it (the receiving side closing it would end the notice)."""
    w = _world(database_url)

    async def sent() -> int:
        made = await flow.create(ledger(database_url), w["school_staff"], referral_in(w), now=NOW)
        return made.id

    fresh = run_in_db(database_url, sent)
    page = f"/staff/referrals/{fresh}"
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "counsellor")
        assert html(client.get("/staff")).select_one(".referral-notice.declined") is None
        sign_in(client, "centre")
        form = only_form(html(client.get(page)), f"{page}/decline")
        declined = client.post(
            f"{page}/decline",
            data=browser_values(form) | {"reason": ["no_capacity"]},
            follow_redirects=False,
        )
        assert declined.status_code == 303
        assert html(client.get(page)).find("form", action=f"{page}/close") is None
        sign_in(client, "counsellor")
        notice = one(html(client.get("/staff")), ".referral-notice.declined")
        assert "您转出的转介被对方婉拒：1 个" in notice.get_text()
        listed = html(client.get(attr(one(notice, "a"), "href")))
        assert "仅显示：已婉拒" in text_of(listed, ".filter-line")
        assert len(listed.select("tbody tr")) == 1
        # Closed by the referring side once the resident has other help: the notice goes.
        closing = only_form(html(client.get(page)), f"{page}/close")
        client.post(f"{page}/close", data=browser_values(closing))
        assert html(client.get("/staff")).select_one(".referral-notice.declined") is None
