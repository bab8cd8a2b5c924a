// Residents' search page: a clustered map of the service points in view next to the result
// list, kept in step (the map asks for its view only: a province never travels whole). The page works without this script (the server renders the list); with it,
// filters update list and map in place. Points come from the app's own API as slim rows,
// never as markers written into the HTML; tiles only when configured, so the map also works
// on an intranet with no internet at all. Listing text is untrusted: text nodes only.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var statusEl = document.getElementById("map-status");
  var form = document.getElementById("search-form");
  var list = document.getElementById("results");
  var countEl = document.getElementById("result-count");
  if (!el || !window.L || !L.markerClusterGroup) { return; }

  var lang = el.dataset.lang || "zh-CN";
  var english = lang === "en";
  var msgs = JSON.parse(el.dataset.messages || "{}");
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var SERVICE_CIRCLE_M = 500;  // the policy's circle, drawn when no distance is chosen
  var behavior = reduceMotion ? "auto" : "smooth";
  var radiusSelect = document.getElementById("f-radius_m");
  // The distance the list covers: the chosen one, or the one the search widened to.
  var shownRadius = el.dataset.radius || "";

  function t(key, vars) {
    var s = msgs[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.replace("{" + k + "}", vars[k]); });
    return s;
  }
  function pointsText(n) {
    return n === 1 ? t("point_one") : t("points", { n: n.toLocaleString(lang) });
  }
  function node(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) { n.textContent = text; }
    if (cls) { n.className = cls; }
    return n;
  }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var e = new Error(r.status); e.body = body; throw e; }
        return body;
      });
    });
  }
  function name(zh, en) { return english && en ? en : zh; }
  var metres = new Intl.NumberFormat(lang, { style: "unit", unit: "meter", unitDisplay: "short" });
  var km = new Intl.NumberFormat(lang, { style: "unit", unit: "kilometer", unitDisplay: "short", maximumFractionDigits: 1 });
  function distance(m) {
    return m < 1000 ? metres.format(Math.max(10, Math.round(m / 10) * 10)) : km.format(Math.round(m / 100) / 10);
  }

  // --- the map ---------------------------------------------------------------------------
  var map = L.map(el, {
    maxZoom: 19, minZoom: 6, zoomSnap: 0.5,
    zoomAnimation: !reduceMotion, fadeAnimation: !reduceMotion, markerZoomAnimation: !reduceMotion
  }).setView([22.75, 113.93], 12);
  // The operator's prefix (RESOURCEMAP_MAP_ATTRIBUTION_PREFIX), not Leaflet's flag.
  map.attributionControl.setPrefix(el.dataset.attributionPrefix || false);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  } else {
    el.classList.add("plain");
  }

  var here = null;
  var hereLayer = L.layerGroup().addTo(map);
  // The resident's dot sits above the service markers: a marker at the same spot must not
  // hide where they are (the marker pane is at 600, tooltips at 650).
  map.createPane("here").style.zIndex = 640;
  // Whether the list is bounded by a distance (chosen, or the one a search widened to).
  function radiusChosen() {
    return Boolean(Number(shownRadius));
  }
  function circleMetres() {
    return Number(shownRadius) || SERVICE_CIRCLE_M;
  }
  function showHere(lat, lon) {
    here = [lat, lon];
    hereLayer.clearLayers();
    var r = circleMetres();
    // A chosen distance is the list's bound: a solid circle, "within". With none chosen the
    // list is not bounded, so the policy's 500 m circle is drawn dashed and named as such.
    var chosen = radiusChosen();
    L.circle(here, {
      radius: r, color: "#1d5fa8", weight: 2, fillColor: "#1d5fa8", fillOpacity: chosen ? 0.08 : 0.03,
      dashArray: chosen ? null : "6 6", interactive: false, className: "rm-circle"
    }).addTo(hereLayer);
    var label = chosen ? t("within", { distance: distance(r) }) : t("service_circle", { distance: distance(r) });
    var dot = L.circleMarker(here, {
      radius: 8, color: "#fff", weight: 3, fillColor: "#b3261e", fillOpacity: 1, className: "rm-here",
      pane: "here"
    }).bindTooltip(t("your_location") + " · " + label).addTo(hereLayer);
    // A stop of the keyboard's like the pins: named, not an unnamed shape.
    var dotEl = dot.getElement();
    if (dotEl) {
      dotEl.setAttribute("role", "img");
      dotEl.setAttribute("aria-label", t("your_location") + " · " + label);
    }
    el.dataset.circle = String(r);
    el.dataset.circleChosen = chosen ? "1" : "";
    var key = document.getElementById("here-key");
    if (key) {
      key.hidden = false;
      key.querySelector(".here-circle").classList.toggle("dashed", !chosen);
      // A legend item, as the others ("books online"): no capital in English.
      key.querySelector(".here-text").textContent = english ? label.charAt(0).toLowerCase() + label.slice(1) : label;
    }
  }
  // The map shows where the listed results are (and the resident), never an empty circle;
  // with a distance chosen, the whole circle too: the list's bound is seen, not one edge.
  function fitResults() {
    var points = [];
    Array.prototype.forEach.call(list.querySelectorAll(".result[data-lat]"), function (li) {
      points.push(L.latLng(Number(li.dataset.lat), Number(li.dataset.lon)));
    });
    if (here) {
      points.push(L.latLng(here));
      if (points.length === 1 || radiusChosen()) {
        var bounds = L.latLng(here).toBounds(circleMetres() * 2);
        points.forEach(function (p) { bounds.extend(p); });
        map.fitBounds(bounds, { padding: [12, 12], animate: !reduceMotion });
        el.dataset.fitted = String(points.length);
        return;
      }
    }
    if (!points.length) { return; }
    map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 16, animate: !reduceMotion });
    el.dataset.fitted = String(points.length);
  }
  // After a search: the count is announced and takes focus, the first result in view; in a
  // crisis, the panel of 24/7 lines does; a typed place not found or to choose among comes
  // first (the results are near no place then, and "110 found" read as near it).
  function announce() {
    var panel = document.querySelector(".crisis-panel");
    var place = document.querySelector(".search-panel .problem, .place-choices");
    var shown = panel || place || countEl;
    var target = panel ? panel.querySelector("h2") : shown;
    if (place && !panel) { place.tabIndex = -1; }
    target.focus({ preventScroll: true });
    shown.scrollIntoView({ block: "start", behavior: behavior });
  }

  // The outlines of the areas in view, of the finest level that has few enough there (a
  // district's communities, a province's cities): never every boundary of a province (#22).
  var areaLayer = L.geoJSON(null, {
    style: { color: "#5b7f82", weight: 1, fillColor: "#cfe3e0", fillOpacity: 0.35, className: "rm-area" },
    interactive: false
  }).addTo(map);
  // Their names, where they fit: with no background tiles (an intranet) they are all that
  // says where the map is. A name is left out where its area is narrower than it, or where
  // it would cover a name already placed (the largest areas are named first).
  var labelLayer = L.layerGroup().addTo(map);
  // A name's width as drawn (.area-label's font), so that the room it needs is known.
  var measure = document.createElement("canvas").getContext("2d");
  measure.font = "12px " + getComputedStyle(el).fontFamily;
  map.createPane("areaLabels").style.zIndex = 450;  // above the areas, below the markers
  function labelAreas() {
    labelLayer.clearLayers();
    var placed = [];
    var size = map.getSize();
    var layers = areaLayer.getLayers().map(function (layer) {
      var b = layer.getBounds();
      var nw = map.latLngToContainerPoint(b.getNorthWest());
      var se = map.latLngToContainerPoint(b.getSouthEast());
      return { layer: layer, width: se.x - nw.x, height: se.y - nw.y };
    }).sort(function (a, b) { return b.width * b.height - a.width * a.height; });
    layers.forEach(function (it) {
      var props = it.layer.feature.properties;
      // On the map an English name goes without its area word ("Zhuxi", not "Zhuxi
      // Community"): the long forms left most areas unnamed.
      var text = english && props.name_en ? props.name_en.replace(/ (Community|Subdistrict|Street|District|Town|Village)$/, "") : name(props.name_zh, props.name_en);
      var w = Math.ceil(measure.measureText(text).width) + 8;
      if (!text || it.width < w * 1.2 || it.height < 28) { return; }
      var at = map.latLngToContainerPoint(it.layer.getCenter());
      var box = { l: at.x - w / 2, r: at.x + w / 2, t: at.y - 9, b: at.y + 9 };
      if (box.l < 0 || box.t < 0 || box.r > size.x || box.b > size.y) { return; }  // not cut off
      if (placed.some(function (o) { return box.l < o.r && o.l < box.r && box.t < o.b && o.t < box.b; })) { return; }
      placed.push(box);
      L.marker(it.layer.getCenter(), {
        pane: "areaLabels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "area-label", html: "", iconSize: [w, 18] })
      }).addTo(labelLayer).getElement().textContent = text;  // names are data: text only
    });
  }
  map.on("zoomend moveend", labelAreas);
  var areaSeq = 0;
  function loadAreas(box) {
    var seq = ++areaSeq;
    return getJSON("/api/v1/areas?" + new URLSearchParams({ bbox: box })).then(function (fc) {
      if (seq !== areaSeq) { return fc; }
      areaLayer.clearLayers();
      areaLayer.addData(fc);
      labelAreas();
      return fc;
    });
  }
  // First the whole place this site serves, to fit the map to it.
  var areasLoaded = loadAreas("-180,-90,180,90").then(function (fc) {
    // The grid may have settled the container's size after the map was made.
    map.invalidateSize();
    if (fc.features && fc.features.length && !here && !el.dataset.fitted) { map.fitBounds(areaLayer.getBounds()); }
    labelAreas();
  });

  var cluster = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, animate: !reduceMotion,
    maxClusterRadius: 60, spiderfyOnMaxZoom: true,
    iconCreateFunction: function (group) { return countIcon(group.getChildCount()); }
  });
  map.addLayer(cluster);
  // Where a view holds too many matches, the server counts them in cells (a province never
  // travels whole): one marker per cell, zooming in on a click.
  var counts = L.layerGroup().addTo(map);
  var markers = {};     // id → marker, made once per point as views bring it
  var onMap = {};       // id → true for the points of the current view
  var mapQuery = new URLSearchParams();  // the search the map shows: the list's, widened as it was
  var viewSeq = 0;
  var viewTimer = null;
  var viewWaiters = [];
  var pendingOpen = null;  // a listed result to open once a view brings its point

  function popupFor(row) {
    var box = node("div", null, "popup");
    box.appendChild(node("h2", name(row.name_zh, row.name_en)));
    var badges = node("p", null, "meta");
    if (row.always_open) { badges.appendChild(node("span", t("open_now"), "badge open")); }
    if (row.free) { badges.appendChild(node("span", t("free"), "badge free")); }
    if (badges.childNodes.length) { box.appendChild(badges); }
    // "Details and booking" only where booking is possible.
    var a = node("a", t(row.bookable ? "details" : "details_only"));
    a.href = "/resources/" + row.id;
    box.appendChild(a);
    return box;
  }

  // 24 px: the smallest target WCAG 2.2 asks for a finger (18 px pins were missed on phones).
  var pinIcon = L.divIcon({ className: "rm-pin", iconSize: [24, 24] });
  var pinBookable = L.divIcon({ className: "rm-pin bookable", iconSize: [24, 24] });

  function markerFor(r, f) {
    var id = r[f.id];
    if (markers[id]) { return markers[id]; }
    var row = {
      id: id, name_zh: r[f.name_zh], name_en: r[f.name_en], kind: r[f.kind],
      free: r[f.free], always_open: r[f.always_open], bookable: r[f.bookable]
    };
    var m = L.marker([r[f.lat], r[f.lon]], {
      icon: row.bookable ? pinBookable : pinIcon, title: name(row.name_zh, row.name_en), keyboard: true
    });
    m.bindPopup(function () { return popupFor(row); });
    m.on("click", function () { select(row.id, false); });
    markers[id] = m;
    return m;
  }
  // A group of pins (the browser's clusters and the server's counts alike), named by what
  // it holds, not by its number alone ("3"): the number is for the eye.
  function countIcon(n) {
    var inner = node("div");
    var shown = node("span", String(n));
    shown.setAttribute("aria-hidden", "true");
    inner.appendChild(shown);
    inner.appendChild(node("span", pointsText(n) + msgs.clause_separator + t("zoom_in"), "visually-hidden"));
    var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    return L.divIcon({ html: inner, className: "marker-cluster marker-cluster-" + size, iconSize: [40, 40] });
  }
  function countMarker(c) {
    var n = c[2];
    var m = L.marker([c[0], c[1]], { icon: countIcon(n), title: pointsText(n), keyboard: true });
    m.on("click", function () { map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, map.getMaxZoom())); });
    return m;
  }
  // The view's box, rounded outwards, within the world.
  function bbox() {
    var b = map.getBounds();
    function down(x) { return Math.floor(x * 1e5) / 1e5; }
    function up(x) { return Math.ceil(x * 1e5) / 1e5; }
    return [Math.max(-180, down(b.getWest())), Math.max(-90, down(b.getSouth())),
            Math.min(180, up(b.getEast())), Math.min(90, up(b.getNorth()))].join(",");
  }
  // Only what is in view: the matches of the list's search inside the map's box (#22).
  function loadView() {
    var seq = ++viewSeq;
    var q = new URLSearchParams(mapQuery);
    q.set("bbox", bbox());
    q.set("zoom", String(map.getZoom()));
    return getJSON(el.dataset.viewUrl + "?" + q).then(function (v) {
      if (seq !== viewSeq) { return; }
      var f = {};
      v.fields.forEach(function (k, i) { f[k] = i; });
      var now = {};
      var added = [];
      v.rows.forEach(function (r) {
        var m = markerFor(r, f);
        now[r[f.id]] = true;
        if (!onMap[r[f.id]]) { added.push(m); }
      });
      // Points that stay keep their marker (and an open popup).
      var gone = Object.keys(onMap).filter(function (id) { return !now[id]; })
        .map(function (id) { return markers[id]; });
      cluster.removeLayers(gone);
      cluster.addLayers(added);
      onMap = now;
      counts.clearLayers();
      v.clusters.forEach(function (c) { counts.addLayer(countMarker(c)); });
      statusEl.textContent = pointsText(v.total) +
        (el.dataset.tileUrl ? "" : " · " + t("plain_map"));
      el.dataset.shown = String(v.total);
      if (!el.dataset.ready && window.performance && performance.mark) { performance.mark("rm-map-ready"); }
      el.dataset.ready = "1";
      if (pendingOpen !== null && markers[pendingOpen] && onMap[pendingOpen]) {
        var open = markers[pendingOpen];
        var from = list.querySelector('.show-on-map[data-id="' + pendingOpen + '"]');
        pendingOpen = null;
        cluster.zoomToShowLayer(open, function () { openFrom(open, from); });
      }
      viewWaiters.splice(0).forEach(function (done) { done(); });
    }).catch(function () { statusEl.textContent = t("failed"); });
  }
  function viewChanged() {
    clearTimeout(viewTimer);
    viewTimer = setTimeout(function () {
      loadAreas(bbox()).catch(function () {});
      loadView();
    }, 100);
  }
  // Resolves once the map shows the view as it is after this call.
  function nextView() {
    return new Promise(function (done) { viewWaiters.push(done); viewChanged(); });
  }
  map.on("moveend", viewChanged);

  // --- list ↔ map ------------------------------------------------------------------------
  function select(id, fromList) {
    Array.prototype.forEach.call(list.querySelectorAll(".result.selected"), function (li) {
      li.classList.remove("selected");
    });
    var li = list.querySelector('.result[data-id="' + id + '"]');
    if (li) {
      li.classList.add("selected");
      if (!fromList) { li.scrollIntoView({ block: "nearest", behavior: behavior }); }
    }
    if (!fromList || !li || !li.dataset.lat) { return; }
    // On a phone the map is far up the page: bring it into view first.
    el.scrollIntoView({ block: "center", behavior: behavior });
    var m = markers[id];
    if (m && onMap[id]) {
      cluster.zoomToShowLayer(m, function () { openFrom(m, li.querySelector(".show-on-map")); });
    } else {
      // Not in this view: go there; the view that loads opens it.
      pendingOpen = id;
      map.setView([Number(li.dataset.lat), Number(li.dataset.lon)], Math.max(map.getZoom(), 17));
      viewChanged();
    }
  }
  // The popup opened from "Show on map" takes the focus (its link is the next step), and
  // gives it back to the button when it closes: the focus stayed on the button, off the
  // phone's screen below the map, and the popup's link lay 60 Tabs away among the pins.
  function openFrom(m, button) {
    m.openPopup();
    var popup = m.getPopup();
    var box = popup ? popup.getElement() : null;
    var link = box ? box.querySelector("a") : null;
    if (!link) { return; }
    link.focus({ preventScroll: true });
    // Escape closes it, as a dialog's: Leaflet's own listens only while the map has focus.
    if (!box.dataset.escapes) {
      box.dataset.escapes = "1";
      box.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { m.closePopup(); }
      });
    }
    if (m._backToList) { m.off("popupclose", m._backToList); }
    m._backToList = function () {
      m._backToList = null;
      // Only when the focus is in the popup going away, or went nowhere: not when it moved
      // on, to another pin whose popup closed this one.
      var at = document.activeElement;
      if (button && (!at || at === document.body || at === el || box.contains(at))) {
        button.focus({ preventScroll: true });
      }
    };
    m.once("popupclose", m._backToList);
  }
  list.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest(".show-on-map") : null;
    if (button) { select(Number(button.dataset.id), true); }
  });
  function addMapButtons(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".result"), function (li) {
      if (li.querySelector(".show-on-map") || !li.dataset.lat) { return; }
      var b = node("button", msgs.on_map || "⌖", "show-on-map link");
      b.type = "button";
      b.dataset.id = li.dataset.id;
      b.setAttribute("aria-label", (msgs.on_map || "Map") + ": " + li.querySelector("a").textContent);
      li.appendChild(b);
    });
  }

  function badge(li, text, cls) {
    li.appendChild(document.createTextNode(" "));
    li.appendChild(node("span", text, "badge " + cls));
  }
  // "Closed now · Opens tomorrow at 9:00 AM", as the server's cards say it
  // (view.opens_label): days counted in the service's own zone against the page's today.
  var wallTime = new Intl.DateTimeFormat(lang, { timeStyle: "short", timeZone: "UTC" });  // CLDR short, as i18n.clock
  var wallDay = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", weekday: "short", timeZone: "UTC" });
  function opensLabel(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
    var today = /^(\d{4})-(\d{2})-(\d{2})$/.exec(el.dataset.today || "");
    if (!m || !today) { return ""; }
    var day = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    var at = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    var days = Math.round((day - Date.UTC(+today[1], +today[2] - 1, +today[3])) / 864e5);
    var time = wallTime.format(at);
    if (days === 0) { return t("opens_today", { time: time }); }
    if (days === 1) { return t("opens_tomorrow", { time: time }); }
    return t("opens_day", { day: wallDay.format(at), time: time });
  }
  function opensBadge(meta, iso) {
    var label = opensLabel(iso);
    if (!label) { return; }
    var span = node("span", t("closed_now") + " · ", "badge opens");
    var when = node("time", label);
    when.setAttribute("datetime", iso);
    span.appendChild(when);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(span);
  }
  function reasonText(r) {
    var need = english ? r.need_en : r.need_zh;
    if (r.via === "words") { return t("mentions", { word: need }); }
    return need + " → " + (english ? r.label_en || r.label_zh : r.label_zh);
  }
  function tel(phone) {
    var a = node("a", phone);
    a.href = "tel:" + phone.replace(/[-\s]/g, "");
    return a;
  }
  function resultItem(it, back) {
    var li = node("li", null, "result");
    li.dataset.id = it.id;
    if (it.reach === "walk" && it.location) {
      li.dataset.lat = it.location.lat;
      li.dataset.lon = it.location.lon;
    }
    var h = node("h2", null, "result-name");
    var a = node("a", name(it.name_zh, it.name_en));
    a.href = "/resources/" + it.id + (back ? "?back=" + encodeURIComponent(back) : "");
    h.appendChild(a);
    li.appendChild(h);
    var meta = node("p", null, "meta");
    meta.appendChild(node("span", english ? it.kind_label.en : it.kind_label.zh, "kind"));
    if (it.open_now) { badge(meta, t("open_now"), "open"); } else if (it.opens_at) { opensBadge(meta, it.opens_at); }
    if (it.fee === "free") { badge(meta, t("free"), "free"); } else if (it.fee === "paid") { badge(meta, t("paid"), "paid"); }
    if (it.bookable) { badge(meta, t("books_online"), "book"); }
    // Read in English: which places speak it (as the server's page marks them).
    if (document.documentElement.lang === "en" && (it.languages || []).indexOf("en") >= 0) {
      badge(meta, t("english_spoken"), "lang");
    }
    li.appendChild(meta);
    // Who may come: the listing's own words whenever it has them, else the rule's label
    // unless anyone may (as the page's own cards and the detail page say it).
    var note = english ? it.eligibility_note.en || it.eligibility_note.zh : it.eligibility_note.zh;
    if (note || it.eligibility !== "public") {
      li.appendChild(node("p", note || t("eligibility_" + it.eligibility), "eligibility"));
    }
    if (it.reach === "walk" && it.distance_m !== null && it.distance_m !== undefined) {
      li.appendChild(node("p", distance(it.distance_m) + " · " + t("walk", { n: it.walk_minutes }), "distance"));
    } else if (it.reach === "phone") {
      var p = node("p", t(here ? "phone_here" : "phone"), "reach");
      if (it.phone) { p.appendChild(document.createTextNode(" · ")); p.appendChild(tel(it.phone)); }
      li.appendChild(p);
    } else if (it.reach === "area") {
      li.appendChild(node("p", t(here ? "serves_here" : "serves"), "reach"));
    }
    if (it.matched_because && it.matched_because.length) {
      // Joined as the page joins it (i18n.after_colon, i18n.clause_separator): no space after full-width punctuation.
      li.appendChild(node("p", t("matched") + msgs.after_colon + it.matched_because.map(reasonText).join(msgs.clause_separator), "why"));
    }
    if (it.address_zh && it.reach === "walk") {
      li.appendChild(node("p", english && it.address_en ? it.address_en : it.address_zh, "address"));
    }
    return li;
  }

  // Crisis lines in a panel of their own, before every other result.
  function crisisPanel(lines) {
    var box = node("section", null, "crisis-panel");
    box.setAttribute("aria-labelledby", "crisis-title");
    var h = node("h2", t("crisis_title"));
    h.id = "crisis-title";
    h.tabIndex = -1;
    box.appendChild(h);
    box.appendChild(node("p", t("crisis_lead")));
    var ul = node("ul", null, "crisis-lines");
    lines.forEach(function (it) {
      var a = node("a", name(it.name_zh, it.name_en) + " ", "button call");
      a.href = "tel:" + it.phone.replace(/[-\s]/g, "");
      a.appendChild(node("b", it.phone));
      var li = node("li");
      li.appendChild(a);
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }
  // Nothing matched: clear the filters, the nearest place whatever the filters, a line.
  function emptyState(body, back) {
    var box = node("div", null, "empty");
    box.id = "empty";
    var selects = form.querySelectorAll(".filters select");
    var eligible = document.getElementById("f-eligible");
    if (body.members_only && eligible) {
      // Every match is for particular people only (a school's pupils): say so, offer them.
      var members = node("p", t("members_only", { n: body.members_only.toLocaleString(lang) }) + " ", "members-only");
      var show = node("button", t("show_them"), "secondary");
      show.type = "button";
      show.addEventListener("click", function () { eligible.value = "all"; search(); });
      members.appendChild(show);
      box.appendChild(members);
    }
    var boxes = form.querySelectorAll(".filters input[type=checkbox]");
    var filtered = Array.prototype.some.call(selects, function (s) { return s.value !== ""; }) ||
      Array.prototype.some.call(boxes, function (c) { return c.checked; });
    // Nothing to clear: words are what to change (as the server's page says).
    if (!filtered) {
      box.appendChild(node("p", t("try_words")));
    } else {
      var clear = node("button", t("clear"), "secondary");
      clear.type = "button";
      clear.addEventListener("click", function () {
        Array.prototype.forEach.call(selects, function (s) { s.value = ""; });
        Array.prototype.forEach.call(boxes, function (c) { c.checked = false; });
        search();
      });
      var p = node("p");
      p.appendChild(clear);
      box.appendChild(p);
    }
    if (body.nearest) {
      box.appendChild(node("p", t("nearest")));
      var ol = node("ol", null, "results nearest");
      ol.appendChild(resultItem(body.nearest, back));
      box.appendChild(ol);
    }
    var lines = document.querySelectorAll(".crisis a.hotline");
    if (lines.length) {
      var talk = node("p", t("talk_now") + " ");
      Array.prototype.forEach.call(lines, function (a, i) {
        var copy = node("a", a.textContent.trim(), "hotline-link");
        copy.href = a.href;
        if (i) { talk.appendChild(document.createTextNode(" · ")); }
        talk.appendChild(copy);
      });
      box.appendChild(talk);
    }
    return box;
  }
  // The count and what else the answer says, as the server's page says them: each
  // sentence its own span (the widened and ignored ones are set on lines of their own).
  function showCount(body, lines) {
    // With a point and no distance the list holds every match: say so, lest the number
    // read as how many are near.
    // The default order weighs distance with open now, free and online booking: only
    // "nearest" is nearest first.
    var anyDistance = latInput && latInput.value && !shownRadius;
    var sort = document.getElementById("f-sort");
    var nearest = sort && sort.value === "nearest";
    countEl.textContent = body.total === 0 ? t("empty") : body.total === 1 ? t("count_one")
      : t(anyDistance ? (nearest ? "count_near" : "count_best") : "count",
          { n: body.total.toLocaleString(el.dataset.lang) });
    // "7 services found" (no stop of its own) ends its sentence where another follows,
    // as the server's page does; the 24/7 lines' note is a bracket of its own.
    var w = body.widened;
    var ignored = !body.crisis && body.ignored && body.ignored.length;
    var needsPlace = nearest && !(latInput && latInput.value);
    var more = w || body.free_from_words || body.english_from_words || ignored || needsPlace;
    if (body.total >= 1 && !anyDistance && more) {
      countEl.appendChild(node("span", msgs.full_stop || ".", "full-stop"));
    }
    function part(cls, text) {
      // Full-width punctuation carries its own space (i18n.between_sentences).
      if (msgs.between_sentences) { countEl.appendChild(document.createTextNode(msgs.between_sentences)); }
      countEl.appendChild(node("span", text, cls));
    }
    if (w) {
      part("widened", w.shown_m ? t("widened", { asked: distance(w.asked_m), shown: distance(w.shown_m) })
                                : t("widened_any", { asked: distance(w.asked_m) }));
    }
    if (lines) { part("lines-counted", t("lines_counted")); }
    if (body.free_from_words) { part("free-from-words", t("free_from_words")); }
    if (body.english_from_words) { part("english-from-words", t("english_from_words")); }
    // In a crisis the words left over ("i", "anymore") are not worth a sentence.
    if (ignored) { part("ignored", t("ignored", { words: body.ignored.join(" ") })); }
    if (needsPlace) { part("needs-place", t("needs_place")); }
  }

  // --- searching in place ----------------------------------------------------------------
  var latInput = document.getElementById("lat");
  var lonInput = document.getElementById("lon");
  var placeInput = document.getElementById("place");
  var pager = document.querySelector(".pager");
  var more = node("button", msgs.more || "More", "secondary more");
  more.type = "button";
  more.hidden = true;
  list.parentNode.insertBefore(more, list.nextSibling);
  var nextCursor = null;
  var lastQuery = "";
  var lastBack = location.search.replace(/^\?/, "");
  var searchSeq = 0;

  function params() {
    var p = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (String(v).trim() !== "") { p.append(k, String(v).trim()); } });
    return p;
  }
  function apiParams(p) {
    var q = new URLSearchParams(p);
    q.delete("place");
    q.delete("page");
    if (!q.get("lat")) {
      // A distance, and nearest first, need a point to count from (the server's page
      // ignores them too).
      q.delete("radius_m");
      if (q.get("sort") === "nearest" || q.get("sort") === "distance") { q.delete("sort"); }
    }
    return q;
  }
  function fieldLabel(field) {
    var input = form.querySelector('[name="' + field + '"]');
    var label = input && input.id ? form.querySelector('label[for="' + input.id + '"]') : null;
    return label ? label.textContent.trim() : field;
  }
  function showError(err) {
    var body = err && err.body;
    // Machine codes from the JSON error body, never its English wording.
    if (body && body.error === "InvalidInput" && body.fields) {
      countEl.textContent = t("check", { field: Object.keys(body.fields).map(fieldLabel).join(", ") });
    } else {
      countEl.textContent = t("failed");
    }
  }

  // push: "push" adds the search to the history (a new search: Back returns to the one
  // before), false leaves the address alone, anything else replaces it (a filter changed).
  function search(push, keepFocus) {
    var p = params();
    var api = apiParams(p);
    var seq = ++searchSeq;
    lastQuery = api.toString();
    lastBack = p.toString();
    var withLimit = new URLSearchParams(api);
    withLimit.set("limit", "20");
    document.body.dataset.results = "loading";
    var back = p.toString();
    var listDone = getJSON(el.dataset.searchUrl + "?" + withLimit).then(function (body) {
      if (seq !== searchSeq) { return null; }
      list.textContent = "";
      Array.prototype.forEach.call(document.querySelectorAll(".crisis-panel, #empty"), function (n) { n.remove(); });
      var lines = body.crisis ? body.items.filter(function (it) { return it.kind === "hotline"; }) : [];
      if (lines.length) { countEl.parentNode.insertBefore(crisisPanel(lines), countEl); }
      body.items.forEach(function (it) {
        if (lines.indexOf(it) < 0) { list.appendChild(resultItem(it, back)); }
      });
      if (body.total === 0) { countEl.parentNode.insertBefore(emptyState(body, back), list); }
      var w = body.widened;
      shownRadius = w ? String(w.shown_m || "") : (api.get("radius_m") || "");
      showCount(body, lines.length > 0);
      // A search made in place has its point: what the page said of a typed place before
      // (not found, which one?) is about an earlier search.
      Array.prototype.forEach.call(
        document.querySelectorAll(".search-panel .problem, .place-choices"),
        function (old) { old.remove(); }
      );
      // The place the list counts from: none once the field is emptied, the resident's
      // own once they shared it.
      if (!latInput.value && here) {
        // No point any more: no dot, no circle, nothing in the legend for them.
        here = null;
        hereLayer.clearLayers();
        var key = document.getElementById("here-key");
        if (key) { key.hidden = true; }
      }
      var near = document.querySelector(".near");
      if (near) {
        near.hidden = !latInput.value;
        if (latInput.value && !placeInput.value.trim()) { near.textContent = t("near_here"); }
      }
      areaReach();
      if (here) { showHere(here[0], here[1]); }
      nextCursor = body.next_cursor;
      more.hidden = !nextCursor;
      if (pager) { pager.hidden = true; }
      return body;
    });
    var mapDone = listDone.then(function (body) {
      if (!body) { return; }
      addMapButtons(list);
      // The map shows the same set as the list, widened as the list was.
      var m = new URLSearchParams(api);
      if (body.widened) {
        if (body.widened.shown_m) { m.set("radius_m", String(body.widened.shown_m)); } else { m.delete("radius_m"); }
      }
      mapQuery = m;
      fitResults();
      return nextView().then(function () {
        if (seq !== searchSeq) { return; }
        if (!keepFocus || body.crisis) { announce(); }
        document.body.dataset.results = "ready";
      });
    });
    if (push === "push") {
      history.pushState({ search: true }, "", "/?" + p.toString());
    } else if (push !== false) {
      history.replaceState(history.state, "", "/?" + p.toString());
    }
    shownAddress = location.pathname + location.search;
    followAddress(p);
    return mapDone.catch(showError);
  }

  // The page's title and its language links follow a search made in place, as the
  // server's page would have them: switching language keeps the search.
  var shownAddress = location.pathname + location.search;
  function followAddress(p) {
    var q = (p.get("q") || "").trim();
    document.title = (q ? t("title_results", { q: q }) : t("title_search")) + " · " + t("title_base");
    Array.prototype.forEach.call(document.querySelectorAll(".lang-switch a[hreflang]"), function (a) {
      var switched = new URLSearchParams(p);
      switched.set("lang", a.getAttribute("hreflang"));
      a.setAttribute("href", "/?" + switched.toString());
    });
  }

  // A typed area wider than the list's distance: how far it reaches, and a search that
  // takes it in (see home.html). Gone once the point is no longer that area's.
  var reachEl = document.getElementById("area-reach");
  function areaReach() {
    if (!reachEl) { return; }
    var reach = Number(reachEl.dataset.reach);
    var r = Number(shownRadius);
    reachEl.hidden = !(placeInput.value.trim() && latInput.value && r && r < reach);
    if (!reachEl.hidden) {
      reachEl.querySelector(".area-reach-text").textContent = t("area_reach", {
        place: reachEl.dataset.place, reach: distance(reach), radius: distance(r)
      });
    }
  }
  if (reachEl) {
    reachEl.querySelector("a").addEventListener("click", function (ev) {
      ev.preventDefault();
      radiusSelect.value = reachEl.dataset.wider;  // "": the select's "Any distance"
      shownRadius = radiusSelect.value;
      search("push");  // as the server's link would: Back returns to the narrower list
    });
  }

  more.addEventListener("click", function () {
    if (!nextCursor) { return; }
    var q = new URLSearchParams(lastQuery);
    q.set("limit", "20");
    q.set("cursor", nextCursor);
    getJSON(el.dataset.searchUrl + "?" + q).then(function (body) {
      var first = null;
      body.items.forEach(function (it) { var li = resultItem(it, lastBack); first = first || li; list.appendChild(li); });
      addMapButtons(list);
      nextCursor = body.next_cursor;
      more.hidden = !nextCursor;
      if (first) { first.querySelector("a").focus(); }
    }).catch(showError);
  });

  // Fields left empty are not sent when the form goes to the server: a short address a
  // resident can share, not "?q=…&place=…&kind=&fee=&mode=…". Back on the page (the
  // browser's back button keeps it as it was), they are fields again.
  function sendFilledOnly() {
    Array.prototype.forEach.call(form.elements, function (f) {
      if (f.name && !f.disabled && String(f.value).trim() === "") { f.disabled = true; f.dataset.unsent = "1"; }
    });
  }
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(form.querySelectorAll("[data-unsent]"), function (f) {
      f.disabled = false; delete f.dataset.unsent;
    });
  });
  form.addEventListener("submit", function (ev) {
    // A typed place is resolved by the server: let the form go there.
    if (placeInput.value.trim() && !latInput.value) { sendFilledOnly(); return; }
    ev.preventDefault();
    search("push");
  });
  // Back (or forward) to a search made in place: the server renders it from its address.
  // Not when only the #fragment moved: the skip link to #main fires popstate too, and a
  // reload there lost what was typed and sent the focus back to the top.
  window.addEventListener("popstate", function () {
    if (location.pathname + location.search !== shownAddress) { location.reload(); }
  });
  form.addEventListener("change", function (ev) {
    if (ev.target === placeInput) { latInput.value = ""; lonInput.value = ""; return; }
    if (ev.target === radiusSelect) {
      // The drawn circle follows the chosen distance at once.
      shownRadius = radiusSelect.value;
      if (here) { showHere(here[0], here[1]); }
    }
    // The focus stays on the filter (stepping through a list's options with the arrow
    // keys searches at each step); the count is still read out, from its live region.
    if (ev.target.tagName === "SELECT" || ev.target.type === "checkbox") { search(undefined, true); }
  });

  var locate = document.getElementById("locate");
  if (navigator.geolocation && locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      statusEl.textContent = t("locating");
      navigator.geolocation.getCurrentPosition(function (pos) {
        latInput.value = pos.coords.latitude.toFixed(6);
        lonInput.value = pos.coords.longitude.toFixed(6);
        placeInput.value = "";
        showHere(pos.coords.latitude, pos.coords.longitude);
        statusEl.textContent = t("located");
        search();
      }, function () {
        statusEl.textContent = t("no_location");
        placeInput.focus();
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
    });
  }

  if (el.dataset.lat && el.dataset.lon) { showHere(Number(el.dataset.lat), Number(el.dataset.lon)); }

  // First view: the server rendered the list; the map shows the same set and fits it.
  mapQuery = apiParams(params());
  if (el.dataset.radius) { mapQuery.set("radius_m", el.dataset.radius); }
  addMapButtons(list);
  // After the areas (they settle the map's size and first fit), the list's own fit.
  // A search made in place before the areas came is the view now: the first view neither
  // fits, nor takes the focus from it, nor says it is ready before it is.
  areasLoaded.catch(function () {}).then(function () {
    if (searchSeq) { return; }
    if (el.dataset.searched) { fitResults(); }
    return nextView();
  }).then(function () {
    if (searchSeq) { return; }
    if (el.dataset.searched) {
      announce();  // a search answered by the server (a typed place, back to the search)
    }
    document.body.dataset.results = "ready";
  });

  areasLoaded.catch(function () { statusEl.textContent = t("failed"); });
}());
