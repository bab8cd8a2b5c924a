"""The JSON API under ``/api/v1``: one module per concept, over the domain's use cases.

Every route is named ``api.<name>`` (``request.url_for("api.search")``); the OpenAPI
document is built from this table.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.routing import group


def routes() -> list[BaseRoute]:
    from web.api import (
        accounts,
        areas,
        booking,
        booking_staff,
        feedback,
        health,
        jobs,
        listings,
        planning,
        referral,
        search,
        transfer,
    )
    from web.api import (
        map as map_api,
    )

    r = group("api", prefix="/api/v1", documented=True)
    return [
        # Search and the map first: residents ask for them most, and Starlette tries the
        # routes in order (after sixty others, matching cost ~0.15 ms of a search's ~2.5).
        r("/search", search.search, "GET", "search"),
        r("/nearest", search.nearest, "GET", "nearest"),
        r("/map/points", map_api.points, "GET", "map_points"),
        r("/map/matches", map_api.matches, "GET", "map_matches"),
        r("/map/view", map_api.view, "GET", "map_view"),
        # Listings and organisations
        r("/resources", listings.list_resources, "GET", "resources"),
        r("/resources", listings.create_resource, "POST", "resource_create"),
        r("/resources.geojson", listings.resources_geojson, "GET", "resources_geojson"),
        r("/resources/{id:id}", listings.get_resource, "GET", "resource"),
        r("/resources/{id:id}", listings.replace_resource, "PUT", "resource_replace"),
        r("/resources/{id:id}", listings.patch_resource, "PATCH", "resource_patch"),
        r("/resources/{id:id}/status", listings.set_status, "POST", "resource_status"),
        r("/organisations", listings.list_organisations, "GET", "organisations"),
        r("/organisations", listings.create_organisation, "POST", "organisation_create"),
        # Accounts
        r("/session", accounts.login, "POST", "session_start"),
        r("/session", accounts.whoami, "GET", "session"),
        r("/session", accounts.logout, "DELETE", "session_end"),
        r("/accounts", accounts.create_account, "POST", "account_create"),
        r("/accounts", accounts.list_accounts, "GET", "accounts"),
        r("/accounts/{id:id}", accounts.update_account, "PATCH", "account_update"),
        r("/accounts/{id:id}/password", accounts.reset_password, "POST", "account_password"),
        r("/tokens", accounts.create_token, "POST", "token_create"),
        r("/tokens", accounts.list_tokens, "GET", "tokens"),
        r("/tokens/{id:id}", accounts.revoke_token, "DELETE", "token_revoke"),
        r("/audit", accounts.audit_log, "GET", "audit"),
        # Files in and out
        r("/imports", transfer.import_upload, "POST", "import"),
        r("/exports", transfer.export_download, "GET", "export"),
        # Booking, for residents
        r("/resources/{id:id}/slots", booking.list_slots, "GET", "slots"),
        r("/bookings", booking.create_booking, "POST", "booking_create"),
        r("/bookings/{code:bookingcode}.ics", booking.booking_ics, "GET", "booking_ics"),
        r("/bookings/{code:bookingcode}", booking.get_booking, "GET", "booking"),
        r("/bookings/{code:bookingcode}/cancel", booking.cancel_booking, "POST", "booking_cancel"),
        r("/bookings/{code:bookingcode}/verify", booking.verify_booking, "POST", "booking_verify"),
        r(
            "/bookings/{code:bookingcode}/reschedule",
            booking.reschedule_booking,
            "POST",
            "booking_reschedule",
        ),
        r("/waitlist", booking.join_waitlist, "POST", "waitlist_join"),
        r("/waitlist/{code:bookingcode}", booking.get_waitlist_entry, "GET", "waitlist"),
        r("/waitlist/{code:bookingcode}", booking.leave_waitlist, "DELETE", "waitlist_leave"),
        r("/waitlist/{code:bookingcode}/accept", booking.accept_offer, "POST", "waitlist_accept"),
        # Booking, for staff
        r("/staff/bookings", booking_staff.list_bookings, "GET", "staff_bookings"),
        r("/staff/bookings", booking_staff.create_booking, "POST", "staff_booking_create"),
        r("/staff/bookings/{id:id}/cancel", booking_staff.cancel_booking, "POST", "staff_cancel"),
        r("/staff/bookings/{id:id}/status", booking_staff.mark_booking, "POST", "staff_mark"),
        r("/staff/bookings/{id:id}/reveal", booking_staff.reveal_contact, "POST", "staff_reveal"),
        r("/resources/{id:id}/booking-policy", booking_staff.get_policy, "GET", "policy"),
        r("/resources/{id:id}/booking-policy", booking_staff.put_policy, "PUT", "policy_put"),
        r("/resources/{id:id}/blocks", booking_staff.add_block, "POST", "block_add"),
        r("/blocks/{id:id}", booking_staff.remove_block, "DELETE", "block_remove"),
        r("/booking-stats", booking_staff.booking_stats, "GET", "booking_stats"),
        # Referral between services and feedback after a visit (#23)
        r("/referrals", referral.list_referrals, "GET", "referrals"),
        r("/referrals", referral.create_referral, "POST", "referral_create"),
        r("/referral-candidates", referral.candidates, "GET", "referral_candidates"),
        r("/referrals/{id:id}", referral.get_referral, "GET", "referral"),
        r("/referrals/{id:id}/accept", referral.accept, "POST", "referral_accept"),
        r("/referrals/{id:id}/book", referral.book, "POST", "referral_book"),
        r("/referrals/{id:id}/decline", referral.decline, "POST", "referral_decline"),
        r("/referrals/{id:id}/outcome", referral.outcome, "POST", "referral_outcome"),
        r("/referrals/{id:id}/close", referral.close, "POST", "referral_close"),
        r("/referrals/{id:id}/reveal", referral.reveal, "POST", "referral_reveal"),
        r("/resources/{id:id}/referral-seats", referral.put_seats, "PUT", "referral_seats"),
        r("/resources/{id:id}/referral-slots", referral.referral_slots, "GET", "referral_slots"),
        r("/referral-counts", referral.referral_counts, "GET", "referral_counts"),
        r("/my-referral/{code:bookingcode}", referral.resident_referral, "GET", "my_referral"),
        r(
            "/my-referral/{code:bookingcode}/pick",
            referral.resident_pick,
            "POST",
            "my_referral_pick",
        ),
        r(
            "/my-referral/{code:bookingcode}/decline",
            referral.resident_decline,
            "POST",
            "my_referral_decline",
        ),
        r("/feedback/{token}", feedback.form, "GET", "feedback_form"),
        r("/feedback/{token}", feedback.submit, "POST", "feedback_submit"),
        r("/resources/{id:id}/feedback", feedback.for_service, "GET", "service_feedback"),
        r("/feedback-summary", feedback.for_planners, "GET", "feedback_summary"),
        r("/areas", areas.list_areas, "GET", "areas"),
        r("/areas/{code:areacode}", areas.get_area, "GET", "area"),
        # Planning: planners and admins only
        r("/coverage", planning.coverage, "GET", "coverage"),
        r("/coverage.csv", planning.coverage_csv_export, "GET", "coverage_csv"),
        r("/coverage/gaps.geojson", planning.gaps, "GET", "coverage_gaps"),
        r("/coverage/report.html", planning.coverage_report, "GET", "coverage_report"),
        r("/heatmap", planning.heatmap, "GET", "heatmap"),
        r("/indicators", planning.indicators, "GET", "indicators"),
        r("/indicators.csv", planning.indicators_export, "GET", "indicators_csv"),
        r("/indicators.xlsx", planning.indicators_export, "GET", "indicators_xlsx"),
        r("/access", planning.access, "GET", "access"),
        r("/access/cells.csv", planning.access_cells, "GET", "access_cells"),
        r("/siting", planning.siting, "POST", "siting"),
        r("/siting.geojson", planning.siting_export, "POST", "siting_geojson"),
        r("/siting.csv", planning.siting_export, "POST", "siting_csv"),
        # Planners' background jobs (#22)
        r("/jobs", jobs.recent, "GET", "jobs"),
        r("/jobs", jobs.submit, "POST", "job_create"),
        r("/planning/jobs", jobs.submit_kind, "POST", "planning_job_create"),
        r("/jobs/{id:id}", jobs.job, "GET", "job"),
        r("/jobs/{id:id}/result.csv", jobs.result_csv, "GET", "job_csv"),
        # Liveness and readiness (#16): /healthz never touches the database, /readyz pings it.
        Route("/healthz", health.healthz, methods=["GET"], name="api.healthz"),
        Route("/readyz", health.readyz, methods=["GET"], name="api.readyz"),
    ]
