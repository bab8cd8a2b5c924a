"""Pages for planners (and admins): coverage map and table, indicators, access, siting,
residents' feedback and referrals.
Routes are named ``planning.<name>``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.routing import group


def routes() -> list[BaseRoute]:
    from web.pages.planning import feedback, jobs, workspace

    page = group("planning")
    return [
        page("/planning", workspace.coverage_page, "GET", "coverage"),
        page("/planning/map", workspace.coverage_map_page, "GET", "map"),
        page("/planning/indicators", workspace.indicators_page, "GET", "indicators"),
        page("/planning/access", workspace.access_page, "GET", "access"),
        page("/planning/siting", workspace.siting_form, "GET", "siting"),
        page("/planning/siting", workspace.siting_run, "POST", "siting_run"),
        page("/planning/siting/map", workspace.siting_map_page, "GET", "siting_map"),
        page("/planning/feedback", feedback.feedback_page, "GET", "feedback"),
        page("/planning/jobs", jobs.jobs_page, "GET", "jobs"),
        page("/planning/jobs", jobs.start_job, "POST", "job_start"),
        page("/planning/jobs/{id:id}", jobs.job_page, "GET", "job"),
    ]
