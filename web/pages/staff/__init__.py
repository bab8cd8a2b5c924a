"""Pages for staff and admins: signing in, the listings a person keeps, imports, bookings and
booking rules, organisations and accounts. Routes are named ``staff.<name>``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.routing import group


def routes() -> list[BaseRoute]:
    from web.pages.staff import admin, booking, imports, listings, referral, templates_download

    page = group("staff")
    return [
        page("/login", listings.login_form, "GET", "login"),
        page("/login", listings.login, "POST", "login_post"),
        page("/logout", listings.logout, "POST", "logout"),
        page("/staff", listings.staff_home, "GET", "home"),
        page("/staff/resources/new", listings.new_resource, "GET", "listing_new"),
        page("/staff/resources/new", listings.save_resource, "POST", "listing_create"),
        page("/staff/resources/{id:id}/edit", listings.edit_resource, "GET", "listing_edit"),
        page("/staff/resources/{id:id}/edit", listings.save_resource, "POST", "listing_save"),
        page("/staff/resources/{id:id}/status", listings.change_status, "POST", "listing_status"),
        page("/staff/import", imports.import_form, "GET", "import"),
        page("/staff/import", imports.import_upload, "POST", "import_post"),
        page(
            "/staff/import/template.{fmt}",
            templates_download.import_template,
            "GET",
            "import_template",
        ),
        page("/staff/organisations", admin.organisation_list, "GET", "organisations"),
        page("/staff/organisations/new", admin.new_organisation, "GET", "organisation_new"),
        page("/staff/organisations/new", admin.save_organisation, "POST", "organisation_create"),
        page(
            "/staff/organisations/{id:id}/edit", admin.edit_organisation, "GET", "organisation_edit"
        ),
        page(
            "/staff/organisations/{id:id}/edit",
            admin.save_organisation,
            "POST",
            "organisation_save",
        ),
        page("/staff/accounts", admin.account_list, "GET", "accounts"),
        page("/staff/accounts/new", admin.create_account, "POST", "account_create"),
        page("/staff/accounts/{id:id}/password", admin.reset_password, "POST", "account_password"),
        page("/staff/accounts/{id:id}/active", admin.set_active, "POST", "account_active"),
        page("/staff/accounts/{id:id}/role", admin.change_role, "POST", "account_role"),
        page("/staff/tokens/{id:id}/revoke", admin.revoke_token, "POST", "token_revoke"),
        page("/staff/bookings", booking.booking_list, "GET", "bookings"),
        page("/staff/bookings/stats", booking.booking_stats, "GET", "booking_stats"),
        page("/staff/bookings/new", booking.new_booking, "GET", "booking_new"),
        page("/staff/bookings/new", booking.create_booking, "POST", "booking_create"),
        page("/staff/bookings/{id:id}/booked", booking.booked, "GET", "booked"),
        page("/staff/bookings/{id:id}/status", booking.mark_booking, "POST", "booking_mark"),
        page("/staff/bookings/{id:id}/cancel", booking.cancel_booking, "POST", "booking_cancel"),
        page("/staff/bookings/{id:id}/reveal", booking.reveal_contact, "POST", "booking_reveal"),
        page("/staff/resources/{id:id}/booking", booking.booking_rules, "GET", "rules"),
        page("/staff/resources/{id:id}/booking", booking.save_rules, "POST", "rules_save"),
        page("/staff/resources/{id:id}/blocks", booking.add_block, "POST", "block_add"),
        page("/staff/blocks/{id:id}/remove", booking.remove_block, "POST", "block_remove"),
        # Referral between services, the green channel, and feedback (#23)
        page("/staff/referrals", referral.referral_list, "GET", "referrals"),
        page("/staff/referrals/new", referral.new_referral, "GET", "referral_new"),
        page("/staff/referrals/new", referral.create_referral, "POST", "referral_create"),
        page("/staff/referrals/{id:id}", referral.referral_detail, "GET", "referral"),
        page("/staff/referrals/{id:id}/accept", referral.accept, "POST", "referral_accept"),
        page("/staff/referrals/{id:id}/book", referral.accept, "POST", "referral_book"),
        page("/staff/referrals/{id:id}/resend", referral.resend, "POST", "referral_resend"),
        page("/staff/referrals/{id:id}/decline", referral.decline, "POST", "referral_decline"),
        page("/staff/referrals/{id:id}/outcome", referral.outcome, "POST", "referral_outcome"),
        page("/staff/referrals/{id:id}/close", referral.close, "POST", "referral_close"),
        page("/staff/referrals/{id:id}/reveal", referral.reveal, "POST", "referral_reveal"),
        page("/staff/resources/{id:id}/feedback", referral.feedback, "GET", "feedback"),
        page(
            "/staff/resources/{id:id}/referral-seats",
            referral.save_seats,
            "POST",
            "referral_seats",
        ),
    ]
