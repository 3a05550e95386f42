// Draws each <canvas data-chart="ID"> from the JSON of <script id="ID" type="application/json">
// ({type, labels, datasets: [{label, data, axis}]}) with the vendored Chart.js. No inline script needed.
(function () {
  "use strict";
  var colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var scales = { y: { beginAtZero: true, position: "left" } };
    var datasets = spec.datasets.map(function (set, index) {
      if (set.axis === "right") scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } };
      return {
        label: set.label,
        data: set.data,
        yAxisID: set.axis === "right" ? "y1" : "y",
        borderColor: colors[index % colors.length],
        backgroundColor: colors[index % colors.length] + "99",
        stack: spec.stacked ? "all" : undefined,
      };
    });
    if (spec.stacked) { scales.x = { stacked: true }; scales.y.stacked = true; }
    new Chart(canvas, {
      type: spec.type || "line",
      data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false }, scales: scales },
    });
  });
})();
