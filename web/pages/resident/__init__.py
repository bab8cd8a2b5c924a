"""Pages for residents, no account: search and the map, a service's page, booking and the
waitlist. Routes are named ``resident.<name>``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.routing import group


def routes() -> list[BaseRoute]:
    from web.pages.resident import booking, referral, search

    page = group("resident")
    return [
        page("/", search.home, "GET", "home"),
        page("/resources/{id:id}", search.resource_detail, "GET", "listing"),
        page("/resources/{id:id}/book", booking.book_form, "GET", "book_form"),
        page("/resources/{id:id}/book", booking.book, "POST", "book"),
        page("/resources/{id:id}/waitlist", booking.waitlist_form, "GET", "waitlist_form"),
        page("/resources/{id:id}/waitlist", booking.join_waitlist, "POST", "waitlist_join"),
        page("/bookings/{code:bookingcode}", booking.manage, "GET", "booking"),
        page("/bookings/{code:bookingcode}/cancel", booking.cancel, "POST", "booking_cancel"),
        page("/bookings/{code:bookingcode}/feedback", booking.feedback, "POST", "booking_feedback"),
        page("/bookings/{code:bookingcode}/verify", booking.verify, "POST", "booking_verify"),
        page(
            "/bookings/{code:bookingcode}/reschedule",
            booking.reschedule,
            "POST",
            "booking_reschedule",
        ),
        page("/waitlist/{code:bookingcode}", booking.waitlist_entry, "GET", "waitlist"),
        page(
            "/waitlist/{code:bookingcode}/accept", booking.accept_offer, "POST", "waitlist_accept"
        ),
        page(
            "/waitlist/{code:bookingcode}/leave", booking.leave_waitlist, "POST", "waitlist_leave"
        ),
        # A referred resident's link, and the form after a visit (#23)
        page("/referrals/{code:bookingcode}", referral.referral, "GET", "referral"),
        page("/referrals/{code:bookingcode}/pick", referral.pick, "POST", "referral_pick"),
        page("/referrals/{code:bookingcode}/decline", referral.decline, "POST", "referral_decline"),
        page("/feedback/{token}", referral.feedback_form, "GET", "feedback"),
        page("/feedback/{token}", referral.feedback_submit, "POST", "feedback_submit"),
    ]
