"""Planners' background jobs (#22): coverage of a province's demand dataset is asked for, runs
in the background in any app process, shows its progress, and keeps its table — the same
table the command computes — while a planner's request never waits for it."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from geo.demand_parquet import read_demand
from resourcemap import accounts, db
from resourcemap.clock import FixedClock
from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from resourcemap.errors import InvalidInput
from resourcemap.models import Area, Organisation, PlannerJob
from resourcemap.planning import job_runner, jobs
from resourcemap.planning.coverage import CoverageQuery
from resourcemap.planning.dataset_coverage import dataset_coverage
from resourcemap.planning.job_outcomes import CoverageOutcome
from resourcemap.vocab import AreaLevel, Role
from tests.accounts.test_area_scope import sign_in
from tests.conftest import TEST_NOW, make_settings
from tests.factories import run_in_db
from tests.html_helpers import attr, csv_text, hidden_fields, one, text_of
from tests.web.api.test_staff import PASSWORD

DISTRICTS = AreaLevel.DISTRICT
# How long a test waits for the app's own runner to finish a small job: a bound on waiting,
# not a measure of speed (nothing fails for being slow until then).
PATIENCE_SECONDS = 120


@pytest.fixture
def province(database_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A small synthetic province (two cities of one district) with its GeoParquet demand,
    a planner for everything and one kept to the first district."""
    demand = tmp_path / "demand"

    async def load() -> None:
        await load_demo_province(3, ProvinceSize(2, 1), demand)
        first = await Area.filter(level=DISTRICTS).order_by("code").first()
        assert first is not None
        for username, area in (("planner", None), ("district", first.code)):
            await accounts.create_account(
                None, username=username, password=PASSWORD, role=Role.PLANNER, area_code=area
            )
        organisation = await Organisation.all().order_by("id").first()
        assert organisation is not None
        await accounts.create_account(
            None,
            username="staffer",
            password=PASSWORD,
            role=Role.STAFF,
            organisation_id=organisation.id,
        )

    run_in_db(database_url, load)
    return database_url, demand


def _settings(url: str, demand: Path) -> Any:
    return make_settings(url, demand_dataset=demand)


@pytest.mark.anyio
async def test_a_job_runs_once_and_gives_the_commands_table(province: tuple[str, Path]) -> None:
    url, demand = province
    settings = _settings(url, demand)
    query = CoverageQuery(level=DISTRICTS)

    async with db.database(url):
        first = await jobs.submit(settings, query, by="planner", now=TEST_NOW)
        again = await jobs.submit(settings, query, by="someone else", now=TEST_NOW)
        runners = [job_runner.JobRunner(settings, clock=FixedClock(TEST_NOW)) for _ in range(2)]
        # Two processes' runners reach for the queue at once: one of them takes the job.
        claimed = await asyncio.gather(*(r.claim(TEST_NOW) for r in runners))
        await PlannerJob.filter(id=first.id).update(state=jobs.JobState.QUEUED, runner="")
        ran = await runners[0].run_once()
        done = await jobs.job(first.id)
        after = await jobs.submit(settings, query, by="planner", now=TEST_NOW)
        direct = await dataset_coverage(demand, query)
    assert first.state is jobs.JobState.QUEUED and first.progress is None
    assert again.id == first.id, "asking twice while it waits queues it once"
    assert sum(c is not None for c in claimed) == 1, "two runners claimed the same job"
    assert ran == first.id and done.state is jobs.JobState.DONE
    assert done.total_steps == len(list(demand.glob("*.parquet"))) == done.done_steps
    assert after.id == first.id, "asked again on the same data: the stored result"
    assert done.outcome is not None
    command = list(csv.DictReader(io.StringIO(direct.csv())))
    table = list(csv.DictReader(io.StringIO(done.outcome.csv())))
    assert [{k: r[k] for k in command[0]} for r in table] == command, "the command's table"
    # …and where each district is, with the English names.
    assert list(table[0])[len(command[0]) :] == ["name_en", "city", "city_en"]
    assert all(r["name_en"] and r["city"] and r["city_en"] for r in table)
    assert done.outcome.population == pytest.approx(direct.result.population)
    assert len(done.outcome.rows) == 2  # two districts


@pytest.mark.anyio
async def test_a_job_whose_runner_died_runs_again_and_fails_after_three_tries(
    province: tuple[str, Path],
) -> None:
    url, demand = province
    settings = _settings(url, demand)

    async with db.database(url):
        made = await jobs.submit(settings, CoverageQuery(), by="planner", now=TEST_NOW)
        runner = job_runner.JobRunner(settings)
        states = []
        moment = TEST_NOW
        for _ in range(job_runner.MAX_ATTEMPTS):
            assert await runner.claim(moment) is not None
            # Its process dies: no heartbeat after the claim.
            moment += dt.timedelta(seconds=job_runner.STALE_SECONDS + 1)
            await runner.requeue_stale(moment)
            states.append((await jobs.job(made.id)).state.value)
    assert states == ["queued", "queued", "failed"]


@pytest.mark.anyio
async def test_without_a_dataset_the_job_is_refused_naming_what_is_missing(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, demand_dataset=tmp_path / "nothing")

    async with db.database(database_url):
        with pytest.raises(InvalidInput) as refused:
            await jobs.submit(settings, CoverageQuery(), by="planner", now=TEST_NOW)
    reason = refused.value.reason
    assert reason.startswith("demand dataset:") and str(tmp_path / "nothing") in reason


def _wait_done(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(location).json()
        if body["state"] in ("done", "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"the job did not finish within {PATIENCE_SECONDS} s")


def test_planners_start_a_job_and_read_it_while_the_app_runs_it(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    with make_client(url, demand_dataset=demand) as client:
        headers = sign_in(client, "planner")
        asked = client.post("/api/v1/jobs", json={"level": "district"}, headers=headers)
        assert asked.status_code == 202, asked.text
        assert asked.json()["state"] in ("queued", "running")
        location = asked.headers["location"]
        body = _wait_done(client, location)
        assert body["state"] == "done", body
        result = body["result"]
        assert result["population"] == pytest.approx(2_200_000, rel=0.01)
        assert len(result["rows"]) == 2 and body["progress"] == 1.0
        table = client.get(f"{location}/result.csv")
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(csv_text(table))))
        assert [r["code"] for r in rows] == [r["code"] for r in result["rows"]]

        # The page: the job's table, most residents outside the circle first, in English.
        page = client.get(f"/planning/jobs/{body['id']}?lang=en")
        assert page.status_code == 200
        soup = BeautifulSoup(page.text, "html.parser")
        assert text_of(soup, ".job-status").strip() == "Done"
        assert text_of(soup, ".exports a") == "Download the table (CSV)"
        shown = [th.get_text() for th in soup.select(".job-table tbody th")]
        assert len(shown) == 2 and all(shown), "each district named"
        assert 'http-equiv="refresh"' not in page.text, "a finished job's page stops refreshing"
        listed = client.get("/planning/jobs?lang=en")
        assert f"#{body['id']}" in text_of(BeautifulSoup(listed.text, "html.parser"), ".jobs")
        assert str(demand) not in listed.text, "a planner reads no server paths"

        # A city-wide table asked for by the planner for everything…
        city = client.post("/api/v1/jobs", json={"level": "city"}, headers=headers)
        assert city.status_code == 202, city.text

        # A planner kept to one district sees that district's row and totals only.
        headers = sign_in(client, "district")
        kept = client.get(location).json()["result"]
        assert len(kept["rows"]) == 1
        assert kept["population"] == pytest.approx(kept["rows"][0]["population"])
        other = next(r for r in result["rows"] if r["code"] != kept["rows"][0]["code"])
        assert other["code"] not in csv_text(client.get(f"{location}/result.csv"))
        assert other["name"] not in client.get(f"/planning/jobs/{body['id']}").text
        # …and may not ask for a level above their area: the form does not offer it, and the
        # city-wide job is not in their list (whose page opens, rather than refusing them).
        above = client.post("/api/v1/jobs", json={"level": "city"}, headers=headers)
        assert above.status_code == 403
        mine = client.get("/planning/jobs")
        assert mine.status_code == 200
        soup = BeautifulSoup(mine.text, "html.parser")
        offered = [attr(o, "value") for o in soup.select("form.job-form select[name=level] option")]
        assert offered == ["district", "street", "community"]
        listed = [a.get_text() for a in soup.select(".jobs a")]
        assert f"#{body['id']}" in listed and f"#{city.json()['id']}" not in listed
        english = BeautifulSoup(client.get("/planning/jobs?lang=en").text, "html.parser")
        kinds = {td.get_text() for td in english.select(".jobs td.job-kind")}
        assert kinds == {"Coverage of the demand dataset"}  # a table cell starts a sentence
        api = client.get("/api/v1/jobs").json()["items"]
        assert city.json()["id"] not in [j["id"] for j in api]


def test_the_job_page_refreshes_itself_while_the_job_waits(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    # No runner in this app: the job stays queued, as behind a busy cluster.
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")
        page = BeautifulSoup(client.get("/planning/jobs?lang=en").text, "html.parser")
        form = one(page, "form.job-form")
        assert text_of(form, "button") == "Start the count"
        fields = {**hidden_fields(form), "radius_m": "500", "level": "district"}
        started = client.post("/planning/jobs", data=fields, follow_redirects=False)
        assert started.status_code == 303
        waiting = client.get(started.headers["location"])
        assert 'http-equiv="refresh"' in waiting.text
        soup = BeautifulSoup(waiting.text, "html.parser")
        assert text_of(soup, ".job-status").strip() == "Waiting to start"


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("staffer", 403)])
def test_only_planners_see_jobs(
    province: tuple[str, Path], make_client: Callable[..., Any], who: str | None, status: int
) -> None:
    url, demand = province
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        headers = sign_in(client, who) if who else {}
        assert client.post("/api/v1/jobs", json={}, headers=headers).status_code == status
        assert client.get("/api/v1/jobs").status_code == status


@pytest.mark.anyio
async def test_a_job_that_cannot_be_computed_fails_at_once_saying_why(
    province: tuple[str, Path],
) -> None:
    # Neither demand in the database nor a demand dataset: access by E2SFCA has no one to
    # count, and running it again would not change that.
    url, demand = province
    settings = _settings(url, demand.parent / "no-dataset")

    async with db.database(url):
        made = await jobs.submit(
            settings,
            jobs.job_query(jobs.JobKind.ACCESS, {"level": "district"}),
            by="planner",
            now=TEST_NOW,
            kind=jobs.JobKind.ACCESS,
        )
        runner = job_runner.JobRunner(settings, clock=FixedClock(TEST_NOW))
        assert await runner.run_once() == made.id
        failed = await jobs.job(made.id)
        assert await runner.run_once() is None, "nothing is queued again"
    assert failed.state is jobs.JobState.FAILED and failed.finished_at == TEST_NOW
    assert str(failed.error).startswith("no demand data:")


def test_a_failed_job_says_why_in_the_planners_language(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    with make_client(url, demand_dataset=demand.parent / "no-dataset") as client:
        headers = sign_in(client, "planner")
        asked = client.post(
            "/api/v1/planning/jobs",
            json={"kind": "siting", "query": {"level": "district", "sites": 2}},
            headers=headers,
        )
        assert asked.status_code == 202, asked.text
        body = _wait_done(client, asked.headers["location"])
        assert body["state"] == "failed" and body["error"].startswith("no demand data:")
        english = BeautifulSoup(
            client.get(f"/planning/jobs/{body['id']}?lang=en").text, "html.parser"
        )
        assert "no demand data: import a population raster" in text_of(english, "[role=alert]")
        chinese = BeautifulSoup(
            client.get(f"/planning/jobs/{body['id']}?lang=zh-CN").text, "html.parser"
        )
        alert = text_of(chinese, "[role=alert]")
        assert "no demand" not in alert and "人口" in alert, alert


def test_planner_pages_without_demand_data_say_what_to_do(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    with make_client(url, demand_dataset=demand.parent / "no-dataset", run_worker=False) as client:
        sign_in(client, "planner")
        for path in ("/planning", "/planning/access", "/planning/indicators"):
            answer = client.get(f"{path}?lang=en")
            assert answer.status_code == 404, path
            soup = BeautifulSoup(answer.text, "html.parser")
            alert = text_of(soup, "[role=alert]")
            assert "No demand data: import a population raster" in alert, path
            # Who can give it, and how: imported, or as a dataset.
            assert "resourcemap import-demand" in alert and "RESOURCEMAP_DEMAND_DATASET" in alert
            assert text_of(soup, "[role=alert] h1") == "No residents to count yet"
            assert soup.title is not None and "Not found" not in soup.title.get_text()
        chinese = BeautifulSoup(client.get("/planning?lang=zh-CN").text, "html.parser")
        assert "no demand" not in text_of(chinese, "[role=alert]")


def test_planner_pages_count_the_demand_dataset_where_the_database_has_none(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    """The province keeps its residents in the GeoParquet dataset only; the service circle,
    access and indicators pages count them (they said "No residents to count yet")."""
    url, demand = province
    everyone = round(float(read_demand(demand).weight.sum()))
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")
        circle = client.get("/planning?lang=en")
        assert circle.status_code == 200, circle.text[:300]
        summary = text_of(BeautifulSoup(circle.text, "html.parser"), ".summary-strip .headline")
        assert f"of {everyone:,} residents" in summary, summary
        coverage = client.get("/api/v1/coverage", params={"level": "district"}).json()
        assert round(sum(f["properties"]["population"] for f in coverage["features"])) == everyone
        assert coverage["demand"]["method"] == "dataset"
        for path in ("/planning/access", "/planning/indicators"):
            assert client.get(f"{path}?lang=en").status_code == 200, path
        # A province repeats community names: each row says where it is.
        for path in ("/planning", "/planning/access", "/planning/indicators"):
            soup = BeautifulSoup(client.get(f"{path}?level=community").text, "html.parser")
            rows = [
                (text_of(th, ".area-name"), text_of(th, ".area-in"))
                for th in soup.select("tbody th[scope=row]")
            ]
            names = [n for n, _ in rows]
            assert len(set(names)) < len(names), path  # repeated names, to tell apart
            assert len(set(rows)) == len(rows), path


@pytest.mark.anyio
async def test_access_and_siting_jobs_read_the_demand_dataset(province: tuple[str, Path]) -> None:
    url, demand = province
    settings = _settings(url, demand)
    async with db.database(url):
        asked = [
            await jobs.submit(
                settings, jobs.job_query(kind, query), by="planner", now=TEST_NOW, kind=kind
            )
            for kind, query in (
                (jobs.JobKind.ACCESS, {"level": "district"}),
                (jobs.JobKind.SITING, {"level": "district", "sites": 2}),
            )
        ]
        runner = job_runner.JobRunner(settings, clock=FixedClock(TEST_NOW))
        while await runner.run_once() is not None:
            pass
        done = [await jobs.job(a.id) for a in asked]
    assert [d.state for d in done] == [jobs.JobState.DONE] * 2, [d.error for d in done]


# --- What a planner reads on the jobs' pages: names, places, columns, pages -----------------

COMMUNITIES = AreaLevel.COMMUNITY
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _done_job(
    url: str, demand: Path, level: AreaLevel, kind: jobs.JobKind = jobs.JobKind.DATASET_COVERAGE
) -> int:
    """A job of ``kind`` by ``level``, asked for and run to the end (no app needed)."""

    async def run() -> int:
        settings = _settings(url, demand)
        query = jobs.job_query(kind, {"level": level.value})
        made = await jobs.submit(settings, query, by="planner", now=TEST_NOW, kind=kind)
        assert await job_runner.JobRunner(settings, clock=FixedClock(TEST_NOW)).run_once()
        return made.id

    return int(run_in_db(url, run))


def _areas(url: str) -> dict[str, tuple[str, str, str | None]]:
    """Every area's Chinese and English names and its parent's code, by code."""

    async def read() -> list[tuple[str, str, str, str | None]]:
        return list(await Area.all().values_list("code", "name_zh", "name_en", "parent_id"))

    return {code: (zh, en, parent) for code, zh, en, parent in run_in_db(url, read)}


def _above(areas: dict[str, tuple[str, str, str | None]], code: str) -> list[tuple[str, str]]:
    """The names of the areas above ``code``, nearest first."""
    chain, parent = [], areas[code][2]
    while parent is not None:
        chain.append(areas[parent][:2])
        parent = areas[parent][2]
    return chain


def _rows(soup: BeautifulSoup) -> list[dict[str, str]]:
    """A job table's rows as a planner reads them: the area's code (for the test), its name,
    where it is, and the cells by column heading."""
    heads = [th.get_text() for th in soup.select(".job-table thead th")]
    rows = []
    for tr in soup.select(".job-table tbody tr"):
        where = tr.select_one(".area-in")
        cells = [td.get_text() for td in tr.select("td")]
        rows.append(
            {
                "code": attr(tr, "data-code"),
                "name": text_of(tr, ".area-name"),
                "in": where.get_text() if where else "",
                **dict(zip(heads[1:], cells, strict=True)),
            }
        )
    return rows


def _page(client: TestClient, address: str) -> BeautifulSoup:
    return BeautifulSoup(client.get(address).text, "html.parser")


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def test_a_community_table_names_each_area_in_the_page_language_and_where_it_lies(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    job_id = _done_job(url, demand, COMMUNITIES)
    areas = _areas(url)
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")
        english = [
            *_rows(_page(client, f"/planning/jobs/{job_id}?lang=en")),
            *_rows(_page(client, f"/planning/jobs/{job_id}?lang=en&page=2")),
        ]
        chinese = _rows(_page(client, f"/planning/jobs/{job_id}?lang=zh-CN"))
        answer = client.get(f"/api/v1/jobs/{job_id}/result.csv")
        table = list(csv.DictReader(io.StringIO(csv_text(answer))))
        listed = BeautifulSoup(client.get("/planning/jobs?lang=en").text, "html.parser")
        listed_zh = BeautifulSoup(client.get("/planning/jobs?lang=zh-CN").text, "html.parser")
        sign_in(client, "district")
        kept = BeautifulSoup(client.get(f"/planning/jobs/{job_id}?lang=en").text, "html.parser")

    communities = [c for c in areas if len(_above(areas, c)) == 3]
    assert sorted(r["code"] for r in english) == sorted(communities), "every community, once"
    # In English: English names, and the street, district and city of each community.
    for row in english:
        assert row["name"] == areas[row["code"]][1]
        assert row["in"] == ", ".join(en for _, en in _above(areas, row["code"]))
        assert not CJK.search(row["name"] + row["in"]), row
    # In Chinese: Chinese names, the place written from the city down.
    for row in chinese:
        assert row["name"] == areas[row["code"]][0]
        assert row["in"] == "".join(zh for zh, _ in reversed(_above(areas, row["code"])))
    # Names repeat across the province; name and place together never do.
    names = [r["name"] for r in english]
    assert len(set(names)) < len(names), "the demo province repeats community names"
    assert len({(r["name"], r["in"]) for r in english}) == len(english)

    # The CSV says it too, a column per level above the communities.
    assert len(table) == len(communities)
    for row in table:
        street, district, city = _above(areas, row["code"])
        assert row["name_en"] == areas[row["code"]][1]
        assert (row["street"], row["street_en"]) == street
        assert (row["district"], row["district_en"]) == district
        assert (row["city"], row["city_en"]) == city

    # The list says which level each job's table is by.
    mine = one(listed, f'.jobs a[href^="/planning/jobs/{job_id}?"]').find_parent("tr")
    assert mine is not None and text_of(mine, "td.job-level") == "Community"
    mine = one(listed_zh, f'.jobs a[href^="/planning/jobs/{job_id}?"]').find_parent("tr")
    assert mine is not None and text_of(mine, "td.job-level") == "社区"

    # A planner kept to one district reads where it is once, and each row's street.
    first = min(c for c in areas if len(_above(areas, c)) == 1)  # the first district
    district_en, city_en = areas[first][1], areas[areas[first][2] or ""][1]
    shared = text_of(kept, ".shared-place")
    assert shared == f"Every area of this table is in {district_en}, {city_en}."
    for row in _rows(kept):
        assert row["in"] == _above(areas, row["code"])[0][1], "only the street: the rest is said"


def test_the_coverage_table_counts_within_and_outside_as_the_headline_does(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    job_id = _done_job(url, demand, DISTRICTS)
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")
        soup = BeautifulSoup(client.get(f"/planning/jobs/{job_id}?lang=en").text, "html.parser")
    heads = [th.get_text() for th in soup.select(".job-table thead th")]
    assert heads == [
        "Area",
        "Residents",
        "Residents within 500 m",
        "Share within 500 m",
        "Residents outside 500 m",
    ]
    rows = _rows(soup)
    for row in rows:
        residents, within = _count(row["Residents"]), _count(row["Residents within 500 m"])
        outside = _count(row["Residents outside 500 m"])
        assert within + outside == pytest.approx(residents, abs=1), row
        # To 0.1 %, as every planner page writes a share (counts shown whole: ±0.05 %).
        share = float(row["Share within 500 m"].removesuffix("%"))
        assert share == pytest.approx(100 * within / residents, abs=0.05 + 100 / residents)
        assert re.fullmatch(r"\d+\.\d%", row["Share within 500 m"])
    # "X of Y residents (Z%) live within 500 m": the columns' sums.
    headline = re.fullmatch(
        r"([\d,]+) of ([\d,]+) residents \((\d+\.\d)%\) live within 500 m of a counted "
        r"service point\.",
        text_of(soup, ".headline"),
    )
    assert headline is not None
    covered, population = _count(headline[1]), _count(headline[2])
    assert covered == pytest.approx(sum(_count(r["Residents within 500 m"]) for r in rows), abs=2)
    assert population == pytest.approx(sum(_count(r["Residents"]) for r in rows), abs=2)
    outsides = [_count(r["Residents outside 500 m"]) for r in rows]
    assert outsides == sorted(outsides, reverse=True), "most residents outside first"


def test_a_long_table_is_read_fifty_rows_a_page_worst_first_and_its_csv_holds_all(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    url, demand = province
    job_id = _done_job(url, demand, COMMUNITIES)
    pages = []
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")
        address = f"/planning/jobs/{job_id}?lang=en"
        while address:
            soup = BeautifulSoup(client.get(address).text, "html.parser")
            pages.append(soup)
            following = soup.select_one(".job-pager a[rel=next]")
            address = attr(following, "href").split("#")[0] if following else ""
            if address:
                address = f"/planning/jobs/{job_id}{address}"
        beyond = BeautifulSoup(
            client.get(f"/planning/jobs/{job_id}?lang=en&page=99").text, "html.parser"
        )
        chinese = _page(client, f"/planning/jobs/{job_id}?lang=zh-CN")
        table = csv_text(client.get(f"/api/v1/jobs/{job_id}/result.csv"))
    everything = list(csv.DictReader(io.StringIO(table)))
    assert len(pages) == 2 and len(everything) > 50, "two pages of the province's communities"
    first, last = pages
    assert len(first.select(".job-table tbody tr")) == 50
    assert text_of(first, "#rows") == (
        f"Most residents outside the circle first (rows 1–50 of {len(everything)})"
    )
    assert text_of(first, ".job-pager .page-of") == "Page 1 of 2"
    assert first.select_one(".job-pager a[rel=prev]") is None
    assert text_of(first, ".job-pager a[rel=next]") == "Next page›"
    back = attr(one(last, ".job-pager a[rel=prev]"), "href")
    assert "page=1" in back and "lang=en" in back, "the previous page keeps the language"
    assert last.select_one(".job-pager a[rel=next]") is None
    # The pages together: every row of the CSV once, most residents outside first.
    shown = [r for soup in pages for r in _rows(soup)]
    assert sorted(r["code"] for r in shown) == sorted(r["code"] for r in everything)
    outsides = [_count(r["Residents outside 500 m"]) for r in shown]
    assert outsides == sorted(outsides, reverse=True)
    # A page past the last shows the last; the Chinese page's links keep Chinese.
    assert [r["code"] for r in _rows(beyond)] == [r["code"] for r in _rows(last)]
    assert "lang=zh-CN" in attr(one(chinese, ".job-pager a[rel=next]"), "href")
    assert text_of(chinese, ".job-pager a[rel=next]") == "下一页›"


def test_a_result_stored_before_rows_said_where_they_are_still_reads(
    province: tuple[str, Path],
) -> None:
    url, demand = province
    job_id = _done_job(url, demand, DISTRICTS)

    async def store_as_before_and_read() -> tuple[CoverageOutcome, jobs.JobView, dict[str, Area]]:
        stored = await PlannerJob.get(id=job_id)
        data = json.loads(stored.result or "{}")
        data.pop("placed")
        for row in data["rows"]:
            del row["name_en"], row["parents"]
        await PlannerJob.filter(id=job_id).update(result=json.dumps(data))
        cities = {a.code: a for a in await Area.filter(level=AreaLevel.CITY)}
        return CoverageOutcome.from_json(data), await jobs.job(job_id), cities

    before, read, cities = run_in_db(url, store_as_before_and_read)
    assert all(r.name_en == "" and r.parents == () for r in before.rows), "loads as it was"
    assert isinstance(read.outcome, CoverageOutcome) and read.outcome.placed
    for row in read.outcome.rows:
        city = cities[row.code[:4] + "00000000"]
        assert row.name_en and [p.name_en for p in row.parents] == [city.name_en]
    assert all(r["city_en"] for r in csv.DictReader(io.StringIO(read.outcome.csv())))


@pytest.mark.e2e
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
def test_on_a_phone_the_jobs_pages_fit_and_cut_no_word(
    province: tuple[str, Path], make_client: Callable[..., Any]
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    url, demand = province
    job_id = _done_job(url, demand, COMMUNITIES)
    failed = _done_job(url, demand, DISTRICTS)
    access = _done_job(url, demand, COMMUNITIES, jobs.JobKind.ACCESS)

    async def fail() -> None:  # the list's longest state in words
        await PlannerJob.filter(id=failed).update(state=jobs.JobState.FAILED, error="no data")

    run_in_db(url, fail)
    found: dict[str, Any] = {}
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")

        def answer(route: Any) -> None:
            # The browser asks the app (in this process) for the pages and their stylesheets.
            got = client.get(route.request.url.removeprefix("http://jobs.test"))
            route.fulfill(status=got.status_code, headers=dict(got.headers), body=got.content)

        def look() -> None:
            with playwright.sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
                )
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.route("http://jobs.test/**", answer)
                for lang in ("en", "zh-CN"):
                    # The access tables (a job's and the page's) have six columns.
                    for path in (
                        "/planning/jobs",
                        f"/planning/jobs/{job_id}",
                        f"/planning/jobs/{access}",
                        "/planning/access",
                    ):
                        page.goto(f"http://jobs.test{path}?lang={lang}")
                        found[f"{path}?lang={lang}"] = page.evaluate(LAYOUT)
                browser.close()

        # Playwright's own event loop, in a thread of its own: not this test's.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(look).result()
    for address, seen in found.items():
        assert seen["width"] <= 390, address
        assert seen["cut"] == [], f"{address}: cut at the screen's edge: {seen['cut']}"
        assert seen["broken"] == [], f"{address}: names broken over two lines"
    assert "Failed" in found["/planning/jobs?lang=en"]["states"]
    assert "失败" in found["/planning/jobs?lang=zh-CN"]["states"]


# What a phone shows of the jobs' tables: the page's width, the cells whose words are cut
# (wider than their box, or past the screen's edge), the jobs' states, and the Chinese area
# names broken over two lines.
LAYOUT = """() => ({
  width: document.documentElement.scrollWidth,
  cut: [...document.querySelectorAll(
      '.jobs td, .job-table th, .job-table td, .access-table th, .access-table td')]
    .filter(c => c.offsetParent !== null)
    // A heading row hidden on a phone (its cells say their labels) is clipped on purpose.
    .filter(c => !c.closest('thead') || c.closest('thead').getBoundingClientRect().width > 1)
    .filter(c => c.scrollWidth > c.clientWidth + 1
                 || c.getBoundingClientRect().right > innerWidth + 1)
    .map(c => c.textContent),
  states: [...document.querySelectorAll('.jobs .job-state')].map(s => s.textContent),
  broken: [...document.querySelectorAll('.job-table .area-name, .access-table .area-name')]
    .filter(n => /[\u4e00-\u9fff]/.test(n.textContent) && n.getClientRects().length > 1)
    .map(n => n.textContent),
})"""


def test_without_a_dataset_the_jobs_page_says_who_can_add_one(
    database_url: str, make_client: Callable[..., Any], tmp_path: Path
) -> None:
    async def planner() -> None:
        await accounts.create_account(
            None, username="planner", password=PASSWORD, role=Role.PLANNER
        )

    run_in_db(database_url, planner)
    with make_client(database_url, demand_dataset=tmp_path / "none", run_worker=False) as client:
        sign_in(client, "planner")
        page = BeautifulSoup(client.get("/planning/jobs?lang=en").text, "html.parser")
    notice = text_of(page, ".notice")
    assert "an administrator names its directory with RESOURCEMAP_DEMAND_DATASET" in notice
    assert "`" not in notice
    assert not page.select("form.job-form"), "nothing to count yet"
    switches = page.select(".lang-switch")
    assert len(switches) == 1, "one way to change the language, in the header"
    assert attr(one(switches[0], "a[hreflang=zh-CN]"), "href").startswith("/planning/jobs?")
