# Over 400 lines: one folium map built layer by layer (legend, texts apart).
"""Coverage maps with folium, on the app's own Leaflet: no CDN, works offline.

folium links CDN copies of Leaflet, jQuery, Bootstrap and Font Awesome by default
(shared/FINDINGS.md). The maps here use only core Leaflet, so each map's asset list is
replaced by the app's Leaflet: linked from ``/static`` for pages, or inlined for a
standalone report that opens from a file.

What a planner sees first (issue #20): the covered share per area in one colour-blind-safe
sequential scheme (ColorBrewer YlOrRd, darker = more residents outside the circle) on fixed
classes around the policy target, said in the legend. The fills are base layers (radio
buttons), so two fills never mix; gaps are dashed outlines, circles thin outlines and off by
default; every visible layer has its rows in the legend (:mod:`geo.map_legend`).

Every text that reaches the map is HTML-escaped here: folium and Leaflet put tooltip
texts and layer names into the page as HTML, so an area named ``<script>…`` would run.
Area names on the map itself go as JSON and are set as text (:mod:`geo.map_marks`).
Texts come translated from the caller (:class:`MapText`); geo knows no language.
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import shape

from geo.crs import M_PER_DEGREE
from geo.heat import DEFAULT_RESOLUTION, hex_area_km2
from geo.map_text import METRIC_UNITS, MapText

# folium (with pandas, which it imports) is a third of a web worker's memory and a second
# of its start-up, and only planners' maps need it: imported where a map is drawn (#16).
if TYPE_CHECKING:
    import folium

    from geo.map_legend import LegendRow

_PLACEHOLDER_JS = "rm-inline-leaflet.js"
_PLACEHOLDER_CSS = "rm-inline-leaflet.css"
# Covered share → class: (lower bound, colour). ColorBrewer YlOrRd, 6 classes, reversed.
SHARE_CLASSES: tuple[tuple[float, str], ...] = (
    (1.0, "#ffffb2"),
    (0.95, "#fed976"),
    (0.85, "#feb24c"),
    (0.70, "#fd8d3c"),
    (0.50, "#f03b20"),
    (0.0, "#bd0026"),
)
NO_PEOPLE = "#d9d9d9"
HEX_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")  # ColorBrewer Purples
GAP_COLOUR = "#1a1a1a"
CIRCLE_COLOUR = "#08519c"
POINT_COLOUR = "#253494"
SITE_COLOUR = "#e66101"
LABEL_PX = 80
# Above this many service points the dots cover the fills at the zoom that shows them all
# (a province's 22,000): off until the planner ticks them.
DOTS_SHOWN = 2_000


@dataclass(frozen=True)
class Assets:
    """Where Leaflet comes from: URLs (pages) or file contents to inline (reports)."""

    js_url: str = "/static/vendor/leaflet/leaflet.js"
    css_url: str = "/static/vendor/leaflet/leaflet.css"
    inline_from: Path | None = None  # the vendor/leaflet folder, for standalone reports

    @classmethod
    def inline(cls, leaflet_dir: Path) -> Assets:
        return cls(_PLACEHOLDER_JS, _PLACEHOLDER_CSS, leaflet_dir)


def esc(text: str) -> str:
    """Text for a place that folium or Leaflet reads as HTML."""
    return html.escape(text, quote=True)


def share_colour(share: float | None) -> str:
    """The choropleth colour of a covered share (grey where nobody lives).

    >>> share_colour(1.0), share_colour(0.96), share_colour(0.2), share_colour(None)
    ('#ffffb2', '#fed976', '#bd0026', '#d9d9d9')
    """
    if share is None:
        return NO_PEOPLE
    for low, colour in SHARE_CLASSES:
        if share >= low - 1e-12:
            return colour
    return SHARE_CLASSES[-1][1]


def share_rows() -> list[LegendRow]:
    """Legend classes of the covered share, worst first, labelled in percent.

    >>> [r.label for r in share_rows()]
    ['<50', '50–70', '70–85', '85–95', '95–<100', '100']
    """
    from geo.map_legend import LegendRow

    rows = []
    classes = list(reversed(SHARE_CLASSES))  # worst first: the ramp reads low → high
    for (low, colour), (high, _) in itertools.pairwise([*classes, (1.0, "")]):
        lo, hi = round(low * 100), round(high * 100)
        if low == 0:
            label = f"<{hi}"
        elif low >= 1.0:
            label = f"{lo}"
        elif high >= 1.0:
            label = f"{lo}–<{hi}"
        else:
            label = f"{lo}–{hi}"
        rows.append(LegendRow(colour, label))
    return rows


def new_map(
    centre: tuple[float, float],
    assets: Assets,
    tile_url: str = "",
    attribution: str = "",
    prefix: str = "",
    scale_units: tuple[str, str] = METRIC_UNITS,
) -> folium.Map:
    """A folium map at ``centre`` (lat, lon) that loads Leaflet from ``assets`` only, with a
    metric scale in ``scale_units`` and ``prefix`` before the attribution (none when
    empty)."""
    import folium

    from geo.map_legend import MapFrame

    m = folium.Map(location=list(centre), zoom_start=12, tiles=None)
    m.default_js = [("leaflet", assets.js_url)]
    m.default_css = [("leaflet_css", assets.css_url)]
    if tile_url:
        folium.TileLayer(tile_url, attr=esc(attribution or " "), control=False).add_to(m)
    MapFrame(m.get_name(), prefix, scale_units).add_to(m)
    return m


def coverage_map(
    coverage_fc: dict[str, Any],
    gaps_fc: dict[str, Any] | None,
    heat_fc: dict[str, Any] | None,
    services: Sequence[tuple[float, float]],
    radius_m: float,
    assets: Assets,
    *,
    text: MapText | None = None,
    tile_url: str = "",
    attribution: str = "",
    prefix: str = "",
    sites: Sequence[dict[str, Any]] = (),
) -> folium.Map:
    """The coverage map: share by area or unmet demand by hexagon (one at a time), gap
    outlines, service points, circles (off), recommended sites, area names, a layer control
    and a legend of whatever is visible."""
    import folium

    from geo import map_marks
    from geo.map_legend import LegendRow, LegendSection, add_controls

    t = text or MapText()
    radius = t.distance(radius_m)
    areas = [f for f in coverage_fc["features"] if f.get("geometry")]
    south, west, north, east = _bounds(areas)
    centre = ((south + north) / 2, (west + east) / 2)
    m = new_map(centre, assets, tile_url, attribution, prefix, t.scale_units)
    # Not animated: the controls fit the map again at once, clear of the legend
    # (geo.map_legend), and the end of an animated zoom would undo that fit.
    fit = folium.map.FitBounds([[south, west], [north, east]])
    fit.options["animate"] = False
    m.add_child(fit)
    sections: list[LegendSection] = []

    share_layer = _filled_layer(
        areas,
        lambda p: {"tip": esc(_area_tip(p, t, radius)), "fill": share_colour(p.get("share"))},
        esc(t.covered_layer),
        opacity=0.8,
        line=("#4d4d4d", 1),
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
    ).add_to(m)
    sections.append(
        LegendSection(
            share_layer.get_name(),
            t.share_title % {"radius": radius},
            share_rows(),
            t.share_note % {"radius": radius},
            ramp=True,
            after=[LegendRow(NO_PEOPLE, t.nobody)],
        )
    )
    heat = [f for f in (heat_fc or {}).get("features", []) if f["properties"]["unmet"] > 0]
    if heat:
        breaks = hex_breaks([f["properties"]["unmet"] for f in heat])
        hex_layer = _filled_layer(
            heat,
            lambda p: {
                "tip": esc(
                    t.hex_tip % {"unmet": t.number(p["unmet"]), "demand": t.number(p["demand"])}
                ),
                "fill": _hex_colour(p["unmet"], breaks),
            },
            esc(t.unmet_layer),
            opacity=0.85,
            line=("#ffffff", 0.5),
            show=False,
        ).add_to(m)
        rows = [
            LegendRow(c, f"{t.number(lo)}–{t.number(hi)}")
            for c, (lo, hi) in zip(HEX_COLOURS, itertools.pairwise(breaks), strict=False)
        ]
        km2 = hex_area_km2(int((heat_fc or {}).get("resolution", DEFAULT_RESOLUTION)))
        # 0.1, 0.7, 5.2, 36, 253: the decimal point reads the same in both languages.
        title = t.unmet_title % {"area": f"{km2:.1f}" if km2 < 10 else t.number(km2)}
        sections.append(LegendSection(hex_layer.get_name(), title, rows, t.unmet_note, ramp=True))
    if gaps_fc is not None and gaps_fc["features"]:
        gap_layer = folium.GeoJson(
            _features([f for f in gaps_fc["features"] if f.get("geometry")], lambda p: {}),
            name=esc(t.gaps_layer),
            interactive=False,  # the area's own tooltip shows through
            style_function=lambda f: {
                "fill": True,  # hatched (geo.map_legend): the side outside every circle
                "color": GAP_COLOUR,
                "weight": 1.5,
                "dashArray": "5 4",
                # Hidden with the names below the zoom where areas are big enough for them:
                # seen whole, a province's gaps are black scribbles over its fills.
                "className": "rm-gap",
            },
        ).add_to(m)
        sections.append(
            LegendSection(
                gap_layer.get_name(),
                "",
                [LegendRow(GAP_COLOUR, t.gap_row, "hatch")],
                zoom_note=t.gap_zoom,
            )
        )
    if services:
        at = map_marks.points(services)
        point_layer = map_marks.Marks(
            "dots",
            at,
            esc(t.points_layer),
            show=len(at) <= DOTS_SHOWN,
            style={
                "radius": 3,
                "color": "#ffffff",
                "weight": 1,
                "fill": True,
                "fillColor": POINT_COLOUR,
                "fillOpacity": 1,
            },
        ).add_to(m)
        sections.append(
            LegendSection(point_layer.get_name(), "", [LegendRow(POINT_COLOUR, t.point_row, "dot")])
        )
        circle_layer = map_marks.Marks(
            "rings",
            at,
            esc(t.circles_layer % {"radius": radius}),
            style={
                "radius": radius_m,
                "color": CIRCLE_COLOUR,
                "weight": 1,
                "opacity": 0.8,
                "fill": False,
            },
            show=False,
        ).add_to(m)
        sections.append(
            LegendSection(
                circle_layer.get_name(),
                "",
                [LegendRow(CIRCLE_COLOUR, t.circle_row % {"radius": radius}, "ring")],
            )
        )
    if sites:
        site_layer = _sites_layer(sites, radius_m, t)
        site_layer.add_to(m)
        sections.append(
            LegendSection(site_layer.get_name(), "", [LegendRow(SITE_COLOUR, t.site_row, "site")])
        )
    label_layer, min_zoom = _labels_layer(areas, t)
    label_layer.add_to(m)
    add_controls(
        m,
        sections,
        label_layer.get_name(),
        min_zoom,
        t.legend_title,
        t.layers_button,
        bounds=((south, west), (north, east)),
    )
    return m


def hex_breaks(values: Sequence[float]) -> list[float]:
    """Class edges for unmet residents per hexagon: fifths of the hexagons, rounded.

    >>> hex_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    [1.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    """
    arr = np.asarray(values, dtype=np.float64)
    edges = np.quantile(arr, np.linspace(0, 1, len(HEX_COLOURS) + 1), method="lower")
    edges[-1] = arr.max()
    return [float(round(e)) for e in edges]


def _hex_colour(value: float, breaks: Sequence[float]) -> str:
    i = int(np.searchsorted(np.asarray(breaks[1:-1]), value, side="left"))
    return HEX_COLOURS[min(i, len(HEX_COLOURS) - 1)]


def _area_name(p: dict[str, Any], t: MapText) -> str:
    code = str(p.get("code") or "")
    return t.area_names.get(code) or str(p.get("name") or code)


def _area_tip(p: dict[str, Any], t: MapText, radius: str) -> str:
    name = _area_name(p, t)
    if p.get("share") is None:
        return t.area_tip_nobody % {"name": name}
    values = {"name": name, "radius": radius, "population": t.number(p["population"])}
    if p["uncovered"] < 0.5:
        return t.area_tip_all % values
    return t.area_tip % {
        **values,
        "uncovered": t.number(p["uncovered"]),
        "share": t.percent(1 - p["share"]),
    }


def _filled_layer(
    features: Sequence[dict[str, Any]],
    props: Callable[[dict[str, Any]], dict[str, Any]],
    name: str,
    *,
    opacity: float,
    line: tuple[str, float],
    **options: Any,
) -> folium.GeoJson:
    """A base layer of shapes, each filled with the colour ``props`` gives it (``fill``) and
    showing its ``tip`` on hover; ``line`` is the outline's colour and weight."""
    import folium

    colour, weight = line
    return folium.GeoJson(
        _features(features, props),
        name=name,
        overlay=False,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": opacity,
            "color": colour,
            "weight": weight,
        },
        # None for no shapes: folium refuses a tooltip field that no feature has.
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, sticky=True) if features else None,
        **options,
    )


def _features(
    features: Sequence[dict[str, Any]], props: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """The geometries with only the properties the map needs (already escaped)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": props(f["properties"])}
            for f in features
        ],
    }


def _sites_layer(
    sites: Sequence[dict[str, Any]], radius_m: float, t: MapText
) -> folium.FeatureGroup:
    import folium

    group = folium.FeatureGroup(name=esc(t.sites_layer))
    for s in sites:
        tip = t.site_tip % {
            "rank": s["rank"],
            "adds": t.number(s["adds"]),
            "name": s.get("community_name") or s.get("community") or "—",
        }
        folium.Circle(
            [s["lat"], s["lon"]],
            radius=radius_m,
            color=SITE_COLOUR,
            weight=2,
            fill=False,
            interactive=False,
        ).add_to(group)
        folium.Marker(
            [s["lat"], s["lon"]],
            icon=folium.DivIcon(
                html=f'<span class="rm-site">{int(s["rank"])}</span>',
                icon_size=(26, 26),
                icon_anchor=(13, 13),
                class_name="rm-site-icon",
            ),
            tooltip=esc(tip),
            z_index_offset=1000,  # above the area names, which sit at the same centres
        ).add_to(group)
    return group


def outline_m(areas: Sequence[dict[str, Any]]) -> float:
    """How closely to draw gap outlines, in metres: a quarter pixel at the zoom from which
    they show (with the names, when the median area is ``LABEL_PX`` wide). A province's gap
    outlines at a district's detail were megabytes of circle chords nobody sees whole.

    >>> outline_m([{"geometry": {"type": "Polygon", "coordinates": [[[113.9, 22.7],
    ...     [113.91, 22.7], [113.91, 22.71], [113.9, 22.7]]]}}])  # about 1 km wide
    3.2
    """
    geoms = [shape(f["geometry"]) for f in areas if f.get("geometry")]
    if not geoms:
        return 0.0
    degrees, lat = _median_width(geoms)
    return round(degrees * M_PER_DEGREE * math.cos(math.radians(lat)) / (LABEL_PX * 4), 1)


def _median_width(geoms: Sequence[Any]) -> tuple[float, float]:
    """The median width of ``geoms`` (at least one) in degrees of longitude, and their
    median southern latitude: what the names' zoom and the outlines' detail follow."""
    bounds = shapely.bounds(geoms)
    widths = np.maximum(bounds[:, 2] - bounds[:, 0], 1e-6)
    return float(np.median(widths)), float(np.median(bounds[:, 1]))


def _labels_layer(areas: Sequence[dict[str, Any]], t: MapText) -> tuple[folium.map.Layer, float]:
    """Area names at a point inside each area, largest area first, and the zoom from which
    they fit: when the median area is about 80 pixels wide (a four-character name and room
    around it). Where two names still overlap, the map shows the first (the larger area's)
    and keeps the other for a closer zoom (:mod:`geo.map_legend`)."""
    from geo import map_marks

    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in areas]) if areas else []
    at = shapely.point_on_surface(geoms)
    names = [_area_name(f["properties"], t) for f in areas]
    places = map_marks.points(list(zip(shapely.get_x(at), shapely.get_y(at), strict=True)))
    largest = np.argsort(-shapely.area(geoms), kind="stable") if len(geoms) else ()
    marks = [(*places[i], names[i]) for i in largest]
    group = map_marks.Marks("names", marks, esc(t.labels_layer))
    median = _median_width(geoms)[0] if len(geoms) else 1.0
    zoom = math.log2(LABEL_PX * 360 / (256 * median))
    return group, max(0.0, min(18.0, math.ceil(zoom * 4) / 4))


def _bounds(features: Sequence[dict[str, Any]]) -> tuple[float, float, float, float]:
    if not features:
        return (22.7, 113.9, 22.8, 114.0)
    geoms = [shape(f["geometry"]) for f in features]
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    return (float(y0), float(x0), float(y1), float(x1))


def render(m: folium.Map, assets: Assets) -> str:
    """The map as one HTML document; Leaflet inlined when ``assets`` says so."""
    page = str(m.get_root().render())
    if assets.inline_from is not None:
        js = (assets.inline_from / "leaflet.js").read_text(encoding="utf-8")
        css = (assets.inline_from / "leaflet.css").read_text(encoding="utf-8")
        page = _swap_tag(page, f'src="{_PLACEHOLDER_JS}"', f"<script>{js}</script>", "script")
        page = _swap_tag(page, f'href="{_PLACEHOLDER_CSS}"', f"<style>{css}</style>", "link")
    return page


def _swap_tag(page: str, marker: str, replacement: str, tag: str) -> str:
    at = page.find(marker)
    if at < 0:
        return page
    start = page.rfind(f"<{tag}", 0, at)
    end = (
        page.find("</script>", at) + len("</script>") if tag == "script" else page.find(">", at) + 1
    )
    return page[:start] + replacement + page[end:]
