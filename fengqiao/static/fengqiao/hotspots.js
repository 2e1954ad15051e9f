// The hotspots map: H3 cells coloured by their class over time, the station's grids beneath.
// Data comes from the page's JSON (#hotspot-data); text is set as text, never parsed as HTML.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var script = document.getElementById("hotspot-data");
  if (!el || !script || !window.L) { return; }
  var data = {};
  try { data = JSON.parse(script.textContent) || {}; } catch (e) { data = {}; }
  var labels = data.labels || {};
  var colours = data.colours || {};
  var legendNames = {};
  (data.legend || []).forEach(function (item) { legendNames[item.trend] = item.label; });
  // The page's legend holds each class with its count, worded in the page's language.
  var legendLines = {};
  Array.prototype.forEach.call(document.querySelectorAll("#hotspot-legend li[data-trend]"), function (li) {
    legendLines[li.dataset.trend] = li.textContent.trim();
  });
  var sep = el.dataset.labelSep || ": ";

  var map = L.map(el, { preferCanvas: true, attributionControl: !!el.dataset.tiles });
  el.leafletMap = map;  // for the browser tests
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
  }
  map.setView([0, 0], 2);

  var line = function (box, label, value) {
    var row = document.createElement("div");
    var b = document.createElement("strong");
    b.textContent = label + sep;
    row.appendChild(b);
    row.appendChild(document.createTextNode(value == null ? "" : String(value)));
    box.appendChild(row);
  };

  var grids = L.geoJSON(data.grids || null, {
    style: { color: "#0d1b4c", weight: 1, fill: false, dashArray: "4 3" },
    onEachFeature: function (f, layer) {
      var span = document.createElement("span");
      span.textContent = f.properties.name;
      layer.bindTooltip(span);
    }
  }).addTo(map);

  var cells = L.geoJSON(data.cells || null, {
    style: function (f) {
      var p = f.properties;
      var colour = colours[p.trend];
      if (colour) {
        return { color: "#333", weight: p.hot ? 1.5 : 0.5, fillColor: colour, fillOpacity: p.hot ? 0.75 : 0.45 };
      }
      return { color: "#999", weight: 0.5, fillColor: "#cccccc", fillOpacity: 0.2 };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      var box = document.createElement("div");
      var title = document.createElement("code");
      title.textContent = p.h3;
      box.appendChild(title);
      line(box, labels.trend || "trend", p.trend ? (legendNames[p.trend] || p.trend) : (labels.notHot || ""));
      line(box, labels.count || "count", p.count);
      line(box, labels.counts || "counts", (p.counts || []).join(" · "));
      line(box, labels.z || "z", Number(p.z).toFixed(2));
      line(box, labels.q || "q", Number(p.q).toFixed(4));
      layer.bindPopup(box);
    }
  }).addTo(map);
  el.hotspotLayer = cells;  // for the browser tests

  var bounds = grids.getBounds();
  if (cells.getLayers().length) {
    bounds = bounds.isValid() ? bounds.extend(cells.getBounds()) : cells.getBounds();
  }
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [8, 8] });
  }

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "leaflet-control bg-white p-2 small border rounded");
    div.id = "map-legend";
    var head = document.createElement("div");
    head.className = "fw-semibold";
    head.textContent = labels.legend || "";
    div.appendChild(head);
    (data.legend || []).forEach(function (item) {
      var row = document.createElement("div");
      var sw = document.createElement("span");
      sw.className = "hotspot-swatch hotspot-" + item.trend;
      row.appendChild(sw);
      row.appendChild(document.createTextNode(" " + (legendLines[item.trend] || item.label + " (" + item.count + ")")));
      div.appendChild(row);
    });
    return div;
  };
  legend.addTo(map);
  el.dataset.ready = "1";
}());
