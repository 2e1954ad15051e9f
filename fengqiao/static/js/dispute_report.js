/* The monthly dispute report's charts: data from the page's JSON (#report-data), no inline JS. */
(function () {
  "use strict";

  var ready = window.fqCharts.ready;
  var chart = window.fqCharts.chart;

  ready(function () {
    var node = document.getElementById("report-data");
    if (!node) return;
    var data = JSON.parse(node.textContent);
    var titles = document.getElementById("report-chart-titles").dataset;
    var L = data.labels;
    var small = window.innerWidth < 576;
    var grid = { left: 10, right: 10, top: 40, bottom: 30, containLabel: true };

    chart("chart-trend", {
      title: { text: titles.trend, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: grid,
      xAxis: { type: "category", data: data.trend.map(function (t) { return t.month; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.received, type: "line", data: data.trend.map(function (t) { return t.received; }) },
        { name: L.concluded, type: "line", data: data.trend.map(function (t) { return t.concluded; }) },
        { name: L.succeeded, type: "bar", data: data.trend.map(function (t) { return t.succeeded; }) }
      ]
    });

    chart("chart-source", {
      title: { text: titles.source, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"], top: 30, data: data.source }]
    });

    chart("chart-stat-type", {
      title: { text: titles.statType, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: grid,
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.stat_type.map(function (r) { return r.name; }) },
      series: [{ name: L.received, type: "bar", data: data.stat_type.map(function (r) { return r.value; }) }]
    });

    chart("chart-channel", {
      title: { text: titles.channel, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: grid,
      xAxis: { type: "category", data: data.channel.map(function (r) { return r.name; }), axisLabel: { rotate: small ? 45 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.concluded, type: "bar", data: data.channel.map(function (r) { return r.concluded; }) },
        { name: L.succeeded, type: "bar", data: data.channel.map(function (r) { return r.succeeded; }) }
      ]
    });
  });
})();
