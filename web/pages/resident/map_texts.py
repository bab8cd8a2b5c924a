"""What the residents' map script (``static/map.js``) says, from the same catalogues as the
pages: the page hands it over as JSON, so the script has no words of its own."""

from __future__ import annotations

from resourcemap.vocab import ELIGIBILITY_LABELS
from web import i18n
from web.i18n import _


def messages() -> dict[str, str]:
    """Texts the map script shows, from the same catalogues as the pages."""
    return {
        # Who may use a listing whose card has no note of its own: "eligibility_students".
        **{
            f"eligibility_{code}": i18n.vocab(code, ELIGIBILITY_LABELS)
            for code in ELIGIBILITY_LABELS
        },
        # How the page's language joins what it says (i18n), for the script to join alike.
        "after_colon": i18n.after_colon(),
        "clause_separator": i18n.clause_separator(),
        "between_sentences": i18n.between_sentences(),
        "full_stop": i18n.full_stop(),
        # The page's title after a search made in place, as the server titles it.
        "title_results": _("Results for “%(q)s”", q="{q}"),
        "title_search": _("Search results"),
        "title_base": _("Mental health service map") + " · ResourceMap",
        "zoom_in": _("zoom in to see them"),
        "paid": _("Paid"),
        "books_online": _("Books online"),
        "phone_here": _("Phone service for your area"),
        "phone": _("Phone service"),
        "serves_here": _("Serves your community"),
        "serves": _("Serves its area"),
        "matched": _("Matched because:"),
        "mentions": _("mentions %(word)s", word="{word}"),
        "widened": _(
            "Nothing within %(asked)s; showing within %(shown)s.", asked="{asked}", shown="{shown}"
        ),
        "widened_any": _(
            "Nothing within %(asked)s; showing the nearest at any distance.", asked="{asked}"
        ),
        "ignored": _(
            "Nothing matches “%(words)s” as well; showing services for the rest.", words="{words}"
        ),
        "crisis_title": _("You are not alone. Talk to someone now"),
        "crisis_lead": _("These lines answer day and night, free of charge:"),
        "empty": _("Nothing matches all of this."),
        "lines_counted": _("(the 24/7 lines above among them)"),
        "free_from_words": _("Free services only, as you asked."),
        "english_from_words": _("Services in English only, as you asked."),
        "english_spoken": _("English spoken"),
        "needs_place": _("Nearest first needs a place: type a community or use your location."),
        "try_words": _(
            "Try fewer or other words, such as anxiety, sleep or counselling, or say how you feel."
        ),
        "closed_now": _("Closed now"),
        "near_here": _("Near: %(place)s", place=_("Your location")),
        "opens_today": _("Opens today at %(time)s", time="{time}"),
        "opens_tomorrow": _("Opens tomorrow at %(time)s", time="{time}"),
        "opens_day": _("Opens %(day)s at %(time)s", day="{day}", time="{time}"),
        "clear": _("Clear filters"),
        "members_only": _(
            "Places for particular people only (such as a school's pupils) that match: %(count)s.",
            count="{n}",
        ),
        "show_them": _("Show them"),
        "nearest": _("The nearest suitable service, whatever the filters:"),
        "talk_now": _("Or talk to someone now:"),
        "within": _("Within %(distance)s", distance="{distance}"),
        "area_reach": _(
            "%(place)s reaches about %(reach)s from its centre: places in it farther than "
            "%(radius)s are not listed.",
            place="{place}",
            reach="{reach}",
            radius="{radius}",
        ),
        "service_circle": _("The %(distance)s service circle", distance="{distance}"),
        "count_one": _("1 service found"),
        "count": _("%(count)s services found", count="{n}"),
        "count_near": _(
            "%(count)s services found at any distance, the nearest first.", count="{n}"
        ),
        "count_best": _(
            "%(count)s services found at any distance, the best match near you first.",
            count="{n}",
        ),
        "none": _("No services match. Try fewer filters."),
        "loading": _("Loading service points…"),
        "failed": _("Could not load. Please check your connection and reload."),
        "open_now": _("Open now"),
        "free": _("Free"),
        "walk": _("%(minutes)s min walk", minutes="{n}"),
        "details": _("Details and booking"),
        "details_only": _("Details"),
        "locating": _("Finding your location…"),
        "located": _("Showing services near you."),
        "no_location": _("Your location is not available. Type a community or street instead."),
        "your_location": _("Your location"),
        "check": _("Please check: %(field)s", field="{field}"),
        "points": _("%(count)s service points on the map", count="{n}"),
        "point_one": _("1 service point on the map"),
        "on_map": _("Show on map"),
        "more": _("Show more"),
        "plain_map": _("Map without background tiles: areas and service points only."),
    }
