"""The planner's workspace on the demo city (#20): what a planner reads on the map, the
report, the indicator matrix, access, walking distance and siting — and that an area name
is always text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from babel.numbers import format_percent
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from resourcemap.models import Area
from tests.factories import run_in_db
from tests.html_helpers import attr, csv_text, one, text_of
from tests.web.api.test_planning import sign_in
from tests.web.api.test_planning import url as url  # the fixture, re-exported

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
NOW = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)  # Wednesday 10:00 in Shanghai


def _clocked(client: Any) -> Any:
    client.app.state.clock.set(NOW)  # the test's FixedClock
    return client


def _no_injected_markup(doc: str) -> None:
    """Parsed, the document holds no element the name brought: no script with its code,
    no image with a handler; raw, the name's markup appears nowhere."""
    soup = BeautifulSoup(doc, "html.parser")
    assert not [s for s in soup.find_all("script") if s.get_text().strip() == "alert(1)"]
    assert not soup.find_all("img", attrs={"onerror": True})
    assert "<script>alert(1)" not in doc and "<img src=x" not in doc


def test_an_area_with_no_english_name_sorts_by_its_chinese_name_on_english_pages(
    url: str, make_client: Callable[..., Any]
) -> None:
    async def unnamed() -> None:
        # Saved as a rename is (moving the areas' version, which cached places follow).
        area = await Area.get(code="449901001001")
        area.name_en = ""
        await area.save()

    run_in_db(url, unnamed)
    with make_client(url) as client:
        sign_in(client, "planner")
        for path in (
            "/planning?lang=en",
            "/planning/indicators?lang=en",
            "/planning/access?lang=en",
        ):
            page = BeautifulSoup(_clocked(client).get(path).text, "html.parser")
            row = one(page, 'tr[data-code="449901001001"]')
            # The sort key is the name as text: no markup in the attribute.
            key = attr(one(row, "th[scope=row]"), "data-value")
            assert key and "<" not in key and re.search(r"[\u4e00-\u9fff]", key), (path, key)


def test_an_area_named_like_a_script_stays_text_everywhere(
    url: str, make_client: Callable[..., Any]
) -> None:
    async def rename() -> None:
        # Saved as a rename is: an ORM update leaves the areas' version (and the places
        # other tests' processes cached) as it was.
        area = await Area.get(code="449901001001")
        area.name_zh = HOSTILE
        await area.save()

    run_in_db(url, rename)
    with make_client(url) as client:
        headers = sign_in(client, "planner")
        pages = [
            "/planning/map",
            "/planning/map?level=street",
            "/api/v1/coverage/report.html",
            "/planning",
            "/planning/indicators",
            "/planning/access",
        ]
        for path in pages:
            response = _clocked(client).get(path)
            assert response.status_code == 200, path
            _no_injected_markup(response.text)
        doc = client.get("/planning/map").text
        # The name reaches the map as escaped text: in the tooltip and in the area label.
        assert "\\u0026lt;script\\u0026gt;alert(1)" in doc
        form = BeautifulSoup(client.get("/planning/siting").text, "html.parser")
        token = attr(one(form, 'input[name="csrf_token"]'), "value")
        sited = client.post(
            "/planning/siting", data={"csrf_token": token, "sites": "3"}, headers=headers
        )
        assert sited.status_code == 200
        _no_injected_markup(sited.text)
        frame = one(BeautifulSoup(sited.text, "html.parser"), "iframe.coverage-map")
        _no_injected_markup(client.get(attr(frame, "src")).text)


def test_the_siting_map_is_drawn_in_its_own_sandboxed_document(
    url: str, make_client: Callable[..., Any]
) -> None:
    """A srcdoc frame inherits the page's policy, which refuses folium's inline scripts: the
    planner saw a blank map. The frame loads a document of its own, under the sandbox policy,
    with every recommended site on it."""
    with make_client(url) as client:
        headers = sign_in(client, "planner")
        form = BeautifulSoup(client.get("/planning/siting?lang=en").text, "html.parser")
        token = attr(one(form, 'input[name="csrf_token"]'), "value")
        sited = client.post(
            "/planning/siting", data={"csrf_token": token, "sites": "3", "lang": "en"},
            headers=headers,
        )  # fmt: skip
        result = BeautifulSoup(sited.text, "html.parser")
        frame = one(result, "iframe.coverage-map")
        assert frame.get("srcdoc") is None
        doc = client.get(attr(frame, "src"))
        assert doc.status_code == 200
        policy = doc.headers["content-security-policy"]
        assert policy.startswith("sandbox") and "script-src" not in policy
        assert doc.text.count('class=\\"rm-site\\"') + doc.text.count('class="rm-site"') == 3
        # Said in the page's language, not the engine's words.
        hint = text_of(result, "p.hint")
        assert "greedy" not in hint.split(";")[0] or "one site at a time" in hint
        assert "community centres" in hint
        # What the exact check found agrees with the method: greedy sites proven the best,
        # or the solver's set beside what one at a time would reach; never both "greedy"
        # and "the best possible choice".
        if "greedy" in hint:
            assert hint.endswith("No other choice of 3 sites reaches more (checked with HiGHS).")
        else:
            assert "exact (HiGHS)" in hint and "One site at a time would have reached" in hint
        bad = client.get("/planning/siting/map?sites=%5B%7B%22rank%22%3A%22x%22%7D%5D")
        assert bad.status_code == 400 and "sites" in bad.text
        # A map document is megabytes on a province: sent gzipped to a browser that takes
        # it, which is safe because it carries no token (BREACH).
        zipped = client.get("/planning/map", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["content-type"] == "text/html; charset=utf-8"
        assert "csrf" not in zipped.text.lower() and "rm-legend" in zipped.text
        assert (
            "content-encoding"
            not in client.get("/planning/map", headers={"Accept-Encoding": "identity"}).headers
        )


async def _street_names() -> list[tuple[str, str]]:
    rows = await Area.filter(level="street").values_list("name_zh", "name_en")
    return [(str(zh), str(en or "")) for zh, en in rows]


def test_the_report_opens_in_the_browser_dated_with_its_sources(
    url: str, make_client: Callable[..., Any]
) -> None:
    streets = run_in_db(url, _street_names)
    with make_client(url) as client:
        sign_in(client, "planner")
        report = _clocked(client).get("/api/v1/coverage/report.html?level=street&lang=en")
        assert report.status_code == 200
        assert report.headers["content-disposition"].startswith("inline")
        assert report.headers["content-security-policy"].startswith("sandbox allow-scripts")
        page = BeautifulSoup(report.text, "html.parser")
        section = one(page, "#rm-report")
        text = section.get_text(" ", strip=True)
        assert "Coverage report" in text and "Made on Dec 2, 2026" in text
        assert "a grid of weighted points: demo-grid-100m" in text  # the demand source, in words
        assert "ResourceMap 0.1.0" in text and "500 m, straight-line distance" in text
        assert "members-only places" in text  # school, university and workplace rooms
        assert len(section.select("tbody tr")) == 6  # streets
        # Areas are named in the report's language, in its table and on its map (an
        # English report labelled its map 云栖社区 beside a table of Yunqi Community).
        assert all(en for _zh, en in streets)
        table = [th.get_text(strip=True) for th in section.select("tbody th[scope=row]")]
        assert sorted(table) == sorted(en for _zh, en in streets)
        script = "".join(s.get_text() for s in page.select("script"))
        assert all(json.dumps(en)[1:-1] in script for _zh, en in streets)
        assert not any(zh in script for zh, _en in streets)
        # A metric scale, and the operator's attribution prefix, not Leaflet's flag.
        assert "new Scale({imperial: false})" in script
        assert 'var units = ["{n} m","{n} km"]' in script
        assert 'attributionControl.setPrefix("Leaflet")' in script
        assert "<script src=" not in report.text  # Leaflet inlined: opens offline
        link = one(section, "a[download]")
        assert "download=1" in attr(link, "href")
        download = client.get("/api/v1/coverage/report.html" + attr(link, "href"))
        assert download.headers["content-disposition"].startswith("attachment")


def test_the_indicator_matrix_is_one_screen_and_exports(
    url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(url) as client:
        sign_in(client, "planner")
        page = BeautifulSoup(client.get("/planning/indicators?lang=en").text, "html.parser")
        rows = page.select("table.matrix tbody tr.area-row")
        assert len(rows) == 30  # communities × …
        # Sorting by area follows the names shown (English here), not the Chinese ones.
        keys = [attr(one(r, "th[scope=row]"), "data-value") for r in rows]
        assert all(k and not re.search(r"[\u4e00-\u9fff]", k) for k in keys), keys
        assert all(len(r.select("td.cell")) == 8 for r in rows)  # … indicators
        statuses = {
            one(c, "summary .status").get_text(" ", strip=True) for r in rows
            for c in r.select("td.cell")
        }  # fmt: skip
        assert {"✓ met", "✗ not met"} <= statuses  # in words, not only colour
        # A column says its values one way: "yes" never stands beside "100%".
        for level in ("community", "street", "district"):
            matrix = BeautifulSoup(
                client.get(f"/planning/indicators?lang=en&level={level}").text, "html.parser"
            )
            for head in matrix.select("th.ind-col"):
                key = attr(head, "data-key")
                values = {
                    one(c, ".value").get_text(strip=True)
                    for c in matrix.select(f'td.cell[data-key="{key}"]')
                } - {"—"}
                words = values & {"yes", "no"}
                assert not words or words == values, (level, key, values)
        hotline = {
            one(c, ".value").get_text(strip=True)
            for c in page.select('td.cell[data-key="county_hotline_share"]')
        }
        assert hotline == {"yes"}, "a community is served by its district's line, or not"
        # Each cell opens its numerator and denominator; the source is said once.
        cell = one(rows[0], 'td[data-key="circle_share"] details')
        assert "residents" in one(cell, ".counts").text
        # … and nothing else: the column's head says the target and links to the source,
        # once for thousands of cells on a province.
        assert [p["class"] for p in cell.select("p")] == [["counts"]]
        assert not cell.select("a")
        head = one(page, 'th[data-key="circle_share"]')
        assert one(head, ".target").text.strip()
        assert one(head, "a.def-link")["href"] == "#def-circle_share"
        assert len(page.select(".definitions dt")) == 8
        assert page.get_text().count("Hospitals with no listing are not seen") == 1
        assert one(page, 'th[data-key="community_room_share"] .target').text.strip()

        # The page's own export links: the file speaks the page's language.
        links = {a.text.strip(): attr(a, "href") for a in page.select(".exports a[href]")}
        assert "lang=en" in links["CSV"] and "lang=en" in links["XLSX"]
        exported = client.get(links["CSV"].replace("level=community", "level=street"))
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(csv_text(exported))))
        assert len(table) == 6 * 8
        assert {r["status"] for r in table} <= {"met", "close", "not_met", "unknown"}
        # In the language of the page it came from: labels and area names, not both mixed.
        labels = {r["indicator"]: r["label"] for r in table}
        assert labels["community_room_share"] == "Communities with a counselling room"
        assert all(not re.search(r"[\u4e00-\u9fff]", r["label"] + r["area_name"]) for r in table)
        zh = client.get("/api/v1/indicators.csv?level=street&lang=zh-CN")
        zh_table = list(csv.DictReader(io.StringIO(csv_text(zh))))
        zh_labels = {r["indicator"]: r["label"] for r in zh_table}
        assert "Communities" not in zh_labels["community_room_share"]
        assert re.search(r"[\u4e00-\u9fff]", zh_labels["community_room_share"])
        assert all(re.search(r"[\u4e00-\u9fff]", r["area_name"]) for r in zh_table)
        xlsx = client.get(links["XLSX"].replace("level=community", "level=street"))
        book = load_workbook(io.BytesIO(xlsx.content))
        assert book.sheetnames == ["Indicators", "Detail", "What each counts"]
        assert book["Detail"].max_row == 1 + 6 * 8 and book["What each counts"].max_row == 1 + 8
        sources = book["What each counts"].iter_rows(min_row=2, values_only=True)
        said = {row[0]: row[1:] for row in sources}
        assert said["community_room_share"][0] == "Communities with a counselling room"
        # From a Chinese page, the matrix a person reads is Chinese around its figures; the
        # detail sheet keeps the keys and statuses a spreadsheet filters on.
        zh_xlsx = client.get("/api/v1/indicators.xlsx?level=street&lang=zh-CN")
        zh_book = load_workbook(io.BytesIO(zh_xlsx.content))
        assert zh_book.sheetnames == ["政策指标", "明细", "指标说明"]
        sheet_rows = [r for r in zh_book["政策指标"].iter_rows(values_only=True)]
        assert sheet_rows[0][0] == "ResourceMap 指标 · 街道"
        assert sheet_rows[1][:2] == ("区域代码", "区域") and sheet_rows[2][1] == "目标"
        figures = " ".join(str(c) for row in sheet_rows[3:] for c in row[2:] if c)
        assert not re.search(r"\b(met|close|no data)\b", figures), figures
        assert re.search(r"（?(达标|接近|未达标|无数据)", figures)
        assert zh_book["明细"].cell(1, 1).value == "area_code"


def test_access_by_area_with_each_supply_measure(url: str, make_client: Callable[..., Any]) -> None:
    with make_client(url) as client:
        sign_in(client, "planner")
        for supply in ("hours", "capacity", "seats"):
            body = _clocked(client).get(f"/api/v1/access?level=street&supply={supply}").json()
            assert body["supply"] == supply and body["now"].startswith("2026-12-02T02:00")
            assert len(body["areas"]) == 6
            assert sum(a["population"] for a in body["areas"]) == pytest.approx(1_100_000)
            # Supply is shared out, never created: residents × access ≤ all the supply.
            shared = sum(a["population"] * a["access"] / 1000 for a in body["areas"])
            assert 0 < shared <= body["totals"]["supply"] * (1 + 1e-4)  # rounded figures
            assert all(0 <= a["evening_share"] <= 1 for a in body["areas"])
            assert sum(a["waiting"]["bookable_services"] for a in body["areas"]) > 0
        cells = client.get("/api/v1/access/cells.csv?supply=capacity")
        lines = csv_text(cells).splitlines()
        assert lines[0].startswith("lon,lat,area,population,access_per_1000")
        assert len(lines) == 1 + 12_137
        bad = client.get("/api/v1/access?supply=money")
        assert bad.status_code == 400 and "supply" in bad.json()["fields"]

        page = BeautifulSoup(_clocked(client).get("/planning/access?lang=en").text, "html.parser")
        # Access and the circle count the same places, and each page says which.
        circle = BeautifulSoup(client.get("/planning?lang=en").text, "html.parser")
        counted = text_of(page, "p.counted")
        assert counted == text_of(circle, "p.counted")
        assert "open to the public" in counted and re.match(r"^\d[\d,]* service points", counted)
        assert len(page.select("table.access-table tbody tr")) == 30
        terms = [dt_.text for dt_ in page.select(".definitions dt")]
        assert "Access (E2SFCA)" in terms and "Median wait" in terms
        assert "weights 1, 0.68 and 0.22" in one(page, ".definitions").text


def _street_grid(path: Path) -> Path:
    """Streets every ~200 m over the demo district, joined where they cross."""
    lons = np.round(np.arange(113.85, 114.01, 0.002), 6).tolist()
    lats = np.round(np.arange(22.68, 22.81, 0.002), 6).tolist()
    lines = [[[x, y] for x in lons] for y in lats] + [[[x, y] for y in lats] for x in lons]
    features = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": c}}
        for c in lines
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_walking_distance_on_the_api_and_the_pages(
    url: str, make_client: Callable[..., Any], tmp_path: Path
) -> None:
    with make_client(url) as client:
        sign_in(client, "planner")
        refused = client.get("/api/v1/coverage?mode=walking")
        assert refused.status_code == 400 and "mode" in refused.json()["fields"]
        assert "RESOURCEMAP_STREETS_FILE" in refused.json()["reason"]
    streets = _street_grid(tmp_path / "streets.geojson")
    with make_client(url, streets_file=str(streets)) as client:
        sign_in(client, "planner")
        straight = client.get("/api/v1/coverage?level=district").json()
        walking = client.get("/api/v1/coverage?level=district&mode=walking").json()
        assert walking["mode"] == "walking" and "walking distance" in walking["method"]
        # Along a street grid the way is never shorter than the straight line.
        assert 0 < walking["totals"]["covered"] < straight["totals"]["covered"]
        page = BeautifulSoup(client.get("/planning?mode=walking").text, "html.parser")
        assert attr(one(page, '#f-mode option[value="walking"]'), "selected") is not None
        assert "walking" in attr(one(page, "iframe.coverage-map"), "src")
        assert client.get("/planning/map?mode=walking").status_code == 200
        gaps = client.get("/api/v1/coverage/gaps.geojson?mode=walking")
        assert gaps.status_code == 400 and "mode" in gaps.json()["fields"]


def test_siting_for_access_exports_and_uploaded_candidates(
    url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(url) as client:
        headers = sign_in(client, "planner")
        plan = client.post(
            "/api/v1/siting", json={"sites": 2, "objective": "access"}, headers=headers
        ).json()
        assert plan["objective"] == "access" and len(plan["sites"]) == 2
        assert plan["sites"][0]["adds"] > 0 and plan["adequate"] > 0
        assert plan["covered_after"] > plan["population"] - plan["uncovered_before"]
        sites = client.post("/api/v1/siting.geojson", json={"sites": 3}, headers=headers)
        features = sites.json()["features"]
        assert len(features) == 3 and features[0]["properties"]["rank"] == 1
        assert features[0]["properties"]["community_name"]
        table = client.post("/api/v1/siting.csv", json={"sites": 3}, headers=headers)
        rows = list(csv.DictReader(io.StringIO(csv_text(table))))
        assert [r["rank"] for r in rows] == ["1", "2", "3"] and float(rows[0]["adds"]) > 0

        form = BeautifulSoup(client.get("/planning/siting").text, "html.parser")
        token = attr(one(form, 'input[name="csrf_token"]'), "value")
        upload = "lon,lat\n113.93,22.75\n113.95,22.74\n113.90,22.72\n"
        page = client.post(
            "/planning/siting",
            data={"csrf_token": token, "sites": "1", "candidates": "upload"},
            files={"candidate_file": ("sites.csv", upload, "text/csv")},
        )
        assert page.status_code == 200, page.text
        result = BeautifulSoup(page.text, "html.parser")
        assert len(result.select("tr.site")) == 1
        # The export buttons send the uploaded sites back: the file lists the same site.
        export = one(result, "form.siting-exports")
        fields = {i["name"]: i.get("value", "") for i in export.select("input[name]")}
        download = client.post("/planning/siting", data={**fields, "export": "csv"})
        assert download.headers["content-disposition"].startswith("attachment")
        [row] = list(csv.DictReader(io.StringIO(csv_text(download))))
        assert (row["lon"], row["lat"]) == (
            text_of(result, "tr.site td:nth-of-type(3)").split(", ")[1],
            text_of(result, "tr.site td:nth-of-type(3)").split(", ")[0],
        )
        bad = client.post(
            "/planning/siting",
            data={"csrf_token": token, "sites": "1", "candidates": "upload"},
            files={"candidate_file": ("sites.csv", "lon,lat\n113.9,22.7\n114,x\n", "text/csv")},
        )
        assert bad.status_code == 400 and "row 3" in bad.text


def test_planning_pages_speak_the_planners_language(
    url: str, make_client: Callable[..., Any]
) -> None:
    with make_client(url) as client:
        sign_in(client, "planner")
        zh = BeautifulSoup(client.get("/planning").text, "html.parser")
        assert "哪些居民住在服务点" in one(zh, "h1").text
        en = client.get("/planning?lang=en")
        assert "rm_lang=en" in en.headers["set-cookie"]
        page = BeautifulSoup(en.text, "html.parser")
        assert one(page, "h1").text.startswith("Who lives within 500 m")
        assert "Most residents outside the circle" in one(page, ".summary-strip").text
        # The map in the frame follows the page.
        assert "lang=en" in attr(one(page, "iframe.coverage-map"), "src")
        doc = client.get(attr(one(page, "iframe.coverage-map"), "src")).text
        assert "Residents within the circle, by area" in doc
        # The scale bar in the page's units too ("2公里", not Leaflet's "2 km").
        assert 'var units = ["{n} m","{n} km"]' in doc
        zh_doc = client.get(attr(one(zh, "iframe.coverage-map"), "src")).text
        assert 'var units = ["{n}米","{n}公里"]' in zh_doc


def test_covered_is_explained_for_what_was_counted(
    url: str, make_client: Callable[..., Any]
) -> None:
    """By default the circle counts service points only, and "covered" says just that; with
    volunteer teams asked for, it also says living in an area a team serves."""
    with make_client(url) as client:
        sign_in(client, "planner")
        points = BeautifulSoup(client.get("/planning?lang=en").text, "html.parser")
        said = text_of(points, ".covered-means")
        assert "service point." in said and "team" not in said
        teams = client.get("/planning?lang=en&kind=community_room&kind=volunteer_team")
        assert "a counted team serves" in text_of(
            BeautifulSoup(teams.text, "html.parser"), ".covered-means"
        )
        report = client.get("/api/v1/coverage/report.html?lang=en").text
        assert "a counted team serves" not in report


def _shares(doc: str, selector: str) -> dict[str, str]:
    """Each area's covered share as a table shows it, by area code."""
    rows = BeautifulSoup(doc, "html.parser").select(selector)
    return {attr(tr, "data-code"): tr.select("td")[-1].get_text(strip=True) for tr in rows}


def _tips(doc: str) -> list[str]:
    """The areas' tooltips on a map document (JSON strings in its script)."""
    return [json.loads(m) for m in re.findall(r'"tip": ("(?:[^"\\]|\\.)*")', doc)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_the_report_and_the_map_round_each_share_once_alike(
    url: str, make_client: Callable[..., Any], lang: str
) -> None:
    """Every area's covered share reads the same on the page, in the report and in the
    map's tooltip (as the share outside): the exact share rounded once to 0.1 %. The page
    rounded the API's four-place share again: 康乐社区 31,742 of 38,685 (82.05 %) read
    82.0 % there and 82.1 % in the report; 荷塘社区 22,579 of 36,448 (61.95 %) 62.0 %
    and 61.9 %."""
    locale = "en" if lang == "en" else "zh_Hans_CN"
    with make_client(url) as client:
        sign_in(client, "planner")
        areas = client.get("/api/v1/coverage").json()["features"]
        page = _shares(client.get(f"/planning?lang={lang}").text, "table.coverage-table tbody tr")
        report = _shares(
            client.get(f"/api/v1/coverage/report.html?lang={lang}").text, "#rm-report tbody tr"
        )
        tips = _tips(client.get(f"/planning/map?lang={lang}").text)
    exact = {f["properties"]["code"]: f["properties"] for f in areas}
    by_name = {p["name"]: code for code, p in exact.items()}
    assert page == report
    assert (page[by_name["康乐社区"]], page[by_name["荷塘社区"]]) == ("82.1%", "61.9%")
    assert len(page) == len(exact) == 30
    for code, p in exact.items():
        share = p["covered"] / p["population"]  # the demo's residents are whole people
        assert page[code] == format_percent(share, "#,##0.0%", locale=locale), p["name"]
    # The tooltips say the share outside the circle, rounded once from the same counts.
    said = [
        format_percent(1 - p["covered"] / p["population"], "#,##0.0%", locale=locale)
        for p in exact.values()
        if p["uncovered"] >= 0.5
    ]
    shown = [re.findall(r"[\d.]+%", tip) for tip in tips]
    assert sorted(s for found in shown for s in found) == sorted(said)
