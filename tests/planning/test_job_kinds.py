"""Planners' background jobs of E2SFCA access and of siting (#22): asked for from the access
and siting pages or the API, run by the app's runner, their results the figures the pages
compute in the request — and a planner kept to an area sees only its own (#20)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from resourcemap import db
from resourcemap.clock import FixedClock
from resourcemap.errors import Forbidden
from resourcemap.planning import job_runner, jobs
from resourcemap.planning.access import AccessQuery, AccessService
from resourcemap.planning.area_places import area_places
from resourcemap.planning.coverage import CoverageService
from resourcemap.planning.job_outcomes import AccessOutcome, SitingOutcome
from resourcemap.planning.siting import SitingRequest, plan, sites_csv
from resourcemap.scope import area_scope
from resourcemap.settings import Settings
from resourcemap.vocab import AreaLevel
from tests.accounts.test_area_scope import _foreign, _inside, _planners, sign_in
from tests.conftest import TEST_NOW, make_settings
from tests.factories import run_in_db
from tests.html_helpers import attr, csv_text, hidden_fields, one, text_of

# A bound on waiting for the app's own runner, not a measure of speed.
PATIENCE_SECONDS = 300
STREETS = AreaLevel.STREET


@pytest.fixture
def world(demo_url: str) -> dict[str, Any]:
    """The demo city with planners kept to a district, a street and a community, one for
    the whole city (``city``), and a second district beside it."""
    found: dict[str, Any] = run_in_db(demo_url, _planners)
    return {"url": demo_url, **found}


async def _jobs_and_pages(
    settings: Settings, district: str, access_query: AccessQuery, siting_query: SitingRequest
) -> dict[str, Any]:
    """Four jobs asked for and run, and what the pages compute in the request for them."""
    scope = await area_scope(district)
    access_job = await jobs.submit(
        settings, access_query, by="city", now=TEST_NOW, kind=jobs.JobKind.ACCESS
    )
    again = await jobs.submit(
        settings, access_query, by="district", now=TEST_NOW, kind=jobs.JobKind.ACCESS
    )
    city_sites = await jobs.submit(
        settings, siting_query, by="city", now=TEST_NOW, kind=jobs.JobKind.SITING
    )
    own_sites = await jobs.submit(
        settings, siting_query, by="district", now=TEST_NOW, kind=jobs.JobKind.SITING,
        scope=scope,
    )  # fmt: skip
    runner = job_runner.JobRunner(settings, clock=FixedClock(TEST_NOW))
    ran = [await runner.run_once() for _ in range(4)]
    done = {j.id: await jobs.job(j.id) for j in (access_job, city_sites, own_sites)}
    after = await jobs.submit(
        settings, access_query, by="city", now=TEST_NOW, kind=jobs.JobKind.ACCESS
    )
    coverage = CoverageService()
    access = AccessService(coverage)
    return {
        "scope": scope,
        "ids": (access_job.id, again.id, after.id, city_sites.id, own_sites.id),
        "ran": ran,
        "done": done,
        "whole": await access.report(access_query, now=TEST_NOW, tz=settings.tz),
        "cut": await access.report(access_query, now=TEST_NOW, tz=settings.tz, scope=scope),
        "plan city": await plan(coverage, access, siting_query),
        "plan own": await plan(coverage, access, siting_query, scope),
        "listed": [j.id for j in await jobs.recent(scope)],
        "places": await area_places(),
    }


@pytest.mark.anyio
async def test_jobs_give_the_figures_the_pages_compute(world: dict[str, Any]) -> None:
    url, district = world["url"], world["scopes"]["district"]
    settings = make_settings(url)
    access_query, siting_query = AccessQuery(level=STREETS), SitingRequest(sites=2)
    async with db.database(url):
        found = await _jobs_and_pages(settings, district, access_query, siting_query)
    access_id, again_id, after_id, city_id, own_id = found["ids"]
    assert again_id == access_id, "asked twice while it waits: one job"
    assert after_id == access_id, "asked again on the same data: the stored result"
    assert own_id != city_id, "a district's sites are another job than the city's"
    assert sorted(found["ran"][:3]) == sorted((access_id, city_id, own_id))
    assert found["ran"][3] is None
    done = found["done"]
    for job in done.values():
        assert job.state is jobs.JobState.DONE and job.progress == 1.0
    # Access passes three stages; siting two, then one step per site picked.
    assert done[access_id].done_steps == done[access_id].total_steps == 3
    assert done[city_id].done_steps == done[city_id].total_steps == 2 + siting_query.sites

    # Access: the access page's figures, per street and in total.
    outcome = done[access_id].outcome
    assert isinstance(outcome, AccessOutcome)
    whole = found["whole"]
    assert [r.code for r in outcome.rows] == [r.code for r in whole.rows]
    for mine, page in zip(outcome.rows, whole.rows, strict=True):
        assert mine.population == pytest.approx(page.population)
        assert mine.access == pytest.approx(page.access)
        assert mine.no_service == pytest.approx(page.no_service)
        assert mine.evening_covered == pytest.approx(page.evening_covered)
    assert (outcome.services, outcome.evening_services) == (whole.services, whole.evening_services)
    assert outcome.access == pytest.approx(whole.access)
    assert sum(r.services for r in outcome.rows) == whole.services

    # …and cut to the district, what its planner's access page shows.
    scope, cut = found["scope"], found["cut"]
    kept = done[access_id].within(scope).outcome
    assert isinstance(kept, AccessOutcome)
    assert [r.code for r in kept.rows] == [r.code for r in cut.rows]
    assert kept.population == pytest.approx(cut.population)
    assert kept.access == pytest.approx(cut.access)
    assert (kept.services, kept.evening_services) == (cut.services, cut.evening_services)
    assert kept.supply == pytest.approx(cut.supply_total)

    # Siting: the siting page's sites, for the city and for the district's own planner, each
    # saying where its community is (in the CSV too, after the siting page's columns).
    for job_id, name in ((city_id, "plan city"), (own_id, "plan own")):
        sites = done[job_id].outcome
        assert isinstance(sites, SitingOutcome)
        assert sites == SitingOutcome.of(found[name]).with_places(found["places"])
        on_page = list(csv.DictReader(io.StringIO(sites_csv(found[name]))))
        in_job = list(csv.DictReader(io.StringIO(sites.csv())))
        assert [{k: r[k] for k in on_page[0]} for r in in_job] == on_page
        for row in in_job:
            place = found["places"][row["community"]]
            assert row["community_name_en"] == place.name_en
            assert [row["street_en"], row["district_en"], row["city_en"]] == [
                p.name_en for p in place.parents
            ]
    # Each street of the access table says where it lies, as the areas do.
    places = found["places"]
    assert [(r.name_en, r.parents) for r in outcome.rows] == [
        (places[r.code].name_en, places[r.code].parents) for r in outcome.rows
    ]
    assert all(r.parents for r in outcome.rows) and any(r.name_en for r in outcome.rows)
    own = done[own_id].outcome
    assert own.sites and all(scope.admits(s.community) for s in own.sites)

    # The district's planner lists their own siting job, not the city's, and cannot open it.
    assert access_id in found["listed"] and own_id in found["listed"]
    assert city_id not in found["listed"]
    with pytest.raises(Forbidden):
        done[city_id].within(scope)


def _wait_done(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(location).json()
        if body["state"] in ("done", "failed"):
            assert body["state"] == "done", body
            return body
        time.sleep(0.5)
    raise AssertionError(f"the job did not finish within {PATIENCE_SECONDS} s")


def _csv_codes(text: str) -> list[str]:
    return [row["code"] for row in csv.DictReader(io.StringIO(text))]


def test_planners_run_access_and_siting_in_the_background(
    world: dict[str, Any], make_client: Callable[..., Any]
) -> None:
    url, district = world["url"], world["scopes"]["district"]
    mine = _inside(world, district)
    with make_client(url) as client:
        headers = sign_in(client, "city")
        asked = client.post(
            "/api/v1/planning/jobs",
            json={"kind": "access", "query": {"level": "street"}},
            headers=headers,
        )
        assert asked.status_code == 202, asked.text
        assert asked.json()["kind"] == "access"
        location = asked.headers["location"]
        body = _wait_done(client, location)
        rows = body["result"]["rows"]
        in_request = client.get("/api/v1/access?level=street").json()["areas"]
        assert [r["code"] for r in rows] == [a["code"] for a in in_request]
        for row, area in zip(rows, in_request, strict=True):
            assert row["population"] == pytest.approx(area["population"], abs=0.1)
            if area["access"] is not None:
                assert row["access"] == pytest.approx(area["access"], abs=1e-4)
        table = client.get(f"{location}/result.csv")
        assert table.headers["content-type"].startswith("text/csv")
        assert "access-job" in table.headers["content-disposition"]
        assert _csv_codes(csv_text(table)) == [r["code"] for r in rows]

        # The page: the table by street with its download, in English.
        page = BeautifulSoup(client.get(f"/planning/jobs/{body['id']}?lang=en").text, "html.parser")
        assert text_of(page, ".job-status").strip() == "Done"
        assert text_of(page, ".exports a") == "Download the table (CSV)"
        assert len(page.select(".job-table tbody tr")) == len(rows)
        # Each street by its English name (or its Chinese one, marked, where it has none) and
        # its district; the city every street lies in is said once, above the table.
        by_code = {r["code"]: r for r in rows}
        city = rows[0]["parents"][-1]["name_en"]
        assert text_of(page, ".shared-place") == f"Every area of this table is in {city}."
        for tr in page.select(".job-table tbody tr"):
            row = by_code[attr(tr, "data-code")]
            assert text_of(tr, ".area-name") == (row["name_en"] or row["name"])
            assert bool(tr.select(".area-name [lang=zh-CN]")) == (not row["name_en"])
            above = row["parents"][0]
            assert text_of(tr, ".area-in") == (above["name_en"] or above["name"])
        assert "access by E2SFCA" in text_of(page, "h1")
        zh = BeautifulSoup(
            client.get(f"/planning/jobs/{body['id']}?lang=zh-CN").text, "html.parser"
        )
        assert text_of(zh, "h1") == f"计算任务 #{body['id']}：可及性（E2SFCA）"
        assert text_of(zh, ".exports a") == "下载表格（CSV）"

        # The access page's own button asks for the same job: the stored one.
        access_page = BeautifulSoup(
            client.get("/planning/access?level=street&lang=en").text, "html.parser"
        )
        form = one(access_page, "form.access-job")
        assert text_of(form, "button") == "Run in the background"
        started = client.post("/planning/jobs", data=hidden_fields(form), follow_redirects=False)
        assert started.status_code == 303
        assert started.headers["location"].startswith(f"/planning/jobs/{body['id']}?")

        # A city-wide siting job, asked for through the API.
        city_sites = client.post(
            "/api/v1/planning/jobs", json={"kind": "siting", "query": {"sites": 1}},
            headers=headers,
        )  # fmt: skip
        assert city_sites.status_code == 202, city_sites.text

        # The district's planner: only the district's streets, in the answer, file and page.
        headers = sign_in(client, "district")
        kept = client.get(location).json()["result"]
        assert kept["rows"] and {r["code"] for r in kept["rows"]} <= mine
        own_request = client.get("/api/v1/access?level=street").json()
        assert [r["code"] for r in kept["rows"]] == [a["code"] for a in own_request["areas"]]
        assert kept["population"] == pytest.approx(own_request["totals"]["population"], abs=1)
        assert kept["services"] == own_request["totals"]["services"]
        assert set(_csv_codes(csv_text(client.get(f"{location}/result.csv")))) <= mine
        page_text = client.get(f"/planning/jobs/{body['id']}").text
        assert not [name for name in _foreign(world, district) if name in page_text]

        # …runs siting from the siting page's button, planned in the district.
        siting_page = BeautifulSoup(client.get("/planning/siting?lang=en").text, "html.parser")
        form = one(siting_page, "form.siting-form")
        button = one(form, "button[name=background]")
        assert button.get_text() == "Run in the background"
        fields = {**hidden_fields(form), "sites": "1", "background": "1"}
        started = client.post("/planning/siting", data=fields, follow_redirects=False)
        assert started.status_code == 303, started.text
        siting_id = int(started.headers["location"].split("?")[0].rsplit("/", 1)[1])
        sites = _wait_done(client, f"/api/v1/jobs/{siting_id}")
        assert sites["query"]["area"] == district
        planned = client.post("/api/v1/siting", json={"sites": 1}, headers=headers).json()
        assert [(s["lon"], s["lat"], s["adds"]) for s in sites["result"]["sites"]] == [
            (s["lon"], s["lat"], s["adds"]) for s in planned["sites"]
        ]
        page = BeautifulSoup(client.get(f"/planning/jobs/{siting_id}?lang=en").text, "html.parser")
        assert len(page.select(".job-table tbody tr.site")) == 1
        site = sites["result"]["sites"][0]
        assert text_of(page, ".site-area .area-name") == site["community_name_en"]
        assert text_of(page, ".shared-place").startswith("Every site is in ")
        assert text_of(page, ".exports a") == "Download the sites (CSV)"
        sites_file = client.get(f"/api/v1/jobs/{siting_id}/result.csv")
        assert csv_text(sites_file).splitlines()[0].startswith("rank,lon,lat,adds")
        # The city-wide sites are not theirs to read.
        listed = [j["id"] for j in client.get("/api/v1/jobs").json()["items"]]
        assert siting_id in listed and city_sites.json()["id"] not in listed
        assert client.get(city_sites.headers["location"]).status_code == 403

        # The city's planner, kept to no area, reads every job.
        sign_in(client, "city")
        listed = [j["id"] for j in client.get("/api/v1/jobs").json()["items"]]
        assert {siting_id, city_sites.json()["id"], body["id"]} <= set(listed)


@pytest.mark.parametrize("body", [{"kind": "nothing"}, {"kind": "siting", "query": {"x": 1}}])
def test_a_job_of_no_known_kind_or_shape_is_refused(
    world: dict[str, Any], make_client: Callable[..., Any], body: dict[str, Any]
) -> None:
    with make_client(world["url"], run_worker=False) as client:
        headers = sign_in(client, "city")
        refused = client.post("/api/v1/planning/jobs", json=body, headers=headers)
        assert refused.status_code == 400, refused.text
        # The pages' job forms start only the kinds whose fields they know.
        page = BeautifulSoup(client.get("/planning/access?lang=en").text, "html.parser")
        fields = {**hidden_fields(one(page, "form.access-job")), "job_kind": body["kind"]}
        answer = client.post("/planning/jobs", data=fields, follow_redirects=False)
        assert answer.status_code == 400
        assert "Start this job from its own page." in answer.text
