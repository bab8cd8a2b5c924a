// Map of service points: areas and markers load from the app's own API; tiles only when
// configured, so the map works on an intranet with no internet at all.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var statusEl = document.getElementById("map-status");
  if (!el || !window.L) { return; }

  var map = L.map(el).setView([22.75, 113.93], 12);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  }

  function text(tag, value, cls) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (cls) { node.className = cls; }
    return node;
  }

  function popupFor(detail) {
    // Built from text nodes, never innerHTML: listing text is untrusted input.
    var box = document.createElement("div");
    box.className = "popup";
    box.appendChild(text("h2", detail.name_zh));
    box.appendChild(text("p", detail.kind_label.zh + " · " + detail.kind_label.en, "kind"));
    if (detail.address_zh) { box.appendChild(text("p", "地址: " + detail.address_zh, "address")); }
    box.appendChild(text("p", "开放时间: " + detail.hours_summary.zh, "hours"));
    if (detail.phone) {
      var p = text("p", "电话: ", "phone");
      var a = text("a", detail.phone);
      a.href = "tel:" + detail.phone.replace(/-/g, "");
      p.appendChild(a);
      box.appendChild(p);
    }
    if (detail.synthetic) { box.appendChild(text("p", "示例数据 / synthetic demo data", "dataset-label")); }
    return box;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " → " + r.status); }
      return r.json();
    });
  }

  var areas = getJSON(el.dataset.areasUrl).then(function (fc) {
    var layer = L.geoJSON(fc, {
      style: { color: "#5b7f82", weight: 1, fillColor: "#cfe3e0", fillOpacity: 0.35, className: "rm-area" },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name_zh, { sticky: true }); }
    }).addTo(map);
    if (fc.features.length) { map.fitBounds(layer.getBounds()); }
  });

  var points = getJSON(el.dataset.resourcesUrl).then(function (fc) {
    var layer = L.geoJSON(fc, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {
          radius: 7, color: "#1d4e52", weight: 1, fillColor: "#2f8f83", fillOpacity: 0.9,
          className: "rm-marker"
        });
      },
      onEachFeature: function (f, l) {
        l.on("click", function () {
          getJSON(el.dataset.detailUrl + f.id).then(function (detail) {
            l.bindPopup(popupFor(detail)).openPopup();
          });
        });
      }
    }).addTo(map);
    statusEl.textContent = fc.features.length + " 个服务点 / service points";
    return layer;
  });

  Promise.all([areas, points]).catch(function () {
    statusEl.textContent = "加载失败,请刷新 / Could not load, please reload";
  });
}());
