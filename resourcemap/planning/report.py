"""The coverage map, its summary, and the standalone HTML report.

The report is one HTML file that opens anywhere, offline (Leaflet inlined, no tiles): the
map fitted to the whole area beside the table (stacked on a phone), dated, with the demand
source, the resources counted (kinds, status, how many are members-only places), the
radius and the software version. Texts come from :class:`ReportText` (bilingual by default,
for the CLI; the web layer passes its translations); every text is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

import resourcemap
from geo.heat import resolution_for
from geo.map_text import MapText
from geo.maps import Assets, coverage_map, outline_m, render, share_colour
from resourcemap.planning.coverage import (
    Analysis,
    CoverageQuery,
    CoverageService,
    HeatQuery,
    coverage_geojson,
)
from resourcemap.scope import AreaScope
from resourcemap.translations import vocab_label
from resourcemap.vocab import Placement, ResourceKind

LEAFLET_DIR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor" / "leaflet"
# Kinds of places that serve only their own members (pupils, students, staff): counted only
# when members-only listings are asked for, and said so in the report.
MEMBERS_ONLY = frozenset(
    {ResourceKind.SCHOOL_ROOM, ResourceKind.UNIVERSITY_CENTRE, ResourceKind.WORKPLACE_ROOM}
)


@dataclass(frozen=True)
class AreaGap:
    code: str
    name: str
    uncovered: float
    population: float


@dataclass(frozen=True)
class CoverageSummary:
    """What the strip above the map says."""

    population: float
    covered: float
    share: float | None
    worst: tuple[AreaGap, ...]  # the areas with the most residents outside the circle


def summarise(analysis: Analysis, top: int = 3) -> CoverageSummary:
    rows = [r for r in analysis.table() if r.code and r.uncovered >= 0.5]
    rows.sort(key=lambda r: (-r.uncovered, r.code))
    r = analysis.result
    return CoverageSummary(
        population=r.population,
        covered=r.covered_population,
        share=r.share,
        worst=tuple(AreaGap(x.code, x.name, x.uncovered, x.population) for x in rows[:top]),
    )


@dataclass(frozen=True)
class MapLayers:
    """What a coverage map draws, each at the detail its extent can show."""

    analysis: Analysis
    areas: dict[str, Any]  # GeoJSON: each area's covered share
    gaps: dict[str, Any] | None  # GeoJSON outlines; None for walking distance
    heat: dict[str, Any]  # GeoJSON hexagons, with their ``resolution``
    services: list[tuple[float, float]]  # (lon, lat) of each counted service point


async def map_layers(
    service: CoverageService,
    query: CoverageQuery,
    scope: AreaScope | None = None,
    progress: Callable[[str], None] | None = None,
) -> MapLayers:
    """The layers of the coverage map of ``query``, each at the detail it is seen at: gap
    outlines to a quarter pixel at the zoom they appear from (``maps.outline_m``), hexagons
    few enough over the map's extent to tell apart (``heat.resolution_for``). A district
    keeps 0.1 km² hexagons; a province's map was 43 MB at a district's detail."""
    say = progress or (lambda _m: None)
    analysis = await service.analyse(query, scope=scope, progress=say)
    # As answered: a level left to its default is the deepest the areas have.
    query = query.model_copy(update={"level": analysis.query.level})
    areas = coverage_geojson(analysis)
    # The fills and tooltips read each area's exact figures, as the pages and the report
    # do: the API's GeoJSON rounds them for a file, and a share rounded to four places and
    # then to one in a tooltip read 62.0 % where the table said 61.9 %.
    for feature, row in zip(areas["features"], analysis.table(), strict=True):
        feature["properties"].update(
            population=row.population, uncovered=row.uncovered, share=row.share
        )
    shown = analysis.shown_supply
    lon = np.concatenate([analysis.demand.lon, shown.lon])
    lat = np.concatenate([analysis.demand.lat, shown.lat])
    say("drawing gap polygons")
    gaps = None
    if query.mode != "walking":
        tolerance = outline_m(areas["features"])
        gaps = await service.gaps_geojson(query, scope, simplify_m=tolerance, keep=True)
    say("binning demand on H3 hexagons")
    heat_query = HeatQuery(
        **query.model_dump(include=set(CoverageQuery.model_fields)),
        resolution=resolution_for(lon, lat),
    )
    return MapLayers(
        analysis=analysis,
        areas=areas,
        gaps=gaps,
        heat=await service.heatmap_geojson(heat_query, scope, keep=True),
        services=list(zip(shown.lon.tolist(), shown.lat.tolist(), strict=True)),
    )


async def map_html(
    service: CoverageService,
    query: CoverageQuery,
    assets: Assets,
    *,
    text: MapText | None = None,
    tile_url: str = "",
    attribution: str = "",
    prefix: str = "",
    sites: list[dict[str, Any]] | None = None,
    scope: AreaScope | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[str, Analysis]:
    """The folium map document and the analysis it shows, fitted to the areas shown: with
    ``scope``, the account's area (#20)."""
    layers = await map_layers(service, query, scope, progress)
    m = coverage_map(
        layers.areas, layers.gaps, layers.heat, layers.services, query.radius_m, assets,
        text=text, tile_url=tile_url, attribution=attribution, prefix=prefix, sites=sites or (),
    )  # fmt: skip
    return render(m, assets), layers.analysis


def _bilingual_kind(kind: ResourceKind) -> str:
    return f"{vocab_label(kind, 'zh')} {vocab_label(kind, 'en')}"


@dataclass(frozen=True)
class ReportText:
    """The report's texts, ``%(name)s`` placeholders; defaults bilingual for the CLI."""

    title: str = "服务圈覆盖报告 · Coverage report"
    made: str = "生成于 Made on %(when)s"
    download: str = "下载本报告 Download this report"
    print_: str = "打印 Print"
    summary: str = (
        "%(covered)s of %(population)s residents (%(share)s) live within %(radius)s of a "
        "counted service point."
    )
    worst: str = "Most residents outside the circle:"
    covered_means: str = (
        "Covered: living within %(radius)s (%(mode)s) of at least one counted service point."
    )
    covered_means_teams: str = (
        "Covered: living within %(radius)s (%(mode)s) of at least one counted service point, "
        "or in an area a counted team serves."
    )
    facts: str = "How this was made"
    demand: str = "Demand (where residents live)"
    resources: str = "Resources counted"
    resources_value: str = "%(count)s %(status)s listings: %(kinds)s"
    members_only: str = "of which %(count)s members-only places (schools, universities, workplaces)"
    public_only: str = (
        "open to the public only: members-only places (school, university and workplace "
        "rooms) are not counted"
    )
    radius: str = "Circle"
    radius_value: str = "%(radius)s, %(mode)s distance"
    software: str = "Software"
    straight: str = "straight-line"
    walking: str = "walking"
    area: str = "Area"
    population: str = "Residents"
    covered: str = "Covered"
    uncovered: str = "Outside the circle"
    share: str = "Share covered"
    no_data: str = "—"
    # Area names in the reader's language, by code (the areas' Chinese names otherwise).
    area_names: Mapping[str, str] = field(default_factory=dict)
    # How demand was made, by method (``geo.demand.METHODS``), in words.
    methods: Mapping[str, str] = field(
        default_factory=lambda: {
            "raster": "population grid",
            "points": "weighted points",
            "spread-uniform": "census table spread evenly over each area",
            "spread-buildings": "census table spread over the buildings",
            "grid": "a grid of weighted points",
            "dataset": "the demand dataset (GeoParquet)",
        }
    )
    number: Callable[[float], str] = field(default=lambda x: f"{x:,.0f}")
    percent: Callable[[float], str] = field(default=lambda x: f"{x:.1%}")
    distance: Callable[[float], str] = field(default=lambda x: f"{x:g} m")
    when: Callable[[dt.datetime], str] = field(default=lambda t: t.strftime("%Y-%m-%d %H:%M"))
    kind: Callable[[ResourceKind], str] = field(default=_bilingual_kind)
    status: Callable[[str], str] = field(default=str)


async def report_html(
    service: CoverageService,
    query: CoverageQuery,
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    dataset_label: str | None = None,
    text: ReportText | None = None,
    map_text: MapText | None = None,
    download_url: str | None = None,
    scope: AreaScope | None = None,
    prefix: str = "",
    progress: Callable[[str], None] | None = None,
) -> str:
    """One HTML file that opens anywhere, offline: Leaflet inlined, no tiles. With
    ``scope``, of the account's area only, titled with its name; ``prefix`` before the
    map's attribution (none when empty)."""
    say = progress or (lambda _m: None)
    page, analysis = await map_html(
        service, query, Assets.inline(LEAFLET_DIR), text=map_text, scope=scope, prefix=prefix,
        progress=say,
    )  # fmt: skip
    say("writing the report")
    t = text or ReportText()
    body = _report_body(analysis, t, now.astimezone(tz), dataset_label, download_url)
    page = page.replace("</head>", REPORT_STYLE + "</head>", 1)
    return page.replace("</body>", body + "</body>", 1)


REPORT_STYLE = """<style>
html,body{height:100%;margin:0}
body{display:grid;grid-template-columns:minmax(0,5fr) minmax(24rem,3fr);
  font:14px/1.45 system-ui,sans-serif;color:#1d2b2d}
.folium-map{height:100vh!important}
#rm-report{overflow:auto;height:100vh;padding:12px 16px;box-sizing:border-box;
  border-left:1px solid #ccc;background:#fff}
#rm-report h1{font-size:20px;margin:0 0 4px}
#rm-report .made{color:#4b5d5f;margin:0 0 8px}
#rm-report .actions a{margin-right:1em}
#rm-report .strip{background:#f3f6f6;border-radius:4px;padding:8px 10px;margin:10px 0}
#rm-report .strip p{margin:.2em 0}
#rm-report dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}
#rm-report dt{font-weight:600}
#rm-report dd{margin:0}
#rm-report table{border-collapse:collapse;width:100%;margin-top:10px;font-size:13px}
#rm-report th,#rm-report td{padding:3px 5px;border-bottom:1px solid #e3e8e8;text-align:right}
#rm-report th:first-child,#rm-report td:first-child{text-align:left}
#rm-report .sw{display:inline-block;width:10px;height:10px;border:1px solid #666;margin-right:4px}
.dataset{background:#fff4d6;padding:4px 8px;border-radius:4px}
@media (max-width:800px){
  body{display:block;height:auto}
  .folium-map{height:65vh!important}
  #rm-report{height:auto;border-left:0}
}
@media print{
  @page{size:A4 landscape;margin:10mm}
  body{display:grid;grid-template-columns:60% 40%;height:auto}
  .folium-map,#rm-report{height:180mm!important}
  #rm-report .actions{display:none}
}
</style>"""


def counts_teams(query: CoverageQuery) -> bool:
    """Whether area-served resources (volunteer teams) count: then "covered" also means
    living in an area one serves."""
    return any(k.info.placement is Placement.AREA for k in query.kinds)


def _area(code: str, name: str, t: ReportText) -> str:
    """An area's name in the report's language; its Chinese name marked as such."""
    shown = t.area_names.get(code)
    if shown and shown != name:
        return f'<span class="area-name">{html.escape(shown)}</span>'
    return f'<span class="area-name" lang="zh-CN">{html.escape(name)}</span>'


def _report_body(
    analysis: Analysis,
    t: ReportText,
    when: dt.datetime,
    dataset_label: str | None,
    download_url: str | None,
) -> str:
    e = html.escape
    r, q = analysis.result, analysis.query
    radius = t.distance(r.radius_m)
    mode = t.walking if r.mode == "walking" else t.straight
    s = summarise(analysis)
    share = t.no_data if s.share is None else t.percent(s.share)
    actions = []
    if download_url:
        actions.append(f'<a href="{e(download_url)}" download>{e(t.download)}</a>')
    actions.append(f'<a href="#" onclick="window.print();return false">{e(t.print_)}</a>')
    worst = "".join(
        f"<li>{_area(g.code, g.name, t)}: {e(t.number(g.uncovered))}</li>" for g in s.worst
    )
    kinds = ", ".join(f"{t.kind(k)} ({n})" for k, n in analysis.kind_counts) or t.no_data
    means = t.covered_means_teams if counts_teams(q) else t.covered_means
    members = sum(n for k, n in analysis.kind_counts if k in MEMBERS_ONLY)
    resources = t.resources_value % {
        "count": t.number(analysis.resources), "status": t.status(q.status.value), "kinds": kinds,
    }  # fmt: skip
    if q.eligibility == "public":
        resources += "; " + t.public_only
    elif members:
        resources += "; " + t.members_only % {"count": t.number(members)}
    rows = "".join(
        f'<tr data-code="{e(row.code)}">'
        f'<th scope="row">{_area(row.code, row.name, t)}</th>'
        f"<td>{e(t.number(row.population))}</td>"
        f"<td>{e(t.number(row.covered))}</td><td>{e(t.number(row.uncovered))}</td>"
        f'<td><i class="sw" style="background:{share_colour(row.share)}"></i>'
        f"{e(t.no_data if row.share is None else t.percent(row.share))}</td></tr>"
        for row in analysis.table()
    )
    label = f'<p class="dataset">{e(dataset_label)}</p>' if dataset_label else ""
    title = e(t.title)
    if analysis.area is not None:
        title += f' · <span lang="zh-CN">{e(analysis.area.name)}</span>'
    summary = t.summary % {
        "covered": t.number(s.covered), "population": t.number(s.population), "share": share,
        "radius": radius,
    }  # fmt: skip
    # The source is stored as "<method>:<file>": said once, in words ("points: points:…").
    method = t.methods.get(r.demand_method, r.demand_method)
    source = r.demand_source.removeprefix(f"{r.demand_method}:")
    return (
        '<section id="rm-report">'
        f"<h1>{title}</h1>"
        f'<p class="made">{e(t.made % {"when": t.when(when)})}</p>{label}'
        f'<p class="actions">{"".join(actions)}</p>'
        f'<div class="strip"><p><strong>{e(summary)}</strong></p>'
        + (f"<p>{e(t.worst)}</p><ol>{worst}</ol>" if worst else "")
        + f"<p>{e(means % {'radius': radius, 'mode': mode})}</p></div>"
        f"<h2>{e(t.facts)}</h2><dl>"
        f"<dt>{e(t.demand)}</dt><dd>{e(method)}: {e(source)}</dd>"
        f"<dt>{e(t.resources)}</dt><dd>{e(resources)}</dd>"
        f"<dt>{e(t.radius)}</dt><dd>{e(t.radius_value % {'radius': radius, 'mode': mode})}</dd>"
        f"<dt>{e(t.software)}</dt><dd>ResourceMap {e(resourcemap.__version__)}</dd></dl>"
        f"<table><thead><tr><th>{e(t.area)}</th><th>{e(t.population)}</th>"
        f"<th>{e(t.covered)}</th><th>{e(t.uncovered)}</th><th>{e(t.share)}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )
