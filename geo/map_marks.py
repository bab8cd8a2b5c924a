"""Many small marks on a folium map from one compact array: service points, their circles
and area names.

folium makes one Python element per marker, each with its own compiled template, and one
GeoJSON feature per point: a province's map (22,000 service points, 2,400 area names) took
the server seconds to write and the browser tens of seconds to draw as SVG. Here a layer is
one array of ``[lat, lon]`` (and a name) and a loop in the page: dots and circles go on a
canvas in a pane of their own above the areas (they take no clicks), names stay HTML
markers so that the zoom rule can hide them.

A name reaches the page as JSON text and is set as ``textContent``, never as HTML: an area
named ``<script>…`` stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import folium
from jinja2 import Template

from geo.map_legend import script_json

Kind = Literal["dots", "rings", "names"]


class Marks(folium.map.Layer):
    """One overlay of marks: ``dots`` (circle markers of ``style``'s pixel radius), ``rings``
    (circles of ``radius_m`` metres) or ``names`` (text at each point)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.featureGroup();
(function () {
  var group = {{ this.get_name() }}, kind = "{{ this.kind }}";
  var style = {{ this.style }}, marks = {{ this.marks }};
  if (kind !== "names") {
    // Above the areas' SVG (the overlay pane), below markers, and never in a click's way.
    var map = {{ this._parent.get_name() }};
    var pane = map.getPane("rm-marks");
    if (!pane) {
      pane = map.createPane("rm-marks");
      pane.style.zIndex = 450;
      pane.style.pointerEvents = "none";
    }
    style.renderer = L.canvas({pane: "rm-marks", padding: 0.5});
    style.interactive = false;
  }
  marks.forEach(function (m) {
    if (kind === "dots") { L.circleMarker([m[0], m[1]], style).addTo(group); return; }
    if (kind === "rings") { L.circle([m[0], m[1]], style).addTo(group); return; }
    var text = document.createElement("span");
    text.className = "rm-label";
    text.textContent = m[2];
    L.marker([m[0], m[1]], {
      icon: L.divIcon({html: text, iconSize: [0, 0], className: "rm-label-icon"}),
      interactive: false, keyboard: false
    }).addTo(group);
  });
})();
{% endmacro %}"""
    )

    def __init__(
        self,
        kind: Kind,
        marks: Sequence[Sequence[Any]],
        name: str,
        *,
        style: dict[str, Any] | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "Marks"
        self.kind = kind
        self.marks = script_json([list(m) for m in marks])
        self.style = script_json(style or {})


def points(lon_lat: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """``(lat, lon)`` marks from ``(lon, lat)`` pairs, to the metre (six decimals)."""
    return [(round(y, 6), round(x, 6)) for x, y in lon_lat]
