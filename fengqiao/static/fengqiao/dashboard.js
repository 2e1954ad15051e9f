/* The dashboard's charts: data from the page's JSON (#dashboard-data), no inline JS. */
(function () {
  "use strict";

  var ready = window.fqCharts.ready;
  var chart = window.fqCharts.chart;

  function pct(v) {
    if (v === null || v === undefined) return "—";
    return (v > 0 ? "+" : "") + (v * 100).toFixed(1) + "%";
  }

  // Fill "{name}" slots of a worded template from the page.
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  ready(function () {
    var node = document.getElementById("dashboard-data");
    if (!node) return;
    var data = JSON.parse(node.textContent);
    var titles = document.getElementById("dashboard-chart-titles").dataset;
    var L = data.labels;
    // Category names come in Chinese; the page gives their English names when it is in English.
    var namesNode = document.getElementById("category-names");
    var names = namesNode ? JSON.parse(namesNode.textContent) || {} : {};
    var name = function (n) { return names[n] || n; };
    data.classes.forEach(function (c) { c.name = name(c.name); });
    data.trend.classes.forEach(function (s) { s.name = name(s.name); });
    if (titles.weekdays) data.weekdays = titles.weekdays.split(",");
    var tipTotal = titles.tipTotal || "{label} {count}（{mom}，{yoy}）";
    var tipClass = titles.tipClass || "{label} {count}（{yoy}）";
    var small = window.innerWidth < 576;
    var grid = { left: 10, right: 10, top: 40, bottom: 30, containLabel: true };
    var title = function (t) { return { text: t, textStyle: { fontSize: 14 } }; };

    chart("chart-classes", {
      title: title(titles.classes),
      tooltip: {
        trigger: "axis",
        formatter: function (ps) {
          var c = data.classes[ps[0].dataIndex];
          return c.name + "<br>" + L.now + " " + c.now + "<br>" + L.then + " " + c.then +
            "<br>" + L.yoy + " " + pct(c.yoy);
        }
      },
      legend: { bottom: 0 },
      grid: grid,
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.classes.map(function (c) { return c.name; }) },
      series: [
        { name: L.now, type: "bar", data: data.classes.map(function (c) { return c.now; }),
          label: { show: !small, position: "right", formatter: function (p) { return pct(data.classes[p.dataIndex].yoy); } } },
        { name: L.then, type: "bar", data: data.classes.map(function (c) { return c.then; }) }
      ]
    });

    var t = data.trend;
    chart("chart-trend", {
      title: title(titles.trend),
      tooltip: {
        trigger: "axis",
        formatter: function (ps) {
          var i = ps[0].dataIndex;
          var lines = [t.months[i], fill(tipTotal, {
            label: L.total, count: t.total.counts[i],
            mom: L.mom + " " + pct(t.total.mom[i]), yoy: L.yoy + " " + pct(t.total.yoy[i])
          })];
          t.classes.forEach(function (s) {
            if (s.counts[i]) {
              lines.push(fill(tipClass, { label: s.name, count: s.counts[i], yoy: L.yoy + " " + pct(s.yoy[i]) }));
            }
          });
          return lines.join("<br>");
        }
      },
      legend: { bottom: 0, type: "scroll" },
      grid: { left: 10, right: 10, top: 40, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: t.months },
      yAxis: [{ type: "value", minInterval: 1 }],
      series: [{ name: L.total, type: "line", data: t.total.counts, z: 3 }].concat(
        t.classes.map(function (s) { return { name: s.name, type: "bar", stack: "classes", data: s.counts }; })
      )
    });

    var max = data.heatmap.reduce(function (m, c) { return Math.max(m, c[2]); }, 0);
    var hours = [];
    for (var h = 0; h < 24; h++) hours.push(h);
    chart("chart-heatmap", {
      title: title(titles.heatmap),
      tooltip: {
        formatter: function (p) {
          return data.weekdays[p.value[1]] + " " + p.value[0] + ":00 — " + L.count + " " + p.value[2];
        }
      },
      grid: { left: 10, right: 10, top: 40, bottom: 50, containLabel: true },
      xAxis: { type: "category", data: hours, splitArea: { show: true } },
      yAxis: { type: "category", data: data.weekdays, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(max, 1), calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: small ? 80 : 140 },
      series: [{ type: "heatmap", data: data.heatmap }]
    });

    chart("chart-grids", {
      title: title(titles.grids),
      tooltip: { trigger: "axis" },
      grid: grid,
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.grids.map(function (g) { return g.name; }) },
      series: [{ name: L.count, type: "bar", data: data.grids.map(function (g) { return g.count; }) }]
    });
  });
})();
