// Draws every chart on the page from the figure JSON the server put beside it.
// Loaded with `defer` after plotly.js, so Plotly exists and the DOM is parsed.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  if (typeof window.Plotly === "undefined") {
    return; // The text equivalents stay; nothing else to do.
  }
  function draw(container) {
    var data = document.getElementById(container.dataset.figure);
    if (!data || container.dataset.drawn) { return; }
    container.dataset.drawn = "pending";
    var figure = JSON.parse(data.textContent);
    window.Plotly.newPlot(container, figure.data, figure.layout, figure.config).then(function () {
      container.dataset.drawn = "true";
      // For page-load measurement (bench/web.py): when each chart became visible.
      if (window.performance && performance.mark) { performance.mark("openscore:drawn:" + container.id); }
      // The SVG is decoration inside an element that already has role="img" and a label.
      container.querySelectorAll("svg").forEach(function (svg) {
        svg.setAttribute("aria-hidden", "true");
        svg.setAttribute("focusable", "false");
      });
    });
  }
  document.querySelectorAll(".chart[data-figure]").forEach(function (container) {
    // A chart in a closed <details> has no width yet: draw it when it is opened.
    var closed = container.closest("details:not([open])");
    if (closed) {
      closed.addEventListener("toggle", function () { if (closed.open) { draw(container); } });
    } else {
      draw(container);
    }
  });
})();
