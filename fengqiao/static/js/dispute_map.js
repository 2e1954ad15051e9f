// The case page's small map: the dispute's point inside its grid; no tile server needed.
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  if (!el || !window.L) { return; }
  var lat = parseFloat(el.dataset.lat);
  var lng = parseFloat(el.dataset.lng);
  if (isNaN(lat) || isNaN(lng)) { return; }
  var map = L.map(el, { attributionControl: !!el.dataset.tiles, scrollWheelZoom: false });
  el.leafletMap = map;  // for the browser tests
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  // A vector layer needs a view before it is added: centre on the point first.
  map.setView([lat, lng], 16);
  var script = document.getElementById("case-grid");
  if (script) {
    var shape = null;
    try { shape = JSON.parse(script.textContent); } catch (e) { shape = null; }
    if (shape) {
      var grid = L.geoJSON(shape, { style: { color: "#0d6efd", weight: 2, fillOpacity: 0.08 } }).addTo(map);
      var bounds = grid.getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds.extend([lat, lng]), { padding: [12, 12] });
      }
    }
  }
  el.caseMarker = L.circleMarker([lat, lng], { radius: 7, color: "#b00020", weight: 2, fillOpacity: 0.9 }).addTo(map);
}());
