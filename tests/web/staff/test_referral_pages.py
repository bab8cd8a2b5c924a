"""The new-referral page's services to refer to (#23), on both databases, as a staff member
referring a pupil from a community room reads them: the public minors' centres first, each
service with its distance and who may use it, school rooms for their own pupils left out
and counted, or shown after the others with who they serve."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bs4 import BeautifulSoup, Tag

from tests.factories import run_in_db
from tests.html_helpers import attr, one, text_of
from tests.referral_helpers import PHONE, SCHOOL_NOTE, crowded_city
from tests.web.staff.test_pages import browser_values, html, sign_in
from tests.web.test_english_pages import stray_chinese


def _offered(soup: BeautifulSoup) -> list[tuple[int, str, Tag]]:
    """Each service to refer to: its id, what its label says, and the label."""
    return [
        (int(attr(label, "data-id")), label.get_text(" ", strip=True), label)
        for label in soup.select("label.candidate")
    ]


def _new(ids: dict[str, Any], **extra: str) -> str:
    query = {"from_resource_id": ids["kangle"], "need": "school_refusal", **extra}
    return f"/staff/referrals/new?{urlencode(query)}"


def test_a_referral_for_school_refusal_offers_the_public_minors_centres_with_distances(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, crowded_city)
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "other")
        soup = html(client.get(_new(ids)))
        offered = _offered(soup)
        assert len(offered) == 20
        (centre, said, label), (second, _, _) = offered[:2]
        assert (centre, second) == (ids["centre"], ids["second_centre"])
        assert said.startswith("测试区未成年人心理健康成长辅导中心")
        assert text_of(label, ".distance") == "5.8公里"
        assert text_of(label, ".eligibility") == "对公众开放"
        assert text_of(label, ".dedicated") == "专门服务此类需求"
        assert text_of(label, ".cost") == "免费", "a resident told the cost before they go"
        # The centre keeps referral seats (a time through the green channel); others do not.
        assert text_of(label, ".seats") == "有转介名额"
        assert sum(1 for _i, _s, each in offered if each.select(".seats")) == 1
        assert "距离为到康乐社区心理咨询室的直线距离" in text_of(soup, "fieldset .hint")
        # Every service says how far and who may use it; the nearer general ones follow.
        for _id, _said, each in offered:
            assert re.fullmatch(r"\d+(\.\d)?(公里|米)", text_of(each, ".distance"))
            assert text_of(each, ".eligibility")
        near = next(each for i, _s, each in offered if i == ids["local_here"])
        assert text_of(near, ".distance") == "550米"
        assert text_of(near, ".eligibility") == "仅限辖区居民"
        # No school room for its own pupils among them; how many were left out is said.
        shown = {i for i, _s, _l in offered}
        assert not shown & {*ids["schools"], ids["school"], ids["local_there"]}
        assert soup.select(".members-only") == []
        left_out = one(soup, ".members-only-left-out")
        assert "另有 14 处仅限本机构人员使用" in left_out.get_text()

        # Asked for, the nearest of them follow the others, each with who it serves.
        soup = html(client.get(attr(one(left_out, "a"), "href")))
        offered = _offered(soup)
        assert [i for i, _s, _l in offered[:20]] == shown_in_order(ids)
        members = offered[20:]
        assert len(members) == 10
        assert all("members-only" in attr(each, "class").split() for _i, _s, each in members)
        assert text_of(members[0][2], ".eligibility") == SCHOOL_NOTE
        assert text_of(members[0][2], ".distance") == "100米"
        assert "居民属于其服务对象时才可转介" in text_of(soup, ".members-only-head")
        assert one(soup, ".members-only-left-out").find("a") is None

        # The choice goes on to a referral as before.
        form = soup.find("form", action="/staff/referrals/new", method="post")
        assert isinstance(form, Tag)
        values = browser_values(form)
        assert values["eligible"] == ["all"]
        values.update(to_resource_id=[str(ids["centre"])], consent=["spoken"], phone=[PHONE])
        sent = client.post("/staff/referrals/new", data=values, follow_redirects=False)
        assert sent.status_code == 303, sent.text[-1500:]


def shown_in_order(ids: dict[str, Any]) -> list[int]:
    """The twenty services the page offers by default, in order."""
    return [ids["centre"], ids["second_centre"], ids["local_here"], *ids["public"][:17]]


def test_the_services_to_refer_to_in_english(
    database_url: str, make_client: Callable[..., Any]
) -> None:
    ids = run_in_db(database_url, crowded_city)
    with make_client(database_url, run_worker=False) as client:
        sign_in(client, "other")
        client.get("/staff", params={"lang": "en"})
        response = client.get(_new(ids, eligible="all"))
        soup = html(response)
        offered = _offered(soup)
        assert [i for i, _s, _l in offered[:20]] == shown_in_order(ids)
        label = offered[0][2]
        assert text_of(label, ".distance") == "5.8 km"
        assert text_of(label, ".eligibility") == "Open to the public"
        assert text_of(label, ".dedicated") == "Specialises in this need"
        near = next(each for i, _s, each in offered if i == ids["local_here"])
        assert text_of(near, ".eligibility") == "Local residents only"
        school = offered[20][2]
        assert text_of(school, ".eligibility") == "Pupils of this school and their parents only"
        assert text_of(school, ".distance") == "100 m"
        assert "Left out as only for their own members" in text_of(soup, ".members-only-left-out")
        assert stray_chinese(response.text) == []
