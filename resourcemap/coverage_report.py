"""The coverage map and the standalone HTML report (map, per-area table, how it was made)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo.maps import Assets, coverage_map, render
from resourcemap.coverage import CoverageQuery, CoverageService, HeatQuery, coverage_geojson

LEAFLET_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "leaflet"


async def map_html(
    service: CoverageService,
    query: CoverageQuery,
    assets: Assets,
    *,
    tile_url: str = "",
    attribution: str = "",
    sites: list[dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The folium map document and the coverage GeoJSON it shows."""
    say = progress or (lambda _m: None)
    analysis = await service.analyse(query, progress=say)
    fc = coverage_geojson(analysis)
    say("drawing gap polygons")
    gaps = await service.gaps_geojson(query)
    say("binning demand on H3 hexagons")
    heat = await service.heatmap_geojson(
        HeatQuery(**query.model_dump(include=set(CoverageQuery.model_fields)))
    )
    services = list(zip(analysis.supply.lon.tolist(), analysis.supply.lat.tolist(), strict=True))
    m = coverage_map(
        fc,
        gaps,
        heat,
        services,
        query.radius_m,
        assets,
        tile_url=tile_url,
        attribution=attribution,
        sites=sites or (),
    )
    return render(m, assets), fc


async def report_html(
    service: CoverageService,
    query: CoverageQuery,
    *,
    dataset_label: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """One HTML file that opens anywhere, offline: Leaflet inlined, no tiles."""
    say = progress or (lambda _m: None)
    page, fc = await map_html(service, query, Assets.inline(LEAFLET_DIR), progress=say)
    say("writing the report")
    return page.replace("</body>", _summary(fc, dataset_label) + "</body>", 1)


def _summary(fc: dict[str, Any], dataset_label: str | None) -> str:
    t = fc["totals"]
    share = "—" if t["share"] is None else f"{t['share']:.1%}"
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                p["code"],
                p["name"],
                f"{p['population']:,.0f}",
                f"{p['covered']:,.0f}",
                f"{p['uncovered']:,.0f}",
                "—" if p["share"] is None else f"{p['share']:.1%}",
            )
        )
        + "</tr>"
        for p in (f["properties"] for f in fc["features"])
    )
    label = f"<p><b>{html.escape(dataset_label)}</b></p>" if dataset_label else ""
    return (
        '<section id="rm-report" style="position:absolute;top:0;right:0;width:34%;height:100%;'
        'overflow:auto;background:#fff;font:13px sans-serif;padding:8px;z-index:1001">'
        f"<h1 style='font-size:16px'>服务圈覆盖报告 · Coverage report</h1>{label}"
        f"<p>{html.escape(fc['method'])}</p>"
        f"<p>总人口 Population {t['population']:,.0f} · 覆盖 Covered {t['covered']:,.0f} "
        f"({share}) · 未覆盖 Uncovered {t['uncovered']:,.0f}</p>"
        "<table><thead><tr><th>代码 Code</th><th>区域 Area</th><th>人口</th><th>覆盖</th>"
        f"<th>未覆盖</th><th>覆盖率</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
