/* Draws every [data-chart] element from the figure JSON its page embeds with json_script.
 * One static script for every chart: no inline script, so a strict CSP can forbid them. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data || [], figure.layout || {}, CONFIG).then(function () {
      element.classList.add("chart-drawn");
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
