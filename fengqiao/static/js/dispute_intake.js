// The intake, edit and screening-visit forms: map pick, two-level type, party rows.
// Works with no tile server (the station's grids are drawn from the map data endpoint);
// without JavaScript the form still works by typing coordinates or choosing a grid.
(function () {
  "use strict";

  var byId = function (id) { return document.getElementById(id); };

  // --- map pick ---
  function inRing(lng, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > lat) !== (yj > lat)) && (lng < (xj - xi) * (lat - yi) / (yj - yi) + xi)) {
        inside = !inside;
      }
    }
    return inside;
  }
  function inPolygon(lng, lat, rings) {
    if (!rings.length || !inRing(lng, lat, rings[0])) { return false; }
    for (var k = 1; k < rings.length; k++) { if (inRing(lng, lat, rings[k])) { return false; } }
    return true;
  }
  function gridAt(features, lat, lng) {
    for (var i = 0; i < features.length; i++) {
      var g = features[i].geometry;
      if (!g) { continue; }
      var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (var p = 0; p < polys.length; p++) {
        if (inPolygon(lng, lat, polys[p])) { return features[i].properties; }
      }
    }
    return null;
  }

  function setupMap() {
    var el = byId("pick-map");
    var latInput = byId("id_lat"), lngInput = byId("id_lng");
    if (!el || !window.L || !latInput || !lngInput) { return; }
    var found = byId("found-grid");
    var gridSelect = byId("id_grid_id");
    var map = L.map(el, { preferCanvas: true, attributionControl: false });
    el.leafletMap = map;  // for the browser tests
    var marker = null;
    var features = [];
    var show = function (lat, lng) {
      if (marker) { marker.setLatLng([lat, lng]); } else { marker = L.marker([lat, lng]).addTo(map); }
      if (!found) { return; }
      var props = gridAt(features, lat, lng);
      found.textContent = props ? (props.community + " · " + props.name) : (el.dataset.outside || "");
      found.dataset.gridId = props ? String(props.id) : "";
    };
    map.on("click", function (e) {
      var lat = e.latlng.lat, lng = e.latlng.lng;
      latInput.value = lat.toFixed(6);
      lngInput.value = lng.toFixed(6);
      // The point decides the grid; a grid chosen before would contradict it.
      if (gridSelect) { gridSelect.value = ""; }
      show(lat, lng);
    });
    fetch(el.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        features = data.grids.features || [];
        var grids = L.geoJSON(data.grids, {
          style: function (f) {
            return { color: "#ffffff", weight: 1, fillColor: f.properties.color, fillOpacity: 0.4 };
          },
          onEachFeature: function (f, layer) {
            var span = document.createElement("span");
            span.textContent = f.properties.community + " · " + f.properties.name;
            layer.bindTooltip(span);
          }
        }).addTo(map);
        var bounds = grids.getBounds();
        if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([28.2, 112.9], 12); }
        var lat = parseFloat(latInput.value), lng = parseFloat(lngInput.value);
        if (isFinite(lat) && isFinite(lng)) { show(lat, lng); }
        el.dataset.loaded = String(features.length);
      });
  }

  // --- two-level type ---
  function setupType() {
    var cls = byId("id_type_class"), sub = byId("id_type_code"), stat = byId("stat-type");
    if (!cls || !sub) { return; }
    var showStat = function () {
      var opt = sub.options[sub.selectedIndex];
      if (stat) { stat.textContent = opt && opt.dataset.stat ? opt.dataset.stat : "—"; }
    };
    var filter = function () {
      var chosen = cls.value;
      var groups = sub.querySelectorAll("optgroup");
      for (var i = 0; i < groups.length; i++) {
        var first = groups[i].querySelector("option");
        var match = !chosen || (first && first.dataset.class === chosen);
        groups[i].hidden = !match;
        groups[i].disabled = !match;
      }
      var opt = sub.options[sub.selectedIndex];
      if (opt && opt.value && chosen && opt.dataset.class !== chosen) { sub.value = ""; }
      showStat();
    };
    var initial = sub.options[sub.selectedIndex];
    if (initial && initial.dataset.class && !cls.value) { cls.value = initial.dataset.class; }
    cls.addEventListener("change", filter);
    sub.addEventListener("change", function () {
      var opt = sub.options[sub.selectedIndex];
      if (opt && opt.dataset.class) { cls.value = opt.dataset.class; }
      showStat();
    });
    filter();
  }

  // --- referrer only for 委托移送 ---
  function setupReferrer() {
    var source = byId("id_source"), row = byId("referrer-row");
    if (!source || !row) { return; }
    var toggle = function () { row.hidden = source.value !== "referral"; };
    source.addEventListener("change", toggle);
    toggle();
  }

  // --- party rows ---
  function setupParties() {
    var list = byId("party-rows"), tpl = byId("party-template"), add = byId("party-add");
    var total = byId("id_parties-TOTAL_FORMS");
    if (!list || !tpl || !add || !total) { return; }
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      var html = tpl.innerHTML.replace(/__prefix__/g, String(index)).replace(/__num__/g, String(index + 1));
      var box = document.createElement("div");
      box.innerHTML = html;
      while (box.firstElementChild) { list.appendChild(box.firstElementChild); }
      total.value = String(index + 1);
      var name = list.querySelector("[name='parties-" + index + "-name']");
      if (name) { name.focus(); }
    });
    list.addEventListener("click", function (e) {
      var btn = e.target.closest ? e.target.closest("[data-party-remove]") : null;
      if (!btn) { return; }
      var row = btn.closest("[data-party-row]");
      var del = row ? row.querySelector("input[name$='-DELETE']") : null;
      if (del) { del.checked = true; }
      if (row) { row.hidden = true; }
    });
  }

  setupMap();
  setupType();
  setupReferrer();
  setupParties();
})();
