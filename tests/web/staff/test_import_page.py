"""The bulk import page: upload a file through the staff form, read the report as HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from starlette.testclient import TestClient

from resourcemap import accounts
from resourcemap.clock import FixedClock
from resourcemap.models import Organisation, Resource
from resourcemap.vocab import Role
from tests.conftest import TEST_NOW, make_settings
from tests.factories import run_in_db
from tests.html_helpers import attr, one
from tests.transfer_helpers import CORPUS, EAST, GOOD_ROWS, city_areas, csv_bytes, folder_zip
from web.app import create_app

PASSWORD = "correct-horse-9"
PAYLOAD = "<script>alert(1)</script>"


async def _people() -> None:
    own = await city_areas()
    other = await Organisation.create(name_zh="别家机构", type="ngo")
    theirs = await Resource.create(
        kind="community_room", name_zh="别家的室", external_id="theirs", lat=22.7, lon=114.0
    )
    theirs.organisation_id = other.id
    await theirs.save()
    for username, role, org in (
        ("admin", Role.ADMIN, None),
        ("staff", Role.STAFF, own),
        ("planner", Role.PLANNER, None),
    ):
        await accounts.create_account(
            None, username=username, password=PASSWORD, role=role, organisation_id=org
        )


@pytest.fixture
def url(database_url: str) -> str:
    run_in_db(database_url, _people)
    return database_url


@contextmanager
def import_client(database_url: str) -> Iterator[TestClient]:
    """The real app, following listing changes on every search."""
    app = create_app(
        make_settings(database_url, search_follow_seconds=0), clock=FixedClock(TEST_NOW)
    )
    with TestClient(app) as client:
        yield client


def html(response: Any) -> BeautifulSoup:
    assert response.headers["content-type"].startswith("text/html"), response.text
    return BeautifulSoup(response.text, "html.parser")


def csrf_of(soup: BeautifulSoup) -> str:
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert isinstance(field, Tag)
    return str(field["value"])


def sign_in(client: TestClient, username: str) -> None:
    token = csrf_of(html(client.get("/login?next=/staff")))
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/staff"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def upload(
    client: TestClient,
    data: bytes,
    *,
    dry_run: bool,
    csrf: str | None = "from-page",
    filename: str = "rooms.csv",
    kind: str = "",
) -> Any:
    page = html(client.get("/staff/import"))
    form = page.find("form", action="/staff/import")
    assert isinstance(form, Tag) and form.get("enctype") == "multipart/form-data"
    fields = {"coords": "wgs84", "kind": kind}
    if dry_run:
        fields["dry_run"] = "1"
    if csrf == "from-page":
        fields["csrf_token"] = csrf_of(page)
    elif csrf is not None:
        fields["csrf_token"] = csrf
    return client.post(
        "/staff/import",
        data=fields,
        files={"file": (filename, data, "text/csv")},
        follow_redirects=False,
    )


def summary(soup: BeautifulSoup) -> str:
    line = soup.find(class_="summary")
    assert isinstance(line, Tag), soup
    return " ".join(line.get_text().split())


def problems(soup: BeautifulSoup) -> list[tuple[str, str, str]]:
    return [
        tuple(td.get_text(strip=True) for td in tr.find_all("td"))  # type: ignore[misc]
        for tr in soup.select("table.problems tbody tr")
    ]


def count(client: TestClient, q: str) -> int:
    total: int = client.get("/api/v1/search", params={"q": q}).json()["total"]
    return total


def test_form_offers_file_coords_dry_run_and_the_list_links_to_it(url: str) -> None:
    with import_client(url) as client:
        sign_in(client, "staff")
        listing = html(client.get("/staff"))
        link = listing.find("a", href="/staff/import")
        assert isinstance(link, Tag) and "批量导入" in link.get_text()
        soup = html(client.get("/staff/import"))
        file_input = soup.find("input", attrs={"name": "file"})
        assert isinstance(file_input, Tag) and file_input["type"] == "file"
        assert file_input["accept"] == ".csv,.xlsx,.geojson,.json,.zip"
        coords = soup.find("select", attrs={"name": "coords"})
        assert isinstance(coords, Tag)
        options = [o["value"] for o in coords.find_all("option")]
        assert options == ["wgs84", "gcj02", "bd09"]
        assert attr(one(coords, "option[selected]"), "value") == "wgs84"
        dry = soup.find("input", attrs={"name": "dry_run"})
        assert isinstance(dry, Tag) and dry.has_attr("checked")
        assert "external_id" in soup.get_text() and "name_zh" in soup.get_text()


def test_dry_run_writes_nothing_then_import_is_searchable(url: str) -> None:
    with import_client(url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        dry = upload(client, csv_bytes(*GOOD_ROWS), dry_run=True)
        assert dry.status_code == 200, dry.text
        line = summary(html(dry))
        assert (
            "Rows read: 2, would be created: 2, would be updated: 0, unchanged: 0, rejected: 0"
        ) in line
        assert "dry run: nothing written" in line
        assert count(client, "东湖") == 0

        done = upload(client, csv_bytes(*GOOD_ROWS), dry_run=False)
        assert done.status_code == 200, done.text
        soup = html(done)
        assert "Rows read: 2, created: 2" in summary(soup) and "dry run" not in summary(soup)
        assert not problems(soup)
        found = client.get("/api/v1/search", params={"q": "东湖社区心理咨询室"}).json()
        assert [item["name_zh"] for item in found["items"]][:1] == ["东湖社区心理咨询室"]


def test_bad_row_shows_row_column_reason_escaped_and_writes_nothing(url: str) -> None:
    bad = f"room-9,castle,{PAYLOAD},,counselling,22.70,114.00,{EAST},,"
    with import_client(url) as client:
        sign_in(client, "admin")
        client.cookies.set("rm_lang", "en")  # the validator's words are shown in English only
        response = upload(client, csv_bytes(GOOD_ROWS[0], bad), dry_run=False)
        assert response.status_code == 400, response.text
        assert PAYLOAD not in response.text  # escaped wherever it appears
        soup = html(response)
        assert "rejected: 1" in summary(soup) and "nothing was written" in summary(soup)
        rows = problems(soup)
        assert any(row == "3" and column == "kind" and reason for row, column, reason in rows)
    assert run_in_db(url, lambda: Resource.filter(external_id="room-1").count()) == 0


def test_staff_cannot_import_another_organisations_listing(url: str) -> None:
    row = f"theirs,community_room,改名的室,,,22.70,114.00,{EAST},,"
    with import_client(url) as client:
        sign_in(client, "staff")
        response = upload(client, csv_bytes(GOOD_ROWS[1], row), dry_run=False)
        assert response.status_code == 400, response.text
        rows = problems(html(response))
        assert any(
            (r, c) == ("3", "external_id") and "是其他机构的资源" in reason for r, c, reason in rows
        ), rows
    names = run_in_db(url, lambda: Resource.all().values_list("name_zh", flat=True))
    assert set(names) == {"别家的室"}


def test_csrf_token_is_required(url: str) -> None:
    with import_client(url) as client:
        sign_in(client, "staff")
        for token in (None, "wrong-token"):
            response = upload(client, csv_bytes(*GOOD_ROWS), dry_run=False, csrf=token)
            assert response.status_code == 403, response.text
            assert "页面已过期" in html(response).get_text()
    assert run_in_db(url, lambda: Resource.filter(external_id="room-1").count()) == 0


def test_planner_gets_403_and_anonymous_goes_to_login(url: str) -> None:
    with import_client(url) as client:
        response = client.get("/staff/import", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        sign_in(client, "planner")
        response = client.get("/staff/import")
        assert response.status_code == 403
        assert "没有权限" in html(response).get_text()


def test_file_larger_than_20_mb_is_refused(url: str) -> None:
    big = csv_bytes(*GOOD_ROWS) + b"x" * (20 * 1024 * 1024 + 1)
    with import_client(url) as client:
        sign_in(client, "admin")
        response = upload(client, big, dry_run=True)
        assert response.status_code == 413
        assert "20 MB" in html(response).get_text()


# Rows each wrong in one way staff often are: a kind nobody knows, hours without times, an
# area code that does not exist, an external_id given twice, a phone with letters.
WRONG_ROWS = [
    f"room-7,castle,城堡室,,counselling,22.70,114.00,{EAST},,",
    f"room-8,community_room,八号室,,counselling,22.70,114.00,{EAST},周一至周五,",
    "room-9,community_room,九号室,,counselling,22.70,114.00,449999999999,,",
    f"room-9,community_room,九号室二,,counselling,22.70,114.00,{EAST},,",
    f"room-10,community_room,十号室,,counselling,22.70,114.00,{EAST},,call me",
]


def test_import_refusals_are_in_chinese_on_the_chinese_page(url: str) -> None:
    with import_client(url) as client:
        sign_in(client, "staff")
        response = upload(client, csv_bytes(*WRONG_ROWS), dry_run=True)
        assert response.status_code == 400, response.text
        soup = html(response)
        head = [th.get_text(strip=True) for th in soup.select("table.problems th")]
        assert head == ["行", "列", "原因"]
        reasons = {(r, c): reason for r, c, reason in problems(soup)}
        assert "'castle' 不是可用的代码" in reasons[("2", "kind")]
        assert "没有写开放时间" in reasons[("3", "hours")]
        assert "没有区划代码为 '449999999999' 的区域" in reasons[("4", "community_code")]
        assert "与第 4 行的 external_id 重复" in reasons[("5", "external_id")]
        assert "电话号码由数字" in reasons[("6", "phone")]
        for reason in reasons.values():
            # No English sentence is left: what remains in Latin letters is codes and values.
            for word in ("is not", "required", "give ", "should", "Input", "no "):
                assert word not in reason, reason


def test_import_refusals_are_in_english_on_the_english_page(url: str) -> None:
    with import_client(url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")
        soup = html(upload(client, csv_bytes(*WRONG_ROWS), dry_run=True))
        head = [th.get_text(strip=True) for th in soup.select("table.problems th")]
        assert head == ["Row", "Column", "Reason"]
        reasons = {(r, c): reason for r, c, reason in problems(soup)}
        assert "'castle' is not a known code" in reasons[("2", "kind")]
        assert "has no opening times" in reasons[("3", "hours")]
        assert "'449999999999' is not a known area code" in reasons[("4", "community_code")]
        assert "is also the external_id of row 4" in reasons[("5", "external_id")]
        # Chinese only inside the examples the sentences quote (周一, 转123).
        plain = [re.sub(r"'[^']*'|\([^)]*\)", "", r) for r in reasons.values()]
        assert not any(re.search(r"[\u4e00-\u9fff]", r) for r in plain), plain


OVERLAPPING_HOURS = (
    f"room-11,community_room,十一号室,,counselling,22.70,114.00,{EAST},"
    "周一 09:00-12:00; 周一 11:00-13:00,"
)
HSDS_BAD_TIME = (
    b'[{"id": "s1", "name": "Room", "schedules": '
    b'[{"freq": "WEEKLY", "byday": "MO", "opens_at": "25:00", "closes_at": "12:00"}, '
    b'{"freq": "MONTHLY", "opens_at": "09:00", "closes_at": "12:00"}]}]'
)


def _reasons(client: TestClient, data: bytes, filename: str) -> list[str]:
    """The reasons of the problems table, then the notes below it."""
    response = upload(client, data, dry_run=True, filename=filename)
    assert response.status_code == 400, response.text
    page = html(response)
    notes = [li.get_text(strip=True) for li in page.select(".import-notes li")]
    return [reason for _row, _column, reason in problems(page)] + notes


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_hours_hsds_and_unreadable_file_refusals_follow_the_language(url: str, lang: str) -> None:
    with import_client(url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", lang)
        hours = _reasons(client, csv_bytes(OVERLAPPING_HOURS), "rooms.csv")
        hsds = _reasons(client, HSDS_BAD_TIME, "services.json")
        unreadable = _reasons(client, b'{"id": ', "services.json")
    if lang == "en":
        assert any(r.startswith("Mon: intervals overlap") for r in hours), hours
        assert any("'25:00' is not a time of day" in r for r in hsds), hsds
        assert any("a MONTHLY schedule is not kept" in r for r in hsds), hsds
        assert unreadable == ["not valid JSON (line 1, column 8)"]
        return
    assert any(r.startswith("周一：时段重叠") for r in hours), hours
    assert any("'25:00' 不是一天中的时间" in r for r in hsds), hsds
    assert any("MONTHLY 时间表未保留" in r for r in hsds), hsds
    assert unreadable == ["不是有效的 JSON（第 1 行，第 8 列）"]
    # No English sentence is left: what remains in Latin letters is codes and values.
    for reason in hours + hsds + unreadable:
        plain = re.sub(
            r"'[^']*'|\w+\[\d+\]|\b[a-z_]+\.\w+|\b[a-z]+_[a-z_]+\b|\b[A-Z]+\b", "", reason
        )
        assert not re.search(r"[A-Za-z]{3,}", plain), reason


FOREIGN_HSDS = (
    b'[{"id": "svc-1", "name": "Open Door Counselling", "description": "Talk to someone", '
    b'"phones": [{"number": "0755-2000 0001"}], "service_at_locations": [{"location": '
    b'{"id": "loc-1", "latitude": 22.71, "longitude": 114.01}}]}]'
)


def test_foreign_hsds_records_get_the_kind_chosen_on_the_page(url: str) -> None:
    """Another directory's HSDS names no kind of ours: without one chosen, the file is
    refused saying so; the page offers the kind (as the command line's --kind does), and
    with it chosen the record passes."""
    with import_client(url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")
        form = html(client.get("/staff/import"))
        kinds = [attr(o, "value") for o in form.select("select[name=kind] option")]
        assert kinds[0] == "" and "licensed_agency" in kinds
        without = upload(client, FOREIGN_HSDS, dry_run=True, filename="services.json")
        assert without.status_code == 400
        asked = html(without)
        assert any("give the kind of the file's listings" in r for *_, r in problems(asked))
        # The page says what to do, and where: the kind's own field, marked.
        assert "No row is at fault" in summary(asked)
        assert "nothing was written" not in summary(asked)  # "dry run: nothing written" says it
        assert attr(one(asked, ".asks-kind a"), "href") == "#f-kind"
        assert attr(one(asked, "select#f-kind"), "aria-invalid") == "true"
        assert "choose it here" in one(asked, "#err-kind").get_text()
        chosen = upload(
            client, FOREIGN_HSDS, dry_run=True, filename="services.json", kind="licensed_agency"
        )
        page = html(chosen)
        assert chosen.status_code == 200, [p for p in problems(page)]
        assert "would be created: 1" in summary(page)
        kept = one(page, "select[name=kind] option[selected]")
        assert attr(kept, "value") == "licensed_agency", "the choice stays for the real run"
        done = upload(
            client, FOREIGN_HSDS, dry_run=False, filename="services.json", kind="licensed_agency"
        )
        assert done.status_code == 200
        written = html(done)
        assert "Written: every listing of the file is saved." in summary(written)
        assert attr(one(written, ".summary a"), "href") == "/staff"

    async def made() -> tuple[str, str, str]:
        found = await Resource.get(external_id="svc-1")
        return found.kind, found.name_en, found.description_en

    # Written in English: English pages show it as English, not marked "(in Chinese)".
    assert run_in_db(url, made) == ("licensed_agency", "Open Door Counselling", "Talk to someone")


def test_the_listings_page_links_its_exports(url: str) -> None:
    """Staff get their listings back as files from their page (only the API and the command
    line had them): the organisation's own, in the columns the import reads."""
    with import_client(url) as client:
        sign_in(client, "staff")
        links = {
            a.get_text(strip=True): attr(a, "href")
            for a in html(client.get("/staff")).select(".exports a")
        }
        assert set(links) == {"XLSX", "CSV", "HSDS JSON", "GeoJSON"}
        got = client.get(links["CSV"])
        assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
        text = got.content.decode("utf-8-sig")
        assert text.splitlines()[0].startswith("external_id,"), "the import's own columns"
        assert "别家的室" not in text, "another organisation's"


def test_a_place_outside_every_area_is_said_not_silently_kept(url: str) -> None:
    """A record of another city's directory (New York, here) imports, and the report says
    its point lies outside every area: it would count in no area and rank by distance."""
    far = FOREIGN_HSDS.replace(b"22.71", b"40.71").replace(b"114.01", b"-74.01")
    with import_client(url) as client:
        sign_in(client, "staff")
        client.cookies.set("rm_lang", "en")
        near = html(
            upload(client, FOREIGN_HSDS, dry_run=True, filename="s.json", kind="counsellor")
        )
        away = html(upload(client, far, dry_run=True, filename="s.json", kind="counsellor"))
    said = [li.get_text(" ", strip=True) for li in away.select(".import-notes li")]
    assert any("outside every area loaded" in s for s in said), said
    assert not [li for li in near.select(".import-notes li") if "outside" in li.get_text()]


def test_a_packages_cells_are_named_in_the_pages_language(url: str) -> None:
    """``locations.csv row 4, latitude`` reads ``locations.csv 第 4 行`` on a Chinese page."""
    hsds11 = folder_zip(CORPUS / "hsds11")
    with import_client(url) as client:
        sign_in(client, "staff")
        page = html(
            upload(client, hsds11, dry_run=True, filename="hsds11.zip", kind="licensed_agency")
        )
    cells = [cell for _, cell, _ in problems(page)]
    assert "locations.csv 第 2 行、latitude、longitude" in cells, cells
    assert not any(" row " in cell for cell in cells), cells
