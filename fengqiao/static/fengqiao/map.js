// The jurisdiction map: works with no tile server; a tile URL is optional.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  // Layer names come translated from the template; place kinds arrive in Chinese from the data.
  var label = function (key, fallback) { return el.dataset[key] || fallback; };
  var kindNames = {};
  var kindScript = document.getElementById("place-kind-names");
  if (kindScript) {
    try { kindNames = JSON.parse(kindScript.textContent) || {}; } catch (e) { kindNames = {}; }
  }
  var kindLabel = function (name) { return kindNames[name] || name || ""; };
  // Names come from imports and forms: they are shown as text, never parsed as HTML.
  var text = function (value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  };
  var map = L.map(el, { preferCanvas: true, attributionControl: !!el.dataset.tiles });
  el.leafletMap = map;  // for the browser tests, which open tooltips without a mouse
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  fetch(el.dataset.url, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var grids = L.geoJSON(data.grids, {
        style: function (f) {
          return { color: "#ffffff", weight: 1, fillColor: f.properties.color, fillOpacity: 0.45 };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(text(f.properties.community + " · " + f.properties.name));
        }
      }).addTo(map);
      var police = L.geoJSON(data.police_grids, {
        style: { color: "#0d1b4c", weight: 2.5, dashArray: "6 4", fill: false },
        onEachFeature: function (f, layer) { layer.bindTooltip(text(f.properties.name)); }
      }).addTo(map);
      var places = L.geoJSON(data.places, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 4, color: "#b00020", weight: 1, fillOpacity: 0.8 });
        },
        onEachFeature: function (f, layer) {
          var box = document.createElement("div");
          var link = document.createElement("a");
          link.href = "/areas/places/" + encodeURIComponent(f.properties.id) + "/";
          link.textContent = f.properties.name;
          box.appendChild(link);
          box.appendChild(document.createElement("br"));
          box.appendChild(text(kindLabel(f.properties.kind)));
          layer.bindPopup(box);
        }
      }).addTo(map);
      var stations = L.geoJSON(data.stations, { style: { color: "#333", weight: 3, fill: false } }).addTo(map);
      var overlays = {};
      overlays[label("labelGrids", "网格")] = grids;
      overlays[label("labelPoliceGrids", "警格")] = police;
      overlays[label("labelPlaces", "场所")] = places;
      overlays[label("labelStations", "派出所")] = stations;
      L.control.layers(null, overlays).addTo(map);
      var bounds = grids.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([28.2, 112.9], 12); }
      var note = document.getElementById("map-note");
      if (note && data.places_truncated) { note.hidden = false; }
      el.dataset.places = String(data.places.features.length);
      el.dataset.policeGrids = String(data.police_grids.features.length);
      el.dataset.loaded = String(data.grids.features.length);
    });
})();
