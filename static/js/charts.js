/* Draws every [data-chart] element from the figure JSON its page embeds with json_script.
 * One static script for every chart: no inline script, so a strict CSP can forbid them.
 * A figure may carry a narrow layout (layout.meta.narrow, see charts/base.py `narrow`):
 * below its width the chart draws with those changes merged in, and it is drawn again
 * when a resize (a phone turned) crosses that width. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function merge(base, changes) {
    if (!isObject(base) || !isObject(changes)) {
      return changes === undefined ? base : changes;
    }
    var merged = {};
    Object.keys(base).forEach(function (key) { merged[key] = base[key]; });
    Object.keys(changes).forEach(function (key) { merged[key] = merge(base[key], changes[key]); });
    return merged;
  }

  function narrowOf(figure) {
    var meta = figure.layout && figure.layout.meta;
    return meta && meta.narrow;
  }

  function isNarrow(element, figure) {
    var narrow = narrowOf(figure);
    return Boolean(narrow) && element.clientWidth < narrow.below;
  }

  function shaped(figure, narrowed) {
    var data = figure.data || [];
    var layout = figure.layout || {};
    if (!narrowed) {
      return { data: data, layout: layout };
    }
    var narrow = narrowOf(figure);
    return {
      data: data.map(function (trace, index) { return merge(trace, (narrow.data || [])[index]); }),
      layout: merge(layout, narrow.layout)
    };
  }

  function figureOf(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    return source ? JSON.parse(source.textContent) : null;
  }

  function draw(element) {
    var figure = figureOf(element);
    if (!figure || !window.Plotly) {
      return;
    }
    var narrowed = isNarrow(element, figure);
    var shown = shaped(figure, narrowed);
    element.setAttribute("data-chart-narrow", String(narrowed));
    window.Plotly.newPlot(element, shown.data, shown.layout, CONFIG).then(function () {
      element.classList.add("chart-drawn");
    });
  }

  function redrawCrossed() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart].chart-drawn"), function (element) {
      var figure = figureOf(element);
      if (figure && String(isNarrow(element, figure)) !== element.getAttribute("data-chart-narrow")) {
        draw(element);
      }
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(redrawCrossed, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
