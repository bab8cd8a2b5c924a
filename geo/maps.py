"""Coverage maps with folium, on the app's own Leaflet: no CDN, works offline.

folium links CDN copies of Leaflet, jQuery, Bootstrap and Font Awesome by default
(shared/FINDINGS.md). The maps here use only core Leaflet (GeoJSON layers, circles, the
layer control), so each map's asset list is replaced by the app's Leaflet: linked from
``/static`` for pages, or inlined for a standalone report that opens from a file.
The layer control is drawn expanded, so it needs none of Leaflet's icon images.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium

_PLACEHOLDER_JS = "rm-inline-leaflet.js"
_PLACEHOLDER_CSS = "rm-inline-leaflet.css"
# Covered share → colour, from red (nobody covered) to green (everyone).
SHARE_STEPS: tuple[tuple[float, str, str], ...] = (
    (0.5, "#d73027", "< 50 %"),
    (0.8, "#fc8d59", "50–80 %"),
    (0.95, "#fee08b", "80–95 %"),
    (1.0, "#91cf60", "95–100 %"),
    (1.01, "#1a9850", "100 %"),
)
NO_PEOPLE = "#bdbdbd"
GAP_COLOUR = "#7b3294"
CIRCLE_COLOUR = "#2166ac"


@dataclass(frozen=True)
class Assets:
    """Where Leaflet comes from: URLs (pages) or file contents to inline (reports)."""

    js_url: str = "/static/vendor/leaflet/leaflet.js"
    css_url: str = "/static/vendor/leaflet/leaflet.css"
    inline_from: Path | None = None  # the vendor/leaflet folder, for standalone reports

    @classmethod
    def inline(cls, leaflet_dir: Path) -> Assets:
        return cls(_PLACEHOLDER_JS, _PLACEHOLDER_CSS, leaflet_dir)


def share_colour(share: float | None) -> str:
    """The choropleth colour of a covered share (grey where nobody lives)."""
    if share is None:
        return NO_PEOPLE
    for upper, colour, _ in SHARE_STEPS:
        if share < upper:
            return colour
    return SHARE_STEPS[-1][1]


def new_map(
    centre: tuple[float, float], assets: Assets, tile_url: str = "", attribution: str = ""
) -> folium.Map:
    """A folium map at ``centre`` (lat, lon) that loads Leaflet from ``assets`` only."""
    m = folium.Map(location=list(centre), zoom_start=12, tiles=None, control_scale=True)
    m.default_js = [("leaflet", assets.js_url)]
    m.default_css = [("leaflet_css", assets.css_url)]
    if tile_url:
        folium.TileLayer(tile_url, attr=attribution or " ", name="底图 Base map").add_to(m)
    return m


def coverage_map(
    coverage_fc: dict[str, Any],
    gaps_fc: dict[str, Any] | None,
    heat_fc: dict[str, Any] | None,
    services: Sequence[tuple[float, float]],
    radius_m: float,
    assets: Assets,
    *,
    tile_url: str = "",
    attribution: str = "",
    sites: Sequence[dict[str, Any]] = (),
) -> folium.Map:
    """Choropleth of covered share, service circles, gaps, an unmet-demand hexagon layer,
    recommended sites, a layer control and a legend."""
    centre = _centre(coverage_fc)
    m = new_map(centre, assets, tile_url, attribution)
    areas = [f for f in coverage_fc["features"] if f.get("geometry")]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": areas},
        name="覆盖率 Covered share",
        style_function=lambda f: {
            "fillColor": share_colour(f["properties"]["share"]),
            "color": "#555",
            "weight": 1,
            "fillOpacity": 0.55,
        },
        tooltip=folium.GeoJsonTooltip(
            ["name", "population", "covered", "uncovered", "share"],
            aliases=[
                "区域 Area",
                "人口 Population",
                "覆盖 Covered",
                "未覆盖 Uncovered",
                "覆盖率 Share",
            ],
        ),
    ).add_to(m)
    if heat_fc is not None and heat_fc["features"]:
        top = max(f["properties"]["unmet"] for f in heat_fc["features"]) or 1.0
        folium.GeoJson(
            heat_fc,
            name="未满足需求热力 Unmet demand (H3)",
            show=False,
            style_function=lambda f: {
                "fillColor": "#b2182b",
                "color": "#b2182b",
                "weight": 0,
                "fillOpacity": 0.85 * (f["properties"]["unmet"] / top) ** 0.5,
            },
            tooltip=folium.GeoJsonTooltip(["demand", "supply", "unmet"]),
        ).add_to(m)
    if gaps_fc is not None and gaps_fc["features"]:
        folium.GeoJson(
            gaps_fc,
            name="服务圈外区域 Gaps",
            style_function=lambda f: {
                "fillColor": GAP_COLOUR,
                "color": GAP_COLOUR,
                "weight": 1,
                "fillOpacity": 0.35,
            },
            tooltip=folium.GeoJsonTooltip(["name", "uncovered_population", "gap_km2"]),
        ).add_to(m)
    if services:
        points = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                }
                for x, y in services
            ],
        }
        folium.GeoJson(
            points,
            name=f"{radius_m:g} 米服务圈 {radius_m:g} m circles",
            marker=folium.Circle(
                radius=radius_m, color=CIRCLE_COLOUR, weight=1, fill=True, fill_opacity=0.08
            ),
        ).add_to(m)
    if sites:
        site_fc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"rank": s["rank"], "adds": s["adds"]},
                    "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                }
                for s in sites
            ],
        }
        folium.GeoJson(
            site_fc,
            name="建议新址 Recommended sites",
            marker=folium.Circle(radius=radius_m, color="#e66101", weight=3, fill=False),
            tooltip=folium.GeoJsonTooltip(["rank", "adds"], aliases=["建议 Rank", "新增覆盖 Adds"]),
        ).add_to(m)
    folium.LayerControl(collapsed=False, position="topleft").add_to(m)
    root: Any = m.get_root()  # a folium Figure, which has an html section
    root.html.add_child(folium.Element(legend_html(radius_m)))
    return m


def legend_html(radius_m: float) -> str:
    rows = "".join(
        f'<div><i style="background:{c}"></i>{html.escape(label)}</div>'
        for _, c, label in SHARE_STEPS
    )
    return (
        '<div class="rm-legend" style="position:fixed;bottom:48px;left:10px;z-index:1000;'
        'background:#fff;padding:6px 8px;font:12px sans-serif;border:1px solid #999">'
        f"<b>{radius_m:g} 米内人口比例 / share within {radius_m:g} m</b>{rows}"
        f'<div><i style="background:{NO_PEOPLE}"></i>无人口 no residents</div>'
        f'<div><i style="background:{GAP_COLOUR}"></i>服务圈外 gap</div>'
        "<style>.rm-legend i{display:inline-block;width:12px;height:12px;margin-right:4px}"
        "</style></div>"
    )


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


def _centre(fc: dict[str, Any]) -> tuple[float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        else:
            for c in coords or ():
                walk(c)

    for f in fc.get("features", []):
        if f.get("geometry"):
            walk(f["geometry"].get("coordinates"))
    if not xs:
        return (22.75, 113.93)
    return ((min(ys) + max(ys)) / 2, (min(xs) + max(xs)) / 2)
