"""Planners' background jobs (#22): coverage of a province's demand dataset is asked for, runs
in the background in any app process, shows its progress, and keeps its table — the same
table the command computes — while a planner's request never waits for it."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from resourcemap import accounts, db
from resourcemap.clock import FixedClock
from resourcemap.demo.province_load import ProvinceSize, load_demo_province
from resourcemap.errors import InvalidInput
from resourcemap.models import Area, Organisation, PlannerJob
from resourcemap.planning import job_runner, jobs
from resourcemap.planning.coverage import CoverageQuery
from resourcemap.planning.dataset_coverage import dataset_coverage
from resourcemap.vocab import AreaLevel, Role
from tests.accounts.test_area_scope import sign_in
from tests.conftest import TEST_NOW, make_settings
from tests.factories import run_in_db
from tests.html_helpers import attr, hidden_fields, one, text_of
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
    assert done.outcome.csv() == direct.csv(), "the job's table is the command's table"
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
        rows = list(csv.DictReader(io.StringIO(table.text)))
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

        # A city-wide table asked for by the planner for everything…
        city = client.post("/api/v1/jobs", json={"level": "city"}, headers=headers)
        assert city.status_code == 202, city.text

        # A planner kept to one district sees that district's row and totals only.
        headers = sign_in(client, "district")
        kept = client.get(location).json()["result"]
        assert len(kept["rows"]) == 1
        assert kept["population"] == pytest.approx(kept["rows"][0]["population"])
        other = next(r for r in result["rows"] if r["code"] != kept["rows"][0]["code"])
        assert other["code"] not in client.get(f"{location}/result.csv").text
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
    # The province keeps its residents in the GeoParquet dataset only: access by E2SFCA
    # has no demand in the database to read, and running it again would not change that.
    url, demand = province
    settings = _settings(url, demand)

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
    with make_client(url, demand_dataset=demand) as client:
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
    with make_client(url, demand_dataset=demand, run_worker=False) as client:
        sign_in(client, "planner")
        for path in ("/planning", "/planning/access", "/planning/indicators"):
            answer = client.get(f"{path}?lang=en")
            assert answer.status_code == 404, path
            soup = BeautifulSoup(answer.text, "html.parser")
            alert = text_of(soup, "[role=alert]")
            assert "no demand data: import a population raster" in alert, path
            jobs_link = one(soup, "[role=alert] a")
            assert attr(jobs_link, "href").startswith("/planning/jobs")
            assert jobs_link.get_text() == "Background jobs"
        chinese = BeautifulSoup(client.get("/planning?lang=zh-CN").text, "html.parser")
        assert "no demand" not in text_of(chinese, "[role=alert]")
