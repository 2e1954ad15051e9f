/* Shared by the report and dashboard pages: run when the page is ready, draw an ECharts chart
   into an element (marked data-drawn for the browser tests), redraw it on resize. */
window.fqCharts = (function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return null;
    var c = echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    el.setAttribute("data-drawn", "1");
    return c;
  }

  return { ready: ready, chart: chart };
})();
