"""Every URL the app answers, in one list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web.endpoints import (
    admin_pages,
    areas,
    bookings,
    coverage,
    health,
    imports,
    map_data,
    planning_pages,
    resident_booking,
    resident_pages,
    resources,
    search,
    staff_api,
    staff_booking_pages,
    staff_bookings,
    staff_pages,
)
from web.openapi import openapi

STATIC_DIR = Path(__file__).parent / "static"


class IdConvertor(Convertor[int]):
    """Database ids: 1 to 9 digits, so a 30-digit id is "not found", never an overflow."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


class AreaCodeConvertor(Convertor[str]):
    """Administrative area codes: up to 12 letters or digits (statistical codes are digits)."""

    regex = "[0-9A-Za-z]{1,12}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class BookingCodeConvertor(Convertor[str]):
    """Booking and waitlist codes: 8 digits."""

    regex = "[0-9]{8}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", IdConvertor())
register_url_convertor("bookingcode", BookingCodeConvertor())
register_url_convertor("areacode", AreaCodeConvertor())


def _pages(*pages: tuple[str, Callable[[Request], Awaitable[Response]], str]) -> list[Route]:
    """HTML pages: not part of the API document."""
    return [
        Route(path, endpoint, methods=[method], include_in_schema=False)
        for path, endpoint, method in pages
    ]


def build_routes() -> list[BaseRoute]:
    return [
        Route("/", resident_pages.home, name="home", include_in_schema=False),
        # Liveness and readiness (#16): /healthz never touches the database.
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/openapi.json", openapi, include_in_schema=False),
        Route("/api/v1/resources", resources.list_resources, methods=["GET"]),
        Route("/api/v1/resources", staff_api.create_resource, methods=["POST"]),
        Route("/api/v1/resources.geojson", resources.resources_geojson),
        Route("/api/v1/resources/{id:id}", resources.get_resource, methods=["GET"]),
        Route("/api/v1/resources/{id:id}", staff_api.replace_resource, methods=["PUT"]),
        Route("/api/v1/resources/{id:id}", staff_api.patch_resource, methods=["PATCH"]),
        Route("/api/v1/resources/{id:id}/status", staff_api.set_status, methods=["POST"]),
        Route("/api/v1/session", staff_api.login, methods=["POST"]),
        Route("/api/v1/session", staff_api.whoami, methods=["GET"]),
        Route("/api/v1/session", staff_api.logout, methods=["DELETE"]),
        Route("/api/v1/organisations", staff_api.list_organisations, methods=["GET"]),
        Route("/api/v1/organisations", staff_api.create_organisation, methods=["POST"]),
        Route("/api/v1/accounts", staff_api.create_account, methods=["POST"]),
        Route("/api/v1/accounts/{id:id}/password", staff_api.reset_password, methods=["POST"]),
        Route("/api/v1/tokens", staff_api.create_token, methods=["POST"]),
        Route("/api/v1/audit", staff_api.audit_log, methods=["GET"]),
        Route("/api/v1/imports", imports.import_upload, methods=["POST"]),
        Route("/api/v1/exports", imports.export_download, methods=["GET"]),
        Route("/api/v1/resources/{id:id}/slots", bookings.list_slots, methods=["GET"]),
        Route("/api/v1/bookings", bookings.create_booking, methods=["POST"]),
        Route("/api/v1/bookings/{code:bookingcode}.ics", bookings.booking_ics, methods=["GET"]),
        Route("/api/v1/bookings/{code:bookingcode}", bookings.get_booking, methods=["GET"]),
        Route(
            "/api/v1/bookings/{code:bookingcode}/cancel", bookings.cancel_booking, methods=["POST"]
        ),
        Route(
            "/api/v1/bookings/{code:bookingcode}/reschedule",
            bookings.reschedule_booking,
            methods=["POST"],
        ),
        Route("/api/v1/waitlist", bookings.join_waitlist, methods=["POST"]),
        Route("/api/v1/waitlist/{code:bookingcode}", bookings.get_waitlist_entry, methods=["GET"]),
        Route("/api/v1/waitlist/{code:bookingcode}", bookings.leave_waitlist, methods=["DELETE"]),
        Route(
            "/api/v1/waitlist/{code:bookingcode}/accept", bookings.accept_offer, methods=["POST"]
        ),
        Route("/api/v1/staff/bookings", staff_bookings.list_bookings, methods=["GET"]),
        Route("/api/v1/staff/bookings", staff_bookings.create_booking, methods=["POST"]),
        Route(
            "/api/v1/staff/bookings/{id:id}/cancel",
            staff_bookings.cancel_booking,
            methods=["POST"],
        ),
        Route(
            "/api/v1/staff/bookings/{id:id}/status", staff_bookings.mark_booking, methods=["POST"]
        ),
        Route(
            "/api/v1/staff/bookings/{id:id}/reveal",
            staff_bookings.reveal_contact,
            methods=["POST"],
        ),
        Route(
            "/api/v1/resources/{id:id}/booking-policy",
            staff_bookings.get_policy,
            methods=["GET"],
        ),
        Route(
            "/api/v1/resources/{id:id}/booking-policy",
            staff_bookings.put_policy,
            methods=["PUT"],
        ),
        Route("/api/v1/resources/{id:id}/blocks", staff_bookings.add_block, methods=["POST"]),
        Route("/api/v1/blocks/{id:id}", staff_bookings.remove_block, methods=["DELETE"]),
        Route("/api/v1/booking-stats", staff_bookings.booking_stats, methods=["GET"]),
        Route("/api/v1/search", search.search),
        Route("/api/v1/nearest", search.nearest),
        Route("/api/v1/map/points", map_data.points),
        Route("/api/v1/map/matches", map_data.matches),
        Route("/api/v1/areas", areas.list_areas),
        Route("/api/v1/areas/{code:areacode}", areas.get_area),
        # Coverage and planning (#7): planners and admins only.
        Route("/api/v1/coverage", coverage.coverage, methods=["GET"]),
        Route("/api/v1/coverage.csv", coverage.coverage_csv_export, methods=["GET"]),
        Route("/api/v1/coverage/gaps.geojson", coverage.gaps, methods=["GET"]),
        Route("/api/v1/coverage/report.html", coverage.coverage_report, methods=["GET"]),
        Route("/api/v1/heatmap", coverage.heatmap, methods=["GET"]),
        Route("/api/v1/indicators", coverage.indicators, methods=["GET"]),
        Route("/api/v1/siting", coverage.siting, methods=["POST"]),
        # The planner's workspace (#20): access, exports.
        Route("/api/v1/access", coverage.access, methods=["GET"]),
        Route("/api/v1/access/cells.csv", coverage.access_cells, methods=["GET"]),
        Route("/api/v1/indicators.csv", coverage.indicators_export, methods=["GET"]),
        Route("/api/v1/indicators.xlsx", coverage.indicators_export, methods=["GET"]),
        Route("/api/v1/siting.geojson", coverage.siting_export, methods=["POST"]),
        Route("/api/v1/siting.csv", coverage.siting_export, methods=["POST"]),
        *_pages(
            ("/resources/{id:id}", resident_pages.resource_detail, "GET"),
            ("/resources/{id:id}/book", resident_booking.book_form, "GET"),
            ("/resources/{id:id}/book", resident_booking.book, "POST"),
            ("/resources/{id:id}/waitlist", resident_booking.waitlist_form, "GET"),
            ("/resources/{id:id}/waitlist", resident_booking.join_waitlist, "POST"),
            ("/bookings/{code:bookingcode}", resident_booking.manage, "GET"),
            ("/bookings/{code:bookingcode}/cancel", resident_booking.cancel, "POST"),
            ("/bookings/{code:bookingcode}/reschedule", resident_booking.reschedule, "POST"),
            ("/waitlist/{code:bookingcode}", resident_booking.waitlist_entry, "GET"),
            ("/waitlist/{code:bookingcode}/accept", resident_booking.accept_offer, "POST"),
            ("/waitlist/{code:bookingcode}/leave", resident_booking.leave_waitlist, "POST"),
        ),
        *_pages(
            ("/planning", planning_pages.coverage_page, "GET"),
            ("/planning/map", planning_pages.coverage_map_page, "GET"),
            ("/planning/indicators", planning_pages.indicators_page, "GET"),
            ("/planning/access", planning_pages.access_page, "GET"),
            ("/planning/siting", planning_pages.siting_form, "GET"),
            ("/planning/siting", planning_pages.siting_run, "POST"),
        ),
        *_pages(
            ("/login", staff_pages.login_form, "GET"),
            ("/login", staff_pages.login, "POST"),
            ("/logout", staff_pages.logout, "POST"),
            ("/staff", staff_pages.staff_home, "GET"),
            ("/staff/resources/new", staff_pages.new_resource, "GET"),
            ("/staff/resources/new", staff_pages.save_resource, "POST"),
            ("/staff/resources/{id:id}/edit", staff_pages.edit_resource, "GET"),
            ("/staff/resources/{id:id}/edit", staff_pages.save_resource, "POST"),
            ("/staff/resources/{id:id}/status", staff_pages.change_status, "POST"),
            ("/staff/import", staff_pages.import_form, "GET"),
            ("/staff/import", staff_pages.import_upload, "POST"),
            ("/staff/organisations", admin_pages.organisation_list, "GET"),
            ("/staff/organisations/new", admin_pages.new_organisation, "GET"),
            ("/staff/organisations/new", admin_pages.save_organisation, "POST"),
            ("/staff/organisations/{id:id}/edit", admin_pages.edit_organisation, "GET"),
            ("/staff/organisations/{id:id}/edit", admin_pages.save_organisation, "POST"),
            ("/staff/accounts", admin_pages.account_list, "GET"),
            ("/staff/accounts/new", admin_pages.create_account, "POST"),
            ("/staff/accounts/{id:id}/password", admin_pages.reset_password, "POST"),
        ),
        *_pages(
            ("/staff/bookings", staff_booking_pages.booking_list, "GET"),
            ("/staff/bookings/stats", staff_booking_pages.booking_stats, "GET"),
            ("/staff/bookings/new", staff_booking_pages.new_booking, "GET"),
            ("/staff/bookings/new", staff_booking_pages.create_booking, "POST"),
            ("/staff/bookings/{id:id}/booked", staff_booking_pages.booked, "GET"),
            ("/staff/bookings/{id:id}/status", staff_booking_pages.mark_booking, "POST"),
            ("/staff/bookings/{id:id}/cancel", staff_booking_pages.cancel_booking, "POST"),
            ("/staff/bookings/{id:id}/reveal", staff_booking_pages.reveal_contact, "POST"),
            ("/staff/resources/{id:id}/booking", staff_booking_pages.booking_rules, "GET"),
            ("/staff/resources/{id:id}/booking", staff_booking_pages.save_rules, "POST"),
            ("/staff/resources/{id:id}/blocks", staff_booking_pages.add_block, "POST"),
            ("/staff/blocks/{id:id}/remove", staff_booking_pages.remove_block, "POST"),
        ),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
