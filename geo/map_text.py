"""Every text on the coverage map, as the caller's language gives it.

geo knows no language: the web layer fills a :class:`MapText` with its translations and
Babel formats; the defaults are English, for the CLI and tests. Templates use ``%(name)s``
placeholders. Texts are plain: :mod:`geo.maps` escapes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def _number(x: float) -> str:
    return f"{x:,.0f}"


def _percent(x: float) -> str:
    return f"{x:.1%}"


def _metres(x: float) -> str:
    return f"{x:g} m"


# A map scale's units in English; a caller gives the reader's (web.i18n.scale_units).
METRIC_UNITS = ("{n} m", "{n} km")


@dataclass(frozen=True)
class MapText:
    """Every text on a map, translated by the caller; ``%(name)s`` placeholders."""

    covered_layer: str = "Residents within the circle, by area"
    unmet_layer: str = "Residents outside the circle, per hexagon"
    gaps_layer: str = "Parts of areas outside every circle"
    circles_layer: str = "%(radius)s circle around each service"
    points_layer: str = "Counted service points"
    sites_layer: str = "Recommended new sites"
    labels_layer: str = "Area names"
    layers_button: str = "Layers"
    legend_title: str = "Legend"
    share_title: str = "Share of residents within %(radius)s of a service, %%"
    share_note: str = "Fixed classes around the target: every resident within %(radius)s."
    nobody: str = "nobody lives here"
    unmet_title: str = "Residents outside the circle, per hexagon (about %(area)s km²)"
    unmet_note: str = "Classes: fifths of the hexagons where someone lives outside the circle."
    gap_row: str = "outside every circle (hatched)"
    gap_zoom: str = "Zoom in to see the outlines."
    circle_row: str = "%(radius)s circle around a service (thin outline)"
    point_row: str = "counted service point"
    site_row: str = "recommended new site (number = rank)"
    area_tip: str = (
        "%(uncovered)s residents of %(name)s live more than %(radius)s from any counted "
        "service point — %(share)s of its %(population)s residents."
    )
    area_tip_all: str = (
        "All %(population)s residents of %(name)s live within %(radius)s of a counted "
        "service point."
    )
    area_tip_nobody: str = "No residents are recorded in %(name)s."
    hex_tip: str = "%(unmet)s of the %(demand)s residents of this hexagon live outside the circle."
    site_tip: str = "Recommended site %(rank)s: %(adds)s more residents reached (%(name)s)."
    # Area names in the reader's language, by code; an area not here shows its features'
    # own (Chinese) name. An English map labelled 云栖社区 beside a table of Yunqi Community.
    area_names: Mapping[str, str] = field(default_factory=dict)
    number: Callable[[float], str] = field(default=_number)
    # A share in a tooltip, rounded once from the exact share as the report's table does.
    percent: Callable[[float], str] = field(default=_percent)
    distance: Callable[[float], str] = field(default=_metres)
    # The scale bar's metres and kilometres, ``{n}`` for the number ("2 km" / "2公里").
    scale_units: tuple[str, str] = METRIC_UNITS
