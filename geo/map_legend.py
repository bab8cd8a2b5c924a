"""The coverage map's controls: a layer control, a legend that follows the visible layers,
and area names that appear from a zoom where they fit, each only where it overlaps no other
name and no control.

Leaflet's layer control puts layer names into the page as HTML; the legend is HTML too.
Every text here arrives as plain text and is escaped once, here or in :mod:`geo.maps`;
the configuration reaches the script as JSON with ``<``, ``>`` and ``&`` escaped, so no
text can close the script element.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.map_text import METRIC_UNITS

SWATCHES = {
    "fill": "background:{c}",
    "dash": "height:0;border:0;border-top:2px dashed {c};margin-bottom:5px",
    # The parts outside every circle: hatched within a dashed outline, as on the map.
    "hatch": "background:repeating-linear-gradient(45deg,{c} 0 1.5px,transparent 1.5px 5px);"
    "border:1.5px dashed {c}",
    "dot": "background:{c};border-radius:50%;width:9px;height:9px;margin:0 8px 0 3px",
    "ring": "background:transparent;border:1.5px solid {c};border-radius:50%",
    "site": "background:{c};border-radius:50%;border-color:#fff",
}
STYLE = """<style>
.rm-legend{background:#fff;padding:6px 10px;font:13px/1.35 system-ui,sans-serif;color:#222;
  border:1px solid #999;border-radius:4px;max-width:19rem;max-height:55vh;overflow:auto}
.rm-legend summary{font-weight:700;cursor:pointer}
.rm-legend h3{font-size:13px;margin:.5em 0 .2em}
.rm-legend p{margin:.15em 0;color:#444;font-size:12px}
.rm-legend div{margin:.15em 0;padding-left:20px;text-indent:-20px}
.rm-legend .rm-ramp{display:flex;gap:3px;margin:.2em 0 .3em;padding-left:0;text-indent:0}
.rm-ramp span{display:flex;flex-direction:column;align-items:center;font-size:11px;
  line-height:1.2;flex:1 1 0;min-width:2.9rem;text-align:center;overflow-wrap:anywhere}
.rm-ramp i{display:block;width:100%;height:14px;border:1px solid #666;box-sizing:border-box;
  margin-bottom:2px}
.rm-sw{display:inline-block;width:14px;height:14px;border:1px solid #666;margin-right:6px;
  vertical-align:-2px;box-sizing:border-box}
.rm-label{display:inline-block;transform:translate(-50%,-50%);white-space:nowrap;
  font:600 12px/1.2 system-ui,sans-serif;color:#111;pointer-events:none;
  text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff,0 0 1px #fff}
.rm-labels-off .rm-label-icon,.rm-gaps-off .rm-gap{display:none}
.rm-label-hidden{visibility:hidden}
.rm-legend .rm-zoom-note{display:none;font-style:italic}
.rm-gaps-off .rm-legend .rm-zoom-note{display:block}
.rm-site{display:block;width:26px;height:26px;border-radius:50%;background:#e66101;color:#fff;
  font:700 14px/26px system-ui,sans-serif;text-align:center;border:2px solid #fff;
  box-shadow:0 0 0 1px #e66101;box-sizing:border-box}
.leaflet-control-layers-toggle{background-image:none!important;width:auto!important;
  height:auto!important;padding:6px 10px;font:600 13px system-ui,sans-serif;color:#222}
.leaflet-control-layers{font:13px/1.4 system-ui,sans-serif}
.leaflet-container .leaflet-tooltip{font:13px/1.35 system-ui,sans-serif;width:max-content;
  max-width:min(18rem,70vw);white-space:normal}
@media (max-width:480px){.leaflet-container .leaflet-tooltip{max-width:42vw}}
.leaflet-container path.leaflet-interactive:focus:not(:focus-visible){outline:none}
.leaflet-container path.rm-gap{fill:url(#rm-hatch);fill-opacity:1}
.leaflet-container .leaflet-control-scale-line{background:linear-gradient(#222,#222) left
  bottom/2px 9px no-repeat,linear-gradient(#222,#222) right bottom/2px 9px no-repeat;
  border:0;border-bottom:2px solid #222;box-shadow:0 1px 0 #fff;padding:0 5px 2px;
  font:600 12px/1.2 system-ui,sans-serif;color:#111;
  text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}
</style>"""


HATCH = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="rm-hatch" patternUnits="userSpaceOnUse" width="7" height="7" '
    'patternTransform="rotate(45)"><rect width="7" height="7" fill="none"/>'
    '<line x1="0" y1="0" x2="0" y2="7" stroke="#000" stroke-width="1.5" stroke-opacity=".45"/>'
    "</pattern></defs></svg>"
)


@dataclass(frozen=True)
class LegendRow:
    colour: str
    label: str  # plain text
    kind: str = "fill"  # fill, dash, hatch, dot, ring, site


@dataclass(frozen=True)
class LegendSection:
    layer: str  # the folium layer's JS name: the section shows while the layer does
    title: str  # plain text, may be empty
    rows: Sequence[LegendRow]
    note: str = ""
    ramp: bool = False  # rows as one line of classes, labels under the swatches
    after: Sequence[LegendRow] = ()  # rows below the ramp (e.g. "nobody lives here")
    # Said only while the zoom is below the names' (a layer drawn only from there on, such
    # as the gap outlines): its row stays, so the legend still says what will appear.
    zoom_note: str = ""


def legend_html(sections: Sequence[LegendSection], title: str) -> str:
    """The legend's inner HTML, every text escaped.

    >>> legend_html([LegendSection("l1", "<b>", [LegendRow("#fff", "a & b")])], "Key")
    '<summary>Key</summary><section data-layer="l1"><h3>&lt;b&gt;</h3><div><i class="rm-sw" \
style="background:#fff"></i>a &amp; b</div></section>'
    """
    out = [f"<summary>{html.escape(title)}</summary>"]
    for s in sections:
        out.append(f'<section data-layer="{html.escape(s.layer)}">')
        if s.title:
            out.append(f"<h3>{html.escape(s.title)}</h3>")
        if s.ramp:
            out.append('<div class="rm-ramp">')
            for r in s.rows:
                # A range breaks after its dash when it does not fit its swatch's width
                # ("14,608–" above "26,052"): side by side, five of them ran together.
                label = html.escape(r.label).replace("–", "–<wbr>")
                out.append(
                    f'<span><i style="background:{html.escape(r.colour)}"></i>{label}</span>'
                )
            out.append("</div>")
        for r in s.rows if not s.ramp else s.after:
            style = SWATCHES[r.kind].format(c=html.escape(r.colour))
            out.append(f'<div><i class="rm-sw" style="{style}"></i>{html.escape(r.label)}</div>')
        if s.note:
            out.append(f"<p>{html.escape(s.note)}</p>")
        if s.zoom_note:
            out.append(f'<p class="rm-zoom-note">{html.escape(s.zoom_note)}</p>')
        out.append("</section>")
    return "".join(out)


def script_json(value: Any) -> str:
    """JSON that is safe inside a script element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(a, b)
    return text


# Zoom levels before the outlines' zoom from which names that fit are shown: a 390-pixel
# phone frame fits a district about two zooms out from a desktop's, where it showed none.
NAMES_EARLY = 2


class MapFrame(MacroElement):
    """A planner map's scale, in metres only (Leaflet's default adds miles and feet), in the
    reader's units ("2公里", where Leaflet writes "2 km" on every page) and drawn as a scale
    bar (a line with end ticks; Leaflet's white box read as a text field), and the
    operator's attribution prefix (Leaflet's default is a flag and a link; the resident
    maps take the same setting, RESOURCEMAP_MAP_ATTRIBUTION_PREFIX)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var units = {{ this.units }};
  // Leaflet's own _updateMetric, with the units in the page's language.
  var Scale = L.Control.Scale.extend({
    _updateMetric: function (maxMeters) {
      var metres = this._getRoundNum(maxMeters);
      var label = metres < 1000 ? units[0].replace("{n}", metres)
                                : units[1].replace("{n}", metres / 1000);
      this._updateScale(this._mScale, label, metres / maxMeters);
    }
  });
  new Scale({imperial: false}).addTo({{ this.map_name }});
})();
{{ this.map_name }}.attributionControl.setPrefix({{ this.prefix }});
{% endmacro %}"""
    )

    def __init__(self, map_name: str, prefix: str, units: tuple[str, str] = METRIC_UNITS) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "MapFrame"
        self.map_name = map_name
        self.prefix = script_json(prefix) if prefix else "false"
        self.units = script_json(list(units))


class _Controls(MacroElement):
    # The map may have no size when this runs: a page's map frame gets its size only once
    # the page around it is laid out, after the page's stylesheets, and until then it is
    # 0×0 (or the 300×150 of a frame without its style). Fitted then, the legend's padding
    # is larger than the map, Leaflet's zoom for it is Infinity and the fit throws "Invalid
    # LatLng object: (NaN, NaN)", leaving a grey map. So the layout (layer list open or
    # not, legend open or not) and the fit are made from the map's size, made again each
    # time that size changes until the reader moves the map, and a padding is used only
    # where it leaves the areas room.
    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var map = {{ this.map_name }};
  var cfg = {{ this.config }};
  var layers = { {% for name in this.layer_names %}"{{ name }}": {{ name }},{% endfor %} };
  var bases = {}, overlays = {};
  cfg.bases.forEach(function (b) { bases[b.label] = layers[b.name]; });
  cfg.overlays.forEach(function (o) { overlays[o.label] = layers[o.name]; });
  var control = null, moved = false, legendSet = false;
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () {
    var box = L.DomUtil.create("details", "rm-legend");
    box.innerHTML = cfg.legend;
    box.querySelector("summary").addEventListener("click", function () { legendSet = true; });
    box.addEventListener("toggle", function () { names(); });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  legend.addTo(map);
  // Quarter zoom steps, so the area fills its frame rather than the next whole zoom out.
  map.options.zoomSnap = 0.25;
  map.options.zoomDelta = 0.5;
  function layout() {
    var size = map.getSize();
    // The layer list open only where it leaves the area room (a wide page, not a report),
    // the legend closed on a phone.
    var roomy = size.x >= 1000;
    if (!control || control.options.collapsed === roomy) {
      if (control) { control.remove(); }
      control = L.control.layers(bases, overlays, {collapsed: !roomy, position: "topright"});
      control.addTo(map);
      var toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
      if (toggle) {
        // Leaflet's own tooltip says "Layers" in English whatever the page's language.
        toggle.textContent = cfg.button; toggle.title = cfg.button;
        toggle.setAttribute("role", "button");
      }
    }
    if (!legendSet) { legend.getContainer().open = size.x >= 640; }
  }
  // The areas fill the map clear of the open legend: beside it on a wide map, above it on
  // a tall one (whichever shows them larger); with no padding where neither leaves room.
  function fit() {
    var size = map.getSize();
    if (size.x <= 0 || size.y <= 0) { return; }  // no size yet: fitted when it has one
    var box = legend.getContainer(), ctl = control.getContainer();
    var best = {}, most = -Infinity;
    [{paddingTopLeft: [box.offsetWidth + 16, 8], paddingBottomRight: [8, 8]},
     {paddingTopLeft: [8, ctl.offsetHeight + 16], paddingBottomRight: [8, box.offsetHeight + 16]}
    ].forEach(function (p) {
      var total = L.point(p.paddingTopLeft).add(p.paddingBottomRight);
      if (total.x >= size.x || total.y >= size.y) { return; }
      var zoom = map.getBoundsZoom(cfg.bounds, false, total);
      if (isFinite(zoom) && zoom > most) { best = p; most = zoom; }
    });
    map.fitBounds(cfg.bounds, L.extend({animate: false}, best));
  }
  // Moving the map (dragging, wheel, keys, the zoom buttons) keeps the reader's view; the
  // layer list and the legend are not the map.
  ["mousedown", "touchstart", "wheel", "keydown"].forEach(function (type) {
    map.getContainer().addEventListener(type, function (e) {
      if (!(e.target.closest && e.target.closest(".leaflet-control-layers, .rm-legend"))) {
        moved = true;
      }
    }, true);
  });
  function follow() {
    legend.getContainer().querySelectorAll("[data-layer]").forEach(function (s) {
      var layer = layers[s.getAttribute("data-layer")];
      s.hidden = !(layer && map.hasLayer(layer));
    });
  }
  // Gap outlines from the zoom where areas are wide enough for a name; names a little
  // before it (a phone's frame fits the areas two zooms out), and of those only the ones
  // that fit: a name that would overlap one already shown, a control, or the map's edge
  // waits for a closer zoom (in order: the largest areas' names first).
  function names() {
    var container = map.getContainer(), zoom = map.getZoom();
    container.classList.toggle("rm-gaps-off", zoom < cfg.minZoom);
    container.classList.toggle("rm-labels-off", zoom < cfg.namesZoom);
    var group = layers[cfg.labels];
    if (!group || !map.hasLayer(group) || zoom < cfg.namesZoom) { return; }
    var frame = container.getBoundingClientRect();
    var taken = [];
    container.querySelectorAll(".leaflet-control").forEach(function (c) {
      var r = c.getBoundingClientRect();
      if (r.width && r.height) { taken.push(r); }
    });
    var gap = 2;
    group.eachLayer(function (marker) {
      var icon = marker.getElement(), text = icon && icon.firstChild;
      if (!text) { return; }
      var r = text.getBoundingClientRect();
      var fits = r.left >= frame.left && r.right <= frame.right &&
                 r.top >= frame.top && r.bottom <= frame.bottom &&
                 !taken.some(function (t) {
                   return r.left < t.right + gap && t.left < r.right + gap &&
                          r.top < t.bottom + gap && t.top < r.bottom + gap;
                 });
      icon.classList.toggle("rm-label-hidden", !fits);
      if (fits) { taken.push(r); }
    });
  }
  function settle() {
    if (!moved) { layout(); fit(); }
    follow();
    names();
  }
  map.on("baselayerchange overlayadd overlayremove", follow);
  map.on("zoomend moveend overlayadd", names);
  map.on("resize", settle);
  settle();
})();
{% endmacro %}"""
    )

    def __init__(self, m: folium.Map, config: dict[str, Any], layer_names: Sequence[str]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "RmControls"
        self.map_name = m.get_name()
        self.config = script_json(config)
        self.layer_names = list(layer_names)


def add_controls(
    m: folium.Map,
    sections: Sequence[LegendSection],
    labels_layer: str,
    min_zoom: float,
    legend_title: str,
    layers_button: str,
    *,
    bounds: tuple[tuple[float, float], tuple[float, float]],
) -> None:
    """Add the layer control, the legend and the zoom rule for names to ``m`` (last)."""
    bases: list[dict[str, str]] = []
    overlays: list[dict[str, str]] = []
    names: list[str] = []
    for child in m._children.values():
        if isinstance(child, folium.map.Layer) and child.control:
            entry = {"name": child.get_name(), "label": child.layer_name}  # escaped already
            (overlays if child.overlay else bases).append(entry)
            names.append(child.get_name())
    config = {
        "bases": bases,
        "overlays": overlays,
        "legend": legend_html(sections, legend_title),
        "button": layers_button,
        "minZoom": min_zoom,
        "namesZoom": min_zoom - NAMES_EARLY,
        "labels": labels_layer,
        "bounds": [list(bounds[0]), list(bounds[1])],
    }
    root: Any = m.get_root()  # a folium Figure, which has a header
    root.header.add_child(Element(STYLE), name="rm_map_style")
    # Which side of a dashed line is outside every circle: the hatched one. SVG fills a
    # shape with a pattern only by reference, to one defined once in the page.
    root.html.add_child(Element(HATCH), name="rm_map_hatch")
    m.add_child(_Controls(m, config, names))
