// Pick a location on a map: a click (or dragging the marker) fills the lat/lon inputs, and
// typing coordinates moves the marker. The form works without this script; it only helps.
// Tiles load only when configured, so on an intranet the community boundaries are the map.
(function () {
  "use strict";
  var el = document.getElementById("pick-map");
  var latInput = document.getElementById("f-lat");
  var lonInput = document.getElementById("f-lon");
  if (!el || !latInput || !lonInput || !window.L) { return; }

  el.hidden = false;
  var help = document.getElementById("pick-help");
  if (help) { help.hidden = false; }

  var map = L.map(el).setView([22.75, 113.93], 12);
  map.attributionControl.setPrefix(el.dataset.attributionPrefix || false);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  var marker = null;

  function current() {
    var lat = parseFloat(latInput.value);
    var lon = parseFloat(lonInput.value);
    if (isNaN(lat) || isNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) { return null; }
    return L.latLng(lat, lon);
  }

  function fill(latlng) {
    // Six decimals is about 0.1 m: more would only pretend to precision.
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    latInput.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function place(latlng) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { draggable: true, keyboard: true, title: "服务点位置 / location" }).addTo(map);
      marker.on("dragend", function () { fill(marker.getLatLng()); });
    }
  }

  map.on("click", function (e) { place(e.latlng); fill(e.latlng); });
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("input", function () {
      var here = current();
      if (here) { place(here); map.panTo(here); }
    });
  });

  var start = current();
  if (start) { place(start); map.setView(start, 16); }

  fetch(el.dataset.areasUrl, { headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (fc) {
      var layer = L.geoJSON(fc, {
        style: { color: "#5b7f82", weight: 1, fillColor: "#cfe3e0", fillOpacity: 0.3 },
        // A tooltip given a string sets it as HTML: an area name must stay text.
        onEachFeature: function (f, l) {
          var label = document.createElement("span");
          label.textContent = String(f.properties.name_zh || "");
          l.bindTooltip(label, { sticky: true });
        }
      }).addTo(map);
      if (!start && fc.features.length) { map.fitBounds(layer.getBounds()); }
    })
    .catch(function () { /* boundaries are a nicety; the inputs still work */ });
})();
