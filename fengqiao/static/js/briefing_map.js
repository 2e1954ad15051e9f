// The briefing's hotspot map: the station's outline and the hot H3 cells, coloured by trend.
(function () {
  "use strict";
  var el = document.getElementById("briefing-map");
  if (!el || !window.L) { return; }
  function read(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }
  var cells = read("briefing-cells") || [];
  var station = read("briefing-station");
  var colours = {
    "new": "#fd7e14", "persistent": "#b02a37", "intensifying": "#dc3545",
    "diminishing": "#ffc107", "sporadic": "#6f42c1", "former": "#6c757d", "": "#dc3545"
  };
  el.style.height = "360px";
  var map = L.map(el, { attributionControl: !!el.dataset.tiles, scrollWheelZoom: false });
  el.leafletMap = map;  // for the browser tests
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  map.setView([0, 0], 2);
  var bounds = L.latLngBounds([]);
  if (station) {
    var outline = L.geoJSON(station, { style: { color: "#0d6efd", weight: 2, fillOpacity: 0.03 } }).addTo(map);
    if (outline.getBounds().isValid()) { bounds.extend(outline.getBounds()); }
  }
  var drawn = 0;
  cells.forEach(function (c) {
    var colour = colours[c.trend] || "#dc3545";
    var poly = L.polygon(c.boundary, {
      color: colour, weight: 1, fillColor: colour, fillOpacity: c.hot ? 0.55 : 0.2
    }).addTo(map);
    poly.bindTooltip(c.label + " · " + c.count + " · z=" + Number(c.z).toFixed(2));
    bounds.extend(poly.getBounds());
    drawn += 1;
  });
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); }
  el.dataset.cells = String(drawn);
  el.dataset.drawn = "1";
}());
