"""The planner map's and report's texts in the request's language (gettext, Babel formats).

``geo.maps`` and ``resourcemap.planning.report`` know no language: they take a
:class:`~geo.maps.MapText` / :class:`~resourcemap.coverage_report.ReportText`, made here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from babel.dates import format_datetime
from babel.numbers import format_percent

from geo.map_text import MapText
from resourcemap.planning.area_places import area_places
from resourcemap.planning.report import ReportText
from resourcemap.vocab import AREA_LEVEL_SAID, AreaLevel, ResourceKind
from web import i18n
from web.i18n import _


async def area_names() -> dict[str, str]:
    """Every area's name in the reader's language, where it differs from its Chinese name
    (the maps' and report's own): the English pages name areas in English."""
    if i18n.current() is not i18n.EN:
        return {}
    return {code: p.name_en for code, p in (await area_places()).items() if p.name_en}


def percent(x: float, digits: int = 0) -> str:
    pattern = "#,##0%" if digits == 0 else "#,##0." + "0" * digits + "%"
    return format_percent(x, pattern, locale=i18n.current().babel)


def share(x: float) -> str:
    """A covered share as every planner page, the report and the map's tooltips write it:
    the exact share rounded once, to a tenth of a percent. Rounding a share already rounded
    (the API's four places) made 82.05 % read 82.0 % on the page and 82.1 % in the report.
    """
    return percent(x, 1)


def metres(x: float) -> str:
    return i18n.distance(x)


def kind_label(kind: ResourceKind) -> str:
    return i18n.vocab(kind)


def map_text(area_names: Mapping[str, str] | None = None) -> MapText:
    return MapText(
        area_names=area_names or {},
        covered_layer=_("Residents within the circle, by area"),
        unmet_layer=_("Residents outside the circle, per hexagon"),
        gaps_layer=_("Parts of areas outside every circle"),
        circles_layer=_("%(radius)s circle around each service"),
        points_layer=_("Counted service points"),
        sites_layer=_("Recommended new sites"),
        labels_layer=_("Area names"),
        layers_button=_("Layers"),
        legend_title=_("Legend"),
        share_title=_("Share of residents within %(radius)s of a service, %%"),
        share_note=_("Fixed classes around the target: every resident within %(radius)s."),
        nobody=_("nobody lives here"),
        unmet_title=_("Residents outside the circle, per hexagon (about %(area)s km²)"),
        unmet_note=_("Classes: fifths of the hexagons where someone lives outside the circle."),
        gap_row=_("outside every circle (hatched)"),
        gap_zoom=_("Zoom in to see the outlines."),
        circle_row=_("%(radius)s circle around a service (thin outline)"),
        point_row=_("counted service point"),
        site_row=_("recommended new site (number = rank)"),
        area_tip=_(
            "%(uncovered)s residents of %(name)s live more than %(radius)s from any counted "
            "service point — %(share)s of its %(population)s residents."
        ),
        area_tip_all=_(
            "All %(population)s residents of %(name)s live within %(radius)s of a counted "
            "service point."
        ),
        area_tip_nobody=_("No residents are recorded in %(name)s."),
        hex_tip=_("%(unmet)s of the %(demand)s residents of this hexagon live outside the circle."),
        site_tip=_("Recommended site %(rank)s: %(adds)s more residents reached (%(name)s)."),
        number=i18n.number,
        percent=share,
        distance=metres,
        scale_units=i18n.scale_units(),
    )


def when(moment: dt.datetime) -> str:
    return format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=i18n.current().babel)


def report_text(area_names: Mapping[str, str] | None = None) -> ReportText:
    return ReportText(
        area_names=area_names or {},
        title=_("Coverage report"),
        made=_("Made on %(when)s"),
        download=_("Download this report"),
        print_=_("Print"),
        summary=_(
            "%(covered)s of %(population)s residents (%(share)s) live within %(radius)s of a "
            "counted service point."
        ),
        worst=_("Most residents outside the circle:"),
        covered_means=covered_means(),
        covered_means_teams=covered_means(teams=True),
        facts=_("How this was made"),
        demand=_("Demand (where residents live)"),
        resources=_("Resources counted"),
        resources_value=_("%(count)s listings (status: %(status)s): %(kinds)s"),
        members_only=_(
            "of which %(count)s are members-only places (schools, universities, workplaces)"
        ),
        public_only=_(
            "open to the public only: members-only places (school, university and workplace "
            "rooms) are not counted"
        ),
        radius=_("Circle"),
        radius_value=_("%(radius)s, %(mode)s distance"),
        software=_("Software"),
        straight=_("straight-line"),
        walking=_("walking"),
        area=_("Area"),
        population=_("Residents"),
        covered=_("Covered"),
        uncovered=_("Outside the circle"),
        share=_("Share covered"),
        methods={
            "raster": _("population grid"),
            "points": _("weighted points"),
            "spread-uniform": _("census table spread evenly over each area"),
            "spread-buildings": _("census table spread over the buildings"),
            "grid": _("a grid of weighted points"),
            "dataset": _("the demand dataset (GeoParquet)"),
        },
        number=i18n.number,
        percent=share,
        distance=metres,
        when=when,
        kind=kind_label,
        status=lambda value: {
            "active": _("in service"),
            "suspended": _("suspended"),
            "closed": _("closed"),
        }.get(value, value),
    )


def covered_means(teams: bool = False) -> str:
    """What "covered" means; with volunteer teams counted, living in an area one serves too."""
    if not teams:
        return _(
            "Covered: living within %(radius)s (%(mode)s) of at least one counted service point."
        )
    return _(
        "Covered: living within %(radius)s (%(mode)s) of at least one counted service point, "
        "or in an area a counted team serves."
    )


def counted_points(count: int, eligibility: str) -> str:
    """How many places a circle or an access figure counts, and which: the same on both
    pages (a planner comparing them asked why they differ)."""
    if eligibility == "all":
        return _(
            "%(count)s service points counted: every active one of the kinds chosen, "
            "members-only places (a school's room for its pupils) included.",
            count=i18n.number(count),
        )
    return _(
        "%(count)s service points counted: the active ones of the kinds chosen that are open "
        "to the public (a school's room for its own pupils is not).",
        count=i18n.number(count),
    )


def indicator_texts() -> dict[str, dict[str, str]]:
    """Per indicator: its short label, what it counts (said once on the page), and how its
    numerator and denominator read (``%(n)s``, ``%(d)s``)."""
    return {
        "community_room_share": {
            "label": _("Communities with a counselling room"),
            "counts": _("%(n)s of %(d)s communities have one"),
            "definition": _(
                "Communities with an active community counselling or social-work room listed "
                "inside them, of all communities in the area."
            ),
        },
        "general_hospital_clinic_share": {
            "label": _("General hospitals with a psychiatry/psychology clinic"),
            "counts": _("%(n)s of %(d)s general hospitals have one"),
            "definition": _(
                "Hospitals with a listing in the area and no psychiatric-hospital clinic, and of "
                "those the ones with an active psychiatry/psychology department. Hospitals with "
                "no listing are not seen; hospital grade is not recorded."
            ),
        },
        "psychiatric_hospital_clinic_share": {
            "label": _("Psychiatric hospitals with a psychological clinic"),
            "counts": _("%(n)s of %(d)s psychiatric hospitals have an active clinic"),
            "definition": _(
                "Hospitals that list a psychiatric-hospital clinic in the area (any status), and "
                "of those the ones whose clinic is active. A psychiatric hospital that never "
                "listed a clinic is not seen."
            ),
        },
        "school_room_share": {
            "label": _("Schools with a counselling room"),
            "counts": _("%(n)s of %(d)s schools have one"),
            "definition": _(
                "Schools with a listing in the area, and of those the ones with an active "
                "school counselling room. Schools with no listing are not seen."
            ),
        },
        "professionals_per_100k": {
            "label": _("Professionals per 100,000 residents"),
            "counts": _("%(n)s professionals for %(d)s residents"),
            "definition": _(
                "Active counsellor, psychotherapist and psychiatrist listings located in the "
                "area, per 100,000 of the area's recorded population."
            ),
        },
        "county_hotline_share": {
            "label": _("Districts with a 24/7 hotline"),
            "counts": _("%(n)s of %(d)s districts have one"),
            "definition": _(
                "Districts or counties of the area served by an active, always-open hotline "
                "whose service area names the district or the city. A street or community "
                "shows its district's: the indicator is a county-level one."
            ),
        },
        "community_rehabilitation_share": {
            "label": _("Communities with rehabilitation"),
            "counts": _("%(n)s of %(d)s communities have one"),
            "definition": _(
                "Communities with an active community rehabilitation listing inside them, of "
                "all communities in the area."
            ),
        },
        "circle_share": {
            "label": _("Residents within the service circle"),
            "counts": _("%(n)s of %(d)s residents"),
            "definition": _(
                "Residents (demand points) within the service circle of a counted service, "
                "decided by distance, of all residents in the area."
            ),
        },
    }


def status_words() -> dict[str, str]:
    return {
        "met": _("met"),
        "close": _("close"),
        "not_met": _("not met"),
        "unknown": _("no data"),
    }


def export_words() -> dict[str, str]:
    """What the indicator workbook's matrix sheet says around its figures (see
    :data:`resourcemap.planning.indicator_export.WORDS`)."""
    return {
        **status_words(),
        "matrix": _("Indicators"),
        "detail": _("Detail"),
        "sources": _("What each counts"),
        "area_code": _("Area code"),
        "area_name": _("Area"),
        "target": _("Target"),
        "label": _("Indicator"),
        "what it counts": _("What it counts"),
    }


def indicators_title(level: AreaLevel) -> str:
    """The indicator workbook's title: what it is, at which level."""
    return _("ResourceMap indicators · %(level)s", level=i18n.said(AREA_LEVEL_SAID[level]))
