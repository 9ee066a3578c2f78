// Statistics charts: each <div data-chart="ID"> is drawn by plotly.js from the JSON in
// <script type="application/json" id="ID"> (released numbers only, laid out by the server).
// No inline script: the page's Content-Security-Policy allows scripts from this origin only.
// The table under each chart holds the same numbers; without this script the page still reads.
(function () {
  "use strict";
  var COLOURS = ["#0b5cad", "#c2410c", "#1a6b34", "#7c3aed", "#a40e26", "#0e7490",
                 "#854d0e", "#4f5863", "#be185d", "#365314"];

  function figure(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) { return null; }
    try { return JSON.parse(source.textContent); } catch (e) { return null; }
  }

  function draw(element) {
    var fig = figure(element);
    if (!fig || !window.Plotly) { return; }
    var narrow = element.clientWidth < 560;
    var layout = Object.assign({}, fig.layout, {
      autosize: true,
      dragmode: false,
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: narrow ? 11 : 13, color: "#1b1f24" },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      colorway: COLOURS,
      separators: document.documentElement.lang === "fr" ? ", " : ".,"
    });
    if (narrow && layout.height && layout.height > 300 && !(fig.data[0] && fig.data[0].orientation === "h")) {
      layout.height = 300;
    }
    window.Plotly.newPlot(element, fig.data, layout, {
      displayModeBar: false,
      responsive: true,
      scrollZoom: false,
      locale: document.documentElement.lang || "en"
    });
    element.classList.add("chart-drawn");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
}());
