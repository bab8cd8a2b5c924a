// A service's page: a small map of the place, and the resident's point when their search had
// one. The page says the same without this script (address, distance, map-app link); the map
// box stays hidden then. Tiles only when configured (offline intranets draw the points on a
// plain background). Listing text is untrusted: text nodes only.
(function () {
  "use strict";
  var el = document.getElementById("place-map");
  if (!el || !window.L) { return; }
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function label(text) {
    var n = document.createElement("span");
    n.textContent = text || "";
    return n;
  }
  el.hidden = false;
  var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el, {
    scrollWheelZoom: false, maxZoom: 19, minZoom: 9,
    zoomAnimation: !reduceMotion, fadeAnimation: !reduceMotion, markerZoomAnimation: !reduceMotion
  }).setView(at, 16);
  // The operator's prefix (RESOURCEMAP_MAP_ATTRIBUTION_PREFIX), not Leaflet's flag.
  map.attributionControl.setPrefix(el.dataset.attributionPrefix || false);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  var place = L.circleMarker(at, { radius: 9, color: "#0b6e4f", weight: 3, fillOpacity: 0.85 })
    .addTo(map).bindTooltip(label(el.dataset.name), { permanent: true, direction: "top", className: "place-name" });
  // The name sits centred above the point: the map keeps half its width clear at each side
  // (a long name at the map's edge was cut off).
  var tip = place.getTooltip().getElement();
  var half = Math.min(tip ? Math.ceil(tip.offsetWidth / 2) + 8 : 16, el.clientWidth * 0.35);
  if (el.dataset.hereLat && el.dataset.hereLon) {
    var here = [parseFloat(el.dataset.hereLat), parseFloat(el.dataset.hereLon)];
    L.circleMarker(here, { radius: 6, color: "#1d4ed8", weight: 3, fillOpacity: 0.6 })
      .addTo(map).bindTooltip(label(el.dataset.hereName), { direction: "bottom" });
    L.polyline([here, at], { color: "#1d4ed8", weight: 2, dashArray: "4 6" }).addTo(map);
    map.fitBounds(L.latLngBounds([at, here]), {
      paddingTopLeft: [half, 48], paddingBottomRight: [half, 24], maxZoom: 16, animate: false
    });
  }
})();
